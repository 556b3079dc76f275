"""The case file (issue 10): the whole file read back as a timeline, intake values corrected or
updated with their history, status and benefits over time, the status watcher, referral results,
strengths and the organisation's target group. Through the real Application, on SQLite and
PostgreSQL, asserting on what the user sees and on what is stored."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text

from bot.buttons import ENTRY, REFERRAL, TIMELINE, TIMELINE_FILTER
from bot.choices import LIFE_DOMAINS
from domain.roles import Role
from tests.flows import INTAKE_STEPS, do, run_intake
from tests.helpers import rows, said, stored_text
from tests.test_encryption import raw_database_bytes
from tests.test_reminders import berlin, dispatch, set_clock

CODE = "LEV-2026-0001"
INVALID = "Diese Taste ist nicht mehr gültig."


async def steps(user, *actions: str) -> None:  # noqa: ANN001
    """'>label' presses a button, anything else is typed."""
    for action in actions:
        await (user.press(action[1:]) if action.startswith(">") else user.send(action))


async def intake(user, extra_after: dict[str, list[str]] | None = None, **overrides) -> None:  # noqa: ANN001, ANN003
    """The default intake with some answers replaced (None: the question is not asked) and
    extra steps after a question (a reason for taking the case on)."""
    await user.send("/new")
    for name, step in INTAKE_STEPS.items():
        step = overrides.get(name, step)
        if step is not None:
            await do(user, *step)
        await steps(user, *(extra_after or {}).get(name, []))
    await user.press("✔ Speichern")


async def assess(user, *, strength: str | None = None) -> None:  # noqa: ANN001
    await user.send(f"/assess {CODE}")
    for domain in LIFE_DOMAINS:
        await user.press("hoch" if domain.value == "housing" else "kein Bedarf")
        if domain.value == "housing":
            await user.send("Wohnung zu klein, Schimmel")
    await steps(user, ">Wohnen", ">Fertig")  # priorities
    if strength:
        await steps(user, ">Sprache", ">Fertig", strength)
    else:
        await user.press("Fertig")
    await user.press("✔ Speichern")


@pytest.fixture
async def cm(bot):  # noqa: ANN001, ANN201
    user = await bot.register(Role.CASE_MANAGER, "I")
    await run_intake(user)  # Tuesday 24.11.2026, 10:00 in Leverkusen
    return user


def timeline_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line[:1].isdigit() and ". " in line[:4]]


async def open_line(user, containing: str) -> None:  # noqa: ANN001
    """Open the timeline's entry whose line contains `containing`."""
    number = next(line.split(".")[0] for line in timeline_lines(user.last().text) if containing in line)
    await user.press(number)


async def test_the_case_file_shows_every_kind_of_entry_newest_first_paged_filtered_and_whole(bot, cm, clock):
    store = bot.services.store
    await assess(cm, strength="Spricht Arabisch, Englisch und Französisch")
    clock.advance(timedelta(hours=1))
    await steps(cm, f"/goal {CODE}", ">Wohnen", "Größere Wohnung finden", ">die Klient:in", "30.06.2027", ">✔ Speichern")
    await steps(cm, f"/refer {CODE}", ">Qualifizierung", ">★ Jobcenter", "Arbeitssuche", ">Einwilligung erteilt",
                ">Qualifizierung", ">Fertig", ">✔ Speichern", ">📤 Als gesendet markieren")
    await steps(cm, f"/note {CODE}", ">heute", ">Hausbesuch", "Wohnung besichtigt, Schimmel im Bad", ">✔ Speichern")
    staff = store.staff.user_by_id(rows(bot, "SELECT id FROM app_user WHERE telegram_id = :t", t=cm.id)[0][0])
    conference = store.conferences.schedule(staff, CODE, starts_at=clock.now() + timedelta(days=2), minutes=60,
                                            place="Rathaus, Raum 3", agenda="Wohnung und Arbeit", participant_ids=[],
                                            service_ids=[], hours=bot.services.working_hours)
    store.conferences.record_outcome(staff, conference, attended=[staff.id], decisions="Jobcenter klärt Umzugskosten")
    await cm.send(f"/case {CODE}")
    await cm.press("🎯 Ziele")
    await cm.press("1. erreicht")
    await cm.press("↪ Vermittlungen")
    await cm.press("abgeschlossen")
    await cm.press("↪ Vermittlungen")
    await steps(cm, ">📝 Rückmeldung der Stelle", "Maßnahme ab 1. Februar zugesagt", ">✔ Speichern")
    assert cm.last().text == "Das Ergebnis steht jetzt in der Fallakte von LEV-2026-0001."

    await cm.press("🕓 Fallakte")
    page = cm.last()
    total = rows(bot, "SELECT COUNT(*) FROM case_entry")[0][0]
    # intake, assessment, goal, referral, sent, contact, conference, its outcome, goal achieved, completed, result
    assert total == 11
    assert f"Fallakte {CODE}" in page.text and "Alle Einträge · 11 Einträge" in page.text
    first = timeline_lines(page.text)
    assert len(first) == 8 and first[0].startswith("1. 26.11.2026 · Ergebnis der Fallkonferenz")
    assert any("Rückmeldung" in line or "Ergebnis der Vermittlung: Jobcenter" in line for line in first)
    assert "Kontakt: Hausbesuch · Case Manager:in" in page.text
    await cm.press("Ältere »", page)
    older = timeline_lines(cm.last().text)
    assert len(older) == 3 and older[-1].endswith("Erstberatung · Case Manager:in")
    assert "Bestandsaufnahme: 1" in cm.last().text
    await cm.press("« Neuere")
    assert timeline_lines(cm.last().text) == first
    # filters: by kind, and by life domain
    await cm.press("🔎 Filter")
    await cm.press("Kontakte")
    assert "Kontakte · 1 Eintrag" in cm.last().text and len(timeline_lines(cm.last().text)) == 1
    await cm.press("🔎 Filter")
    await cm.press("Wohnen")
    housing = timeline_lines(cm.last().text)
    assert len(housing) == 2 and all("Ziel" in line for line in housing)
    # each entry opens in full
    await cm.press("1")
    goal = cm.last().text
    assert "Zielergebnis" in goal and "Größere Wohnung finden" in goal and "erreicht" in goal
    await cm.press("🕓 Fallakte")
    await cm.press("🔎 Filter")
    await cm.press("Vermittlungen")
    await cm.press(str(len(timeline_lines(cm.last().text))))  # the oldest: the referral itself
    referral = cm.last().text
    assert "Jobcenter" in referral and "Zweck" in referral and "Arbeitssuche" in referral
    assert "Maßnahme ab 1. Februar zugesagt" in referral and "Einwilligung erteilt" in referral
    assert "gesendet" in referral and "abgeschlossen" in referral  # its status history
    await cm.press("🕓 Fallakte")
    await cm.press("🔎 Filter")
    await cm.press("Fallkonferenzen")
    await cm.press("1")
    assert "Jobcenter klärt Umzugskosten" in cm.last().text
    await cm.press("🕓 Fallakte")
    await cm.press("🔎 Filter")
    await cm.press("Bestandsaufnahmen und Ziele")
    await cm.press(str(len(timeline_lines(cm.last().text))))  # the assessment
    assessment = cm.last().text
    assert "Wohnung zu klein, Schimmel" in assessment and "Spricht Arabisch, Englisch und Französisch" in assessment
    assert "Stärken" in assessment
    # every read is audited, without content
    actions = [r[0] for r in rows(bot, "SELECT action FROM audit_event")]
    assert actions.count("case.timeline") >= 6 and actions.count("case.entry") == 4
    assert "Schimmel" not in stored_text(bot, "audit_event")
    # the case file in the clear holds kinds, dates, roles and domains only
    assert {r[0] for r in rows(bot, "SELECT DISTINCT author_role FROM case_entry")} == {"case-manager"}


async def test_a_handover_gives_the_receiving_case_manager_the_whole_file(bot, cm):
    other = await bot.register(Role.CASE_MANAGER, "II")
    await steps(cm, f"/note {CODE}", ">heute", ">Telefonat", "Hat Termin beim Jobcenter", ">✔ Speichern")
    await steps(cm, f"/handover {CODE}", ">II", "Zieht nach Opladen", ">✔ Speichern")
    assert await bot.services.dispatcher.dispatch_once(bot.app.bot, plan=False) == 1
    await other.press("✔ Annehmen", other.last())
    await other.press_data(TIMELINE.data(CODE, "all", ""))
    text = other.last().text
    assert "Übergabe: → II" in text and "Kontakt: Telefonat" in text and "Erstberatung" in text
    await other.press("2")  # the contact, written by the previous case manager
    assert "Hat Termin beim Jobcenter" in other.last().text


async def test_others_admins_and_forged_buttons_see_nothing_of_the_file(bot, cm):
    other = await bot.register(Role.CASE_MANAGER, "II")
    admin = await bot.register(Role.ADMIN, None)
    entry_id = rows(bot, "SELECT id FROM case_entry")[0][0]
    for person in (other, admin):
        for data in (TIMELINE.data(CODE, "all", ""), TIMELINE_FILTER.data(CODE), ENTRY.data(entry_id),
                     ENTRY.data(entry_id + 999), TIMELINE.data(CODE, "g.contacts", "o2026-11-24.5")):
            await person.press_data(data)
            assert person.alerts()[-1] == INVALID
    await cm.press_data("t|LEV-2026-0001|all|o-not-a-cursor")  # a damaged cursor: the newest page
    assert "Fallakte LEV-2026-0001" in cm.last().text
    await cm.press_data("t|LEV-2026-0001|d.nonsense|")  # an unknown filter: all entries
    assert "Alle Einträge" in cm.last().text
    assert rows(bot, "SELECT COUNT(*) FROM audit_event WHERE action IN ('case.timeline', 'case.entry') AND user_id != "
                     "(SELECT id FROM app_user WHERE telegram_id = :t)", t=cm.id)[0][0] == 0


async def test_a_correction_and_an_update_keep_the_old_value_with_who_and_when(bot, cm):
    await cm.send(f"/case {CODE}")
    await cm.press("✏ Erstberatung ändern")
    await cm.press("Telefon")
    await cm.press("Korrektur (falsch erfasst)")
    question = cm.last().text
    assert "Bisherige Antwort: +49 171 1234567" in question  # what is recorded now
    await steps(cm, "+49 171 7654321", ">✔ Speichern")
    saved = cm.last()
    assert saved.text == "Telefon von LEV-2026-0001: +49 171 1234567 → +49 171 7654321. Erfasst als: Korrektur (falsch erfasst)."
    # an update: the client moved within the district, with the day it took effect
    await cm.send(f"/case {CODE}")
    await steps(cm, ">✏ Erstberatung ändern", ">Stadtteil", ">Aktualisierung (hat sich geändert)", "Wiesdorf", ">gestern",
                ">✔ Speichern")
    assert "Stadtteil von LEV-2026-0001: Opladen → Wiesdorf. Erfasst als: Aktualisierung" in cm.last().text
    await cm.press("🕓 In der Fallakte zeigen")
    assert "Aktualisierung" in cm.last().text and "Opladen → Wiesdorf" in cm.last().text
    assert "23.11.2026" in cm.last().text  # the day it took effect
    # the timeline shows updates; corrections only when asked for, and with the intake
    await cm.press("🕓 Fallakte")
    text = cm.last().text
    assert "Aktualisierung: Stadtteil" in text and "Korrektur" not in text
    await cm.press("🔎 Filter")
    await cm.press("Korrekturen")
    assert "Korrektur: Telefon" in cm.last().text
    await cm.press_data(TIMELINE.data(CODE, "g.changes", ""))
    await open_line(cm, "Erstberatung")
    intake = cm.last().text
    assert "Stadtteil: Wiesdorf" in intake and "Telefon: +49 171 7654321" in intake and "Amina" not in intake
    assert "Korrektur · Telefon: +49 171 1234567 → +49 171 7654321 (Case Manager:in)" in intake
    assert "Aktualisierung · Stadtteil: Opladen → Wiesdorf (Case Manager:in)" in intake
    # stored: the new value in the intake, the old one encrypted with the entry, nothing in the clear
    assert rows(bot, "SELECT kind FROM case_entry WHERE kind IN ('correction', 'update') ORDER BY id") == [
        ("correction",), ("update",)]
    raw = raw_database_bytes(bot)
    for needle in (b"Opladen", b"Wiesdorf", b"1234567", b"7654321"):
        assert needle not in raw
    trail = rows(bot, "SELECT action, detail FROM audit_event WHERE action LIKE 'case.%tion' OR action = 'case.update'")
    assert ("case.correction", "field=phone") in trail and ("case.update", "field=quarter") in trail


async def test_a_name_correction_that_makes_a_duplicate_is_refused_and_kept(bot, cm):
    await run_intake(cm, given_name=("send", "Samira"))  # LEV-2026-0002
    await steps(cm, "/case LEV-2026-0002", ">✏ Erstberatung ändern", ">Vorname(n)", "Amina", ">✔ Speichern")
    assert "Diese Person ist bereits ein Fall: LEV-2026-0001." in cm.last().text
    await cm.send("/cancel")
    assert rows(bot, "SELECT COUNT(*) FROM case_entry WHERE kind = 'correction'")[0][0] == 0


async def test_a_status_change_with_valid_until_is_watched_in_working_hours_once(bot, cm, clock):
    await cm.send(f"/case {CODE}")
    await steps(cm, ">✏ Erstberatung ändern", ">Aufenthaltsstatus", ">Aktualisierung (hat sich geändert)",
                ">Duldung", "15.03.2027", ">heute", ">✔ Speichern")
    assert "Aufenthaltsstatus von LEV-2026-0001: Aufenthaltserlaubnis → Duldung." in cm.last().text
    assert rows(bot, "SELECT kind, domain FROM case_entry WHERE kind = 'status'") == [("status", "residence")]
    watched = dict(rows(bot, "SELECT kind, due_on FROM case_watch"))
    assert str(watched["expiry"]) == "2027-01-18"  # eight weeks before 15.03.2027
    await cm.send(f"/case {CODE}")
    assert "Duldung" in cm.last().text
    set_clock(clock, berlin(2027, 1, 17, 12, 0))  # a Sunday, and a day early
    assert await dispatch(bot) == 0
    set_clock(clock, berlin(2027, 1, 18, 6, 30))  # Monday, before working hours
    assert await dispatch(bot) == 0
    set_clock(clock, berlin(2027, 1, 18, 8, 0))
    sent = await dispatch(bot)
    assert sent >= 1
    notices = said(cm, "Aufenthaltsdokument von")
    assert notices == ["Das Aufenthaltsdokument von LEV-2026-0001 (Duldung) gilt bis 15.03.2027. "
                       "Die Verlängerung sollte rechtzeitig beantragt werden."]
    set_clock(clock, berlin(2027, 1, 19, 9, 0))
    await dispatch(bot)
    assert said(cm, "Aufenthaltsdokument von") == notices  # once
    # a new permit moves the date on: the old reminder no longer holds
    assert rows(bot, "SELECT COUNT(*) FROM outbox WHERE kind = 'status-expiry'")[0][0] == 1


async def test_18th_and_27th_birthdays_are_watched(bot, clock):
    cm = await bot.register(Role.CASE_MANAGER, "I")
    await intake(cm, birth_date=("send", "15.12.2008"),
                 extra_after={"other_case_management": ["Unbegleitet, Übergang wird organisiert"]})
    await intake(cm, given_name=("send", "Omar"), birth_date=("send", "10.02.2000"))
    assert {(r[0], str(r[1])) for r in rows(bot, "SELECT kind, due_on FROM case_watch WHERE kind LIKE 'age-%'")} == {
        ("age-18", "2026-12-01"), ("age-27", "2035-12-01"), ("age-27", "2027-02-01")}
    assert "1995" not in stored_text(bot, "case_watch")
    set_clock(clock, berlin(2026, 12, 1, 9, 0))
    await dispatch(bot)
    texts = said(cm, "wird am")
    assert texts == ["LEV-2026-0001 wird am 15.12.2026 18: Jugendhilfe endet, Angebote für Erwachsene beginnen. "
                     "Bitte die Vermittlungen prüfen."]
    set_clock(clock, berlin(2027, 2, 1, 9, 0))
    await dispatch(bot)
    texts = said(cm, "wird am")
    assert texts[-1].startswith("LEV-2026-0002 wird am 10.02.2027 27: JMD, Teilhabemanagement und §25a AufenthG enden")
    assert len(texts) == 2


async def test_watch_dates_an_upgrade_left_are_computed_a_slice_a_round_while_reminders_go_out(bot, clock, monkeypatch):
    """An upgrade without `casebot migrate` leaves watch dates and name indexes to compute (about
    2 ms a case: half an hour for a million). The planner does a slice a round, so reminders go
    out meanwhile, and every dispatcher round goes on with it until nothing is left."""
    from storage import planner

    cm = await bot.register(Role.CASE_MANAGER, "I")
    await intake(cm, given_name=("send", "Omar"), birth_date=("send", "10.02.2000"))
    await intake(cm, birth_date=("send", "15.12.2008"),
                 extra_after={"other_case_management": ["Unbegleitet, Übergang wird organisiert"]})
    store, dispatcher = bot.services.store, bot.services.dispatcher
    with store.engine.begin() as connection:  # as the previous release left them
        connection.execute(text("DELETE FROM case_watch"))
        connection.execute(text("UPDATE client_case SET watch_rev = 0, index_rev = 0"))
    store.planner.caught_up = False
    monkeypatch.setattr(planner, "CATCH_UP_BATCH", 1)
    monkeypatch.setattr(planner, "CATCH_UP_SECONDS", 0)  # one batch a round
    set_clock(clock, berlin(2026, 12, 1, 9, 0))

    def revisions() -> list:
        return rows(bot, "SELECT code, watch_rev, index_rev FROM client_case ORDER BY id")

    await dispatch(bot)  # the first round: one case each; the second's birthday not yet known
    assert revisions() == [("LEV-2026-0001", 1, 1), ("LEV-2026-0002", 0, 0)]
    assert said(cm, "wird am") == [] and not store.planner.caught_up
    store.outbox.schedule_for(org_id=store.staff.first_organisation_id(), user_id=store.staff.user_by_telegram_id(cm.id).id,
                              kind="case-reassigned", ref_id=1, due_at=store.clock.now(), key="meanwhile")
    await dispatcher.dispatch_once(bot.app.bot)  # a round between plans goes on with it, and sends
    assert revisions() == [("LEV-2026-0001", 1, 1), ("LEV-2026-0002", 1, 1)]
    assert cm.last().text == "Die Koordination hat Ihnen den Fall LEV-2026-0001 zugewiesen."
    monkeypatch.undo()
    await dispatch(bot)  # nothing left: caught up; the birthday computed meanwhile is planned
    assert store.planner.caught_up
    assert said(cm, "wird am") == ["LEV-2026-0002 wird am 15.12.2026 18: Jugendhilfe endet, Angebote für Erwachsene "
                                   "beginnen. Bitte die Vermittlungen prüfen."]


async def test_a_benefit_change_changes_the_suggestions_and_reminds_of_the_new_rechtskreis(bot, clock):
    cm = await bot.register(Role.CASE_MANAGER, "I")
    await intake(cm, benefits=("press", "AsylbLG (Asylbewerberleistungen)"))
    await steps(cm, f"/refer {CODE}", ">Existenzsicherung")
    assert "★ Jobcenter" not in cm.last().button_texts()  # AsylbLG: not the Jobcenter's client
    await cm.send("/cancel")
    await steps(cm, f"/case {CODE}", ">✏ Erstberatung ändern", ">Leistungen", ">Aktualisierung (hat sich geändert)",
                ">SGB II (Bürgergeld, Jobcenter)", ">heute", ">✔ Speichern")
    assert "Ein neuer Rechtskreis" in cm.last().text
    assert rows(bot, "SELECT kind, state FROM outbox WHERE kind = 'rechtskreis'") == [("rechtskreis", "due")]
    await dispatch(bot)
    reminder = [m for m in cm.messages() if "neuer Rechtskreis" in m.text and "wechselte" in m.text]
    assert len(reminder) == 1
    assert "von AsylbLG (Asylbewerberleistungen) zu SGB II (Bürgergeld, Jobcenter)" in reminder[0].text
    await cm.press("↪ Vermittlung", reminder[0])
    await cm.press("Existenzsicherung")
    assert cm.last().button_texts()[0] == "★ Jobcenter"
    assert rows(bot, "SELECT kind, domain FROM case_entry WHERE kind = 'status'") == [("status", "money")]


async def test_duldung_points_for_25a_and_25b_are_hints_from_the_figures_table(bot, clock):
    cm = await bot.register(Role.CASE_MANAGER, "I")
    await intake(cm, birth_date=("send", "01.03.2004"), residence_status=("press", "Duldung"),
                 residence_valid_until=("send", "30.06.2027"), arrived_germany=("send", "01.09.2024"),
                 arrived_municipality=("send", "01.10.2024"), children=("send", "0"),
                 extra_after={"residence_valid_until": ["01.10.2025"]})  # Duldung since
    watched = {r[0]: str(r[1]) for r in rows(bot, "SELECT kind, due_on FROM case_watch")}
    assert watched["check-25a"] == "2027-09-01"  # three years after arrival (twelve months of Duldung by then)
    assert watched["check-25b"] == "2030-09-01"  # six years after arrival
    bot.services.store.settings.set(rows(bot, "SELECT id FROM organisation")[0][0], "watch.p25a_years", "2")
    bot.services.store.watch.backfill()
    watched = {r[0]: str(r[1]) for r in rows(bot, "SELECT kind, due_on FROM case_watch")}
    assert watched["check-25a"] == "2026-10-01"  # two years after arrival, but twelve months of Duldung first
    await dispatch(bot)
    hint = [m.text for m in cm.messages() if "§25a" in m.text and "prüfenswert" in m.text]
    assert hint == ["LEV-2026-0001: ab 01.10.2026 kann eine Aufenthaltserlaubnis nach §25a AufenthG (junge Menschen) "
                    "prüfenswert sein. Ein Hinweis zur Klärung mit der Ausländerbehörde, keine Entscheidung."]


async def test_a_referral_result_needs_consent_to_that_service(bot, cm):
    await steps(cm, f"/refer {CODE}", ">Gesundheit", ">★ Gesundheitsamt", "Impfberatung", ">Keine Einwilligung",
                ">✔ Speichern")
    referral_id = rows(bot, "SELECT id FROM referral")[0][0]
    await cm.send(f"/case {CODE}")
    await cm.press("↪ Vermittlungen")
    await cm.press("abgeschlossen")
    await cm.press("↪ Vermittlungen")
    assert "📝 Rückmeldung der Stelle" not in cm.last().button_texts()
    await cm.press_data(REFERRAL.data(referral_id, "result"))
    assert cm.alerts()[-1].startswith("Keine Einwilligung")
    assert rows(bot, "SELECT result_enc FROM referral") == [(None,)]


async def test_the_target_group_follows_the_organisations_settings(bot):
    cm = await bot.register(Role.CASE_MANAGER, "I")
    org = rows(bot, "SELECT id FROM organisation")[0][0]
    bot.services.store.settings.set(org, "target_group.recent_years", "3")
    await cm.send("/new")
    for name, step in INTAKE_STEPS.items():
        if name == "arrived_germany":
            await cm.send("01.01.2025")
        elif name == "arrived_municipality":
            await cm.send("01.01.2026")
            assert "Außerhalb" not in cm.last().text  # arrived in the municipality this year
        elif name == "other_case_management":
            await cm.press("Jugendmigrationsdienst (JMD)")
            await cm.press("Fertig")
            assert "schon ein Fallmanagement: dorthin verweisen" in cm.last().text
            assert "Warum wird der Fall trotzdem übernommen?" in cm.last().text
            await cm.send("JMD endet im Januar")
        else:
            await do(cm, *step)
    await cm.press("✔ Speichern")
    assert cm.last().text.startswith("Gespeichert als Fall LEV-2026-0001.")
    with pytest.raises(ValueError, match="arrival_basis"):
        bot.services.store.settings.set(org, "target_group.arrival_basis", "moon")
    assert bot.services.store.settings.target_group(org).recent_years == 3


async def test_new_fields_are_not_in_the_raw_database(bot, cm):
    await steps(cm, f"/case {CODE}", ">✏ Erstberatung ändern", ">Adresse", ">Aktualisierung (hat sich geändert)",
                "Quettinger Str. 99", ">heute", ">✔ Speichern")
    await assess(cm, strength="Gelernte Schneiderin")
    raw = raw_database_bytes(bot)
    assert b"LEV-2026-0001" in raw
    for needle in (b"K\xc3\xb6lner Str", b"Quettinger", b"Schneiderin", b"30.06.2027", b"2027-06-30", b"sgb2"):
        assert needle not in raw, needle


def test_cursor_and_filter_tokens_are_read_safely():
    from handlers.casefile import _filter
    from storage.timeline import Cursor

    assert str(Cursor.parse("o2026-03-12.41")) == "o2026-03-12.41"
    assert Cursor.parse("x2026-03-12.41") is None and Cursor.parse("o2026-13-12.1") is None and Cursor.parse("") is None
    assert _filter("g.contacts") == ("contacts", None) and _filter("d.housing") == (None, "housing")
    assert _filter("g.nothing") == (None, None) and _filter("d.<b>") == (None, None)


def test_an_arabic_timeline_isolates_codes_dates_and_roles():
    from zoneinfo import ZoneInfo

    from bot.i18n import Catalogs
    from bot.render import Renderer

    t = Catalogs(ZoneInfo("Europe/Berlin")).get("ar")
    text = Renderer().render("timeline.j2", t, code=CODE, showing=t.plain("All entries"), total=2,
                             lines=[(1, t.date("2026-11-24"), t.plain("Contact"), t.plain("case manager"))])
    assert f"\u2068{CODE}\u2069" in text and "ملف الحالة" in text and "كل الإدخالات" in text
    assert "\u206824" in text or "\u2068" in text.split("1.")[1]


def test_the_cli_lists_and_sets_the_organisations_rules(tmp_path):
    from tests.test_operations import casebot

    env = {"DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3", "MASTER_KEY_FILE": str(tmp_path / "master.key")}
    assert casebot("init", env=env, cwd=tmp_path).returncode == 0
    listed = casebot("settings", "list", env=env, cwd=tmp_path)
    assert listed.returncode == 0 and "target_group.arrival_basis = municipality" in listed.stdout
    assert "watch.p25a_years = 3    # years since arrival for §25a; §25a Abs. 1 Satz 1 Nr. 2 AufenthG" in listed.stdout
    assert casebot("settings", "set", "watch.expiry_weeks", "12", env=env, cwd=tmp_path).returncode == 0
    refused = casebot("settings", "set", "target_group.recent_years", "many", env=env, cwd=tmp_path)
    assert refused.returncode == 2 and "recent_years must be a number from 0 to 99" in refused.stderr
    assert "watch.expiry_weeks = 12" in casebot("settings", "list", env=env, cwd=tmp_path).stdout
    migrated = casebot("migrate", env=env, cwd=tmp_path)
    assert migrated.returncode == 0 and "newest schema" in migrated.stdout


async def test_a_move_to_another_district_offers_the_handover_and_a_coordinator_reads_the_file(bot, cm):
    other = await bot.register(Role.CASE_MANAGER, "II")
    coordinator = await bot.register(Role.COORDINATOR, None)
    await steps(cm, f"/case {CODE}", ">✏ Erstberatung ändern", ">Bezirk", ">Aktualisierung (hat sich geändert)", ">II",
                ">heute", ">✔ Speichern")
    saved = cm.last()
    assert "Bezirk von LEV-2026-0001: I → II." in saved.text and "anderen Bezirk" in saved.text
    await cm.press("🔀 Übergabe", saved)
    await steps(cm, ">II", "Umzug nach Opladen", ">✔ Speichern")
    assert await bot.services.dispatcher.dispatch_once(bot.app.bot, plan=False) == 1
    await other.press("✔ Annehmen", other.last())
    await coordinator.press_data(TIMELINE.data(CODE, "all", ""))
    text = coordinator.last().text
    assert "Übergabe: → II" in text and "Aktualisierung: Bezirk" in text
    assert rows(bot, "SELECT COUNT(*) FROM audit_event WHERE action = 'case.timeline' AND user_id = "
                     "(SELECT id FROM app_user WHERE telegram_id = :t)", t=coordinator.id) == [(1,)]

"""The cycle after the intake, through the real Application, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.choices import LIFE_DOMAINS
from domain.roles import Role
from domain.services import DEFAULT_CATALOGUE, ServiceRule, suggest
from tests.flows import run_intake
from tests.helpers import rows

CODE = "LEV-2026-0001"
INVALID = "Diese Taste ist nicht mehr gültig."


async def steps(user, *actions: str) -> None:  # noqa: ANN001
    """'>label' presses a button, anything else is typed."""
    for action in actions:
        await (user.press(action[1:]) if action.startswith(">") else user.send(action))


async def assess(user, needs: dict[str, str], *, via_button: bool = True) -> None:  # noqa: ANN001
    if via_button:
        await user.send(f"/case {CODE}")
        await user.press("📝 Bestandsaufnahme")
    else:
        await user.send(f"/assess {CODE}")
    for domain in LIFE_DOMAINS:
        level = needs.get(domain.value, "kein Bedarf")
        await user.press(level)
        if level != "kein Bedarf":
            await user.press("Überspringen »")
    await user.press("Wohnen")
    await user.press("Fertig")
    await user.press("Fertig")  # no strengths
    await user.press("✔ Speichern")


@pytest.fixture
async def cm(bot):  # noqa: ANN001, ANN201
    """A case manager of district I with one case (LEV-2026-0001)."""
    user = await bot.register(Role.CASE_MANAGER, "I")
    await run_intake(user)
    return user


async def test_assessment_and_reassessment_show_what_changed(bot, cm):
    await assess(cm, {"housing": "hoch", "health": "mittel"})
    assert cm.last().text.startswith("Bestandsaufnahme Nr. 1 für LEV-2026-0001 gespeichert. Nächste Bestandsaufnahme: 24.02.2027.")
    view = (await cm.send(f"/case {CODE}"))[0].text
    assert "Wohnen: hoch" in view and "Gesundheit: mittel" in view and "Phase" not in view
    assert "Planung" in view and "Nächste Bestandsaufnahme: 24.02.2027" in view
    assert rows(bot, "SELECT next_due_on, assessments, phase FROM client_case")[0][1:] == (1, "planning")
    await assess(cm, {"housing": "mittel", "health": "mittel"}, via_button=False)
    text = cm.last().text
    assert "Bestandsaufnahme Nr. 2" in text and "Geändert seit der letzten Bestandsaufnahme:\nWohnen: hoch → mittel" in text
    assert "Gesundheit" not in text.split("Geändert")[1]


async def test_goals_are_agreed_reviewed_and_closed(bot, cm):
    await cm.send(f"/case {CODE}")
    await steps(cm, ">➕ Neues Ziel", ">Qualifizierung", "Deutschkurs B1 abschließen", ">die Klient:in")
    assert "Das Datum liegt in der Vergangenheit" in (await cm.send("01.01.2026"))[-1].text
    await steps(cm, "30.06.2027", ">✔ Speichern")
    assert cm.last().text == "Ziel für LEV-2026-0001 gespeichert, fällig am 30.06.2027."
    assert b"Deutschkurs" not in bytes(rows(bot, "SELECT wording_enc FROM goal")[0][0])
    assert "Qualifizierung, Ausbildung und Arbeit, fällig 30.06.2027" in (await cm.send(f"/case {CODE}"))[0].text
    await assess(cm, {})
    assert "Bitte die offenen Ziele überprüfen." in cm.last().text
    await cm.press("🎯 Ziele")
    goals = cm.last()
    assert "1. Qualifizierung, Ausbildung und Arbeit: Deutschkurs B1 abschließen · die Klient:in · fällig 30.06.2027 · offen" in goals.text
    await cm.press("1. erreicht")
    assert cm.alerts()[-1] == "Ziel gesetzt auf: erreicht"
    assert rows(bot, "SELECT status FROM goal") == [("achieved",)]
    assert "Offene Ziele" not in (await cm.send(f"/case {CODE}"))[0].text


async def test_referral_with_consent_is_sent_and_followed_up(bot, cm, clock):
    await cm.send(f"/refer {CODE}")
    await cm.press("Qualifizierung")
    services = cm.last().button_texts()
    assert services[0].startswith("★") and "★ Jobcenter" in services  # Aufenthaltserlaubnis, 31 years
    assert "★ Teilhabemanagement" not in " ".join(services)
    await steps(cm, ">★ Jobcenter", "Arbeitssuche, Anerkennung des Abschlusses", ">Einwilligung erteilt",
                ">Qualifizierung", ">Fertig", ">✔ Speichern")
    assert "Vermittlung von LEV-2026-0001 an Jobcenter erfasst." in cm.last().text
    await cm.press("📤 Als gesendet markieren")
    assert cm.alerts()[-1] == "Jobcenter: gesendet. Ich frage am 08.12.2026 nach, wie es gelaufen ist."
    assert rows(bot, "SELECT status, shared_domains FROM referral") == [("sent", "work")]
    assert rows(bot, "SELECT kind, state FROM outbox") == [("referral-follow-up", "due")]
    dispatcher = bot.services.dispatcher
    assert await dispatcher.dispatch_once(bot.app.bot, plan=False) == 0  # not yet due
    clock.advance(timedelta(days=14, hours=1))  # 8 December, 10:00 in Leverkusen
    assert await dispatcher.dispatch_once(bot.app.bot, plan=False) == 1
    question = cm.last()
    assert question.text == "Wie ist die Vermittlung von LEV-2026-0001 an Jobcenter gelaufen? Das Ergebnis wird im Fall dokumentiert."
    assert await dispatcher.dispatch_once(bot.app.bot, plan=False) == 0  # asked once
    await cm.press("Warteliste", question)
    assert cm.alerts()[-1] == "Jobcenter: Warteliste. Als Lücke im System erfasst."
    assert rows(bot, "SELECT status FROM referral") == [("waiting-list",)]
    assert "Jobcenter: Warteliste" in (await cm.send(f"/case {CODE}"))[0].text
    actions = [r[0] for r in rows(bot, "SELECT detail FROM audit_event WHERE action = 'referral.status'")]
    assert actions[-1].endswith("status=waiting-list")
    # a final result can still be corrected (a mis-click), from the referral list
    await cm.send(f"/case {CODE}")
    await cm.press("↪ Vermittlungen")
    await cm.press("abgeschlossen")
    await cm.send(f"/case {CODE}")
    await cm.press("↪ Vermittlungen")
    await cm.press("Warteliste")
    assert cm.alerts()[-1] == "Jobcenter: Warteliste. Als Lücke im System erfasst."
    assert rows(bot, "SELECT status FROM referral") == [("waiting-list",)]


async def test_no_consent_means_nothing_is_sent_and_withdrawal_stops_sharing(bot, cm):
    await cm.send(f"/refer {CODE}")
    await steps(cm, ">Gesundheit", ">★ Gesundheitsamt", "Impfberatung", ">Keine Einwilligung", ">✔ Speichern")
    assert "als Vorschlag erfasst. Ohne Einwilligung wird nichts weitergegeben" in cm.last().text
    await cm.send(f"/case {CODE}")
    await cm.press("↪ Vermittlungen")
    referral = cm.last()
    assert "keine Einwilligung" in referral.text
    await cm.press("gesendet", referral)
    assert cm.alerts()[-1] == "Keine Einwilligung zur Weitergabe an diese Stelle. Bitte zuerst die Einwilligung erfassen."
    assert rows(bot, "SELECT status FROM referral") == [("suggested",)]
    await cm.press("✍ Einwilligung erfassen", referral)
    await steps(cm, ">Gesundheit", ">Fertig", ">✔ Speichern")
    assert cm.last().text == "Einwilligung für die Vermittlung von LEV-2026-0001 erfasst."
    await cm.send(f"/case {CODE}")
    await cm.press("↪ Vermittlungen")
    await cm.press("✋ Einwilligung widerrufen")
    assert cm.alerts()[-1] == "Einwilligung widerrufen: Mit dieser Stelle wird nichts mehr geteilt."
    await cm.send(f"/case {CODE}")
    await cm.press("↪ Vermittlungen")
    await cm.press("gesendet")
    assert cm.alerts()[-1].startswith("Keine Einwilligung zur Weitergabe")
    assert rows(bot, "SELECT consent_withdrawn_at IS NOT NULL, shared_domains FROM referral") == [(True, "")]


def _rules() -> list[ServiceRule]:
    return [ServiceRule(n, key, name, frozenset(domains.split(",")), low, high, frozenset(s for s in statuses.split(",") if s))
            for n, (key, name, _, _, domains, low, high, statuses) in enumerate(DEFAULT_CATALOGUE)]


@pytest.mark.parametrize(("age", "status", "expected", "not_expected"), [
    (17, "aufenthaltserlaubnis", {"jmd"}, {"mbe", "teilhabe"}),
    (18, "duldung", {"jmd", "teilhabe", "sozialamt"}, {"mbe", "jobcenter"}),
    (26, "gestattung", {"jmd", "teilhabe", "sozialamt"}, {"mbe", "jobcenter"}),
    (27, "duldung", {"jmd", "mbe", "teilhabe"}, {"jobcenter"}),
    (28, "duldung", {"mbe", "sozialamt"}, {"jmd", "teilhabe"}),
    (28, "aufenthaltserlaubnis", {"mbe", "jobcenter", "einbuergerung"}, {"jmd", "teilhabe", "sozialamt"}),
    (35, "niederlassungserlaubnis", {"mbe", "jobcenter", "einbuergerung"}, {"sozialamt", "teilhabe"}),
    (40, "eu", {"mbe", "jobcenter"}, {"sozialamt", "teilhabe"}),
    (40, "other", {"mbe", "sozialamt"}, {"jobcenter", "teilhabe"}),
])
def test_suggestions_follow_age_and_status(age, status, expected, not_expected):
    keys = {s.key for s in suggest(_rules(), age=age, status=status)}
    assert expected <= keys and not (not_expected & keys)


def test_the_most_specific_programme_comes_first():
    work = suggest(_rules(), age=20, status="duldung", domain="work")
    assert work[0].key == "teilhabe"
    assert "jobcenter" not in {s.key for s in work}


async def test_contacts_are_recorded_with_a_quick_date(bot, cm):
    await cm.send(f"/note {CODE}")
    assert "Ein Kontakt kann nicht in der Zukunft liegen." in (await cm.send("01.12.2026"))[-1].text
    await steps(cm, ">heute", ">Hausbesuch", "Wohnung besichtigt, Schimmel im Bad", ">✔ Speichern")
    assert cm.last().text == "Kontakt vom 24.11.2026 für LEV-2026-0001 erfasst."
    assert [str(r[0]) for r in rows(bot, "SELECT last_contact_on FROM client_case")] == ["2026-11-24"]
    assert b"Schimmel" not in bytes(rows(bot, "SELECT note_enc FROM contact")[0][0])
    assert "Letzter Kontakt: 24.11.2026" in (await cm.send(f"/case {CODE}"))[0].text


async def test_handover_accepted_by_the_new_districts_case_manager(bot, cm):
    other = await bot.register(Role.CASE_MANAGER, "II")
    await cm.send(f"/case {CODE}")
    await steps(cm, ">🔀 Übergabe", ">II", "Zieht nach Opladen, Kita-Anmeldung läuft", ">✔ Speichern")
    assert cm.last().text.startswith("Übergabe von LEV-2026-0001 an das Case Management des Bezirks II angeboten.")
    assert "LEV-2026-0001" in (await cm.send("/cases"))[0].text  # still theirs until accepted
    assert await bot.services.dispatcher.dispatch_once(bot.app.bot, plan=False) == 1
    request = other.last()
    assert "Fall LEV-2026-0001 soll an Sie übergeben werden." in request.text and "Kita-Anmeldung läuft" in request.text
    accept = request.buttons()[0]["callback_data"]
    await other.press("✔ Annehmen", request)
    assert other.last().text == "Fall LEV-2026-0001 liegt jetzt bei Ihnen."
    assert cm.last().text == "Die Übergabe von LEV-2026-0001 wurde angenommen."
    assert "LEV-2026-0001" in (await other.send("/cases"))[0].text
    assert "Hier sind keine Fälle." in (await cm.send("/cases"))[0].text
    assert (await cm.send(f"/case {CODE}"))[0].text == "Kein Fall LEV-2026-0001 unter den Fällen, die Sie sehen dürfen."
    await other.press_data(accept, request)  # pressed twice (a slow phone)
    assert other.alerts()[-1] == "Diese Übergabe ist nicht mehr offen."
    trail = [r[0] for r in rows(bot, "SELECT action FROM audit_event WHERE action LIKE 'handover.%' ORDER BY id")]
    assert trail == ["handover.request", "handover.accept"]
    assert rows(bot, "SELECT d.code FROM client_case c JOIN district d ON d.id = c.district_id") == [("II",)]


async def test_handover_declined_keeps_the_case(bot, cm):
    other = await bot.register(Role.CASE_MANAGER, "III")
    await cm.send(f"/handover {CODE}")
    await steps(cm, ">III", "Umzug geplant", ">✔ Speichern")
    await bot.services.dispatcher.dispatch_once(bot.app.bot, plan=False)
    stranger = await bot.register(Role.CASE_MANAGER, "I")
    await stranger.press_data(other.last().buttons()[0]["callback_data"], stranger.last())  # forged: not theirs
    assert stranger.alerts()[-1] == "Diese Übergabe ist nicht mehr offen."
    await other.press("✖ Ablehnen")
    assert cm.last().text == "Die Übergabe von LEV-2026-0001 wurde abgelehnt; der Fall bleibt bei Ihnen."
    assert "LEV-2026-0001" in (await cm.send("/cases"))[0].text


async def test_a_coordinator_reassigns_and_a_case_manager_cannot(bot, cm):
    other = await bot.register(Role.CASE_MANAGER, "II")
    coordinator = await bot.register(Role.COORDINATOR, None)
    view = (await cm.send(f"/case {CODE}"))[0]
    assert "👥 Neu zuweisen" not in view.button_texts()
    other_id = rows(bot, "SELECT id FROM app_user WHERE telegram_id = :t", t=other.id)[0][0]
    await cm.press_data(f"x|{CODE}|{other_id}", view)
    assert cm.alerts()[-1] == "Kein Fall LEV-2026-0001 unter den Fällen, die Sie bearbeiten dürfen."
    await coordinator.send(f"/case {CODE}")
    await coordinator.press("👥 Neu zuweisen")
    menu = coordinator.last()
    assert any(label.startswith("Ana · Bezirk II · 0 offen") for label in menu.button_texts())
    await coordinator.press(next(label for label in menu.button_texts() if "Bezirk II" in label))
    assert coordinator.last().text == "Fall LEV-2026-0001 neu zugewiesen. Beide Case Manager:innen werden benachrichtigt."
    assert rows(bot, "SELECT assigned_to FROM client_case") == [(other_id,)]
    assert rows(bot, "SELECT action FROM audit_event ORDER BY id DESC")[0] == ("case.reassign",)


async def test_closure_reopening_and_a_closed_case_refuses_changes(bot, cm):
    await cm.send(f"/close {CODE}")
    await steps(cm, ">weggezogen", ">✔ Speichern")
    assert cm.last().text.startswith("Fall LEV-2026-0001 abgeschlossen (weggezogen).")
    view = (await cm.send(f"/case {CODE}"))[0]
    assert "🔒 Abgeschlossen: weggezogen" in view.text and view.button_texts()[0] == "↩ Wieder öffnen"
    assert (await cm.send(f"/assess {CODE}"))[0].text == "Fall LEV-2026-0001 ist abgeschlossen; bitte zuerst wieder öffnen."
    assert rows(bot, "SELECT COUNT(*) FROM dialogue")[0][0] == 0
    await cm.press_data(f"k|goal|{CODE}", view)
    assert cm.alerts()[-1] == "Fall LEV-2026-0001 ist abgeschlossen; bitte zuerst wieder öffnen."
    assert "Hier sind keine Fälle." in (await cm.send("/cases"))[0].text  # the default list: open cases
    await cm.press("Abgeschlossen")
    assert "LEV-2026-0001 · abgeschlossen" in cm.last().text
    await cm.press_data(f"k|reopen|{CODE}", view)
    assert "📝 Bestandsaufnahme" in cm.last().button_texts()
    assert rows(bot, "SELECT status, close_reason FROM client_case") == [("open", None)]


async def test_forged_buttons_on_another_users_case_are_refused(bot, cm):
    other = await bot.register(Role.CASE_MANAGER, "I")
    admin = await bot.register(Role.ADMIN, None)
    await cm.send(f"/case {CODE}")
    await steps(cm, ">➕ Neues Ziel", ">Wohnen", "Wohnung finden", ">die Klient:in", "30.06.2027", ">✔ Speichern")
    goal_id = rows(bot, "SELECT id FROM goal")[0][0]
    await other.send("/help")
    anywhere = other.last()
    for data in (f"k|assess|{CODE}", f"k|goals|{CODE}", f"k|close|{CODE}"):
        await other.press_data(data, anywhere)
        assert other.alerts()[-1] == "Kein Fall LEV-2026-0001 unter den Fällen, die Sie bearbeiten dürfen.", data
    # a goal's id must not tell them which case it belongs to
    await other.press_data(f"g|{goal_id}|achieved", anywhere)
    assert other.alerts()[-1] == "Diese Taste ist nicht mehr gültig."
    assert (await admin.send(f"/assess {CODE}"))[0].text == "Kein Fall LEV-2026-0001 unter den Fällen, die Sie bearbeiten dürfen."
    assert (await admin.send("/find"))[0].text == "Admins sehen keine Fallinhalte."
    assert rows(bot, "SELECT status FROM goal") == [("open",)]
    assert rows(bot, "SELECT COUNT(*) FROM dialogue")[0][0] == 0


async def test_find_a_person_by_name_and_birth_date(bot, cm):
    await steps(cm, "/find", "haddad", "AMINA", "01.02.1995", ">🔍 Suchen")
    assert cm.last().text == "Gefunden: Fall LEV-2026-0001."
    await cm.press("LEV-2026-0001")
    assert cm.last().text.startswith("Fall LEV-2026-0001")
    other = await bot.register(Role.CASE_MANAGER, "II")
    await steps(other, "/find", "Amina", "Haddad", "01.02.1995", ">🔍 Suchen")
    assert other.last().text == "Diese Person ist ein Fall (LEV-2026-0001) eines anderen Case Managements."
    await steps(other, "/find", "Amina", "Haddad", "02.02.1995", ">🔍 Suchen")
    assert other.last().text == "Kein Fall mit diesem Namen und Geburtsdatum."
    trail = str(rows(bot, "SELECT detail FROM audit_event WHERE action = 'case.find'"))
    assert "Amina" not in trail and "Haddad" not in trail


async def test_case_list_filters_for_coordinators(bot, cm):
    coordinator = await bot.register(Role.COORDINATOR, None)
    await run_intake(cm, district=("press", "II"), birth_date=("send", "03.03.1990"))
    listing = (await coordinator.send("/cases"))[0]
    assert "2 Fälle" in listing.text and "II" in listing.button_texts()
    await coordinator.press("II", listing)
    assert "1 Fall" in coordinator.last().text and "LEV-2026-0002" in coordinator.last().text
    await coordinator.press("Fällig")
    assert "0 Fälle" in coordinator.last().text

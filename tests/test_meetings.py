"""Fallkonferenzen from scheduling to outcome, the Jour fixe, and the coordinators' digest."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta

import pytest
from icalendar import Calendar
from PIL import Image

from domain.roles import Role
from tests.flows import run_intake
from tests.helpers import rows, said
from tests.test_reminders import berlin, set_clock

CODE = "LEV-2026-0001"


async def steps(user, *actions: str) -> None:  # noqa: ANN001
    for action in actions:
        await (user.press(action[1:]) if action.startswith(">") else user.send(action))


def calendar_of(bot, message) -> Calendar:  # noqa: ANN001
    return Calendar.from_ical(bot.fake.api.files[message.document["file_id"]]["content"])


async def deliver(bot) -> int:  # noqa: ANN001
    return await bot.services.dispatcher.dispatch_once(bot.app.bot, plan=False)


@pytest.fixture
async def team(bot):  # noqa: ANN001, ANN201
    cm = await bot.register(Role.CASE_MANAGER, "I")
    cm.user.first_name = "Cem"
    colleague = await bot.register(Role.CASE_MANAGER, "II")
    coordinator = await bot.register(Role.COORDINATOR, None)
    with bot.services.store.engine.begin() as connection:
        from sqlalchemy import text

        for user, name in ((cm, "Cem"), (colleague, "Dana"), (coordinator, "Kim")):
            connection.execute(text("UPDATE app_user SET display_name = :n WHERE telegram_id = :t"), {"n": name, "t": user.id})
    await run_intake(cm)
    return cm, colleague, coordinator


async def test_a_fallkonferenz_from_invitation_to_outcome(bot, team, clock):
    cm, colleague, coordinator = team
    await cm.send(f"/case {CODE}")
    await steps(cm, ">🗓 Fallkonferenz")
    assert "Das Datum liegt in der Vergangenheit" in (await cm.send("20.11.2026"))[-1].text
    await steps(cm, "01.12.2026")
    assert "Bitte die Uhrzeit als HH:MM schreiben" in (await cm.send("nachmittags"))[-1].text
    await steps(cm, "14", ">60 Min.", "Rathaus Opladen, Raum 3", ">Dana", ">Kim", ">Fertig", ">Jobcenter", ">Fertig")
    # no consent to share with the Jobcenter yet: said, and asked before it is invited
    assert "Keine Einwilligung zur Datenweitergabe an: Jobcenter." in cm.last().text
    await steps(cm, ">Die Person willigt jetzt ein (erfassen)", "Wohnsituation klären <dringend>", ">✔ Speichern")
    assert cm.last().text.startswith("Fallkonferenz zu LEV-2026-0001 für 01.12.2026, 14:00 angesetzt. Einladungen mit "
                                     "Kalenderdatei gehen an 3 Personen")
    assert await deliver(bot) == 3
    for person in (cm, colleague, coordinator):
        invitation = person.last()
        assert invitation.text.startswith("Einladung: Fallkonferenz zu LEV-2026-0001")
        assert "Ort: Rathaus Opladen, Raum 3" in invitation.text and "Stellen: Jobcenter" in invitation.text
        assert "Tagesordnung: Wohnsituation klären <dringend>" in invitation.text
        event = calendar_of(bot, invitation).walk("VEVENT")[0]
        assert event.decoded("dtstart") == datetime(2026, 12, 1, 13, 0, tzinfo=UTC)  # 14:00 in Leverkusen
        assert event.decoded("dtend") == datetime(2026, 12, 1, 14, 0, tzinfo=UTC)
        assert (int(event["sequence"]), str(event["location"])) == (0, "Rathaus Opladen, Raum 3")
        assert str(event["summary"]) == "Fallkonferenz LEV-2026-0001"
        assert str(calendar_of(bot, invitation)["method"]) == "REQUEST"
        # an invitation to calendars: organiser and attendee named, an alarm half an hour before
        names = {cm.id: "Cem", colleague.id: "Dana", coordinator.id: "Kim"}
        assert (event["organizer"].params["cn"], event["attendee"].params["cn"]) == ("Cem", names[person.id])
        assert str(event.walk("VALARM")[0]["trigger"].to_ical(), "ascii") == "-PT30M"
    assert b"Rathaus" not in bytes(rows(bot, "SELECT place_enc FROM conference")[0][0])
    set_clock(clock, berlin(2026, 11, 30, 14, 0))
    assert await deliver(bot) == 3
    assert colleague.last().text.startswith("Morgen: Fallkonferenz zu LEV-2026-0001")
    set_clock(clock, berlin(2026, 12, 1, 13, 0))
    assert await deliver(bot) == 3
    assert coordinator.last().text.startswith("In einer Stunde: Fallkonferenz zu LEV-2026-0001")
    set_clock(clock, berlin(2026, 12, 1, 15, 5))
    assert await deliver(bot) == 1  # only the organiser is asked for the outcome
    assert cm.last().text == ("Wie ist die Fallkonferenz zu LEV-2026-0001 gelaufen? Bitte erfassen Sie, wer da war und "
                              "was beschlossen wurde.")
    await steps(cm, ">📝 Ergebnis erfassen", ">Dana", ">Fertig", "Wohnungsamt wird eingeschaltet", ">✔ Speichern")
    assert cm.last().text.startswith("Ergebnis der Fallkonferenz zu LEV-2026-0001 erfasst.")
    assert rows(bot, "SELECT status FROM conference") == [("held",)]
    attended = dict(rows(bot, "SELECT u.display_name, p.attended FROM conference_participant p "
                              "JOIN app_user u ON u.id = p.user_id"))
    assert attended == {"Cem": False, "Dana": True, "Kim": False}
    await steps(cm, ">🎯 Folgeaufgabe", ">Wohnen", "Antrag beim Wohnungsamt stellen", ">das Case Management",
                "15.12.2026", ">✔ Speichern")
    assert rows(bot, "SELECT domain, responsible, due_on FROM goal")[0][:2] == ("housing", "case-manager")
    set_clock(clock, berlin(2026, 12, 8, 10, 0))  # a week before the task is due: its reminder
    bot.services.dispatcher.plan(force=True)
    await deliver(bot)
    assert "Ein Ziel von LEV-2026-0001 (Wohnen) ist am 15.12.2026 fällig." in said(cm, "Ein Ziel von")


async def test_moving_and_cancelling_notify_everyone_with_calendar_files(bot, team, clock):
    cm, colleague, coordinator = team
    await steps(cm, f"/conference {CODE}", "03.12.2026", "09:30", ">30 Min.", "Videokonferenz", ">Dana", ">Fertig",
                ">Fertig", "Schulanmeldung", ">✔ Speichern")
    await deliver(bot)
    conference_id = rows(bot, "SELECT id FROM conference")[0][0]
    await colleague.send("/conferences")
    await colleague.press("🗓 Verschieben")  # a participant who does not manage the case
    assert colleague.alerts()[-1] == "Nur die einladende Person, das Case Management oder die Koordination kann das ändern."
    await cm.send("/conferences")
    await steps(cm, ">🗓 Verschieben", "04.12.2026", "11:00", ">✔ Speichern")
    assert cm.last().text == "Fallkonferenz auf 04.12.2026, 11:00 verschoben. Alle werden benachrichtigt, mit aktualisierter Kalenderdatei."
    assert await deliver(bot) == 2
    update = colleague.last()
    assert update.text.startswith("Geändert: Fallkonferenz zu LEV-2026-0001")
    event = calendar_of(bot, update).walk("VEVENT")[0]
    assert int(event["sequence"]) == 1 and event.decoded("dtstart") == datetime(2026, 12, 4, 10, 0, tzinfo=UTC)
    assert str(event["uid"]) == f"conference-{conference_id}@kim-casebot"
    planned = rows(bot, "SELECT kind, due_at FROM outbox WHERE kind = 'conference-reminder-hour' AND state = 'due'")
    assert len(planned) == 2 and all(str(due).startswith("2026-12-04 09:00") for _, due in planned)
    await cm.send("/conferences")
    await cm.press("✖ Absagen")
    await cm.press("✖ Ja, Fallkonferenz absagen")
    assert cm.alerts()[-1] == "Abgesagt. Alle werden benachrichtigt, mit einer Kalender-Absage."
    assert await deliver(bot) == 2
    cancel = calendar_of(bot, colleague.last())
    assert str(cancel["method"]) == "CANCEL" and str(cancel.walk("VEVENT")[0]["status"]) == "CANCELLED"
    assert rows(bot, "SELECT COUNT(*) FROM outbox WHERE kind LIKE 'conference-%' AND state = 'due'")[0][0] == 0
    set_clock(clock, berlin(2026, 12, 4, 10, 0))
    assert await deliver(bot) == 0
    assert (await cm.send("/conferences"))[0].text == "Keine Fallkonferenz in Sicht."


async def test_jour_fixe_agenda_collected_and_sent_on_the_morning(bot, team, clock):
    cm, colleague, coordinator = team
    assert (await cm.send("/jourfixe"))[0].text == "Noch kein Jour fixe eingerichtet; die Koordination kann das tun."
    await steps(coordinator, "/jourfixe", "01.12.2026", "10:00", "Raum 1.12", ">✔ Speichern")
    assert coordinator.last().text.startswith("Jour fixe alle 14 Tage ab 01.12.2026, um 10:00.")
    await steps(cm, "/jourfixe", ">➕ Punkt ergänzen", "LEV-2026-0001: Wartelisten beim Sprachkurs", ">✔ Speichern")
    assert cm.last().text == "Auf die Tagesordnung des Jour fixe am 01.12.2026 gesetzt."
    assert rows(bot, "SELECT text FROM agenda_item") == [("",)]  # encrypted: a point can name a client
    assert b"Wartelisten" not in bytes(rows(bot, "SELECT text_enc FROM agenda_item")[0][0])
    set_clock(clock, berlin(2026, 12, 1, 7, 0))  # the meeting day: no more items
    view = (await colleague.send("/jourfixe"))[0]
    assert "Nächster Jour fixe: 01.12.2026, 10:00" in view.text and "1. LEV-2026-0001: Wartelisten" in view.text
    assert not view.reply_markup
    await colleague.press_data("j|2026-12-01", view)
    assert colleague.alerts()[-1] == "Punkte können bis zum Vortag des Treffens ergänzt werden."
    set_clock(clock, berlin(2026, 12, 1, 8, 0))
    bot.services.dispatcher.plan(force=True)
    sent = await deliver(bot)
    assert sent >= 3
    agenda = [m.text for m in coordinator.messages() if m.text.startswith("Jour fixe heute")]
    assert agenda == ["Jour fixe heute um 10:00 · Raum 1.12\n1. LEV-2026-0001: Wartelisten beim Sprachkurs"]
    set_clock(clock, berlin(2026, 12, 15, 8, 0))  # fourteen days on: the next one, no items
    bot.services.dispatcher.plan(force=True)
    await deliver(bot)
    assert coordinator.messages()[-1].text.endswith("Diesmal keine Tagesordnungspunkte.")


def seed_cases(bot, cm_id: int, *, count: int, district: str, start: int) -> list[str]:  # noqa: ANN001
    """Cases straight through storage (the dialogue is tested elsewhere)."""
    store = bot.services.store
    user = store.staff.user_by_id(cm_id)
    district_id = store.staff.district_by_code(user.org_id, district).id
    codes = []
    for n in range(start, start + count):
        born = date(1980, 1, 1) + timedelta(days=n)
        case = store.cases.create(
            user=user, district_id=district_id, assigned_to=cm_id,
            person_index=store.cases.person_index(org_id=user.org_id, given_name=f"P{n}", family_name="X", birth_date=born),
            consent_version="2026-01", consent_at=store.clock.now(), next_due_on=date(2026, 12, 8), record="intake",
            values={"given_name": f"P{n}", "birth_date": born.isoformat(), "residence_status": "duldung"})
        codes.append(case.code)
    return codes


async def test_the_digest_counts_right_and_suppresses_small_numbers(bot, team, clock):
    cm, colleague, coordinator = team
    ids = dict(rows(bot, "SELECT display_name, id FROM app_user"))
    store = bot.services.store
    district_one = seed_cases(bot, ids["Cem"], count=6, district="I", start=10)  # + the intake: 7 in district I
    seed_cases(bot, ids["Dana"], count=2, district="II", start=50)
    cem = store.staff.user_by_id(ids["Cem"])
    high_housing = {f"need_{d}": "none" for d in ("language", "education", "work", "health", "residence", "family",
                                                  "money", "participation")}
    for code in district_one[:5]:
        store.casework.add_assessment(cem, code, {**high_housing, "need_housing": "high"}, next_due_on=date(2027, 3, 1))
    store.casework.add_assessment(cem, district_one[5], {**high_housing, "need_housing": "none",
                                                         "need_health": "high"}, next_due_on=date(2027, 3, 1))
    service_id = rows(bot, "SELECT id FROM service WHERE key = 'wohnungsamt'")[0][0] if rows(
        bot, "SELECT COUNT(*) FROM service")[0][0] else None
    if service_id is None:
        store.catalogue.rules(cem.org_id)
        service_id = rows(bot, "SELECT id FROM service WHERE key = 'wohnungsamt'")[0][0]
    for code in district_one[:5]:
        referral = store.referrals.add(cem, code, service_id=service_id, domain="housing", purpose="Wohnung",
                                       consent=True, shared_domains=("housing",))
        store.referrals.set_status(cem, referral, "waiting-list")
    set_clock(clock, berlin(2026, 11, 27, 9, 0))
    assert "Neu: 9 · I: 7 · II: <5" in (await coordinator.send("/digest"))[0].text
    set_clock(clock, berlin(2026, 12, 10, 9, 0))  # the intake's assessment (due 8.12.) is overdue now
    replies = await coordinator.send("/digest")
    text = replies[0].text
    assert text.startswith("Übersicht der letzten 7 Tage")
    assert "Neu: 0" in text  # all of them came more than a week ago
    assert "Offen, nach Bezirk: I: 7 · II: <5" in text
    # Dana is the only case manager of district II: her exact count would undo its "<5"
    assert "Fallzahl je Case Management: Cem 7 · Dana <5" in text
    assert "Überfällige Bestandsaufnahmen: 3 · LEV-2026-0001" in text  # the intake and Dana's two
    assert "· Wohnen / Wohnungsamt: 5" in text  # five waiting lists: shown
    assert "Wohnen 5" in text and "Gesundheit <5" in text  # one case with a health need: suppressed
    assert "Amina" not in text and "P10" not in text
    chart = replies[1].photo
    image = Image.open(io.BytesIO(bot.fake.api.files[chart["file_id"]]["content"]))
    image.verify()
    assert image.format == "PNG" and image.size[0] >= 600
    import sys

    assert "matplotlib" not in sys.modules  # drawn by a child process: the instance stays small
    await coordinator.press("täglich")
    assert rows(bot, "SELECT digest_frequency FROM app_user WHERE display_name = 'Kim'") == [("daily",)]
    assert (await cm.send("/digest"))[0].text == "Die Übersicht ist für die Koordination."


async def test_the_digest_comes_by_itself_at_the_chosen_hour(bot, team, clock):
    cm, colleague, coordinator = team
    set_clock(clock, berlin(2026, 11, 30, 7, 0))  # Monday: the weekly digest at 08:00
    bot.services.dispatcher.plan(force=True)
    assert await deliver(bot) == 0
    set_clock(clock, berlin(2026, 11, 30, 8, 0))
    assert await deliver(bot) == 1
    assert coordinator.messages()[-2].text.startswith("Übersicht der letzten 7 Tage")
    assert coordinator.messages()[-1].photo is not None
    before = len(coordinator.messages())
    set_clock(clock, berlin(2026, 12, 1, 8, 0))  # Tuesday: weekly means not today
    bot.services.dispatcher.plan(force=True)
    await deliver(bot)
    assert len(coordinator.messages()) == before

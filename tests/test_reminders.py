"""Reminders with a controllable clock: each fires once, at the right local time."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from domain.roles import Role
from storage.models import Outbox
from tests.conftest import start_bot
from tests.flows import run_intake
from tests.helpers import rows, said

CODE = "LEV-2026-0001"


def berlin(*args: int) -> datetime:
    from zoneinfo import ZoneInfo

    return datetime(*args, tzinfo=ZoneInfo("Europe/Berlin")).astimezone(UTC)


def set_clock(clock, moment: datetime) -> None:  # noqa: ANN001
    clock.advance(moment - clock.now())


async def dispatch(bot) -> int:  # noqa: ANN001
    bot.services.dispatcher.plan(force=True)
    return await bot.services.dispatcher.dispatch_once(bot.app.bot, plan=False)


@pytest.fixture
async def cm(bot):  # noqa: ANN001, ANN201
    user = await bot.register(Role.CASE_MANAGER, "I")
    await run_intake(user)  # Tuesday 24.11.2026, 10:00 in Leverkusen; assessment due 08.12.2026
    return user


async def test_reassessment_reminder_fires_once_then_snooze_and_done(bot, cm, clock):
    assert await dispatch(bot) == 0  # due in 14 days: too early
    set_clock(clock, berlin(2026, 12, 1, 10, 0))  # seven days before
    assert await dispatch(bot) == 1
    reminder = cm.last()
    assert reminder.text == "Die nächste Bestandsaufnahme von LEV-2026-0001 ist am 08.12.2026 fällig."
    assert reminder.button_texts() == ["📂 Fall öffnen", "📝 Bestandsaufnahme", "⏰ Morgen", "✔ Erledigt"]
    assert await dispatch(bot) == 0  # once
    open_case = reminder.buttons()[0]["callback_data"]
    await cm.press("⏰ Morgen", reminder)
    assert not bot.fake.messages[(cm.id, reminder.message_id)].reply_markup
    assert cm.alerts()[-1] == "Ich erinnere Sie wieder am 02.12.2026, 08:00."
    set_clock(clock, berlin(2026, 12, 2, 7, 59))
    assert await dispatch(bot) == 0
    set_clock(clock, berlin(2026, 12, 2, 8, 0))
    assert await dispatch(bot) == 1
    again = cm.last()
    await cm.press("✔ Erledigt", again)  # not done: the case file still has the assessment due
    assert cm.alerts()[-1].startswith("Noch nicht erledigt: In der Fallakte ist es weiter fällig.")
    assert bot.fake.messages[(cm.id, again.message_id)].reply_markup
    set_clock(clock, berlin(2026, 12, 3, 9, 0))
    assert await dispatch(bot) == 0
    await cm.press_data(open_case, reminder)
    assert cm.last().text.startswith("Fall LEV-2026-0001")


async def test_overdue_reminder_after_the_due_date_and_none_once_assessed(bot, cm, clock):
    set_clock(clock, berlin(2026, 12, 9, 11, 0))
    assert await dispatch(bot) == 1  # one reminder: overdue (the "soon" one was never planned in time)
    assert cm.last().text == "Die Bestandsaufnahme von LEV-2026-0001 ist seit 08.12.2026 überfällig."


async def test_weekends_and_nights_wait_for_the_working_morning(bot, cm, clock):
    set_clock(clock, berlin(2026, 12, 5, 11, 0))  # Saturday
    bot.services.dispatcher.plan(force=True)
    due = rows(bot, "SELECT due_at FROM outbox WHERE kind LIKE 'reassess%'")
    assert len(due) == 1
    assert await bot.services.dispatcher.dispatch_once(bot.app.bot, plan=False) == 0
    set_clock(clock, berlin(2026, 12, 7, 7, 59))  # Monday, before eight
    assert await bot.services.dispatcher.dispatch_once(bot.app.bot, plan=False) == 0
    set_clock(clock, berlin(2026, 12, 7, 8, 0))
    assert await bot.services.dispatcher.dispatch_once(bot.app.bot, plan=False) == 1


async def test_across_the_daylight_saving_switch(bot, cm, clock):
    with bot.services.store.engine.begin() as connection:
        connection.execute(text("UPDATE client_case SET next_due_on = '2027-03-31', last_contact_on = '2027-03-20'"))
    set_clock(clock, berlin(2027, 3, 26, 19, 0))  # Friday evening, winter time
    bot.services.dispatcher.plan(force=True)
    set_clock(clock, datetime(2027, 3, 29, 5, 59, tzinfo=UTC))  # Monday 07:59 summer time
    assert await bot.services.dispatcher.dispatch_once(bot.app.bot, plan=False) == 0
    set_clock(clock, datetime(2027, 3, 29, 6, 0, tzinfo=UTC))  # Monday 08:00 summer time
    assert await bot.services.dispatcher.dispatch_once(bot.app.bot, plan=False) == 1


async def test_goal_and_silent_case_reminders(bot, cm, clock):
    await cm.send(f"/goal {CODE}")
    for step in (">Wohnen", "Wohnung finden", ">die Klient:in", "10.12.2026", ">✔ Speichern"):
        await (cm.press(step[1:]) if step.startswith(">") else cm.send(step))
    set_clock(clock, berlin(2026, 12, 3, 9, 0))
    assert await dispatch(bot) == 2  # the goal and the re-assessment
    assert said(cm, "Ein Ziel von LEV-2026-0001") == ["Ein Ziel von LEV-2026-0001 (Wohnen) ist am 10.12.2026 fällig."]
    set_clock(clock, berlin(2027, 1, 25, 9, 0))  # 62 days without any contact
    await dispatch(bot)
    assert "Kein Kontakt mit LEV-2026-0001 seit 24.11.2026. Niemand soll durchs Netz fallen." in said(cm, "Kein Kontakt")
    assert await dispatch(bot) == 0


async def test_a_contact_recorded_before_the_reminder_goes_out_cancels_it(bot, cm, clock):
    set_clock(clock, berlin(2027, 1, 23, 11, 0))  # a Saturday: planned for Monday
    bot.services.dispatcher.plan(force=True)
    await cm.send(f"/note {CODE}")
    for step in (">heute", ">Telefonat", "Rückruf", ">✔ Speichern"):
        await (cm.press(step[1:]) if step.startswith(">") else cm.send(step))
    set_clock(clock, berlin(2027, 1, 25, 8, 0))
    await bot.services.dispatcher.dispatch_once(bot.app.bot, plan=False)
    assert rows(bot, "SELECT state FROM outbox WHERE kind = 'silent-case'") == [("cancelled",)]


async def test_after_downtime_what_fell_due_is_sent_once(bot, cm, clock):
    set_clock(clock, berlin(2026, 12, 1, 10, 0))
    bot.services.dispatcher.plan(force=True)
    await bot.app.shutdown()  # the bot is down for two days
    bot.services.store.close()
    set_clock(clock, berlin(2026, 12, 3, 10, 0))
    app, fake, services = await start_bot(bot.settings, clock, fake=bot.fake)
    bot.app, bot.services = app, services
    assert await services.dispatcher.dispatch_once(app.bot, plan=False) == 1
    assert await services.dispatcher.dispatch_once(app.bot) == 0
    assert rows(bot, "SELECT COUNT(*) FROM outbox WHERE state = 'sent'")[0][0] == 1


async def test_a_blocked_user_is_reported_to_the_coordinators(bot, cm, clock):
    coordinator = await bot.register(Role.COORDINATOR, None)
    bot.fake.api.blocked_by.add(cm.id)
    set_clock(clock, berlin(2026, 12, 1, 10, 0))
    assert await dispatch(bot) == 0
    assert rows(bot, "SELECT state FROM outbox WHERE kind = 'reassess-soon'") == [("failed",)]
    assert await bot.services.dispatcher.dispatch_once(bot.app.bot, plan=False) == 1
    assert coordinator.last().text.startswith("Eine Erinnerung an Ana (Bezirk I) konnte nicht zugestellt")
    assert await dispatch(bot) == 0  # reported once


async def test_forged_or_foreign_reminder_buttons_are_refused(bot, cm, clock):
    other = await bot.register(Role.CASE_MANAGER, "I")
    set_clock(clock, berlin(2026, 12, 1, 10, 0))
    await dispatch(bot)
    row_id = rows(bot, "SELECT id FROM outbox WHERE kind = 'reassess-soon'")[0][0]
    await other.send("/help")
    await other.press_data(f"o|{row_id}|d", other.last())
    assert other.alerts()[-1] == "Diese Taste ist nicht mehr gültig."
    assert rows(bot, "SELECT state FROM outbox WHERE id = :i", i=row_id) == [("sent",)]


def test_two_dispatchers_never_claim_the_same_row(bot, clock):
    """Claims race from two threads with their own connections (SKIP LOCKED on PostgreSQL,
    the write lock on SQLite): every row is claimed exactly once."""
    store = bot.services.store
    org_id = store.staff.first_organisation_id()
    with store.transaction() as s:
        user_id = s.exec(text("SELECT id FROM app_user LIMIT 1")).first()
    if user_id is None:
        code = store.staff.create_invitation(org_id=org_id, role=Role.CASE_MANAGER, district_id=None,
                                             expires_in=timedelta(days=1), created_by=None)
        user_id = store.staff.redeem_invitation(code=code, telegram_id=1, language="de").id
    else:
        user_id = user_id[0]
    with store.transaction() as s:
        for n in range(300):
            s.add(Outbox(org_id=org_id, user_id=user_id, kind="reassess-soon", ref_id=n, due_at=clock.now()))
    claimed: list[list[int]] = [[], []]
    barrier = threading.Barrier(2)

    def remaining() -> int:
        return rows(bot, "SELECT COUNT(*) FROM outbox WHERE state = 'due'")[0][0]

    def claim(slot: int) -> None:
        barrier.wait()
        while remaining():
            claimed[slot].extend(row.id for row in store.outbox.claim_due(limit=7))

    threads = [threading.Thread(target=claim, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    everything = claimed[0] + claimed[1]
    assert len(everything) == len(set(everything)) == 300
    if store.engine.dialect.name == "postgresql":
        assert claimed[0] and claimed[1]  # SKIP LOCKED: both work side by side


async def test_many_reminders_for_one_person_come_as_a_handful(bot, cm, clock):
    """30 goals due at once are one morning message, not 30 (0.1: 1,000 reminders were 1,000
    messages, paced at one a second, while everyone else's waited)."""
    from datetime import date

    other = await bot.register(Role.CASE_MANAGER, "II")
    await run_intake(other, given_name=("send", "Omid"), family_name=("send", "Karimi"), district=("press", "II"))
    store = bot.services.store
    manager = store.staff.user_by_telegram_id(cm.id)
    for n in range(30):
        store.casework.add_goal(manager, "LEV-2026-0001", domain="language", wording=f"Ziel {n}", responsible="client",
                                due_on=date(2026, 12, 4))
    colleague = store.staff.user_by_telegram_id(other.id)
    store.casework.add_goal(colleague, "LEV-2026-0002", domain="work", wording="Bewerbung", responsible="client",
                            due_on=date(2026, 12, 4))
    set_clock(clock, berlin(2026, 11, 30, 9, 0))
    before = len(cm.messages())
    assert await dispatch(bot) == 31  # every row goes out ...
    received = cm.messages()[before:]
    assert len(received) == 1  # ... to the case manager as one message, a numbered line each
    assert received[0].text.startswith("Guten Morgen: 30 Erinnerungen")
    assert received[0].text.count("\n") == 30 and "\n30. Ein Ziel von LEV-2026-0001" in received[0].text
    # buttons for the first twelve (a phone's screen), and "all tomorrow" for every one
    assert len(received[0].reply_markup["inline_keyboard"]) == 13
    assert other.last().text.startswith("Ein Ziel von LEV-2026-0002")
    assert rows(bot, "SELECT COUNT(*) FROM outbox WHERE kind = 'goal-due' AND state = 'sent'") == [(31,)]
    assert await dispatch(bot) == 0

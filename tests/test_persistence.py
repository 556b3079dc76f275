"""Dialogue state lives in the database: restarts, repeated deliveries, two instances."""

from __future__ import annotations

import threading

import pytest

from domain.roles import Role
from storage.types import StaleDialogue
from tests.conftest import start_bot
from tests.flows import INTAKE_STEPS, do
from tests.helpers import rows
from tests.telegram_fake import TgUser


async def test_the_dialogue_survives_a_restart(bot, clock):
    cm = await bot.register()
    await cm.send("/new")
    for name in ("consent", "source", "given_name"):
        await do(cm, *INTAKE_STEPS[name])
    question_before = cm.last()
    # the process dies: nothing of the first Application or its engine is reused
    await bot.app.shutdown()
    bot.services.store.close()
    app, fake, services = await start_bot(bot.settings, clock, fake=bot.fake)
    bot.app, bot.services = app, services
    cm = TgUser(app, fake, cm.id)
    await cm.send("Haddad")
    assert "Geburtsdatum?" in cm.last().text
    assert not fake.messages[(cm.id, question_before.message_id)].reply_markup
    for _name, step in list(INTAKE_STEPS.items())[4:]:
        await do(cm, *step)
    await cm.press("✔ Speichern")
    assert cm.last().text.startswith("Gespeichert als Fall LEV-2026-0001.")


async def test_a_repeated_delivery_is_applied_once(bot):
    from telegram import Update

    cm = await bot.register()
    await cm.send("/new")
    await cm.press("Einwilligung erteilt")
    await cm.press("FB 50 (Soziales)")
    update = Update.de_json({"update_id": 900_001, "message": {
        "message_id": 77, "date": 1, "chat": {"id": cm.id, "type": "private"},
        "from": {"id": cm.id, "is_bot": False, "first_name": "Ana", "language_code": "de"}, "text": "Amina"}},
        bot.app.bot)
    await bot.app.process_update(update)
    sent = len(bot.fake.calls)
    await bot.app.process_update(update)  # the same update again (webhook retry)
    assert len(bot.fake.calls) == sent
    assert "Familienname der Klientin" in cm.last().text


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_two_instances_on_one_postgres_database_commit_a_step_once(bot, clock):
    second_app, _, second_services = await start_bot(bot.settings, clock, fake=bot.fake)
    try:
        cm = await bot.register()
        await cm.send("/new")
        await cm.press("Einwilligung erteilt")
        question = cm.last()
        press = question.buttons()[0]["callback_data"]  # "FB 50"
        on_first = TgUser(bot.app, bot.fake, cm.id)
        on_second = TgUser(second_app, bot.fake, cm.id)
        # the same press reaches both instances (as two separate deliveries)
        await on_first.press_data(press, question)
        await on_second.press_data(press, question)
        assert on_second.alerts()[-1] == "Diese Taste ist nicht mehr gültig. Bitte die neueste Frage verwenden."
        assert rows(bot, "SELECT version FROM dialogue")[0][0] == 2
        # and the dialogue goes on at whichever instance gets the next answer
        await on_second.send("Amina")
        await on_first.send("Haddad")
        snapshot = second_services.store.dialogues.load(
            rows(bot, "SELECT id FROM app_user WHERE telegram_id = :t", t=cm.id)[0][0])
        assert snapshot.state["answers"]["given_name"] == "Amina"
        assert snapshot.state["answers"]["family_name"] == "Haddad"
        assert snapshot.state["step"] == "birth_date"
    finally:
        await second_app.shutdown()
        second_services.store.close()


async def test_racing_writers_commit_exactly_one_step(bot):
    """Threads with their own connections save from the same snapshot at the same moment."""
    cm = await bot.register(Role.CASE_MANAGER)
    user_id = rows(bot, "SELECT id FROM app_user WHERE telegram_id = :t", t=cm.id)[0][0]
    store = bot.services.store
    snapshot = store.dialogues.start(user_id=user_id, form="intake", state={"step": "x", "answers": {}})
    barrier = threading.Barrier(6)
    outcomes: list[str] = []

    def write(n: int) -> None:
        barrier.wait()
        try:
            store.dialogues.save(snapshot, {"step": "y", "answers": {"writer": n}})
            outcomes.append("saved")
        except StaleDialogue:
            outcomes.append("stale")

    threads = [threading.Thread(target=write, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["saved"] + ["stale"] * 5
    assert store.dialogues.load(user_id).version == 1


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_the_years_first_case_saved_at_two_instances_at_once_gets_two_numbers(bot):
    """The counter of case codes is created by the year's first case. Two saves at that moment
    (found by bench/load.py: one of them failed with a generic error, its intake unsaved)
    now both get a number: the second waits for the first and takes the next one."""
    import threading

    from sqlmodel import Session

    store = bot.services.store
    org_id = store.staff.first_organisation_id()
    first = Session(store.engine)
    first_code = store.cases.next_code(first, org_id, store.clock.now())  # not committed yet
    second: dict[str, str] = {}

    def save_at_the_other_instance() -> None:
        with Session(store.engine) as session:
            second["code"] = store.cases.next_code(session, org_id, store.clock.now())
            session.commit()

    other = threading.Thread(target=save_at_the_other_instance)
    other.start()
    other.join(0.5)
    assert other.is_alive()  # waits for the first save's transaction
    first.commit()
    first.close()
    other.join(10)
    assert (first_code, second.get("code")) == ("LEV-2026-0001", "LEV-2026-0002")


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_a_unit_of_work_begins_its_transaction_at_its_first_write(bot, database_url):
    """On PostgreSQL a unit of work that only reads sends no BEGIN and no COMMIT (two round
    trips fewer); one that writes is still one transaction (a failure after its first write
    takes it back), and a locking read begins it (the lock lasts until the unit commits)."""
    import psycopg
    from sqlalchemy import event, text

    store = bot.services.store
    sent: list[str] = []
    event.listen(store.engine, "before_cursor_execute", lambda conn, cursor, statement, *_: sent.append(
        cursor.connection.info.transaction_status.name))
    with store.unit_of_work() as session:
        session.execute(text("SELECT 1")).all()
        session.execute(text("SELECT 2")).all()
    assert sent == ["IDLE", "IDLE"]  # no transaction around the reads at all
    with pytest.raises(RuntimeError), store.unit_of_work() as session:
        session.execute(text("SELECT 1")).all()
        session.execute(text("INSERT INTO seen_update (update_id, seen_at) VALUES (77, now())"))
        session.execute(text("INSERT INTO seen_update (update_id, seen_at) VALUES (78, now())"))
        raise RuntimeError("after the first writes")
    assert rows(bot, "SELECT COUNT(*) FROM seen_update WHERE update_id IN (77, 78)") == [(0,)]
    with store.unit_of_work() as session:
        session.execute(text("INSERT INTO seen_update (update_id, seen_at) VALUES (79, now())"))
        session.execute(text("SELECT 1")).all()  # inside the transaction now
    assert sent[-2:] == ["INTRANS", "INTRANS"]
    assert rows(bot, "SELECT COUNT(*) FROM seen_update WHERE update_id = 79") == [(1,)]
    with store.unit_of_work() as session:
        session.execute(text("SELECT update_id FROM seen_update WHERE update_id = 79 FOR UPDATE")).all()
        with psycopg.connect(database_url.replace("+psycopg", ""), autocommit=True) as other:
            other.execute("SET lock_timeout = '200ms'")
            with pytest.raises(psycopg.errors.LockNotAvailable):  # held: the read began the transaction
                other.execute("DELETE FROM seen_update WHERE update_id = 79")
    with store.unit_of_work() as session:
        assert session.execute(text("SELECT pg_advisory_xact_lock(5)")).all()
        with psycopg.connect(database_url.replace("+psycopg", ""), autocommit=True) as other:
            assert other.execute("SELECT pg_try_advisory_xact_lock(5)").fetchone() == (False,)


async def test_a_new_case_is_numbered_at_the_end_of_its_save(bot):
    """The year's counter stays locked from its bump to the commit, and every save of the
    organisation waits for it: so the bump comes last, followed only by the code's UPDATE and
    the commit (not by the save's dozen other statements; the inbox's handled mark before it)."""
    from sqlalchemy import event

    from tests.flows import run_intake

    manager = await bot.register()
    statements: list[str] = []
    engine = bot.services.store.engine
    note = lambda conn, cursor, statement, *_: statements.append(" ".join(statement.split()))  # noqa: E731
    commit = lambda conn: statements.append("COMMIT")  # noqa: E731
    event.listen(engine, "before_cursor_execute", note)
    event.listen(engine, "commit", commit)
    try:
        await run_intake(manager)
    finally:
        event.remove(engine, "before_cursor_execute", note)
        event.remove(engine, "commit", commit)
    bump = max(i for i, s in enumerate(statements) if "INSERT INTO case_sequence" in s)
    assert any(s.startswith("UPDATE inbox_update SET handled") for s in statements[bump - 4:bump]), statements[bump - 4:bump]
    if engine.dialect.name == "postgresql":  # the bump and the code's UPDATE are one statement
        assert statements[bump + 1] == "COMMIT", statements[bump + 1:bump + 2]
    else:
        assert statements[bump + 1].startswith("UPDATE client_case SET code=") and statements[bump + 2] == "COMMIT", \
            statements[bump + 1:bump + 3]
    assert rows(bot, "SELECT code FROM client_case") == [("LEV-2026-0001",)]
    assert "LEV-2026-0001" in manager.last().text


async def test_case_numbers_past_9999_keep_all_their_digits(bot):
    from tests.flows import run_intake

    manager = await bot.register()
    org_id = bot.services.store.staff.first_organisation_id()
    with bot.services.store.engine.begin() as connection:
        connection.exec_driver_sql(f"INSERT INTO case_sequence (org_id, year, last) VALUES ({org_id}, 2026, 9999)")
    await run_intake(manager)
    assert rows(bot, "SELECT code FROM client_case") == [("LEV-2026-10000",)]

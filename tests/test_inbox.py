"""The transactional inbox on each database: stored encrypted, one sender's updates one at a
time and in order, leases that run out, an update marked handled by its first commit, poison
and unreadable updates set aside without stopping the others."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from sqlalchemy import event, exc, insert
from sqlmodel import select

from storage.models import SeenUpdate
from storage.types import Received
from tests.conftest import start_bot
from tests.flows import INTAKE_STEPS, do, run_intake
from tests.helpers import holds_number, rows

LEASE = timedelta(seconds=60)


def _received(update) -> Received:  # noqa: ANN001
    return Received(update.update_id, update.effective_user.id, json.dumps(update.to_dict(), ensure_ascii=False))


async def test_updates_are_stored_encrypted_and_one_senders_are_taken_in_order(bot, clock):
    inbox = bot.services.store.inbox
    leyla, other = bot.user(), bot.user()
    first, second, third = leyla.text_update("Leyla Osmanova"), leyla.text_update("two"), other.text_update("three")
    assert inbox.receive([_received(u) for u in (first, second, third)]) == ([u.update_id for u in (first, second, third)], [])
    assert inbox.receive([_received(first), _received(first)]) == ([], [])  # delivered again: noted, not stored
    stored = rows(bot, "SELECT body_enc, lane FROM inbox_update")
    assert all(b"Leyla" not in bytes(body) and b"Osmanova" not in bytes(body) for body, _ in stored)
    assert str(leyla.id) not in {str(lane) for _, lane in stored}
    taken = inbox.take("one", limit=10, lease=LEASE)
    assert [t.update_id for t in taken] == [first.update_id, third.update_id]
    assert json.loads(taken[0].body)["message"]["text"] == "Leyla Osmanova"
    assert inbox.take("two", limit=10, lease=LEASE) == []  # Leyla's second waits for her first
    inbox.finish(first.update_id)
    assert [t.update_id for t in inbox.take("two", limit=10, lease=LEASE)] == [second.update_id]
    clock.advance(LEASE + timedelta(seconds=1))  # both leases ran out (say, both instances died)
    assert [t.update_id for t in inbox.take("two", limit=10, lease=LEASE)] == [second.update_id, third.update_id]
    assert rows(bot, "SELECT taken_by FROM inbox_update WHERE update_id = :u", u=third.update_id) == [("two",)]


async def test_the_receiving_instance_takes_what_nobody_waits_before(bot):
    """Received and taken in one transaction when the sender has nothing else waiting; a
    sender's second update in the batch, or one behind an update still waiting, is not."""
    inbox = bot.services.store.inbox
    leyla, other, third = bot.user(), bot.user(), bot.user()
    waiting = third.text_update("first")
    inbox.receive([_received(waiting)])
    batch = [leyla.text_update("a"), leyla.text_update("b"), other.text_update("c"), third.text_update("second")]
    new, taken = inbox.receive([_received(u) for u in batch], holder="here", lease=LEASE)
    assert new == [u.update_id for u in batch] and taken == [batch[0].update_id, batch[2].update_id]
    assert rows(bot, "SELECT update_id FROM inbox_update WHERE taken_by = 'here' ORDER BY update_id") == [
        (batch[0].update_id,), (batch[2].update_id,)]
    assert [t.update_id for t in inbox.take("there", limit=10, lease=LEASE)] == [waiting.update_id]



async def test_the_end_of_a_step_takes_the_senders_next_one(bot):
    """A sender's next update, stored while the step before it was handled (here or at another
    instance), is leased by the transaction that finishes that step: no separate round through
    the database. Other lanes are left to the pump; without a holder nothing is taken."""
    inbox = bot.services.store.inbox
    leyla, other = bot.user(), bot.user()
    first, second, third = leyla.text_update("a"), leyla.text_update("b"), leyla.text_update("c")
    elsewhere = other.text_update("d")
    _, taken = inbox.receive([_received(first)], holder="here", lease=LEASE)
    assert taken == [first.update_id]
    assert inbox.receive([_received(u) for u in (second, third)], holder="there", lease=LEASE)[1] == []
    inbox.receive([_received(elsewhere)])
    (following,) = inbox.finish_all([(first.update_id, [])], holder="here", lease=LEASE, room=10)
    assert following.update_id == second.update_id and json.loads(following.body)["message"]["text"] == "b"
    assert rows(bot, "SELECT update_id, taken_by, attempts FROM inbox_update ORDER BY update_id") == [
        (second.update_id, "here", 1), (third.update_id, None, 0), (elsewhere.update_id, None, 0)]
    assert inbox.finish_all([(second.update_id, [])]) == []  # no holder: only finished
    assert [t.update_id for t in inbox.take("pump", limit=10, lease=LEASE)] == [third.update_id, elsewhere.update_id]

async def test_finishing_an_update_whose_lane_is_not_known_here_still_leases_the_next(bot):
    """Finishing knows an update's lane when this process leased it; otherwise (the way
    statement by statement) the lane comes back from the delete and its turn is taken then."""
    inbox = bot.services.store.inbox
    leyla = bot.user()
    first, second = leyla.text_update("a"), leyla.text_update("b")
    assert inbox.receive([_received(first)], holder="here", lease=LEASE)[1] == [first.update_id]
    inbox.receive([_received(second)], holder="there", lease=LEASE)
    inbox._lanes.clear()  # (as if another repository had leased it)
    (following,) = inbox.finish_all([(first.update_id, [])], holder="here", lease=LEASE, room=10)
    assert following.update_id == second.update_id
    assert rows(bot, "SELECT update_id, taken_by FROM inbox_update") == [(second.update_id, "here")]


def _race(**work: Callable[[], object]) -> dict[str, object]:
    """Each piece of work in a thread of its own, all let go at the same moment; their results."""
    start, results = threading.Barrier(len(work)), {}

    def run(name: str) -> None:
        start.wait()
        try:
            results[name] = work[name]()
        except Exception as failure:  # noqa: BLE001 - raised again in the test's thread
            results[name] = failure

    threads = [threading.Thread(target=run, args=(name,)) for name in work]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    for result in results.values():
        if isinstance(result, Exception):
            raise result
    return results


async def test_a_step_ending_as_the_senders_next_arrives_elsewhere_hands_it_on_exactly_once(bot):
    """One instance ends a sender's step while another stores the sender's next update, at the
    same moment, again and again: each time exactly one of them leases the next update (never
    both, never neither: it would wait for the pump's next round)."""
    inbox = bot.services.store.inbox
    for _ in range(40):
        person = bot.user()
        first, following = person.text_update("a"), person.text_update("b")
        assert inbox.receive([_received(first)], holder="here", lease=LEASE)[1] == [first.update_id]
        results = _race(finish=lambda done=first.update_id: [t.update_id for t in inbox.finish_all(
                            [(done, [])], holder="here", lease=LEASE, room=10)],
                        receive=lambda arriving=_received(following): inbox.receive(
                            [arriving], holder="there", lease=LEASE)[1])
        assert sorted(results["finish"] + results["receive"]) == [following.update_id], results
        holder = "here" if results["finish"] else "there"
        assert rows(bot, "SELECT taken_by FROM inbox_update WHERE update_id = :u", u=following.update_id) == [(holder,)]
        inbox.finish(following.update_id)


async def test_writes_sent_in_one_trip_commit_together_or_not_at_all(bot, database_url):
    """Store.in_one_trip (PostgreSQL: the statements, BEGIN and COMMIT in one round trip): a
    failing statement takes the ones before it back, the error is SQLAlchemy's as anywhere else,
    and the connection serves the next transaction; on PostgreSQL a connection killed under it
    fails that one transaction and is replaced."""
    store, now = bot.services.store, datetime.now(UTC)
    note = insert(SeenUpdate)
    assert store.in_one_trip([(note, {"update_id": 1, "seen_at": now})]) == [[]]
    with pytest.raises(exc.IntegrityError):
        store.in_one_trip([(note, {"update_id": 2, "seen_at": now}), (note, {"update_id": 1, "seen_at": now})])
    assert rows(bot, "SELECT update_id FROM seen_update WHERE update_id < 10 ORDER BY update_id") == [(1,)]
    returned = store.in_one_trip([(note.returning(SeenUpdate.update_id), {"update_id": 3, "seen_at": now})])
    assert [row.update_id for row in returned[0]] == [3]
    with pytest.raises((ValueError, exc.StatementError)):  # processed by its type as anywhere else: no naive time
        store.in_one_trip([(note, {"update_id": 6, "seen_at": now.replace(tzinfo=None)})])
    if not database_url.startswith("postgresql"):
        return
    with psycopg.connect(database_url.replace("+psycopg", ""), autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                      "WHERE datname = current_database() AND pid <> pg_backend_pid()")
    with pytest.raises(exc.OperationalError):
        store.in_one_trip([(note, {"update_id": 4, "seen_at": now})])
    store.in_one_trip([(note, {"update_id": 5, "seen_at": now})])
    assert rows(bot, "SELECT update_id FROM seen_update WHERE update_id < 10 ORDER BY update_id") == [(1,), (3,), (5,)]


async def test_an_update_handled_before_a_crash_is_not_handled_again(bot, clock):
    """Its first commit marked it handled: the instance died before it could delete the row, and
    the next instance only tidies up after the lease. One that died before any commit is
    handled again, once."""
    manager = await bot.register()
    store, app = bot.services.store, bot.app
    crashed_after, crashed_before = manager.text_update("/new"), manager.text_update("/cancel")
    store.inbox.receive([_received(crashed_after)])
    (taken,) = store.inbox.take("dead", limit=10, lease=LEASE)
    with store.settling(taken.update_id) as settlement:
        await app.process_update(crashed_after)  # opens the intake: its first commit
    assert settlement.settled  # ... and then the instance dies: no finish
    store.inbox.receive([_received(crashed_before)])
    clock.advance(LEASE + timedelta(seconds=1))
    (again,) = store.inbox.take("next", limit=10, lease=LEASE)
    assert again.update_id == crashed_before.update_id  # the handled one is gone, not taken again
    assert [m.text.split("\n")[0] for m in manager.messages()].count("Erstberatung · Frage 1 von 19") == 1
    clock.advance(LEASE + timedelta(seconds=1))  # and "next" died before handling /cancel
    await bot.services.inbox.deliver(manager.text_update("/help"))
    assert rows(bot, "SELECT COUNT(*) FROM dialogue") == [(0,)]  # /cancel was handled after all
    assert rows(bot, "SELECT COUNT(*) FROM inbox_update") == [(0,)]


async def test_a_handling_that_only_read_before_a_crash_is_handled_again(bot, clock):
    """Only a transaction that writes marks the update handled: an instance dying after its
    handling had only read (and committed those reads) leaves it to be handled again, and it is;
    the first write marks it (so a crash after that does not repeat it)."""
    manager = await bot.register()
    store = bot.services.store
    listing = manager.text_update("/cases")
    store.inbox.receive([_received(listing)])
    (taken,) = store.inbox.take("dead", limit=10, lease=LEASE)
    with store.settling(taken.update_id) as settlement:
        with store.unit_of_work() as session:  # what a handler reads before it writes anything
            session.exec(select(SeenUpdate)).all()
        store.dialogues.load(manager.id)  # (and a Core read outside a unit of work)
    assert not settlement.settled  # ... and then the instance dies
    assert rows(bot, "SELECT handled FROM inbox_update") == [(False,)]
    clock.advance(LEASE + timedelta(seconds=1))
    before = len(manager.messages())
    await bot.services.inbox.deliver(manager.text_update("/help"))
    assert len(manager.messages()) >= before + 2, [m.text[:40] for m in manager.messages()[before:]]  # /cases, /help
    assert rows(bot, "SELECT COUNT(*) FROM inbox_update") == [(0,)]
    with store.settling(10**12) as settlement, store.unit_of_work() as session:
        session.add(SeenUpdate(update_id=10**12, seen_at=datetime.now(UTC)))
    assert settlement.settled


async def test_a_dialogue_step_and_handled_are_one_commit(bot):
    """The step's write marks its update handled in the same commit (a crash after it never
    applies the step twice); on PostgreSQL that is one statement without BEGIN and COMMIT."""
    manager = await bot.register()
    store, app = bot.services.store, bot.app
    await manager.send("/new")
    await do(manager, *INTAKE_STEPS["consent"])
    await do(manager, *INTAKE_STEPS["source"])
    step = manager.text_update("Amina")
    store.inbox.receive([_received(step)])
    (taken,) = store.inbox.take("here", limit=10, lease=LEASE)
    statements: list[str] = []

    def seen(conn, cursor, statement, *_) -> None:  # noqa: ANN001
        statements.append(" ".join(statement.split()))

    event.listen(store.engine, "before_cursor_execute", seen)
    try:
        with store.settling(taken.update_id) as settlement:
            await app.process_update(step)  # ... and the instance dies before finishing it
    finally:
        event.remove(store.engine, "before_cursor_execute", seen)
    assert settlement.settled
    assert rows(bot, "SELECT handled FROM inbox_update WHERE update_id = :u", u=step.update_id) == [(True,)]
    assert store.dialogues.load(store.staff.user_by_telegram_id(manager.id).id).state["answers"]["given_name"] == "Amina"
    writes = [s for s in statements if s.startswith(("UPDATE", "WITH", "INSERT", "DELETE"))]
    if store.engine.dialect.name == "postgresql":
        assert len(writes) == 1 and writes[0].startswith("WITH settled AS (UPDATE inbox_update"), writes
        assert not any(s.startswith("BEGIN") for s in statements)

async def test_a_poison_update_is_set_aside_after_three_attempts(bot, clock, caplog):
    manager = await bot.register()
    store = bot.services.store
    poison = manager.text_update("/cases")
    store.inbox.receive([_received(poison)])
    for _ in range(3):  # three instances died on it
        assert [t.update_id for t in store.inbox.take("x", limit=10, lease=LEASE)] == [poison.update_id]
        clock.advance(LEASE + timedelta(seconds=1))
    with caplog.at_level(logging.ERROR):
        assert store.inbox.take("x", limit=10, lease=LEASE) == []
    assert rows(bot, "SELECT COUNT(*) FROM inbox_update") == [(0,)]
    assert "set aside" in caplog.text and not holds_number(caplog.text, manager.id)


async def test_an_update_that_cannot_be_decrypted_harms_only_itself(bot):
    manager = await bot.register()
    store, inbox = bot.services.store, bot.services.inbox
    damaged, fine = bot.user().text_update("/help"), manager.text_update("/help")
    store.inbox.receive([_received(damaged)])
    with store.engine.begin() as connection:
        from sqlalchemy import text

        connection.execute(text("UPDATE inbox_update SET body_enc = :b"), {"b": b"\x01" + b"\x00" * 40})
    before = len(manager.messages())
    await inbox.deliver(fine)
    assert len(manager.messages()) == before + 1  # the other update went on
    assert inbox.unreadable == 1
    assert rows(bot, "SELECT COUNT(*) FROM inbox_update") == [(0,)]


async def test_a_whole_intake_through_the_inbox_leaves_it_empty(bot):
    manager = await bot.register()
    await run_intake(manager)
    assert rows(bot, "SELECT COUNT(*) FROM client_case") == [(1,)]
    assert rows(bot, "SELECT COUNT(*) FROM inbox_update") == [(0,)]
    assert rows(bot, "SELECT COUNT(*) FROM seen_update")[0][0] >= 19


async def test_with_the_pump_running_each_step_finds_its_dialogue_read_with_it(bot, monkeypatch):
    """While the pump runs, the transaction that takes a step (storing it, or finishing the
    sender's step before) reads the sender's open dialogue with it: the handler does not read
    it again. The intake comes out as typed, whichever way the step was taken."""
    import asyncio

    manager = await bot.register()
    inbox, engine = bot.services.inbox, bot.services.store.engine
    await bot.app.start()
    inbox.start()

    async def through_the_pump(update) -> None:  # noqa: ANN001 - as the webhook or poller hands it in
        await inbox.take_in([update], through_gate=False)
        for _ in range(500):
            if not rows(bot, "SELECT COUNT(*) FROM inbox_update")[0][0]:
                return
            await asyncio.sleep(0.01)
        raise AssertionError("the update was not handled")

    dialogue_reads = []

    def note(conn, cursor, statement: str, *args: object) -> None:  # noqa: ANN001
        # a handler's own look at one dialogue (the reads ahead ask for several at once)
        if statement.lstrip().startswith("SELECT") and "FROM dialogue" in statement and "dialogue.user_id = " in statement:
            dialogue_reads.append(statement)

    monkeypatch.setattr(inbox, "deliver", through_the_pump)
    event.listen(engine, "before_cursor_execute", note)
    try:
        await manager.send("/new")
        before_steps = len(dialogue_reads)
        await run_intake(manager)
    finally:
        event.remove(engine, "before_cursor_execute", note)
        await inbox.stop()
        await bot.app.stop()
    # read with the step, except the first look after a dialogue starts (its key is new)
    assert len(dialogue_reads) - before_steps <= 2, len(dialogue_reads) - before_steps
    summary = rows(bot, "SELECT COUNT(*) FROM client_case")
    assert summary == [(1,)]
    assert "Gespeichert" in manager.last().text or "gespeichert" in manager.last().text, manager.last().text
    assert rows(bot, "SELECT COUNT(*) FROM dialogue") == [(0,)]


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_a_colleague_new_to_an_instance_is_not_taken_for_a_stranger(bot, clock):
    """Behind a load balancer, an instance may receive a colleague's updates that another
    instance handled so far: its gate has never seen them, but it must not drop them as a
    stranger's flood (a lost step). A stranger's second message within the interval still is."""
    second_app, _, second = await start_bot(bot.settings, clock, fake=bot.fake)
    try:
        manager = await bot.register()  # through the first instance
        stranger = bot.user(first_name="Eve")
        for update in (manager.text_update("/help"), manager.text_update("/cases"),
                       stranger.text_update("hallo"), stranger.text_update("hallo?")):
            await second.inbox.take_in([update])
        stored = rows(bot, "SELECT lane FROM inbox_update ORDER BY update_id")
        assert len(stored) == 3 and stored[0] == stored[1] != stored[2]
        assert second.gate.dropped == 1
    finally:
        await second_app.shutdown()
        second.store.close()


async def test_one_update_arriving_in_several_requests_at_once_is_handled_once(bot):
    """Stores of concurrent requests are committed together (group commit); an update that
    comes in two of them at once (a webhook retry racing the original) is new for one only."""
    import asyncio

    manager = await bot.register()
    inbox = bot.services.inbox
    await bot.app.start()
    inbox.start()
    try:
        before, stored, repeated = len(manager.messages()), inbox.stored, inbox.repeated
        update, other = manager.text_update("/help"), bot.user().text_update("hallo")
        await asyncio.gather(inbox.take_in([update]), inbox.take_in([update, update]), inbox.take_in([other]),
                             inbox.take_in([update]))
        for _ in range(200):
            if len(manager.messages()) > before and not rows(bot, "SELECT COUNT(*) FROM inbox_update")[0][0]:
                break
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.2)
    finally:
        await inbox.stop()
        await bot.app.stop()
    assert len(manager.messages()) == before + 1
    assert (inbox.stored - stored, inbox.repeated - repeated) == (2, 2)  # the third copy: one request
    assert rows(bot, "SELECT COUNT(*) FROM inbox_update") == [(0,)]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_receiving_that_rolls_back_leaves_nothing_read_ahead(bot):
    """The transaction that stores and leases an update reads its sender's dialogue with it; when
    that transaction fails at its commit, neither the lease nor what it read may be remembered
    (a later handling would take the dialogue as read then). (PostgreSQL notes them only after
    its one-trip transaction has returned.)"""
    manager = await bot.register()
    await manager.send("/new")  # an open dialogue, read with the next update
    inbox, engine = bot.services.store.inbox, bot.services.store.engine
    update = manager.text_update("/cancel")
    staff_id = bot.services.store.staff.user_by_telegram_id(manager.id).id
    received = Received(update.update_id, manager.id, json.dumps(update.to_dict()), staff_id)

    def fail(*_args: object) -> None:
        raise exc.OperationalError("COMMIT", {}, Exception("disk I/O error"))

    event.listen(engine, "commit", fail)
    try:
        with pytest.raises(exc.OperationalError):
            inbox.receive([received], holder="here", lease=LEASE)
    finally:
        event.remove(engine, "commit", fail)
    assert rows(bot, "SELECT COUNT(*) FROM inbox_update") == [(0,)]
    assert update.update_id not in inbox._read_ahead and update.update_id not in inbox._lanes
    # delivered again, it is stored, leased and read with its dialogue as usual
    assert inbox.receive([received], holder="here", lease=LEASE) == ([update.update_id], [update.update_id])
    assert inbox._read_ahead[update.update_id][0] == staff_id and inbox._read_ahead[update.update_id][1] is not None

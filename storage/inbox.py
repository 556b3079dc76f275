"""The transactional inbox: updates are stored before Telegram is told they arrived, and handled
from here, one lane (sender) at a time, by whichever instance takes them.

- `receive` notes each update_id in `seen_update` and stores the new ones, in one transaction;
  a repeated delivery (a webhook retry, the same update at a second instance) stops there.
- `take` leases the oldest update of each lane that nobody holds: never two updates of one lane
  at once, across instances (PostgreSQL skips rows another instance is locking).
- An update is marked handled in the same transaction as the first thing its handling writes
  (see `Store.settling`), so a crash after that commit never handles it again; it is deleted
  when its handling ends, which frees its lane for the next update. An instance that dies
  holding a lease leaves its updates to be taken again once the lease runs out (or, when they
  were marked handled, deleted then).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import ARRAY, BigInteger, Connection, and_, any_, bindparam, delete, exists, insert, or_, select, text, update
from sqlalchemy.orm import aliased

from storage.crypto import readable
from storage.db import upsert_insert
from storage.dialogues import DIALOGUES_AMONG, DIALOGUES_OF
from storage.models import InboxUpdate, SeenUpdate
from storage.types import Received, Taken

if TYPE_CHECKING:
    from storage.store import Store

log = logging.getLogger("casebot.inbox")
INBOX_KEY = "inbox"
# Taken this often without being handled, an update is set aside: it crashed its instance each
# time (or its instance kept dying), and one poison update must not stop its sender for ever.
MAX_ATTEMPTS = 3

# The statements of every update, built once (building the lane query with its alias cost a
# third of the inbox's time per update; SQLAlchemy caches the compiled form of a built statement)
_waiting, _older = aliased(InboxUpdate, name="waiting"), aliased(InboxUpdate, name="older")


def _choose(*narrower: object) -> object:
    """The oldest waiting update of each lane nobody is working on, leased to `holder` in the
    same statement (PostgreSQL skips rows another instance is locking)."""
    chosen = (select(_waiting.update_id)
              .where(~_waiting.handled, or_(_waiting.taken_until.is_(None), _waiting.taken_until < bindparam("now")),
                     ~exists().where(and_(_older.lane == _waiting.lane, _older.update_id < _waiting.update_id)), *narrower)
              .order_by(_waiting.update_id).limit(bindparam("limit")).with_for_update(skip_locked=True))
    return (update(InboxUpdate).where(InboxUpdate.update_id.in_(chosen))
            .values(taken_by=bindparam("holder"), taken_until=bindparam("until"), attempts=InboxUpdate.attempts + 1)
            .returning(InboxUpdate.update_id, InboxUpdate.lane, InboxUpdate.kid, InboxUpdate.body_enc, InboxUpdate.attempts))


_LEASE_ANY = _choose()
_LEASE_IN_LANES = _choose(_waiting.lane.in_(bindparam("lanes", expanding=True)))  # lanes whose update just ended
_STORE = insert(InboxUpdate)
_BUSY = select(InboxUpdate.lane).where(InboxUpdate.lane.in_(bindparam("lanes", expanding=True))).distinct()
_DROP = delete(InboxUpdate).where(InboxUpdate.update_id.in_(bindparam("ids", expanding=True)))
_DROP_RETURNING_LANES = _DROP.returning(InboxUpdate.lane)
_MARK_HANDLED = update(InboxUpdate).where(InboxUpdate.update_id == bindparam("id")).values(handled=True)
_SETTLE = update(InboxUpdate).where(InboxUpdate.update_id == bindparam("settle_id")).values(handled=True).cte("settled")
_SETTLING_TOO: dict[object, object] = {}  # statement -> the same, marking the update handled too (built once)
# Two instances touching one sender's lane at the same moment (one storing the next update, the
# other ending the current one) take turns on PostgreSQL, so the next update is never left
# waiting with both believing the other will take it (SQLite has one writer anyway).
_TAKE_TURNS = text("SELECT pg_advisory_xact_lock(lane) FROM unnest(CAST(:lanes AS bigint[])) AS lane")
# PostgreSQL's finishing, sent in one round trip (Store.in_one_trip: arrays instead of expanding IN)
_LANES, _IDS = bindparam("lanes", type_=ARRAY(BigInteger)), bindparam("ids", type_=ARRAY(BigInteger))
_DROP_ALL = delete(InboxUpdate).where(InboxUpdate.update_id == any_(_IDS))
_LEASE_IN_LANES_ALL = _choose(_waiting.lane == any_(_LANES))
# PostgreSQL's receiving in one statement (after the lanes' turns are taken: a statement of its
# own, so this one's snapshot sees whatever the turns waited for). It notes the ids, keeps the new
# ones, and leases the first new update of each lane with nothing in it to the holder, if any;
# with each update leased, its sender's open dialogue (when the receiving instance knows who
# they are): nothing else of that lane runs anywhere now, so it stays as read until handled.
_RECEIVE = text("""
WITH new AS (
    INSERT INTO seen_update (update_id, seen_at) SELECT unnest(CAST(:ids AS bigint[])), :now
    ON CONFLICT DO NOTHING RETURNING update_id),
incoming AS (
    SELECT v.update_id, v.lane, v.body_enc, v.user_id
    FROM unnest(CAST(:ids AS bigint[]), CAST(:lanes AS bigint[]), CAST(:bodies AS bytea[]), CAST(:users AS integer[]))
         AS v(update_id, lane, body_enc, user_id)
    WHERE v.update_id IN (SELECT update_id FROM new)),
first AS (
    SELECT min(update_id) AS update_id FROM incoming
    WHERE CAST(:holder AS varchar) IS NOT NULL
      AND NOT EXISTS (SELECT FROM inbox_update busy WHERE busy.lane = incoming.lane)
    GROUP BY lane),
stored AS (
    INSERT INTO inbox_update (update_id, lane, kid, body_enc, received_at, taken_by, taken_until, attempts, handled)
    SELECT i.update_id, i.lane, :kid, i.body_enc, :now,
           CASE WHEN f.update_id IS NOT NULL THEN CAST(:holder AS varchar) END,
           CASE WHEN f.update_id IS NOT NULL THEN CAST(:until AS timestamptz) END,
           CASE WHEN f.update_id IS NOT NULL THEN 1 ELSE 0 END, false
    FROM incoming i LEFT JOIN first f ON f.update_id = i.update_id
    RETURNING update_id, lane, taken_by IS NOT NULL AS taken)
SELECT s.update_id, s.lane, s.taken, i.user_id, d.user_id IS NOT NULL AS has_dialogue, d.form, d.nonce, d.version,
       d.kid, d.wrapped_key, d.state_enc, d.prompt_message_id, d.last_update_id
FROM stored s JOIN incoming i ON i.update_id = s.update_id LEFT JOIN dialogue d ON s.taken AND d.user_id = i.user_id""")
_NOTE_SEEN = {dialect: upsert_insert(dialect)(SeenUpdate).on_conflict_do_nothing().returning(SeenUpdate.update_id)
              for dialect in ("sqlite", "postgresql")}


def _take_turns(connection: Connection, lanes: list[int]) -> None:
    if connection.dialect.name == "postgresql" and lanes:
        connection.execute(_TAKE_TURNS, {"lanes": sorted(lanes)})


class InboxRepository:
    def __init__(self, store: Store) -> None:
        self._store = store
        self._tidy_after: datetime | None = None  # (leftovers are looked for now and then, not per take)
        # the lane (and the sender's staff id, when known) of each update leased here and not yet
        # finished: finishing it knows which lanes' turns to take, and whose dialogue to read
        # with their next update, before it leaves for the database (PostgreSQL: one round trip)
        self._lanes: dict[int, tuple[int, int | None]] = {}
        # update id -> (staff id, their open dialogue's row or None): read in the transaction
        # that leased the update, for its handling's first look at the dialogue
        self._read_ahead: dict[int, tuple[int, Any]] = {}

    def lane(self, sender: int) -> int:
        """A keyed hash of the sender: the inbox orders by it without holding who wrote."""
        return int(self._store.keyring.blind_index("inbox-lane", str(sender))[:15], 16)

    def receive(self, updates: list[Received], *, holder: str | None = None,
                lease: timedelta | None = None) -> tuple[list[int], list[int]]:
        """Store the updates not seen before, in one transaction: (the new ones' ids, the ids
        leased to `holder` at once). With a holder, each new update whose sender has nothing
        else waiting is taken in the same transaction, so the receiving instance handles it
        without another round through the database (the common case: one person, one step)."""
        if not updates:
            return [], []
        now = self._store.clock.now()
        kid, key = self._store.keyring.system_key(INBOX_KEY)
        unique = {u.update_id: u for u in updates}  # a batch may repeat one, too
        if self._store.engine.dialect.name == "postgresql":
            return self._receive_in_one_trip(unique, now, kid, key, holder, lease)
        with self._store.writing() as connection:
            # the primary key decides, also between two instances receiving the same update
            new = set(connection.scalars(_NOTE_SEEN[connection.dialect.name], [{"update_id": i, "seen_at": now} for i in unique]))
            fresh = sorted((i, self.lane(u.sender), u) for i, u in unique.items() if i in new)
            if not fresh:
                return [], []
            busy: set[int] = set()
            if holder is not None:
                lanes = sorted({lane for _, lane, _ in fresh})
                _take_turns(connection, lanes)  # (two instances receiving for one lane: one finds it free)
                busy = set(connection.scalars(_BUSY, {"lanes": lanes}))
            rows, taken = [], []
            for update_id, lane, u in fresh:
                row = {"update_id": update_id, "lane": lane, "kid": kid, "received_at": now, "attempts": 0,
                       "handled": False, "body_enc": key.encrypt(u.body, aad=body_aad(update_id)),
                       "taken_by": None, "taken_until": None}
                if holder is not None and lane not in busy:
                    row.update(taken_by=holder, taken_until=now + lease, attempts=1)
                    taken.append(update_id)
                busy.add(lane)  # a second update of the lane in this batch waits for the first
                rows.append(row)
            connection.execute(_STORE, rows)
            leased = {i: unique[i].user_id for i in taken}
            dialogues = self._dialogues_of(connection, leased.values())
        # (noted once committed: what a rolled-back transaction read must not be used)
        for i, lane, _ in fresh:
            if i in leased:
                self._lanes[i] = (lane, leased[i])
                self._note_read_ahead(i, leased[i], dialogues)
        return [i for i, _, _ in fresh], taken

    def _receive_in_one_trip(self, unique: dict[int, Received], now: datetime, kid: str, key: Any,
                             holder: str | None, lease: timedelta | None) -> tuple[list[int], list[int]]:
        """`receive` on PostgreSQL: the lanes' turns, then one statement, in one round trip."""
        ids = sorted(unique)
        lanes = [self.lane(unique[i].sender) for i in ids]
        steps = [] if holder is None else [(_TAKE_TURNS, {"lanes": sorted(set(lanes))})]
        steps.append((_RECEIVE, {
            "ids": ids, "lanes": lanes, "bodies": [key.encrypt(unique[i].body, aad=body_aad(i)) for i in ids],
            "users": [unique[i].user_id for i in ids],
            "now": now, "kid": kid, "holder": holder, "until": now + lease if holder is not None else None}))
        stored = self._store.in_one_trip(steps)[-1]
        for row in stored:
            if row.taken:
                self._lanes[row.update_id] = (row.lane, row.user_id)
                if row.user_id is not None:
                    self._read_ahead[row.update_id] = (row.user_id, row if row.has_dialogue else None)
        return sorted(row.update_id for row in stored), sorted(row.update_id for row in stored if row.taken)

    def take(self, holder: str, *, limit: int, lease: timedelta) -> list[Taken]:
        """Lease the oldest waiting update of up to `limit` lanes nobody is working on."""
        now = self._store.clock.now()
        with self._store.writing() as connection:
            if self._tidy_after is None or now >= self._tidy_after:
                # handled, but its instance died before it could say "done": only the row is left
                connection.execute(delete(InboxUpdate).where(InboxUpdate.handled, InboxUpdate.taken_until < now))
                self._tidy_after = now + lease / 4
            rows = connection.execute(_LEASE_ANY, {"now": now, "limit": limit, "holder": holder, "until": now + lease}).all()
            self._set_aside(connection, rows)
        return self._leased(rows)

    @staticmethod
    def _set_aside(connection: Connection, rows: list) -> None:
        """Drop the updates just leased that were taken too often without being handled."""
        given_up = [row.update_id for row in rows if row.attempts > MAX_ATTEMPTS]
        if given_up:
            connection.execute(_DROP, {"ids": given_up})
            log.error("%d update(s) set aside: their handling never finished in %d attempts",
                      len(given_up), MAX_ATTEMPTS)

    def _leased(self, rows: list, users: dict[int, int | None] | None = None,
                dialogues: dict[int, Any] | None = None) -> list[Taken]:
        """The updates just leased, decrypted (without those set aside); `users`: the staff id
        of each lane's sender, where known; `dialogues`: their open dialogues by staff id, read
        in the transaction that leased them (noted for the handling's first look)."""
        taken = []
        for row in sorted(rows, key=lambda r: r.update_id):
            if row.attempts > MAX_ATTEMPTS:
                continue
            user = (users or {}).get(row.lane)
            self._lanes[row.update_id] = (row.lane, user)
            if dialogues is not None:
                self._note_read_ahead(row.update_id, user, dialogues)
            try:
                _, key = self._store.keyring.system_key(INBOX_KEY, row.kid)
            except Exception:  # noqa: BLE001 - its key is gone: unreadable, like a damaged value
                key = None
            taken.append(Taken(row.update_id, readable(key, row.body_enc, aad=body_aad(row.update_id))))
        return taken

    def read_ahead(self, user_id: int) -> bool:
        """Whether the dialogue of `user_id` was read with the update this task handles."""
        entry = self._read_ahead.get(self._store.handling())
        return entry is not None and entry[0] == user_id

    def dialogue_read_ahead(self, user_id: int) -> tuple[bool, Any]:
        """(whether it was, their dialogue's row or None), once: a second look reads anew."""
        entry = self._read_ahead.pop(self._store.handling(), None)
        return (True, entry[1]) if entry is not None and entry[0] == user_id else (False, None)

    def settling_too(self, statement: Any) -> Any:
        """`statement` that also marks the inbox update `settle_id` handled (PostgreSQL: a
        data-modifying CTE runs exactly once, in the statement's transaction)."""
        both = _SETTLING_TOO.get(statement)
        if both is None:
            both = _SETTLING_TOO[statement] = statement.add_cte(_SETTLE)
        return both

    def mark_handled(self, update_id: int, connection: Connection) -> None:
        """In the transaction of the handling's first write: never handle it again."""
        connection.execute(_MARK_HANDLED, {"id": update_id})

    def finish(self, update_id: int, at_finish: list[tuple[Any, dict[str, Any]]] = ()) -> None:
        """Its handling ended: forget the body (the id stays in `seen_update`), free the lane;
        with the writes its handling left for this moment (Store.at_finish)."""
        self.finish_all([(update_id, at_finish)])

    def finish_all(self, finished: list[tuple[int, list[tuple[Any, dict[str, Any]]]]], *,
                   holder: str | None = None, lease: timedelta | None = None, room: int = 0) -> list[Taken]:
        """`finish` for several updates whose handling ended meanwhile, in one transaction. With a
        holder, the next waiting update of each lane freed here is leased to it in the same
        transaction (up to `room`): a sender's next step, stored while this one was handled (here
        or at another instance), goes on without another round through the database."""
        ids = [u for u, _ in finished]
        known = [self._lanes.pop(u, None) for u in ids]
        for update_id in ids:
            self._read_ahead.pop(update_id, None)  # (its handling did not look at the dialogue)
        leasing = holder is not None and room > 0
        if self._store.engine.dialect.name == "postgresql" and (None not in known or not leasing):
            # everything known beforehand: the whole transaction in one round trip
            steps = [step for _, at_finish in finished for step in at_finish]
            if not leasing:
                self._store.in_one_trip([*steps, (_DROP_ALL, {"ids": ids})])
                return []
            now, lanes = self._store.clock.now(), sorted({lane for lane, _ in known})
            users = {lane: user for lane, user in known}
            staff = sorted({user for user in users.values() if user is not None})
            steps += [(_TAKE_TURNS, {"lanes": lanes}), (_DROP_ALL, {"ids": ids}), (_LEASE_IN_LANES_ALL, {
                "now": now, "limit": room, "lanes": lanes, "holder": holder, "until": now + lease})]
            if staff:  # the dialogues of those whose next update that may lease (after this one's writes)
                steps.append((DIALOGUES_OF, {"users": staff}))
            returned = self._store.in_one_trip(steps)
            rows = returned[-2] if staff else returned[-1]
            dialogues = {row.user_id: row for row in returned[-1]} if staff else {}
            if any(row.attempts > MAX_ATTEMPTS for row in rows):
                with self._store.writing() as connection:
                    self._set_aside(connection, rows)
            return self._leased(rows, users, dialogues)
        with self._store.writing() as connection:
            for _, at_finish in finished:
                for statement, params in at_finish:
                    connection.execute(statement, params)
            if not leasing:
                connection.execute(_DROP, {"ids": ids})
                return []
            lanes = sorted(set(connection.scalars(_DROP_RETURNING_LANES, {"ids": ids})))
            _take_turns(connection, lanes)
            if not lanes:
                return []
            now = self._store.clock.now()
            rows = connection.execute(_LEASE_IN_LANES, {
                "now": now, "limit": room, "lanes": lanes, "holder": holder, "until": now + lease}).all()
            self._set_aside(connection, rows)
            users = {lane: user for lane, user in filter(None, known)}
            dialogues = self._dialogues_of(connection, (users.get(row.lane) for row in rows))
        return self._leased(rows, users, dialogues)

    @staticmethod
    def _dialogues_of(connection: Connection, staff: Iterable[int | None]) -> dict[int, Any]:
        """In the transaction that leases updates, the open dialogues of their senders (staff
        ids, where known), for their handling's first look: nothing else of a lane runs anywhere
        while its update is leased, so they stay as read until then."""
        known = sorted({user for user in staff if user is not None})
        return {row.user_id: row for row in connection.execute(DIALOGUES_AMONG, {"users": known})} if known else {}

    def _note_read_ahead(self, update_id: int, user: int | None, dialogues: dict[int, Any]) -> None:
        if user is not None:
            self._read_ahead[update_id] = (user, dialogues.get(user))

    def extend(self, holder: str, update_ids: list[int], lease: timedelta) -> None:
        """This instance is still working on these: renew their leases (a handling may wait
        longer than one lease, on a lock or a slow Bot API, without anyone taking it over)."""
        if not update_ids:
            return
        with self._store.writing() as connection:
            connection.execute(update(InboxUpdate)
                               .where(InboxUpdate.taken_by == holder, InboxUpdate.update_id.in_(update_ids))
                               .values(taken_until=self._store.clock.now() + lease))

    def release(self, holder: str, update_ids: list[int]) -> None:
        """Give back leased updates this instance will not handle (it is shutting down): the
        next instance takes them at once instead of after the lease."""
        if not update_ids:
            return
        for update_id in update_ids:
            self._lanes.pop(update_id, None)
            self._read_ahead.pop(update_id, None)
        with self._store.writing() as connection:
            connection.execute(update(InboxUpdate)
                               .where(InboxUpdate.taken_by == holder, InboxUpdate.update_id.in_(update_ids))
                               .values(taken_by=None, taken_until=None, attempts=InboxUpdate.attempts - 1))


def body_aad(update_id: int) -> str:
    return f"inbox_update:{update_id}:body"

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
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import Connection, and_, delete, exists, func, insert, or_, select, update
from sqlalchemy.orm import aliased

from storage.crypto import readable
from storage.db import upsert_insert
from storage.models import InboxUpdate, SeenUpdate
from storage.types import Received, Taken

if TYPE_CHECKING:
    from storage.store import Store

log = logging.getLogger("casebot.inbox")
INBOX_KEY = "inbox"
# Taken this often without being handled, an update is set aside: it crashed its instance each
# time (or its instance kept dying), and one poison update must not stop its sender for ever.
MAX_ATTEMPTS = 3


class InboxRepository:
    def __init__(self, store: Store) -> None:
        self._store = store
        self._tidy_after: datetime | None = None  # (leftovers are looked for now and then, not per take)

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
        with self._store.writing() as connection:
            # the primary key decides, also between two instances receiving the same update
            noted = upsert_insert(connection.dialect.name)(SeenUpdate).on_conflict_do_nothing().returning(SeenUpdate.update_id)
            unique = {u.update_id: u for u in updates}  # a batch may repeat one, too
            new = set(connection.scalars(noted, [{"update_id": i, "seen_at": now} for i in unique]))
            fresh = sorted((i, self.lane(u.sender), u) for i, u in unique.items() if i in new)
            if not fresh:
                return [], []
            busy: set[int] = set()
            if holder is not None:
                lanes = sorted({lane for _, lane, _ in fresh})
                if connection.dialect.name == "postgresql":
                    # two instances receiving one sender's updates at the same moment take turns
                    # here, so only one of them finds the lane free (SQLite has one writer anyway)
                    for lane in lanes:
                        connection.execute(select(func.pg_advisory_xact_lock(lane)))
                busy = set(connection.scalars(select(InboxUpdate.lane).where(InboxUpdate.lane.in_(lanes)).distinct()))
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
            connection.execute(insert(InboxUpdate), rows)
        return [i for i, _, _ in fresh], taken

    def take(self, holder: str, *, limit: int, lease: timedelta) -> list[Taken]:
        """Lease the oldest waiting update of up to `limit` lanes nobody is working on."""
        now = self._store.clock.now()
        older = aliased(InboxUpdate)
        oldest_of_lane = ~exists().where(and_(older.lane == InboxUpdate.lane, older.update_id < InboxUpdate.update_id))
        free = or_(InboxUpdate.taken_until.is_(None), InboxUpdate.taken_until < now)
        choose = (select(InboxUpdate.update_id).where(free, ~InboxUpdate.handled, oldest_of_lane)
                  .order_by(InboxUpdate.update_id).limit(limit).with_for_update(skip_locked=True))
        with self._store.writing() as connection:
            if self._tidy_after is None or now >= self._tidy_after:
                # handled, but its instance died before it could say "done": only the row is left
                connection.execute(delete(InboxUpdate).where(InboxUpdate.handled, InboxUpdate.taken_until < now))
                self._tidy_after = now + lease / 4
            ids = list(connection.scalars(choose))
            if not ids:
                return []
            rows = connection.execute(
                update(InboxUpdate).where(InboxUpdate.update_id.in_(ids))
                .values(taken_by=holder, taken_until=now + lease, attempts=InboxUpdate.attempts + 1)
                .returning(InboxUpdate.update_id, InboxUpdate.kid, InboxUpdate.body_enc, InboxUpdate.attempts)
            ).all()
            given_up = [row.update_id for row in rows if row.attempts > MAX_ATTEMPTS]
            if given_up:
                connection.execute(delete(InboxUpdate).where(InboxUpdate.update_id.in_(given_up)))
                log.error("%d update(s) set aside: their handling never finished in %d attempts",
                          len(given_up), MAX_ATTEMPTS)
        taken = []
        for row in sorted(rows, key=lambda r: r.update_id):
            if row.update_id in given_up:
                continue
            try:
                _, key = self._store.keyring.system_key(INBOX_KEY, row.kid)
            except Exception:  # noqa: BLE001 - its key is gone: unreadable, like a damaged value
                key = None
            taken.append(Taken(row.update_id, readable(key, row.body_enc, aad=body_aad(row.update_id))))
        return taken

    def mark_handled(self, update_id: int, connection: Connection) -> None:
        """In the transaction of the handling's first write: never handle it again."""
        connection.execute(update(InboxUpdate).where(InboxUpdate.update_id == update_id).values(handled=True))

    def finish(self, update_id: int, at_finish: list[Callable[[Connection], object]] = ()) -> None:
        """Its handling ended: forget the body (the id stays in `seen_update`), free the lane;
        with the writes its handling left for this moment (Store.at_finish)."""
        self.finish_all([(update_id, at_finish)])

    def finish_all(self, finished: list[tuple[int, list[Callable[[Connection], object]]]]) -> None:
        """`finish` for several updates whose handling ended meanwhile, in one transaction."""
        with self._store.writing() as connection:
            for _, at_finish in finished:
                for work in at_finish:
                    work(connection)
            connection.execute(delete(InboxUpdate).where(InboxUpdate.update_id.in_([u for u, _ in finished])))

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
        with self._store.writing() as connection:
            connection.execute(update(InboxUpdate)
                               .where(InboxUpdate.taken_by == holder, InboxUpdate.update_id.in_(update_ids))
                               .values(taken_by=None, taken_until=None, attempts=InboxUpdate.attempts - 1))


def body_aad(update_id: int) -> str:
    return f"inbox_update:{update_id}:body"

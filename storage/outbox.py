"""Time-driven work as rows: scheduled messages, claimed by a dispatcher with a lease."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import func, update
from sqlmodel import Session, select

from domain.vocabulary import OutboxState
from storage.models import Organisation, Outbox
from storage.types import ScheduledMessage

if TYPE_CHECKING:
    from storage.store import Store

LEASE = timedelta(minutes=5)


def schedule(s: Session, *, org_id: int, user_id: int, kind: str, ref_id: int | None, due_at: datetime) -> None:
    """Add a scheduled message to the caller's transaction (it exists only if the change does)."""
    s.add(Outbox(org_id=org_id, user_id=user_id, kind=kind, ref_id=ref_id, due_at=due_at))


def cancel(s: Session, *, kind: str, ref_id: int) -> None:
    s.exec(update(Outbox).where(Outbox.kind == kind, Outbox.ref_id == ref_id, Outbox.state == OutboxState.DUE)
           .values(state=OutboxState.CANCELLED))


class OutboxRepository:
    def __init__(self, store: Store) -> None:
        self._store = store

    def schedule_for(self, *, org_id: int, user_id: int, kind: str, ref_id: int, due_at: datetime,
                     key: str | None = None) -> None:
        """One row, in a transaction of its own (chat hygiene: hide a reveal, retry a deletion)."""
        with self._store.transaction() as s:
            s.add(Outbox(org_id=org_id, user_id=user_id, kind=kind, ref_id=ref_id, due_at=due_at, dedupe_key=key))

    def cancel_for(self, *, user_id: int, kind: str, ref_id: int) -> None:
        with self._store.transaction() as s:
            s.exec(update(Outbox).where(Outbox.user_id == user_id, Outbox.kind == kind, Outbox.ref_id == ref_id,
                                        Outbox.state == OutboxState.DUE).values(state=OutboxState.CANCELLED))

    def claim_due(self, *, limit: int = 50) -> list[ScheduledMessage]:
        """Take up to `limit` due rows for this dispatcher. On PostgreSQL, FOR UPDATE SKIP LOCKED
        lets several instances claim side by side without waiting for or doubling each other;
        a claim is a lease, so the rows of a dispatcher that died come back when it runs out."""
        now = self._store.clock.now()
        claimable = (Outbox.state == OutboxState.DUE) | ((Outbox.state == OutboxState.CLAIMED) & (Outbox.lease_until < now))
        # nothing goes to the staff of an organisation switched off (it waits until it is on again)
        claimable &= Outbox.org_id.not_in(select(Organisation.id).where(Organisation.disabled_at.is_not(None)))
        with self._store.transaction() as s:
            query = select(Outbox.id).where(claimable, Outbox.due_at <= now).order_by(Outbox.due_at).limit(limit)
            if s.get_bind().dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            candidates = list(s.exec(query).all())
            if not candidates:
                return []
            # The UPDATE re-checks the state: on SQLite, whose transactions start at the first write,
            # another dispatcher may have read the same rows; only one of the two writes wins each.
            won = s.exec(update(Outbox).where(Outbox.id.in_(candidates), claimable)
                         .values(state=OutboxState.CLAIMED, lease_until=now + LEASE, attempts=Outbox.attempts + 1)
                         .returning(Outbox.id)).all()
            ids = [row[0] for row in won]
            return [_message(row) for row in
                    s.exec(select(Outbox).where(Outbox.id.in_(ids)).order_by(Outbox.due_at, Outbox.id)).all()]

    def due_count(self) -> int:
        """How many scheduled messages wait to go out (due now or later)."""
        with self._store.transaction() as s:
            return s.exec(select(func.count()).select_from(Outbox).where(Outbox.state == OutboxState.DUE)).one()

    def get(self, row_id: int) -> ScheduledMessage | None:
        with self._store.transaction() as s:
            row = s.get(Outbox, row_id)
            return _message(row) if row is not None else None

    def finish(self, row_id: int, *, state: str) -> None:
        """Mark a claimed row sent, failed or cancelled."""
        with self._store.transaction() as s:
            s.exec(update(Outbox).where(Outbox.id == row_id)
                   .values(state=state, sent_at=self._store.clock.now() if state == OutboxState.SENT else None, lease_until=None))

    def postpone(self, row_id: int, until: datetime) -> None:
        with self._store.transaction() as s:
            s.exec(update(Outbox).where(Outbox.id == row_id).values(state=OutboxState.DUE, due_at=until, lease_until=None))


def _message(row: Outbox) -> ScheduledMessage:
    return ScheduledMessage(id=row.id, org_id=row.org_id, user_id=row.user_id, kind=row.kind, ref_id=row.ref_id,
                            dedupe_key=row.dedupe_key, state=row.state, attempts=row.attempts)

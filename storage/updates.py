"""Telegram updates already taken on: a repeated delivery is recognised and has no effect."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import delete, insert
from sqlalchemy.exc import IntegrityError

from storage.models import SeenUpdate

if TYPE_CHECKING:
    from storage.store import Store


class UpdateRepository:
    def __init__(self, store: Store) -> None:
        self._store = store

    def first_time(self, update_id: int) -> bool:
        """Note the update; False when it was noted before (Telegram delivering it again, or a
        second instance receiving it too). One INSERT; the primary key decides, across instances."""
        try:
            with self._store.writing() as connection:
                connection.execute(insert(SeenUpdate).values(update_id=update_id, seen_at=self._store.clock.now()))
            return True
        except IntegrityError:
            return False

    def forget_before(self, cutoff: datetime) -> int:
        """Forget updates noted before `cutoff` (Telegram stops redelivering within a day, and
        after a week without updates it may hand out the same ids again)."""
        with self._store.writing() as connection:
            return connection.execute(delete(SeenUpdate).where(SeenUpdate.seen_at < cutoff)).rowcount

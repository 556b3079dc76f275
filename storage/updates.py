"""Telegram updates already taken on (noted by the inbox, storage/inbox.py): kept three days."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import delete

from storage.models import SeenUpdate

if TYPE_CHECKING:
    from storage.store import Store


class UpdateRepository:
    def __init__(self, store: Store) -> None:
        self._store = store

    def forget_before(self, cutoff: datetime) -> int:
        """Forget updates noted before `cutoff` (Telegram stops redelivering within a day, and
        after a week without updates it may hand out the same ids again)."""
        with self._store.writing() as connection:
            return connection.execute(delete(SeenUpdate).where(SeenUpdate.seen_at < cutoff)).rowcount

"""The Jour fixe series and its agenda items."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from sqlmodel import select

from domain.calendar import JOUR_FIXE_INTERVAL_DAYS
from storage import audit
from storage.crypto import CryptoError, readable
from storage.models import AgendaItem, JourFixe

if TYPE_CHECKING:
    from storage.store import Store


class JourFixeRepository:
    def __init__(self, store: Store) -> None:
        self._store = store

    def setup(self, *, org_id: int, user_id: int, first_on: date, at: str, place: str,
              interval_days: int = JOUR_FIXE_INTERVAL_DAYS) -> None:
        with self._store.transaction() as s:
            series = s.get(JourFixe, org_id) or JourFixe(org_id=org_id, first_on=first_on, at=at)
            series.first_on, series.at, series.place, series.interval_days = first_on, at, place, interval_days
            s.add(series)
            audit.record(s, at=self._store.clock.now(), org_id=org_id, user_id=user_id, action="jourfixe.setup")

    def series(self, org_id: int) -> JourFixe | None:
        with self._store.transaction() as s:
            return s.get(JourFixe, org_id)

    def add_item(self, *, org_id: int, user_id: int, meeting_on: date, text: str) -> None:
        kid, key = self._store.keyring.system_key(AGENDA_KEY)
        with self._store.transaction() as s:
            item = AgendaItem(org_id=org_id, meeting_on=meeting_on, user_id=user_id, text="", kid=kid,
                              created_at=self._store.clock.now())
            s.add(item)
            s.flush()
            item.text_enc = key.encrypt(text, aad=agenda_aad(item.id))

    def items(self, org_id: int, meeting_on: date) -> list[AgendaText]:
        """The points of a meeting, decrypted (one that does not decrypt is shown as unreadable)."""
        with self._store.transaction() as s:
            rows = s.exec(select(AgendaItem).where(AgendaItem.org_id == org_id, AgendaItem.meeting_on == meeting_on)
                          .order_by(AgendaItem.id)).all()
            return [AgendaText(item.id, item.user_id, self._text(item)) for item in rows]

    def _text(self, item: AgendaItem) -> str | None:
        if item.text_enc is None:
            return item.text  # written by an earlier version, not yet encrypted by `casebot migrate`
        try:
            _, key = self._store.keyring.system_key(AGENDA_KEY, item.kid)
        except CryptoError:
            return None
        return readable(key, item.text_enc, aad=agenda_aad(item.id))

    def encrypt_plaintext(self) -> int:
        """Encrypt the points earlier versions stored in the clear; returns how many."""
        kid, key = self._store.keyring.system_key(AGENDA_KEY)
        with self._store.transaction() as s:
            rows = s.exec(select(AgendaItem).where(AgendaItem.text_enc.is_(None))).all()
            for item in rows:
                item.text_enc, item.kid, item.text = key.encrypt(item.text, aad=agenda_aad(item.id)), kid, ""
                s.add(item)
            return len(rows)


AGENDA_KEY = "agenda"


def agenda_aad(item_id: int) -> str:
    return f"agenda/{item_id}"


@dataclass(frozen=True)
class AgendaText:
    id: int
    user_id: int
    text: str | None

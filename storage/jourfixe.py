"""The Jour fixe series and its agenda items."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from sqlmodel import select

from domain.calendar import JOUR_FIXE_INTERVAL_DAYS
from storage import audit
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
        with self._store.transaction() as s:
            s.add(AgendaItem(org_id=org_id, meeting_on=meeting_on, user_id=user_id, text=text,
                             created_at=self._store.clock.now()))

    def items(self, org_id: int, meeting_on: date) -> list[AgendaItem]:
        with self._store.transaction() as s:
            return list(s.exec(select(AgendaItem).where(AgendaItem.org_id == org_id, AgendaItem.meeting_on == meeting_on)
                               .order_by(AgendaItem.id)).all())

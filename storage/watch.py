"""The status watcher's dates per case (domain/watch.py), and what the planner makes of them.

The dates are computed when the intake is saved or changed, with the values in hand (they are
encrypted; the planner never decrypts): a watch row holds only the kind and the date it falls
due. Cases recorded before the watcher existed get theirs from `casebot migrate` (backfill).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from time import monotonic
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, delete, or_, update
from sqlmodel import Session, select

from domain.eligibility import years_after
from domain.reminders import WATCH_REMINDERS, ReminderKind, dedupe_key
from domain.vocabulary import CaseStatus
from domain.watch import Facts, Watch, watch_dates
from storage.models import CaseWatch, ClientCase
from storage.types import Planned

if TYPE_CHECKING:
    from storage.store import Store

# the version of the rules watch rows were computed with: a change of the rules' code bumps it,
# and `casebot migrate` (or a change of an organisation's figures) recomputes the rows
REVISION = 1
PAGE = 5000


def _day(value: Any) -> date | None:
    return date.fromisoformat(value) if isinstance(value, str) and value else None


def facts_of(intake: dict[str, Any]) -> Facts:
    children = intake.get("children")
    return Facts(birth_date=_day(intake.get("birth_date")), status=intake.get("residence_status"),
                 status_since=_day(intake.get("residence_since")), valid_until=_day(intake.get("residence_valid_until")),
                 arrived_germany=_day(intake.get("arrived_germany")),
                 children=children if isinstance(children, int) else None)


class WatchRepository:
    def __init__(self, store: Store) -> None:
        self._store = store

    def refresh(self, s: Session, case: ClientCase, intake: dict[str, Any]) -> dict[Watch, date]:
        """Recompute the case's watch dates from its intake values, in the caller's transaction."""
        today = self._store.clock.now().astimezone(self._store.tz).date()
        dates = watch_dates(facts_of(intake), today, self._store.settings.watch_rules(case.org_id))
        s.exec(delete(CaseWatch).where(CaseWatch.case_id == case.id))
        for kind, due in dates.items():
            s.add(CaseWatch(case_id=case.id, kind=kind, due_on=due))
        case.watch_rev = REVISION
        s.add(case)
        return dates

    def invalidate(self, org_id: int) -> None:
        """The organisation's figures changed: recompute its cases' dates at the next backfill."""
        with self._store.transaction() as s:
            s.exec(update(ClientCase).where(ClientCase.org_id == org_id).values(watch_rev=0))

    def backfill(self, *, batch: int = 200, until: float | None = None) -> int:
        """Compute the watch dates of open cases that have none yet (or old ones); returns how
        many cases were done. A case whose key is gone (erased) is marked done without dates.
        `until` (time.monotonic()): stop after the batch that passes it; what is left waits
        for the next call."""
        done = 0
        while True:
            with self._store.transaction() as s:
                cases = s.exec(select(ClientCase).where(ClientCase.watch_rev < REVISION,
                                                        ClientCase.status == CaseStatus.OPEN)
                               .order_by(ClientCase.id).limit(batch)).all()
                for case in cases:
                    key = self._store.cases.data_key_or_none(s, case.id)
                    intake = self._store.casework.record_or_empty(s, case.id, key, "intake") if key else {}
                    self.refresh(s, case, intake)
                done += len(cases)
            if len(cases) < batch:
                return done
            if until is not None and monotonic() >= until:
                return done

    def planned(self, today: date, deliver_at: datetime) -> Iterator[Planned]:
        """A reminder for each watch date reached of an open case (once per date and person),
        read a page at a time (keyset over the row's key, case and kind)."""
        after: tuple[int, str] = (0, "")
        while True:
            with self._store.transaction() as s:
                rows = s.exec(select(CaseWatch.case_id, CaseWatch.kind, CaseWatch.due_on, ClientCase.org_id,
                                     ClientCase.assigned_to)
                              .join(ClientCase, CaseWatch.case_id == ClientCase.id)
                              .where(CaseWatch.due_on <= today, ClientCase.status == CaseStatus.OPEN,
                                     or_(CaseWatch.case_id > after[0],
                                         and_(CaseWatch.case_id == after[0], CaseWatch.kind > after[1])))
                              .order_by(CaseWatch.case_id, CaseWatch.kind).limit(PAGE)).all()
            for case_id, kind, due, org_id, user_id in rows:
                reminder = WATCH_REMINDERS.get(kind)
                if reminder is not None:
                    yield Planned(org_id, user_id, reminder, case_id, deliver_at, dedupe_key(reminder, case_id, due, user_id))
            if len(rows) < PAGE:
                return
            after = (rows[-1][0], rows[-1][1])

    def subject(self, kind: str, case_id: int, user_id: int, key: str | None) -> dict[str, Any] | None:
        """What a watch reminder is about, if it still holds (the date is still the date, the case
        open and the user's): the code, and the date of the event itself (decrypted)."""
        watch = next((w for w, r in WATCH_REMINDERS.items() if r == ReminderKind(kind)), None)
        with self._store.transaction() as s:
            row = s.get(CaseWatch, (case_id, watch))
            case = s.get(ClientCase, case_id)
            if row is None or case is None or case.status != CaseStatus.OPEN or case.assigned_to != user_id:
                return None
            if key and str(row.due_on) not in key:
                return None
            data_key = self._store.cases.data_key_or_none(s, case.id)
            intake = self._store.casework.record_or_empty(s, case.id, data_key, "intake") if data_key else {}
        facts = facts_of(intake)
        rules = self._store.settings.watch_rules(case.org_id)
        event = {Watch.EXPIRY: facts.valid_until}.get(watch, row.due_on)
        if watch in (Watch.AGE_18, Watch.AGE_27) and facts.birth_date is not None:
            event = years_after(facts.birth_date, rules.adult_age if watch == Watch.AGE_18 else rules.young_age_limit)
        return {"code": case.code, "date": event or row.due_on, "status": facts.status}

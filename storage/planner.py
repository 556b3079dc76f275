"""Plans reminders, digests and Jour fixe agendas as outbox rows.

Reads only plaintext workflow columns (dates, statuses, assignments), never case content.
Every planned row has a dedupe key, unique in the database, so a row is planned once however
often (and on however many instances) the planner runs.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from datetime import date, datetime, time, timedelta
from time import monotonic
from typing import TYPE_CHECKING

from sqlmodel import select

from domain import roles
from domain.calendar import WorkingHours, is_meeting_day
from domain.reminders import (
    ReminderKind,
    dedupe_key,
    goal_reminder,
    reassessment_reminder,
    remind_from,
    silent_cutoff,
    weekly_key,
)
from domain.vocabulary import CaseStatus, GoalStatus, OutboxState
from storage.cases import silent_since
from storage.db import upsert_insert
from storage.models import AppUser, ClientCase, Goal, JourFixe, Organisation, Outbox
from storage.types import Planned

if TYPE_CHECKING:
    from storage.store import Store

CHUNK = 500  # planned rows per INSERT
PAGE = 5000  # due cases read at a time
# how long one round may spend on what an upgrade without `casebot migrate` left to compute
# (watch dates, name indexes: ~1-2 ms a case); the dispatcher goes on with it every round
CATCH_UP_SECONDS = 5.0
CATCH_UP_BATCH = 200  # cases a transaction


def _insert_new(s):  # noqa: ANN001, ANN202
    """INSERT ... ON CONFLICT (dedupe_key) DO NOTHING, in the engine's dialect."""
    return upsert_insert(s.get_bind().dialect.name)(Outbox).on_conflict_do_nothing(index_elements=["dedupe_key"])


class Planner:
    def __init__(self, store: Store) -> None:
        self._store = store
        self.caught_up = False

    def catch_up(self, seconds: float | None = None) -> bool:
        """Compute, for at most about `seconds`, what `casebot migrate` computes and an upgrade
        without it left: agenda points of an earlier version still in the clear, watch dates
        of cases recorded before the watcher (or before the organisation's figures changed),
        names indexed by earlier rules. A slice at a time, so that a large installation's
        reminders (and the hiding of names shown) are not held up for the half hour a million
        cases take; until then, the watch reminders of the cases not yet done wait. True once
        nothing is left."""
        if self.caught_up:
            return True
        until = monotonic() + (CATCH_UP_SECONDS if seconds is None else seconds)
        self._store.jourfixe.encrypt_plaintext()
        self._store.watch.backfill(batch=CATCH_UP_BATCH, until=until)
        self._store.cases.reindex(batch=CATCH_UP_BATCH, until=until)
        # each does at least one batch and stops early only once past `until`: done in time, done
        self.caught_up = monotonic() < until
        return self.caught_up

    def plan(self, *, hours: WorkingHours, days_before: int, silent_days: int) -> int:
        """Plan whatever is due by now; returns how many rows were added."""
        self.catch_up()
        now = self._store.clock.now()
        today = now.astimezone(hours.tz).date()
        deliver_at = hours.next_delivery(now)
        # a stream, page by page: never all due cases in memory at once (1,000,000 cases made
        # the first round peak at 500 MB when each source was read whole)
        with self._store.transaction() as s:  # nothing is planned for an organisation switched off or erased
            off = set(s.exec(select(Organisation.id).where(Organisation.disabled_at.is_not(None)
                                                           | Organisation.erased_at.is_not(None))).all())
        wanted = (p for p in itertools.chain(
            self._reassessments(today, deliver_at, days_before),
            self._goals(today, deliver_at, days_before),
            self._silent_cases(today, deliver_at, silent_days, hours),
            self._store.watch.planned(today, deliver_at),
            self._digests(today, now, hours),
            self._jour_fixe(today, now, hours),
        ) if p.org_id not in off)
        return self.add(wanted)

    def add(self, wanted: Iterable[Planned]) -> int:
        """Insert the rows whose keys are new, a chunk at a time. A concurrent planner may win a
        key first: its row stands and this one is skipped."""
        added = 0
        stream = iter(wanted)
        while chunk := list({p.key: p for p in itertools.islice(stream, CHUNK)}.values()):
            with self._store.transaction() as s:
                known = set(s.exec(select(Outbox.dedupe_key).where(Outbox.dedupe_key.in_([p.key for p in chunk]))).all())
                fresh = [{"org_id": p.org_id, "user_id": p.user_id, "kind": p.kind, "ref_id": p.ref_id,
                          "due_at": p.due_at, "dedupe_key": p.key, "state": OutboxState.DUE, "attempts": 0}
                         for p in chunk if p.key not in known]
                if fresh:
                    # one batched INSERT per chunk (0.1: one transaction per row, 31 s for 92,208
                    # rows); a key another instance planned meanwhile is skipped by the database
                    added += len(s.connection().execute(_insert_new(s).returning(Outbox.id), fresh).all())
        return added

    def _pages(self, query, key) -> Iterator:  # noqa: ANN001
        """The rows of `query`, PAGE at a time in order of `key` (keyset paging), each page in a
        short transaction of its own (a long one would hold SQLite's writers back)."""
        after = None
        while True:
            with self._store.transaction() as s:
                page = s.exec((query if after is None else query.where(key > after)).order_by(key).limit(PAGE)).all()
            yield from page
            if len(page) < PAGE:
                return
            after = page[-1][0]

    def _reassessments(self, today: date, deliver_at: datetime, days_before: int) -> Iterator[Planned]:
        rows = self._pages(select(ClientCase.id, ClientCase.org_id, ClientCase.assigned_to, ClientCase.next_due_on)
                           .where(ClientCase.status == CaseStatus.OPEN,
                                  ClientCase.next_due_on <= remind_from(today, days_before)), ClientCase.id)
        for case_id, org_id, user_id, due in rows:
            kind = reassessment_reminder(due, today)
            yield Planned(org_id, user_id, kind, case_id, deliver_at,
                          weekly_key(dedupe_key(kind, case_id, due, user_id), due, today))

    def _goals(self, today: date, deliver_at: datetime, days_before: int) -> Iterator[Planned]:
        rows = self._pages(select(Goal.id, Goal.due_on, ClientCase.org_id, ClientCase.assigned_to)
                           .join(ClientCase, Goal.case_id == ClientCase.id)
                           .where(Goal.status == GoalStatus.OPEN, ClientCase.status == CaseStatus.OPEN,
                                  Goal.due_on <= remind_from(today, days_before)), Goal.id)
        for goal_id, due, org_id, user_id in rows:
            kind = goal_reminder(due, today)
            yield Planned(org_id, user_id, kind, goal_id, deliver_at,
                          weekly_key(dedupe_key(kind, goal_id, due, user_id), due, today))

    def _silent_cases(self, today: date, deliver_at: datetime, silent_days: int, hours: WorkingHours) -> Iterator[Planned]:
        """Open cases without a contact for `silent_days` (or, never contacted, opened that long ago)."""
        cutoff = silent_cutoff(today, silent_days)
        rows = self._pages(select(ClientCase.id, ClientCase.org_id, ClientCase.assigned_to, ClientCase.last_contact_on,
                                  ClientCase.created_at)
                           .where(ClientCase.status == CaseStatus.OPEN, silent_since(cutoff, hours.tz)), ClientCase.id)
        kind = ReminderKind.SILENT_CASE
        for case_id, org_id, user_id, last, created in rows:
            since = last or created.astimezone(hours.tz).date()
            yield Planned(org_id, user_id, kind, case_id, deliver_at,
                          weekly_key(dedupe_key(kind, case_id, since, user_id), since + timedelta(days=silent_days), today))

    def _digests(self, today: date, now: datetime, hours: WorkingHours) -> list[Planned]:
        """Each coordinator's digest: daily on working days, or weekly on Mondays, at their hour."""
        if today.weekday() not in hours.workdays:
            return []
        with self._store.transaction() as s:
            rows = s.exec(select(AppUser.id, AppUser.org_id, AppUser.digest_frequency, AppUser.digest_hour)
                          .where(AppUser.role.in_(roles.holding(roles.reads_digest)),
                                 AppUser.active == True,  # noqa: E712
                                 AppUser.digest_frequency != "off")).all()
        planned = []
        for user_id, org_id, frequency, hour in rows:
            if frequency == "weekly" and today.weekday() != 0:
                continue
            due = hours.local(today, time(hour, 0))
            if due <= now + timedelta(hours=1):  # plan a little ahead, never for a past day
                planned.append(Planned(org_id, user_id, ReminderKind.DIGEST, None, due, f"digest:{user_id}:{today}"))
        return planned

    def _jour_fixe(self, today: date, now: datetime, hours: WorkingHours) -> list[Planned]:
        """On the morning of a Jour fixe, its agenda to every case manager and coordinator."""
        with self._store.transaction() as s:
            series = s.exec(select(JourFixe)).all()
            planned = []
            for jf in series:
                if not is_meeting_day(jf.first_on, jf.interval_days, today):
                    continue
                members = s.exec(select(AppUser.id).where(
                    AppUser.org_id == jf.org_id, AppUser.active == True,  # noqa: E712
                    AppUser.role.in_(roles.holding(roles.takes_part_in_jour_fixe)))).all()
                if now >= hours.local(today, time.fromisoformat(jf.at)):
                    continue  # the meeting has begun: an agenda now would only be noise
                due = hours.local(today, hours.start)
                planned += [Planned(jf.org_id, user_id, ReminderKind.JOUR_FIXE_AGENDA, None, due, f"jourfixe:{jf.org_id}:{today}:{user_id}")
                            for user_id in members]
            return planned

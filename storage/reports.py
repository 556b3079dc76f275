"""The facts a report counts for a period (domain/reports.py turns them into tables): one small
dict per thing counted, made from workflow columns, the audit trail's codes, and each served
client's coarse profile (storage/profiles.py, decrypted in batches there). No fact names a
client or carries a case code; the case managers' names appear only in the internal caseload
facts, which never leave the coordinator's chat. A case counts in the district it was in at the
moment counted (recorded, open at the start or end, closed), from the handovers in the audit
trail; a client's residence status and benefit system as they stood at the period's end."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, select

from domain.reports import (
    CONTACT_BANDS,
    DURATION_BANDS,
    GAP_STATUSES,
    HISTORY_FIELDS,
    PROFILE_FIELDS,
    REFERRAL_STEPS,
    Period,
    as_of,
    day_band,
    need_changes,
)
from storage.casework import row_aad
from storage.crypto import CryptoError
from storage.models import (
    AppUser,
    AuditEvent,
    CaseKey,
    ClientCase,
    Conference,
    Contact,
    District,
    Goal,
    Referral,
    Service,
)
from storage.types import staff_label

if TYPE_CHECKING:
    from storage.store import Store

Fact = dict[str, str]
_PAGE = 2000  # cases whose facts are made at a time
_COUNTED_ACTIONS = ("case.close", "case.reopen", "case.erase", "handover.accept", "goal.status", "referral.status",
                    "case.assess")
_DETAIL = re.compile(r"(\w+)=([\w-]+)")
# what a referral can end in after it was sent: the first of these after "sent" is its result
RESULTS = frozenset(REFERRAL_STEPS) - {"sent"}


def bounds(period: Period, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The period as moments in UTC: from local midnight of its first day to local midnight after
    its last (a quarter that starts in winter time ends in summer time)."""
    return (datetime.combine(period.start, time.min, tz).astimezone(UTC),
            datetime.combine(period.end + timedelta(days=1), time.min, tz).astimezone(UTC))


def _detail(text: str) -> dict[str, str]:
    return dict(_DETAIL.findall(text or ""))


class ReportRepository:
    def __init__(self, store: Store) -> None:
        self._store = store

    def facts(self, org_id: int, period: Period) -> Iterator[Fact]:
        """The period's facts, one at a time (a report counts them as they come; none is kept).
        Call it in a worker thread: it reads the database as it goes, a page of cases at a time
        (with their audit events, goals, referrals, contacts and conferences), so a report holds
        one page however many cases there are. Every fact belongs to one case, so pages of
        case ids (all cases', as an organisation's trail may name a case since moved to another)
        take each exactly once."""
        start, end = bounds(period, self._store.tz)
        with self._store.reading() as c:
            districts = dict(c.execute(select(District.id, District.code).where(District.org_id == org_id)).all())
            staff = c.execute(select(AppUser.id, AppUser.display_name, AppUser.employer).where(AppUser.org_id == org_id)).all()
        managers = {user_id: staff_label(name, user_id) for user_id, name, _ in staff}
        employers = {user_id: employer or "unknown" for user_id, _, employer in staff}
        after = 0
        while True:
            with self._store.reading() as c:
                ids = c.scalars(select(ClientCase.id).where(ClientCase.id > after).order_by(ClientCase.id).limit(_PAGE)).all()
                if not ids:
                    return
                page = self._page(c, org_id, period, start, end, ids[0], ids[-1])
            after = ids[-1]
            yield from self._page_facts(page, districts, managers, employers, period, start, end)

    @staticmethod
    def _page(c: Connection, org_id: int, period: Period, start: datetime, end: datetime, first: int, last: int) -> dict:
        """What the facts of the cases with ids from `first` to `last` are made from."""
        return {
            "cases": c.execute(select(ClientCase.id, ClientCase.district_id, ClientCase.assigned_to, ClientCase.created_at,
                                      ClientCase.erased_at)
                               .where(ClientCase.org_id == org_id, ClientCase.id.between(first, last))).all(),
            "events": c.execute(select(AuditEvent.case_id, AuditEvent.action, AuditEvent.detail, AuditEvent.at)
                                .where(AuditEvent.org_id == org_id, AuditEvent.case_id.between(first, last),
                                       AuditEvent.action.in_(_COUNTED_ACTIONS))
                                .order_by(AuditEvent.at, AuditEvent.id)).all(),
            "goals": c.execute(select(Goal.id, Goal.case_id, Goal.domain, Goal.created_at, Goal.due_on)
                               .join(ClientCase, ClientCase.id == Goal.case_id)
                               .where(ClientCase.org_id == org_id, Goal.case_id.between(first, last))).all(),
            "referrals": c.execute(select(Referral.id, Referral.domain, Service.name, Service.legal_area, Service.programme)
                                   .join(Service, Service.id == Referral.service_id)
                                   .where(Service.org_id == org_id, Referral.case_id.between(first, last))).all(),
            "contacts": c.execute(select(Contact.case_id, Contact.kind).join(ClientCase, ClientCase.id == Contact.case_id)
                                  .where(ClientCase.org_id == org_id, Contact.case_id.between(first, last),
                                         Contact.happened_on >= period.start, Contact.happened_on <= period.end)).all(),
            "conferences": c.execute(select(Conference.case_id, Conference.status).where(
                Conference.org_id == org_id, Conference.case_id.between(first, last),
                Conference.starts_at >= start, Conference.starts_at < end)).all(),
        }

    def _page_facts(self, page: dict, districts: dict[int, str], managers: dict[int, str], employers: dict[int, str],
                    period: Period, start: datetime, end: datetime) -> Iterator[Fact]:
        cases, events = page["cases"], page["events"]
        district_at = _districts_over_time(cases, events, districts)
        district_of = {case_id: district_at(case_id, end) for case_id, *_ in cases}  # where each is at the end
        trager_of = {case_id: employers.get(assigned, "unknown") for case_id, _, assigned, *_ in cases}
        served: set[int] = set()
        yield from self._case_facts(cases, events, district_at, trager_of, managers, start, end, served)
        yield from self._client_facts(served, district_of, period)  # once `served` is complete
        yield from _durations(cases, events, start, end)
        per_case: dict[int, int] = defaultdict(int)
        for case_id, _kind in page["contacts"]:
            per_case[case_id] += 1
        for case_id in served:
            yield {"subject": "contacts-per-case", "district": district_of.get(case_id, "?"),
                   "contacts": day_band(per_case.get(case_id, 0), CONTACT_BANDS)}
        yield from _goal_facts(page["goals"], events, start, end, period)
        yield from _referral_facts(page["referrals"], events, start, end)
        for case_id, kind in page["contacts"]:
            yield {"subject": "contact", "district": district_of.get(case_id, "?"), "kind": kind}
        for case_id, status in page["conferences"]:
            yield {"subject": "conference", "district": district_of.get(case_id, "?"), "status": status}

    def gap_notes(self, org_id: int, period: Period) -> list[tuple[str, str, str]]:
        """(life domain, service, description) of the gaps recorded in the period that their case
        manager described for the steering group, decrypted here (one that does not decrypt, its
        case erased, is left out)."""
        start, end = bounds(period, self._store.tz)
        with self._store.reading() as c:
            gap_ids = {int(_detail(detail).get("referral", "0")) for (detail,) in c.execute(
                select(AuditEvent.detail).where(AuditEvent.org_id == org_id, AuditEvent.action == "referral.status",
                                                AuditEvent.at >= start, AuditEvent.at < end)).all()
                       if _detail(detail).get("status") in GAP_STATUSES}
            rows = c.execute(select(Referral.id, Referral.case_id, Referral.domain, Service.name, Referral.gap_enc,
                                    CaseKey.kid, CaseKey.wrapped)
                             .join(Service, Service.id == Referral.service_id)
                             .join(CaseKey, CaseKey.case_id == Referral.case_id)
                             .where(Referral.id.in_(gap_ids), Referral.gap_enc.is_not(None))
                             .order_by(Referral.domain, Service.name)).all() if gap_ids else []
        notes = []
        for referral_id, case_id, domain, service, blob, kid, wrapped in rows:
            try:
                key = self._store.cases.unwrap(case_id, kid, wrapped)
                notes.append((domain, service, key.decrypt(blob, aad=row_aad(case_id, "referral", referral_id, "gap"))))
            except CryptoError:
                continue
        return notes

    def _client_facts(self, served: set[int], district_of: dict[int, str], period: Period) -> Iterator[Fact]:
        """The clients served in the period, by their coarse profile (decrypted in batches here);
        a case without one (erased, or not yet migrated) counts as unknown."""
        for case_id, profile in self._store.profiles.read_each(served):
            yield {"subject": "client", "district": district_of.get(case_id, "?"),
                   **{name: str(profile.get(name, "unknown")) for name in PROFILE_FIELDS},
                   # a status or benefit system that changed: as it stood at the period's end
                   **{name: as_of(profile, name, period.end) for name in HISTORY_FIELDS}}
            for when in ("first", "latest"):
                for domain, level in profile.get(f"needs_{when}", {}).items():
                    yield {"subject": f"need-{when}", "domain": domain, "level": level}
                for domain in profile.get(f"strengths_{when}", ()):
                    yield {"subject": "strength", "domain": domain, "when": when}
            for domain, change in need_changes(profile):
                yield {"subject": "need-change", "domain": domain, "change": change}

    def _case_facts(self, cases, events, district_at, trager_of, managers, start, end, served) -> list[Fact]:  # noqa: ANN001
        """New, open at start and end, closed (by reason), reopened, handed over, by district (the
        one the case was in at that moment: a handover within the period moves it) and by
        Träger. Whether a case was open at a moment comes from its closures and reopenings in the
        audit trail, so a case closed and reopened within the period counts as both. The cases
        served in the period (open at some time in it) are added to `served`."""
        history: dict[int, list[tuple[datetime, str]]] = defaultdict(list)
        closed: set[int] = set()  # as the events go by: which cases stand closed
        facts: list[Fact] = []
        for case_id, action, detail, at in events:
            at = _utc(at)
            # an erasure ends an open case as a closure does (a closed one it leaves closed)
            ends = action == "case.close" or (action == "case.erase" and case_id not in closed)
            if action in ("case.close", "case.reopen") or ends:
                history[case_id].append((at, "case.close" if ends else action))
            was_closed = case_id in closed
            if ends or action == "case.erase":
                closed.add(case_id)
            elif action == "case.reopen":
                closed.discard(case_id)
            if not start <= at < end:
                continue
            where = {"district": district_at(case_id, at + timedelta(microseconds=1)) if action == "handover.accept"
                     else district_at(case_id, at), "trager": trager_of.get(case_id, "unknown")}
            if ends and not was_closed:
                reason = _detail(detail).get("reason", "other") if action == "case.close" else "erased"
                facts.append({"subject": "case", **where, "flow": "closed"})
                facts.append({"subject": "closure", "district": where["district"], "reason": reason})
            elif action == "case.reopen":
                facts.append({"subject": "case", **where, "flow": "reopened"})
                served.add(case_id)
            elif action == "handover.accept":
                facts.append({"subject": "case", **where, "flow": "handed-over"})

        def open_at(case_id: int, created: datetime, erased: datetime | None, moment: datetime) -> bool:
            if created >= moment or (erased is not None and erased < moment):
                return False
            before = [action for at, action in history.get(case_id, ()) if at < moment]
            return not before or before[-1] != "case.close"

        for case_id, _district, assigned, created, erased in cases:
            created, erased = _utc(created), _utc(erased)
            trager = trager_of[case_id]
            if start <= created < end:
                facts.append({"subject": "case", "district": district_at(case_id, created), "trager": trager, "flow": "new"})
                served.add(case_id)
            if open_at(case_id, created, erased, start):
                facts.append({"subject": "case", "district": district_at(case_id, start), "trager": trager,
                              "flow": "open-start"})
                served.add(case_id)
            if open_at(case_id, created, erased, end):
                district = district_at(case_id, end)
                facts.append({"subject": "case", "district": district, "trager": trager, "flow": "open-end"})
                facts.append({"subject": "caseload", "district": district, "manager": managers.get(assigned, "?")})
        return facts


def _districts_over_time(cases, events, districts: dict[int, str]):  # noqa: ANN001, ANN202
    """district_at(case, moment): the district a case was in then, from the handovers accepted
    before it (each names the district it moved from and to). A handover accepted before this
    version named neither: such a case counts where it is now."""
    now = {case_id: district_id for case_id, district_id, *_ in cases}
    moves: dict[int, list[tuple[datetime, int | None, int | None]]] = defaultdict(list)
    for case_id, action, detail, at in events:
        if action == "handover.accept":
            found = _detail(detail)
            moves[case_id].append((_utc(at), int(found["from"]) if found.get("from", "").isdigit() else None,
                                   int(found["to"]) if found.get("to", "").isdigit() else None))

    def district_at(case_id: int, moment: datetime) -> str:
        history = moves.get(case_id)
        if not history or any(to is None for _, _, to in history):
            return districts.get(now.get(case_id), "?")
        before = [to for at, _, to in history if at < moment]
        district_id = before[-1] if before else (history[0][1] if history[0][1] is not None else now.get(case_id))
        return districts.get(district_id, "?")

    return district_at


def _utc(moment: datetime | None) -> datetime | None:
    """SQLite hands naive datetimes back from some queries: they are UTC."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def _durations(cases, events, start: datetime, end: datetime) -> Iterable[Fact]:  # noqa: ANN001
    """From the intake to the first assessment (for first assessments in the period), and the
    length of the cases closed in it, in bands of days."""
    created = {case_id: _utc(at) for case_id, _, _, at, _ in cases}
    for case_id, action, detail, at in events:
        at = _utc(at)
        if not start <= at < end or case_id not in created:
            continue
        if action == "case.assess" and _detail(detail).get("number") == "1":
            yield {"subject": "duration", "measure": "intake-to-assessment",
                   "span": day_band((at - created[case_id]).days, DURATION_BANDS)}
        elif action == "case.close":
            yield {"subject": "duration", "measure": "case-length", "span": day_band((at - created[case_id]).days, DURATION_BANDS)}


def _goal_facts(goals, events, start: datetime, end: datetime, period: Period) -> Iterable[Fact]:  # noqa: ANN001
    statuses: dict[int, list[tuple[datetime, str]]] = defaultdict(list)
    for _case_id, action, detail, at in events:
        if action == "goal.status":
            found = _detail(detail)
            if found.get("goal", "").isdigit():
                statuses[int(found["goal"])].append((_utc(at), found.get("status", "")))
    for goal_id, _case_id, domain, created, due_on in goals:
        created = _utc(created)
        if start <= created < end:
            yield {"subject": "goal", "domain": domain, "outcome": "agreed"}
        for at, status in statuses.get(goal_id, ()):
            if start <= at < end:
                yield {"subject": "goal", "domain": domain, "outcome": status}
        settled = [status for at, status in statuses.get(goal_id, ()) if at < end]
        if created < end and not settled and due_on <= period.end:
            yield {"subject": "goal", "domain": domain, "outcome": "overdue"}


def _referral_facts(referrals, events, start: datetime, end: datetime) -> Iterable[Fact]:  # noqa: ANN001
    about = {row[0]: row for row in referrals}
    sent_at: dict[int, datetime] = {}
    resulted: set[int] = set()
    for _case_id, action, detail, at in events:
        if action != "referral.status":
            continue
        found = _detail(detail)
        if not found.get("referral", "").isdigit() or int(found["referral"]) not in about:
            continue
        referral_id, status, at = int(found["referral"]), found.get("status", ""), _utc(at)
        _, domain, service, legal_area, programme = about[referral_id]
        if status == "sent":
            sent_at.setdefault(referral_id, at)
        elif status in RESULTS and referral_id in sent_at and referral_id not in resulted:
            resulted.add(referral_id)
            if start <= at < end:
                yield {"subject": "result", "service": service, "days": day_band((at - sent_at[referral_id]).days)}
        if not start <= at < end or status not in REFERRAL_STEPS:
            continue
        yield {"subject": "referral", "service": service, "legal_area": legal_area or programme or "other", "status": status}
        if status in GAP_STATUSES:
            yield {"subject": "gap", "domain": domain, "service": service}

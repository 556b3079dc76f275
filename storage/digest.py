"""The figures of a coordinator's digest: aggregate queries over workflow columns only.
Nothing here decrypts anything; cases appear by code, people not at all."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import func
from sqlmodel import select

from domain.reminders import silent_cutoff
from domain.vocabulary import GAP_STATUSES, OPEN_REFERRAL_STATUSES, CaseStatus, ConferenceStatus, GoalStatus, NeedLevel
from storage.cases import silent_since
from storage.models import AppUser, ClientCase, Conference, District, Goal, NeedTally, Referral, Service
from storage.types import CodeList, DigestFigures

if TYPE_CHECKING:
    from storage.store import Store

GAPS = sorted(GAP_STATUSES)
OPEN_REFERRALS = sorted(OPEN_REFERRAL_STATUSES)


class DigestRepository:
    def __init__(self, store: Store) -> None:
        self._store = store

    def figures(self, *, org_id: int, today: date, since: datetime, silent_days: int, shown: int = 15) -> DigestFigures:
        """The digest's figures for the organisation, since `since`; at most `shown` codes a list."""
        return collect(self._store, org_id=org_id, today=today, since=since, silent_days=silent_days, shown=shown)


def _codes(s, query, shown: int) -> CodeList:  # noqa: ANN001
    """The first `shown` codes of a query, and how many it has: a count and a short list, so a
    digest over a million cases holds fifteen codes in memory, not a million."""
    count = s.exec(select(func.count()).select_from(query.subquery())).one()
    return CodeList(list(s.exec(query.limit(shown)).all()), count)


def collect(store: Store, *, org_id: int, today: date, since: datetime, silent_days: int,
            shown: int = 15) -> DigestFigures:
    now = store.clock.now()
    figures = DigestFigures(since=since)
    with store.transaction() as s:
        open_case = (ClientCase.org_id == org_id) & (ClientCase.status == CaseStatus.OPEN)
        figures.new_by_district = dict(s.exec(
            select(District.code, func.count(ClientCase.id)).join(District, ClientCase.district_id == District.id)
            .where(ClientCase.org_id == org_id, ClientCase.created_at >= since).group_by(District.code)).all())
        figures.new_cases = sum(figures.new_by_district.values())
        figures.open_by_district = dict(s.exec(
            select(District.code, func.count(ClientCase.id)).join(District, ClientCase.district_id == District.id)
            .where(open_case).group_by(District.code)).all())
        # by display name; one without (registered before names were kept) by district and number
        figures.caseload = sorted(((name or f"{district or '–'} · #{uid}", count) for uid, name, district, count in s.exec(
            select(AppUser.id, AppUser.display_name, District.code, func.count(ClientCase.id))
            .join(ClientCase, (ClientCase.assigned_to == AppUser.id) & open_case)
            .join(District, AppUser.district_id == District.id, isouter=True)
            .group_by(AppUser.id, AppUser.display_name, District.code)).all()), key=lambda item: (-item[1], item[0]))
        figures.overdue_reassessments = _codes(s, select(ClientCase.code).where(
            open_case, ClientCase.next_due_on < today).order_by(ClientCase.next_due_on, ClientCase.code), shown)
        figures.overdue_goals = _codes(s, select(ClientCase.code).join(Goal, Goal.case_id == ClientCase.id).where(
            open_case, Goal.status == GoalStatus.OPEN, Goal.due_on < today).distinct().order_by(ClientCase.code), shown)
        cutoff = silent_cutoff(today, silent_days)
        figures.silent = _codes(s, select(ClientCase.code).where(open_case, silent_since(cutoff, store.tz))
                                .order_by(ClientCase.code), shown)
        for created, _status in s.exec(select(Referral.created_at, Referral.status)
                                      .join(ClientCase, Referral.case_id == ClientCase.id)
                                      .where(ClientCase.org_id == org_id, Referral.status.in_(OPEN_REFERRALS))).all():
            age = (now - created).days
            bucket = "<14" if age < 14 else "14-30" if age <= 30 else ">30"
            figures.referral_ages[bucket] = figures.referral_ages.get(bucket, 0) + 1
        figures.outcomes = dict(s.exec(
            select(Referral.status, func.count(Referral.id)).join(ClientCase, Referral.case_id == ClientCase.id)
            .where(ClientCase.org_id == org_id, Referral.updated_at >= since, Referral.status.not_in(OPEN_REFERRALS))
            .group_by(Referral.status)).all())
        figures.gaps = {(domain, name): count for domain, name, count in s.exec(
            select(Referral.domain, Service.name, func.count(Referral.id))
            .join(Service, Referral.service_id == Service.id).join(ClientCase, Referral.case_id == ClientCase.id)
            .where(ClientCase.org_id == org_id, Referral.status.in_(GAPS))
            .group_by(Referral.domain, Service.name)).all()}
        figures.conferences = list(s.exec(
            select(ClientCase.code, Conference.starts_at).join(ClientCase, Conference.case_id == ClientCase.id)
            .where(Conference.org_id == org_id, Conference.status == ConferenceStatus.SCHEDULED, Conference.starts_at >= now,
                   Conference.starts_at <= now + timedelta(days=7)).order_by(Conference.starts_at)).all())
        for domain, cases in s.exec(select(NeedTally.domain, func.sum(NeedTally.cases))
                                    .where(NeedTally.org_id == org_id, NeedTally.level.in_((NeedLevel.MEDIUM, NeedLevel.HIGH)))
                                    .group_by(NeedTally.domain)).all():
            figures.needs[domain] = int(cases or 0)
    return figures


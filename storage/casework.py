"""The case-management cycle after the intake: assessments, goals, contacts, closure, the
case at a glance, and finding a person. Content is encrypted under the case's key; dates,
statuses and categories stay in the clear because reminders and digests work with them."""

from __future__ import annotations

import json
from datetime import date
from typing import TYPE_CHECKING, Any

from sqlalchemy import func
from sqlmodel import Session, select

from domain.eligibility import age_on
from domain.reminders import ReminderKind
from domain.vocabulary import CasePhase, CaseStatus, EntryKind, GoalStatus, HandoverStatus, OutboxState
from storage import audit, outbox
from storage.cases import _summary, value_aad
from storage.crypto import DataKey, readable
from storage.models import AppUser, CaseValue, ClientCase, Contact, District, Goal, Handover, NeedTally, Outbox, Referral, Service
from storage.types import CaseClosed, CaseGlance, GoalInfo, NewEntry, NotAllowed, ReferralInfo, StaffUser, staff_label

if TYPE_CHECKING:
    from storage.store import Store


def row_aad(case_id: int, table: str, row_id: int, field: str) -> str:
    return value_aad(case_id, f"{table}/{row_id}", field)


class CaseworkRepository:
    def __init__(self, store: Store) -> None:
        self._store = store

    # shared by every change ---------------------------------------------------------------
    def case_for_change(self, s: Session, user: StaffUser, code: str, *, allow_closed: bool = False
                        ) -> tuple[ClientCase, DataKey]:
        """The case, if the user may change it (a case manager: their own; a coordinator: any of
        the organisation's; an admin: none), with its data key. Raises NotAllowed, CaseClosed."""
        case = self._visible_case(s, user, code)
        if case.status == CaseStatus.CLOSED and not allow_closed:
            raise CaseClosed()
        return case, self._store.cases.data_key(s, case.id)

    def _visible_case(self, s: Session, user: StaffUser, code: str) -> ClientCase:
        row = s.exec(self._store.cases.visible(user).where(ClientCase.code == code.upper())).first()
        if row is None:
            raise NotAllowed()
        return row[0]

    def touch(self, s: Session, case: ClientCase, user: StaffUser, action: str, detail: str = "", *,
              entry: NewEntry | None = None, key: DataKey | None = None) -> int | None:
        """Mark the case changed, audit the change and add its timeline entry, in the caller's
        transaction. Returns the entry's id."""
        now = self._store.clock.now()
        case.updated_at = now
        s.add(case)
        audit.record(s, at=now, org_id=user.org_id, user_id=user.id, action=action, case_id=case.id, detail=detail)
        return self._store.timeline.add(s, case, user, entry, key) if entry is not None else None

    def _record(self, s: Session, case_id: int, key: DataKey, record: str) -> dict[str, Any]:
        values = s.exec(select(CaseValue).where(CaseValue.case_id == case_id, CaseValue.record == record)).all()
        return {v.field: json.loads(key.decrypt(v.ciphertext, aad=value_aad(case_id, record, v.field))) for v in values}

    def record_or_empty(self, s: Session, case_id: int, key: DataKey | None, record: str) -> dict[str, Any]:
        """A record for reading: a value that does not decrypt is None (shown as unreadable)."""
        values = s.exec(select(CaseValue).where(CaseValue.case_id == case_id, CaseValue.record == record)
                        .order_by(CaseValue.id)).all()
        result: dict[str, Any] = {}
        for v in values:
            plain = readable(key, v.ciphertext, aad=value_aad(case_id, record, v.field))
            result[v.field] = json.loads(plain) if plain is not None else None
        return result

    # assessments ------------------------------------------------------------------------------
    def add_assessment(self, user: StaffUser, code: str, values: dict[str, Any], *, next_due_on: date
                       ) -> tuple[int, dict[str, Any] | None]:
        """Store assessment number n+1; returns n+1 and the previous assessment (for what changed)."""
        with self._store.transaction() as s:
            case, key = self.case_for_change(s, user, code)
            previous = self._record(s, case.id, key, f"assessment/{case.assessments}") if case.assessments else None
            if previous:
                tally(s, case.org_id, previous, -1)
            tally(s, case.org_id, values, +1)
            case.assessments += 1
            self._store.cases.write_values(s, case.id, key, f"assessment/{case.assessments}", values)
            case.next_due_on, case.phase = next_due_on, CasePhase.MONITORING if previous else CasePhase.PLANNING
            self.touch(s, case, user, "case.assess", f"number={case.assessments}",
                       entry=NewEntry(EntryKind.ASSESSMENT, ref_id=case.assessments))
            self._store.profiles.refresh(s, case, key, latest=values)
            return case.assessments, previous

    # goals ------------------------------------------------------------------------------------
    def add_goal(self, user: StaffUser, code: str, *, domain: str, wording: str, responsible: str, due_on: date) -> int:
        now = self._store.clock.now()
        with self._store.transaction() as s:
            case, key = self.case_for_change(s, user, code)
            goal = Goal(case_id=case.id, domain=domain, responsible=responsible, due_on=due_on, wording_enc=b"",
                        created_at=now, updated_at=now)
            s.add(goal)
            s.flush()
            goal.wording_enc = key.encrypt(wording, aad=row_aad(case.id, "goal", goal.id, "wording"))
            self.touch(s, case, user, "goal.create", f"goal={goal.id}",
                       entry=NewEntry(EntryKind.GOAL, domain=domain, ref_id=goal.id))
            return goal.id

    def set_goal_status(self, user: StaffUser, goal_id: int, status: str) -> str:
        """Returns the case code. A goal of a case the user may not change is NotAllowed."""
        with self._store.transaction() as s:
            goal = s.get(Goal, goal_id)
            code = s.get(ClientCase, goal.case_id).code if goal else ""
            case, _ = self.case_for_change(s, user, code)
            goal.status, goal.updated_at = status, self._store.clock.now()
            s.add(goal)
            self.touch(s, case, user, "goal.status", f"goal={goal.id};status={status}",
                       entry=NewEntry(EntryKind.GOAL_STATUS, domain=goal.domain, ref_id=goal.id,
                                      payload={"status": str(status)}))
            return case.code

    def goal_case_code(self, goal_id: int) -> str:
        """The code of the goal's case ("" if there is no such goal)."""
        with self._store.transaction() as s:
            goal = s.get(Goal, goal_id)
            return s.get(ClientCase, goal.case_id).code if goal else ""

    def goals(self, user: StaffUser, code: str, *, with_wording: bool = False) -> list[GoalInfo]:
        with self._store.transaction() as s:
            case = self._visible_case(s, user, code)
            key = self._store.cases.data_key_or_none(s, case.id) if with_wording else None
            rows = s.exec(select(Goal).where(Goal.case_id == case.id).order_by(Goal.due_on, Goal.id)).all()
            if with_wording:
                audit.record(s, at=self._store.clock.now(), org_id=user.org_id, user_id=user.id,
                             action="case.reveal", case_id=case.id, detail="goals")
            return [GoalInfo(g.id, g.domain, g.responsible, g.due_on, g.status,
                             readable(key, g.wording_enc, aad=row_aad(case.id, "goal", g.id, "wording")) if with_wording else None)
                    for g in rows]

    # contacts ---------------------------------------------------------------------------------
    def add_contact(self, user: StaffUser, code: str, *, happened_on: date, kind: str, note: str) -> None:
        now = self._store.clock.now()
        with self._store.transaction() as s:
            case, key = self.case_for_change(s, user, code)
            contact = Contact(case_id=case.id, happened_on=happened_on, kind=kind, note_enc=b"", created_by=user.id,
                              created_at=now)
            s.add(contact)
            s.flush()
            contact.note_enc = key.encrypt(note, aad=row_aad(case.id, "contact", contact.id, "note"))
            case.last_contact_on = max(filter(None, (case.last_contact_on, happened_on)))
            self.touch(s, case, user, "contact.create", f"kind={kind}",
                       entry=NewEntry(EntryKind.CONTACT, happened_on=happened_on, ref_id=contact.id))

    # closure ----------------------------------------------------------------------------------
    def close(self, user: StaffUser, code: str, *, reason: str) -> None:
        with self._store.transaction() as s:
            case, key = self.case_for_change(s, user, code)
            if case.assessments:  # the tally counts open cases only
                tally(s, case.org_id, self._record(s, case.id, key, f"assessment/{case.assessments}"), -1)
            case.status, case.closed_at, case.close_reason = CaseStatus.CLOSED, self._store.clock.now(), reason
            for referral_id in s.exec(select(Referral.id).where(Referral.case_id == case.id)).all():
                outbox.cancel(s, kind=ReminderKind.REFERRAL_FOLLOW_UP, ref_id=referral_id)
            self.touch(s, case, user, "case.close", f"reason={reason}",
                       entry=NewEntry(EntryKind.CLOSURE, payload={"reason": reason}), key=key)

    def reopen(self, user: StaffUser, code: str) -> None:
        with self._store.transaction() as s:
            case, key = self.case_for_change(s, user, code, allow_closed=True)
            if case.status != CaseStatus.CLOSED:
                return
            if case.assessments:
                tally(s, case.org_id, self._record(s, case.id, key, f"assessment/{case.assessments}"), +1)
            case.status, case.closed_at, case.close_reason = CaseStatus.OPEN, None, None
            self.touch(s, case, user, "case.reopen", entry=NewEntry(EntryKind.REOPENED))

    # reading ----------------------------------------------------------------------------------
    def glance(self, user: StaffUser, code: str, *, audited: bool = True) -> CaseGlance | None:
        """The case at a glance. Decrypts only what the overview needs (age, status, need levels);
        audited as a view (unless the caller audits the same look as a reveal)."""
        with self._store.transaction() as s:
            row = s.exec(self._store.cases.visible(user).where(ClientCase.code == code.upper())).first()
            if row is None:
                return None
            case, district = row
            # an erased case has no key and no values left: its glance is the statistics that remain
            key = self._store.cases.data_key(s, case.id) if case.erased_at is None else None
            intake = self._record(s, case.id, key, "intake") if key else {}
            latest = self._record(s, case.id, key, f"assessment/{case.assessments}") if key and case.assessments else {}
            born = intake.get("birth_date")
            goals = s.exec(select(Goal).where(Goal.case_id == case.id, Goal.status == GoalStatus.OPEN).order_by(Goal.due_on)).all()
            referrals = s.exec(select(Referral, Service.name).join(Service, Referral.service_id == Service.id)
                               .where(Referral.case_id == case.id).order_by(Referral.id)).all()
            pending = s.exec(select(func.count(Handover.id)).where(Handover.case_id == case.id,
                                                                   Handover.status == HandoverStatus.PENDING)).one()
            responsible = s.get(AppUser, case.assigned_to)
            if audited:
                audit.record(s, at=self._store.clock.now(), org_id=user.org_id, user_id=user.id, action="case.view",
                             case_id=case.id)
            today = self._store.clock.now().astimezone(self._store.tz).date()
            return CaseGlance(
                summary=_summary(case, district),
                age=age_on(date.fromisoformat(born), today) if born else None,
                residence_status=intake.get("residence_status"),
                needs={k.removeprefix("need_"): v for k, v in latest.items() if k.startswith("need_")},
                goals=[GoalInfo(g.id, g.domain, g.responsible, g.due_on, g.status) for g in goals],
                referrals=[referral_info(r, name) for r, name in referrals],
                last_contact_on=case.last_contact_on, assessments=case.assessments,
                closed=case.status == CaseStatus.CLOSED, close_reason=case.close_reason, pending_handover=pending > 0,
                residence_valid_until=date.fromisoformat(intake["residence_valid_until"])
                if intake.get("residence_valid_until") else None,
                benefits=intake.get("benefits"),
                erased_at=case.erased_at, held=case.hold_reason_enc is not None,
                responsible=staff_label(responsible.display_name, responsible.id) if responsible else "",
            )

    def subject_of(self, user: StaffUser, code: str) -> dict[str, Any]:
        """What a dialogue about the case needs to know (age, residence status, district);
        not audited on its own: the dialogue's result is."""
        with self._store.transaction() as s:
            case, key = self.case_for_change(s, user, code, allow_closed=True)
            intake = self._record(s, case.id, key, "intake")
            # the services the client consented to share data with (a referral's consent, not withdrawn)
            consented = s.exec(select(Referral.service_id).where(
                Referral.case_id == case.id, Referral.consent_at.is_not(None),
                Referral.consent_withdrawn_at.is_(None))).all()
        today = self._store.clock.now().astimezone(self._store.tz).date()
        born = intake.get("birth_date")
        return {"code": case.code, "age": age_on(date.fromisoformat(born), today) if born else None,
                "status": intake.get("residence_status"), "benefits": intake.get("benefits"),
                "district_id": case.district_id, "consented_services": sorted(set(consented))}

    def find(self, user: StaffUser, *, given_name: str, family_name: str, birth_date: date) -> tuple[str, bool] | None:
        """A person by name and date of birth (blind index): (case code, whether the user may see it)."""
        index = self._store.cases.person_index(org_id=user.org_id, given_name=given_name, family_name=family_name,
                                               birth_date=birth_date)
        code = self._store.cases.code_of_person(org_id=user.org_id, person_index=index)
        if code is None:
            return None
        with self._store.transaction() as s:
            visible = s.exec(self._store.cases.visible(user).where(ClientCase.code == code)).first() is not None
            audit.record(s, at=self._store.clock.now(), org_id=user.org_id, user_id=user.id, action="case.find",
                         detail=f"found;visible={visible}")
        return code, visible

    def reminder_subject(self, kind: str, ref_id: int, user_id: int, key: str | None) -> dict[str, Any] | None:
        """What a planned reminder is about, if it still holds: the case is open and the user's,
        and the date in its key is still the date (a done assessment moves the due date on)."""
        kind = ReminderKind(kind)
        with self._store.transaction() as s:
            if kind.about_goal:
                goal = s.get(Goal, ref_id)
                case = s.get(ClientCase, goal.case_id) if goal else None
                if goal is None or goal.status != GoalStatus.OPEN or (key and str(goal.due_on) not in key):
                    return None
                subject = {"date": goal.due_on, "domain": goal.domain}
            else:
                case = s.get(ClientCase, ref_id)
                if case is None:
                    return None
                if kind.about_reassessment:
                    if key and str(case.next_due_on) not in key:
                        return None
                    subject = {"date": case.next_due_on}
                else:  # a silent case
                    last = case.last_contact_on or case.created_at.astimezone(self._store.tz).date()
                    if key and str(last) not in key:
                        return None
                    subject = {"date": last}
            if case is None or case.status != CaseStatus.OPEN or case.assigned_to != user_id:
                return None
            return {"code": case.code, **subject}

    def districts_of(self, org_id: int) -> dict[int, str]:
        with self._store.transaction() as s:
            return {d.id: d.code for d in s.exec(select(District).where(District.org_id == org_id)).all()}

    def pending_outbox(self, user_id: int) -> list[Outbox]:
        with self._store.transaction() as s:
            return list(s.exec(select(Outbox).where(Outbox.user_id == user_id, Outbox.state == OutboxState.DUE)).all())


def tally(s: Session, org_id: int, assessment: dict[str, Any], delta: int) -> None:
    """Count an assessment's need levels in (or out of) the organisation's anonymous tally."""
    for field, level in assessment.items():
        if not field.startswith("need_"):
            continue
        row = s.get(NeedTally, (org_id, field.removeprefix("need_"), level))
        if row is None:
            row = NeedTally(org_id=org_id, domain=field.removeprefix("need_"), level=level, cases=0)
        row.cases = max(0, row.cases + delta)
        s.add(row)
        s.flush()


def referral_info(referral: Referral, service_name: str) -> ReferralInfo:
    return ReferralInfo(
        id=referral.id, service_id=referral.service_id, service_name=service_name, domain=referral.domain,
        status=referral.status, consent=referral.consent_at is not None and referral.consent_withdrawn_at is None,
        withdrawn=referral.consent_withdrawn_at is not None,
        shared_domains=tuple(d for d in referral.shared_domains.split(",") if d), follow_up_on=referral.follow_up_on,
    )

"""Referrals (Verweisberatung) with purpose-bound consent, and handovers between case managers."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import update
from sqlmodel import select

from domain import roles
from domain.reminders import ReminderKind
from domain.roles import Role
from domain.vocabulary import FINAL_STATUSES, CaseStatus, EntryKind, HandoverStatus, OutboxState, ReferralStatus
from storage import audit, outbox
from storage.casework import referral_info, row_aad
from storage.models import AppUser, ClientCase, Handover, Outbox, Referral, Service
from storage.types import NewEntry, NoConsent, NotAllowed, ReferralInfo, StaffUser, staff_label

if TYPE_CHECKING:
    from storage.store import Store



class ReferralRepository:
    def __init__(self, store: Store) -> None:
        self._store = store

    def _referral_for_change(self, s, user: StaffUser, referral_id: int):  # noqa: ANN001, ANN202
        referral = s.get(Referral, referral_id)
        code = s.get(ClientCase, referral.case_id).code if referral else ""
        case, key = self._store.casework.case_for_change(s, user, code)
        return referral, case, key

    def add(self, user: StaffUser, code: str, *, service_id: int, domain: str, purpose: str, consent: bool,
            shared_domains: tuple[str, ...]) -> int:
        """A referral in status "suggested". With consent, recorded with its date and the life
        domains the client allowed to share with this service for this purpose."""
        now = self._store.clock.now()
        with self._store.transaction() as s:
            case, key = self._store.casework.case_for_change(s, user, code)
            service = s.get(Service, service_id)
            if service is None or service.org_id != user.org_id:
                raise NotAllowed()
            referral = Referral(case_id=case.id, service_id=service.id, domain=domain, created_at=now, updated_at=now,
                                consent_at=now if consent else None,
                                shared_domains=",".join(shared_domains) if consent else "")
            s.add(referral)
            s.flush()
            referral.purpose_enc = key.encrypt(purpose, aad=row_aad(case.id, "referral", referral.id, "purpose"))
            self._store.casework.touch(s, case, user, "referral.create",
                                        f"referral={referral.id};service={service.key};consent={consent}",
                                        entry=NewEntry(EntryKind.REFERRAL, domain=domain, ref_id=referral.id))
            return referral.id

    def set_status(self, user: StaffUser, referral_id: int, status: str, *, follow_up_on: date | None = None,
                   follow_up_at: datetime | None = None) -> ReferralInfo:
        """Move a referral on. "sent" discloses data, so it needs consent that was not withdrawn,
        and schedules the follow-up question; a final outcome cancels any pending follow-up."""
        with self._store.transaction() as s:
            referral, case, key = self._referral_for_change(s, user, referral_id)
            if status == ReferralStatus.SENT:
                if referral.consent_at is None or referral.consent_withdrawn_at is not None:
                    raise NoConsent()
                referral.follow_up_on = follow_up_on
                outbox.cancel(s, kind=ReminderKind.REFERRAL_FOLLOW_UP, ref_id=referral.id)
                if follow_up_at is not None:
                    outbox.schedule(s, org_id=case.org_id, user_id=case.assigned_to, kind=ReminderKind.REFERRAL_FOLLOW_UP,
                                    ref_id=referral.id, due_at=follow_up_at)
            elif status in FINAL_STATUSES:
                outbox.cancel(s, kind=ReminderKind.REFERRAL_FOLLOW_UP, ref_id=referral.id)
                referral.follow_up_on = None
            referral.status, referral.updated_at = status, self._store.clock.now()
            s.add(referral)
            self._store.casework.touch(s, case, user, "referral.status", f"referral={referral.id};status={status}",
                                        entry=NewEntry(EntryKind.REFERRAL_STATUS, domain=referral.domain,
                                                       ref_id=referral.id, payload={"status": str(status)}), key=key)
            return referral_info(referral, s.get(Service, referral.service_id).name)

    def set_consent(self, user: StaffUser, referral_id: int, *, given: bool, shared_domains: tuple[str, ...] = ()) -> None:
        """Record consent (with the domains to share) or withdraw it; withdrawal stops sharing."""
        now = self._store.clock.now()
        with self._store.transaction() as s:
            referral, case, key = self._referral_for_change(s, user, referral_id)
            if given:
                referral.consent_at, referral.consent_withdrawn_at = now, None
                referral.shared_domains = ",".join(shared_domains)
            else:
                referral.consent_withdrawn_at, referral.shared_domains = now, ""
            s.add(referral)
            self._store.casework.touch(s, case, user, "referral.consent" if given else "referral.consent-withdrawn",
                                        f"referral={referral.id}",
                                        entry=NewEntry(EntryKind.CONSENT, domain=referral.domain, ref_id=referral.id,
                                                       payload={"status": "given" if given else "withdrawn"}), key=key)

    def for_case(self, user: StaffUser, code: str) -> list[ReferralInfo]:
        with self._store.transaction() as s:
            case, _ = self._store.casework.case_for_change(s, user, code, allow_closed=True)
            rows = s.exec(select(Referral, Service.name).join(Service, Referral.service_id == Service.id)
                          .where(Referral.case_id == case.id).order_by(Referral.id)).all()
            return [referral_info(r, name) for r, name in rows]

    def case_code(self, referral_id: int) -> str:
        """The code of the referral's case ("" if there is no such referral)."""
        with self._store.transaction() as s:
            referral = s.get(Referral, referral_id)
            return s.get(ClientCase, referral.case_id).code if referral else ""

    def follow_up_subject(self, referral_id: int) -> tuple[str, ReferralInfo] | None:
        """For the dispatcher: (case code, referral) of a follow-up still worth asking about."""
        with self._store.transaction() as s:
            referral = s.get(Referral, referral_id)
            if referral is None or referral.status in FINAL_STATUSES:
                return None
            case = s.get(ClientCase, referral.case_id)
            if case.status == CaseStatus.CLOSED:
                return None
            return case.code, referral_info(referral, s.get(Service, referral.service_id).name)

    # handovers and reassignment -----------------------------------------------------------------
    def request_handover(self, user: StaffUser, code: str, *, district_id: int, note: str) -> tuple[int, int]:
        """Offer the case to the case manager of `district_id` (the least loaded there). Returns
        (handover id, receiving user id); the case stays with its manager until accepted."""
        now = self._store.clock.now()
        with self._store.transaction() as s:
            case, key = self._store.casework.case_for_change(s, user, code)
            sender = user if user.may(roles.receives_cases) else None
            receiver = self._store.staff.case_manager_for_district(
                org_id=user.org_id, district_id=district_id,
                preferred=sender or self._store.staff.user_by_id(case.assigned_to))
            if receiver == case.assigned_to:
                raise NotAllowed()  # nobody else serves that district
            handover = Handover(case_id=case.id, from_user=case.assigned_to, to_user=receiver,
                                to_district_id=district_id, note_enc=b"", created_at=now)
            s.add(handover)
            s.flush()
            handover.note_enc = key.encrypt(note, aad=row_aad(case.id, "handover", handover.id, "note"))
            outbox.schedule(s, org_id=case.org_id, user_id=receiver, kind=ReminderKind.HANDOVER_REQUEST, ref_id=handover.id,
                            due_at=now)
            self._store.casework.touch(s, case, user, "handover.request", f"handover={handover.id};to={receiver}",
                                        entry=NewEntry(EntryKind.HANDOVER, ref_id=handover.id))
            return handover.id, receiver

    def handover_subject(self, handover_id: int) -> tuple[str, str, int, int] | None:
        """(case code, handover note, receiving user, handing user) of a pending handover."""
        with self._store.transaction() as s:
            handover = s.get(Handover, handover_id)
            if handover is None or handover.status != HandoverStatus.PENDING:
                return None
            case = s.get(ClientCase, handover.case_id)
            key = self._store.cases.data_key(s, case.id)
            note = key.decrypt(handover.note_enc, aad=row_aad(case.id, "handover", handover.id, "note"))
            return case.code, note, handover.to_user, handover.from_user

    def decide_handover(self, user: StaffUser, handover_id: int, *, accept: bool) -> tuple[str, int]:
        """Only the receiving case manager decides. Accepting moves case and district to them.
        Returns (case code, the user who handed it over)."""
        now = self._store.clock.now()
        with self._store.transaction() as s:
            handover = s.get(Handover, handover_id)
            if handover is None or handover.to_user != user.id or handover.status != HandoverStatus.PENDING:
                raise NotAllowed()
            case = s.get(ClientCase, handover.case_id)
            moved_from = case.district_id
            handover.status = HandoverStatus.ACCEPTED if accept else HandoverStatus.DECLINED
            handover.decided_at = now
            if accept:
                case.assigned_to, case.district_id, case.waiting_since = user.id, handover.to_district_id, None
                _follow_ups_to(s, case.id, user.id)
            s.add(handover)
            audit.record(s, at=now, org_id=case.org_id, user_id=user.id, case_id=case.id,
                         action="handover.accept" if accept else "handover.decline",
                         # the districts by id: reports count a case where it was at the time
                         detail=f"handover={handover.id};from={moved_from};to={handover.to_district_id}" if accept
                         else f"handover={handover.id}")
            case.updated_at = now
            s.add(case)
            return case.code, handover.from_user

    def reassign(self, user: StaffUser, code: str, *, to_user: int) -> None:
        """A coordinator gives a case to another case manager directly (e.g. by free capacity)."""
        if not user.may(roles.reassigns_cases):
            raise NotAllowed()
        with self._store.transaction() as s:
            case, _ = self._store.casework.case_for_change(s, user, code)
            target = s.get(AppUser, to_user)
            if (target is None or target.org_id != user.org_id or not roles.receives_cases(Role(target.role))
                    or not target.active):
                raise NotAllowed()
            previous = case.assigned_to
            case.waiting_since = None  # off the waiting list, also when it stays with whom holds it
            # the client still lives where they live: the district stays the client's (only a
            # handover after a move changes it), or every figure by district would be skewed
            case.assigned_to = target.id
            _follow_ups_to(s, case.id, target.id)
            self._store.casework.touch(s, case, user, "case.reassign", f"from={previous};to={target.id}")
            # both are told, in their language, by the dispatcher (the coordinator may be one of them)
            for told in ({previous, target.id} - {user.id}) if previous != target.id else ():
                outbox.schedule(s, org_id=case.org_id, user_id=told, kind=ReminderKind.CASE_REASSIGNED, ref_id=case.id,
                                due_at=self._store.clock.now())

    def reassignment_subject(self, case_id: int, user_id: int) -> tuple[str, str, bool] | None:
        """(case code, name of its case manager now, whether that is `user_id`) of an open case."""
        with self._store.transaction() as s:
            case = s.get(ClientCase, case_id)
            if case is None or case.status != CaseStatus.OPEN:
                return None
            holder = s.get(AppUser, case.assigned_to)
            return case.code, staff_label(holder.display_name, holder.id) if holder else "–", case.assigned_to == user_id


def _follow_ups_to(s, case_id: int, user_id: int) -> None:  # noqa: ANN001
    """The case's pending referral follow-ups go to its new case manager, with the case."""
    referrals = select(Referral.id).where(Referral.case_id == case_id)
    s.exec(update(Outbox).where(Outbox.kind == ReminderKind.REFERRAL_FOLLOW_UP, Outbox.ref_id.in_(referrals),
                                Outbox.state == OutboxState.DUE).values(user_id=user_id))

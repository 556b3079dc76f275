"""Cooperation between municipalities: a client moves to another organisation on the same
installation, agrees that their file goes with them, and the receiving coordinator accepts it.

The case moves as a whole: its row, records and history go to the receiving organisation
under a new code of its own, its key re-wrapped by that organisation's key (every ciphertext is
bound to the case, not to the organisation, so nothing else is re-encrypted); it waits on the
receiving coordinator's waiting list for a case manager. The sending organisation keeps what
the law lets it keep of its own work: a closed, erased stub under the old code (dates, district,
close reason "moved away": its figures stay right) and its audit trail. What referred to the
sending organisation's own catalogue, districts and staff stays as history (shown as such).

This is the one repository that works across two organisations; it checks both itself
(storage/tenancy.py is suspended inside it, deliberately and only here).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import update
from sqlmodel import Session, select

from domain import roles
from domain.reminders import ReminderKind
from domain.vocabulary import CaseStatus, CloseReason, ConferenceStatus, HandoverStatus
from storage import audit, outbox, tenancy
from storage.cases import key_aad
from storage.casework import tally
from storage.crypto import CryptoError
from storage.models import (
    MOVED_STUB,
    AppUser,
    CaseKey,
    ClientCase,
    Conference,
    District,
    ErasureRequest,
    Handover,
    Organisation,
    OrgTransfer,
    Referral,
    Service,
)
from storage.types import CaseClosed, CaseUnreadable, DuplicatePerson, NotAllowed, StaffUser

if TYPE_CHECKING:
    from storage.store import Store


@dataclass(frozen=True)
class TransferInfo:
    id: int
    status: str
    from_org: str  # the organisations' names
    to_org: str
    old_code: str
    new_code: str | None
    requested_by: int


class TransferRepository:
    def __init__(self, store: Store) -> None:
        self._store = store

    def destinations(self, user: StaffUser) -> list[tuple[int, str]]:
        """The other organisations on this installation a case may move to (active ones)."""
        with tenancy.acting_for(None), self._store.transaction() as s:
            return [(o.id, o.name) for o in s.exec(select(Organisation).where(
                Organisation.id != user.org_id, Organisation.disabled_at.is_(None), Organisation.erased_at.is_(None))
                .order_by(Organisation.name)).all()]

    def request(self, user: StaffUser, code: str, *, to_org: int) -> int:
        """The client moved and agreed: ask the receiving organisation's coordinators."""
        now = self._store.clock.now()
        with self._store.transaction() as s:
            case, _ = self._store.casework.case_for_change(s, user, code)
            if not (user.may(roles.may_change_any_case) or case.assigned_to == user.id):
                raise NotAllowed()
            if s.exec(select(OrgTransfer.id).where(OrgTransfer.case_id == case.id, OrgTransfer.status == "pending")).first():
                raise NotAllowed()
            with tenancy.acting_for(None):
                target = s.get(Organisation, to_org)
                if (target is None or target.id == user.org_id or target.disabled_at is not None
                        or target.erased_at is not None):
                    raise NotAllowed()
                receivers = s.exec(select(AppUser.id).where(
                    AppUser.org_id == to_org, AppUser.active == True,  # noqa: E712
                    AppUser.role.in_(roles.holding(roles.reassigns_cases)))).all()
            transfer = OrgTransfer(case_id=case.id, from_org=user.org_id, to_org=to_org, requested_by=user.id,
                                   requested_at=now, consent_at=now)
            s.add(transfer)
            s.flush()
            for receiver in receivers:
                outbox.schedule(s, org_id=to_org, user_id=receiver, kind=ReminderKind.TRANSFER_REQUEST,
                                ref_id=transfer.id, due_at=now)
            audit.record(s, at=now, org_id=user.org_id, user_id=user.id, action="case.transfer.request", case_id=case.id,
                         detail=f"transfer={transfer.id};to_org={to_org}")
            return transfer.id

    def info(self, transfer_id: int) -> TransferInfo | None:
        with tenancy.acting_for(None), self._store.transaction() as s:
            transfer = s.get(OrgTransfer, transfer_id)
            if transfer is None:
                return None
            case = s.get(ClientCase, transfer.case_id)
            stub = s.get(ClientCase, transfer.stub_case_id) if transfer.stub_case_id else None
            return TransferInfo(transfer.id, transfer.status, s.get(Organisation, transfer.from_org).name,
                                s.get(Organisation, transfer.to_org).name, stub.code if stub else case.code,
                                case.code if stub else None, transfer.requested_by)

    def decide(self, user: StaffUser, transfer_id: int, *, accept: bool) -> TransferInfo:
        """The receiving coordinator accepts (the case moves, see the module) or declines."""
        if not user.may(roles.reassigns_cases):
            raise NotAllowed()
        now = self._store.clock.now()
        with tenancy.acting_for(None), self._store.transaction() as s:
            transfer = s.get(OrgTransfer, transfer_id)
            if transfer is None or transfer.to_org != user.org_id or transfer.status != "pending":
                raise NotAllowed()
            case = s.get(ClientCase, transfer.case_id)
            if case.org_id != transfer.from_org or case.erased_at is not None:
                raise NotAllowed()
            if case.status != CaseStatus.OPEN:
                raise CaseClosed(case.code)
            transfer.status, transfer.decided_by, transfer.decided_at = ("accepted" if accept else "declined"), user.id, now
            if accept:
                transfer.stub_case_id = self._move(s, case, user, transfer)
            s.add(transfer)
            outbox.schedule(s, org_id=transfer.from_org, user_id=transfer.requested_by,
                            kind=ReminderKind.TRANSFER_DECIDED, ref_id=transfer.id, due_at=now)
            if not accept:
                audit.record(s, at=now, org_id=user.org_id, user_id=user.id, action="case.transfer.decline",
                             detail=f"transfer={transfer.id}")
        return self.info(transfer_id)

    def _move(self, s: Session, case: ClientCase, user: StaffUser, transfer: OrgTransfer) -> int:
        store, now = self._store, self._store.clock.now()
        sender, receiver = transfer.from_org, transfer.to_org
        try:
            key = store.cases.data_key(s, case.id)
        except CryptoError:
            raise CaseUnreadable() from None  # an unreadable case cannot be handed on
        intake = store.casework.record_or_empty(s, case.id, key, "intake")
        indexes = store.cases.indexes(receiver, intake)
        person_index = indexes[0] if indexes else f"moved-in/{case.id}"
        known = s.exec(select(ClientCase.code).where(ClientCase.org_id == receiver,
                                                     ClientCase.person_index == person_index)).first()
        if known:
            raise DuplicatePerson(known)
        latest = (store.casework.record_or_empty(s, case.id, key, f"assessment/{case.assessments}")
                  if case.assessments else {})
        if latest:  # the anonymous tally of needs: from the sender's to the receiver's
            tally(s, sender, {k: v for k, v in latest.items() if v is not None}, -1)
            tally(s, receiver, {k: v for k, v in latest.items() if v is not None}, +1)
        store.erasure.cancel_messages(s, case)  # the sender's reminders about it
        old_code, old_district, old_holder = case.code, case.district_id, case.assigned_to
        first_district = s.exec(select(District.id).where(District.org_id == receiver).order_by(District.id)).first()
        case.org_id, case.code = receiver, store.cases.next_code(s, receiver, now)
        case.district_id, case.assigned_to, case.waiting_since = first_district, user.id, now
        case.person_index, case.person_fold = person_index, indexes[1] if indexes else None
        case.updated_at = now
        s.add(case)
        s.flush()
        kid, wrapped = store.organisations.wrap_case_key(receiver, key, key_aad(case.id))
        s.exec(update(CaseKey).where(CaseKey.case_id == case.id).values(kid=kid, wrapped=wrapped))
        # what belonged to the sender's organisation and still runs: its Fallkonferenzen ahead are
        # called off, a pending handover inside it declined, a pending erasure request goes with the case
        s.exec(update(Conference).where(Conference.case_id == case.id, Conference.status == ConferenceStatus.SCHEDULED)
               .values(status=ConferenceStatus.CANCELLED))
        s.exec(update(Conference).where(Conference.case_id == case.id).values(org_id=receiver))
        s.exec(update(Handover).where(Handover.case_id == case.id, Handover.status == HandoverStatus.PENDING)
               .values(status=HandoverStatus.DECLINED, decided_at=now))
        s.exec(update(ErasureRequest).where(ErasureRequest.case_id == case.id).values(org_id=receiver))
        self._bring_services(s, case.id, sender, receiver)
        stub = ClientCase(
            org_id=sender, code=old_code, district_id=old_district, assigned_to=old_holder, created_by=case.created_by,
            status=CaseStatus.CLOSED, phase=case.phase, person_index=f"{MOVED_STUB}{case.id}",
            consent_version=case.consent_version, consent_at=case.consent_at, assessments=case.assessments,
            closed_at=now, close_reason=CloseReason.MOVED_AWAY, created_at=case.created_at, updated_at=now,
            erased_at=now, last_contact_on=case.last_contact_on, index_rev=case.index_rev)
        s.add(stub)
        s.flush()
        audit.record(s, at=now, org_id=sender, user_id=None, action="case.transfer.out", case_id=stub.id,
                     detail=f"transfer={transfer.id};to_org={receiver}")
        audit.record(s, at=now, org_id=receiver, user_id=user.id, action="case.transfer.in", case_id=case.id,
                     detail=f"transfer={transfer.id};from_org={sender}")
        return stub.id

    def _bring_services(self, s: Session, case_id: int, sender: int, receiver: int) -> None:
        """The sender's services the case was referred to come along as history: copied into the
        receiver's catalogue, switched off (never suggested there), named with where they are."""
        sender_name = s.get(Organisation, sender).name
        used = s.exec(select(Service).join(Referral, Referral.service_id == Service.id)
                      .where(Referral.case_id == case_id, Service.org_id == sender).distinct()).all()
        for service in used:
            key = f"moved-{sender}-{service.key}"[:40]
            copy = s.exec(select(Service).where(Service.org_id == receiver, Service.key == key)).first()
            if copy is None:
                copy = Service(**{**service.model_dump(exclude={"id", "org_id", "key", "name", "active"}),
                                  "org_id": receiver, "key": key, "name": f"{service.name} ({sender_name})"[:200],
                                  "active": False})
                s.add(copy)
                s.flush()
            s.exec(update(Referral).where(Referral.case_id == case_id, Referral.service_id == service.id)
                   .values(service_id=copy.id))

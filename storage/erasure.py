"""Erasure (Art. 17 GDPR): on a client's request or the withdrawal of consent, with a second
person's confirmation; after the retention period, by itself unless a legal hold stands.

Erasing destroys the case's data key (crypto-shredding: every ciphertext of the case, backups
included, can no longer be read), removes its encrypted values, its drafts and its pending
messages, and replaces its blind index. What stays has no personal data: the code, district,
dates, and the timeline's kinds and dates (the statistics count them).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import delete, update
from sqlmodel import Session, select

from domain.reminders import ReminderKind
from domain.retention import ErasureReason, RetentionRules
from domain.roles import Role
from domain.vocabulary import CaseStatus, OutboxState
from storage import audit, outbox
from storage.casework import tally
from storage.models import (
    AppUser,
    Attachment,
    CaseEntry,
    CaseKey,
    CaseMessage,
    CaseProfile,
    CaseValue,
    CaseWatch,
    ClientCase,
    Conference,
    Contact,
    Dialogue,
    ErasureRequest,
    Goal,
    Handover,
    IntakeRequest,
    IssuedDocument,
    Outbox,
    Referral,
)
from storage.types import NotAllowed, StaffUser

if TYPE_CHECKING:
    from storage.store import Store

PENDING, DONE, DECLINED, SCHEDULED = "pending", "done", "declined", "scheduled"
# Telegram lets a bot delete its messages in a private chat for 48 hours
DELETABLE_FOR = timedelta(hours=48)


@dataclass(frozen=True)
class ErasureInfo:
    id: int
    code: str
    reason: str
    requested_by: int
    state: str


def _decides(user: StaffUser) -> bool:
    """Who may ask for or confirm an erasure: coordinators, and admins as the second person."""
    return user.role in (Role.COORDINATOR, Role.ADMIN)


class Erasure:
    def __init__(self, store: Store) -> None:
        self._store = store

    # the four-eyes request -------------------------------------------------------------
    def request(self, user: StaffUser, code: str, reason: str) -> ErasureInfo:
        """A coordinator asks; the other coordinators and the admins are asked to confirm."""
        reason = ErasureReason(reason)
        if user.role is not Role.COORDINATOR or reason is ErasureReason.RETENTION:
            raise NotAllowed()
        now = self._store.clock.now()
        with self._store.transaction() as s:
            case = self._case(s, user.org_id, code)
            pending = s.exec(select(ErasureRequest).where(ErasureRequest.case_id == case.id,
                                                          ErasureRequest.state == PENDING)).first()
            if pending is not None:
                return _info(pending, case.code)
            request = ErasureRequest(org_id=user.org_id, case_id=case.id, reason=reason, requested_by=user.id,
                                     requested_at=now)
            s.add(request)
            s.flush()
            seconds = s.exec(select(AppUser.id).where(AppUser.org_id == user.org_id, AppUser.active == True,  # noqa: E712
                                                      AppUser.role.in_((Role.COORDINATOR, Role.ADMIN)),
                                                      AppUser.id != user.id)).all()
            for person in seconds:
                outbox.schedule(s, org_id=user.org_id, user_id=person, kind=ReminderKind.ERASURE_REQUEST,
                                ref_id=request.id, due_at=now)
            audit.record(s, at=now, org_id=user.org_id, user_id=user.id, action="case.erase-request", case_id=case.id,
                         detail=f"request={request.id};reason={reason}")
            return _info(request, case.code)

    def info(self, request_id: int) -> ErasureInfo | None:
        with self._store.transaction() as s:
            request = s.get(ErasureRequest, request_id)
            return _info(request, s.get(ClientCase, request.case_id).code) if request else None

    def decide(self, user: StaffUser, request_id: int, *, confirm: bool) -> ErasureInfo:
        """The second person confirms (the case is erased now) or declines. Not the one who asked."""
        now = self._store.clock.now()
        with self._store.transaction() as s:
            request = s.get(ErasureRequest, request_id)
            if (request is None or request.org_id != user.org_id or request.state != PENDING
                    or request.requested_by == user.id or not _decides(user)):
                raise NotAllowed()
            case = s.get(ClientCase, request.case_id)
            days = self.rules(user.org_id).withdrawal_days if request.reason == ErasureReason.CONSENT_WITHDRAWN else 0
            state = (SCHEDULED if days else DONE) if confirm else DECLINED
            request.state, request.decided_by, request.decided_at = state, user.id, now
            s.add(request)
            audit.record(s, at=now, org_id=user.org_id, user_id=user.id, case_id=case.id,
                         action="case.erase-confirm" if confirm else "case.erase-decline", detail=f"request={request.id}")
            code = case.code
        if confirm:
            if days:
                self._erase_later(code, org_id=user.org_id, actor_id=user.id, days=days)
            else:
                self.erase(code, org_id=user.org_id, actor_id=user.id, reason=request.reason)
        return self.info(request_id)

    def _erase_later(self, code: str, *, org_id: int, actor_id: int, days: int) -> None:
        """Consent withdrawn where a law keeps the file a while: nothing more is documented (the
        case is closed), and it is erased when the period ends (by the retention round)."""
        now = self._store.clock.now()
        with self._store.transaction() as s:
            case = self._case(s, org_id, code)
            self._leave_tally(s, case)
            case.status, case.closed_at = CaseStatus.CLOSED, case.closed_at or now
            case.close_reason = case.close_reason or "declined"
            case.erase_after = now + timedelta(days=days)
            s.add(case)
            self.cancel_messages(s, case)
            audit.record(s, at=now, org_id=org_id, user_id=actor_id, action="case.erase-scheduled", case_id=case.id,
                         detail=f"days={days}")

    # legal hold -------------------------------------------------------------------------
    def hold(self, user: StaffUser, code: str, reason: str) -> None:
        """Keep a case past its retention period (a court case, an inquiry), with a reason."""
        if user.role is not Role.COORDINATOR:
            raise NotAllowed()
        with self._store.transaction() as s:
            case = self._case(s, user.org_id, code)
            key = self._store.cases.data_key(s, case.id)
            case.hold_reason_enc = key.encrypt(reason, aad=f"case/{case.id}/hold/reason")
            s.add(case)
            audit.record(s, at=self._store.clock.now(), org_id=user.org_id, user_id=user.id, action="case.hold",
                         case_id=case.id)

    def release(self, user: StaffUser, code: str) -> None:
        if user.role is not Role.COORDINATOR:
            raise NotAllowed()
        with self._store.transaction() as s:
            case = self._case(s, user.org_id, code)
            case.hold_reason_enc = None
            s.add(case)
            audit.record(s, at=self._store.clock.now(), org_id=user.org_id, user_id=user.id, action="case.release",
                         case_id=case.id)

    # retention --------------------------------------------------------------------------
    def rules(self, org_id: int) -> RetentionRules:
        return RetentionRules.from_settings(self._store.settings.section(org_id, "retention"))

    def due(self, org_id: int, *, within_days: int = 0) -> list[str]:
        """Closed cases whose retention ends within `within_days` (0: ended), without a hold."""
        now = self._store.clock.now()
        cutoff = self.rules(org_id).erase_before(now) + timedelta(days=within_days)
        with self._store.transaction() as s:
            return list(s.exec(select(ClientCase.code).where(
                ClientCase.org_id == org_id, ClientCase.status == CaseStatus.CLOSED, ClientCase.erased_at.is_(None),
                ClientCase.hold_reason_enc.is_(None),
                (ClientCase.closed_at < cutoff) | (ClientCase.erase_after < now + timedelta(days=within_days)))
                .order_by(ClientCase.closed_at)).all())

    def run_retention(self) -> int:
        """Erase what is due in every organisation; returns how many cases. (Also forgets the
        bot's messages about cases once Telegram no longer lets them be deleted.)"""
        with self._store.transaction() as s:
            s.exec(delete(CaseMessage).where(CaseMessage.sent_at < self._store.clock.now() - DELETABLE_FOR))
            orgs = s.exec(select(ClientCase.org_id).distinct()).all()
        erased = 0
        for org_id in orgs:
            for code in self.due(org_id):
                self.erase(code, org_id=org_id, actor_id=None, reason=ErasureReason.RETENTION)
                erased += 1
        return erased

    # the bot's messages about a case ----------------------------------------------------------
    def remember_message(self, user: StaffUser, code: str, message_id: int) -> None:
        """A message about the case went to this user: an erasure deletes it while Telegram lets it."""
        with self._store.transaction() as s:
            case = s.exec(select(ClientCase.id).where(ClientCase.org_id == user.org_id,
                                                      ClientCase.code == code.upper())).first()
            if case is not None:
                s.add(CaseMessage(case_id=case, user_id=user.id, message_id=message_id, sent_at=self._store.clock.now()))

    def _delete_messages(self, s: Session, case: ClientCase) -> None:
        """Every message about the case the bot can still delete goes (the dispatcher deletes it)."""
        now = self._store.clock.now()
        for user_id, message_id in s.exec(select(CaseMessage.user_id, CaseMessage.message_id)
                                          .where(CaseMessage.case_id == case.id,
                                                 CaseMessage.sent_at > now - DELETABLE_FOR)).all():
            outbox.schedule(s, org_id=case.org_id, user_id=user_id, kind=ReminderKind.DELETE_MESSAGE, ref_id=message_id,
                            due_at=now)
        s.exec(delete(CaseMessage).where(CaseMessage.case_id == case.id))

    # the erasure itself -------------------------------------------------------------------
    def erase(self, code: str, *, org_id: int, actor_id: int | None, reason: str, drafts: bool = True) -> None:
        """Erase one case (drafts=False: the caller dropped every draft that could be about it,
        as an organisation's erasure does with all its staff's at once)."""
        if drafts:
            self._drop_drafts(code)
        now = self._store.clock.now()
        with self._store.transaction() as s:
            case = self._case(s, org_id, code)
            if case.erased_at is not None:
                return
            self._leave_tally(s, case)
            self.cancel_messages(s, case)
            self._delete_messages(s, case)
            s.exec(delete(CaseKey).where(CaseKey.case_id == case.id))
            s.exec(delete(CaseValue).where(CaseValue.case_id == case.id))
            s.exec(delete(CaseWatch).where(CaseWatch.case_id == case.id))
            # signed scans go with the key (which already makes them unreadable), and their rows
            s.exec(delete(Attachment).where(Attachment.case_id == case.id))
            s.exec(delete(IssuedDocument).where(IssuedDocument.case_id == case.id))
            s.exec(delete(CaseProfile).where(CaseProfile.case_id == case.id))
            # the Meldebogen it came from keeps only its state (its sender still sees it was taken on)
            s.exec(update(IntakeRequest).where(IntakeRequest.case_id == case.id).values(body_enc=b"", reason_enc=None))
            s.exec(update(Goal).where(Goal.case_id == case.id).values(wording_enc=b""))
            s.exec(update(Referral).where(Referral.case_id == case.id).values(purpose_enc=None, result_enc=None, gap_enc=None))
            s.exec(update(Contact).where(Contact.case_id == case.id).values(note_enc=b""))
            s.exec(update(Handover).where(Handover.case_id == case.id).values(note_enc=b""))
            s.exec(update(Conference).where(Conference.case_id == case.id).values(place_enc=b"", agenda_enc=b"",
                                                                                 outcome_enc=None))
            case.person_index = f"erased/{case.id}"  # no blind index of the person stays
            case.person_fold = None
            case.status, case.erased_at, case.hold_reason_enc = CaseStatus.CLOSED, now, None
            case.closed_at = case.closed_at or now
            case.close_reason = case.close_reason or "other"
            s.add(case)
            audit.record(s, at=now, org_id=org_id, user_id=actor_id, action="case.erase", case_id=case.id,
                         detail=f"reason={reason}")

    def _leave_tally(self, s: Session, case: ClientCase) -> None:
        """An open case stops counting in the anonymous tally of needs (as a closure does)."""
        key = self._store.cases.data_key_or_none(s, case.id)
        if case.status == CaseStatus.OPEN and case.assessments and key is not None:
            latest = self._store.casework.record_or_empty(s, case.id, key, f"assessment/{case.assessments}")
            tally(s, case.org_id, {k: v for k, v in latest.items() if v is not None}, -1)

    def cancel_messages(self, s: Session, case: ClientCase) -> None:
        """Pending messages about the case, its goals, referrals, conferences, handovers, entries."""
        refs = {
            "case": [case.id],
            "goal": s.exec(select(Goal.id).where(Goal.case_id == case.id)).all(),
            "referral": s.exec(select(Referral.id).where(Referral.case_id == case.id)).all(),
            "conference": s.exec(select(Conference.id).where(Conference.case_id == case.id)).all(),
            "handover": s.exec(select(Handover.id).where(Handover.case_id == case.id)).all(),
            "entry": s.exec(select(CaseEntry.id).where(CaseEntry.case_id == case.id)).all(),
            "request": s.exec(select(ErasureRequest.id).where(ErasureRequest.case_id == case.id)).all(),
        }
        for kind in ReminderKind:
            about = ("goal" if kind.about_goal else "referral" if kind is ReminderKind.REFERRAL_FOLLOW_UP
                     else "handover" if kind is ReminderKind.HANDOVER_REQUEST
                     else "conference" if kind.startswith("conference-")
                     else "entry" if kind is ReminderKind.RECHTSKREIS
                     else "request" if kind is ReminderKind.ERASURE_REQUEST
                     else "case" if kind.about_case or kind.about_watch else None)
            if about and refs[about]:
                s.exec(update(Outbox).where(Outbox.kind == kind, Outbox.ref_id.in_(refs[about]),
                                            Outbox.state == OutboxState.DUE).values(state=OutboxState.CANCELLED))
        # messages that still show the case's names or details (a reveal not yet hidden, a copy
        # not yet deleted) are hidden and deleted now rather than in a few minutes
        s.exec(update(Outbox).where(Outbox.kind.in_((ReminderKind.REVEAL_EXPIRY, ReminderKind.DELETE_MESSAGE)),
                                    Outbox.dedupe_key.like(f"%:{case.code}:%"), Outbox.state == OutboxState.DUE)
               .values(due_at=self._store.clock.now()))

    def _drop_drafts(self, code: str) -> None:
        """Open dialogues about the case (a draft is encrypted with a key of its own, so each is
        opened to see what it is about; there is at most one per member of staff)."""
        dialogues = self._store.dialogues
        with self._store.transaction() as s:
            users = s.exec(select(Dialogue.user_id)).all()
        for user_id in users:
            try:
                snapshot = dialogues.load(user_id)
            except Exception:  # noqa: BLE001 - an unreadable draft is about nothing we can tell
                continue
            if snapshot is not None and str(snapshot.state.get("context", {}).get("case", "")).upper() == code.upper():
                dialogues.discard(user_id)

    def _case(self, s: Session, org_id: int, code: str) -> ClientCase:
        case = s.exec(select(ClientCase).where(ClientCase.org_id == org_id, ClientCase.code == code.upper())).first()
        if case is None:
            raise NotAllowed()
        return case


def _info(request: ErasureRequest, code: str) -> ErasureInfo:
    return ErasureInfo(request.id, code, request.reason, request.requested_by, request.state)


"""The Meldebogen: a referrer asks the case management to take a client on; the coordinator,
the entry point, reads it in the inbox and assigns it to a case manager (whose intake starts
from it), declines it with a reason, or puts it on the waiting list. Its sender sees only what
became of it, never a case.

What the Meldebogen says about the client is one ciphertext under the organisation's key
(storage/organisations.py), bound to its row; its decline reason another.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import update
from sqlmodel import Session, select

from domain import roles
from domain.reminders import ReminderKind
from domain.roles import Role
from domain.vocabulary import OPEN_REQUESTS, RequestStatus
from storage import audit, outbox
from storage.crypto import readable
from storage.models import AppUser, IntakeRequest
from storage.types import NotAllowed, StaffUser

if TYPE_CHECKING:
    from storage.store import Store

# what a Meldebogen holds: the client's names and date of birth, how to reach them, why
BODY_FIELDS = ("given_name", "family_name", "birth_date", "phone", "reach", "reason")


def body_aad(request_id: int, part: str) -> str:
    return f"request/{request_id}/{part}"


@dataclass(frozen=True)
class RequestLine:
    """A Meldebogen as a list shows it: its number, who sent it from where, when, what became of it."""

    id: int
    source: str
    status: RequestStatus
    created_at: datetime
    decided_at: datetime | None
    sender: str


@dataclass(frozen=True)
class RequestView:
    line: RequestLine
    body: dict[str, Any]  # BODY_FIELDS; {} when it cannot be read
    reason: str | None  # a decline's reason
    assigned_to: int | None


class RequestRepository:
    def __init__(self, store: Store) -> None:
        self._store = store

    def _seal(self, org_id: int, request_id: int, part: str, value: object) -> bytes:
        key = self._store.organisations.key(org_id)
        return key.encrypt(json.dumps(value, ensure_ascii=False), aad=body_aad(request_id, part))

    def _open(self, row: IntakeRequest, part: str, blob: bytes | None) -> Any:
        """A part of the Meldebogen, or None when there is none or it cannot be read (damaged, or
        the organisation's key destroyed): counted and logged without content, shown as unreadable."""
        if blob is None:
            return None
        try:
            key = self._store.organisations.key(row.org_id)
        except Exception:  # noqa: BLE001 - the organisation's key is gone: like a damaged value
            key = None
        text = readable(key, blob, aad=body_aad(row.id, part))
        return json.loads(text) if text is not None else None

    def send(self, referrer: StaffUser, *, source: str, body: dict[str, Any]) -> int:
        """A referrer's Meldebogen, with a message to each coordinator; returns its number."""
        if not referrer.may(roles.sends_meldebogen):
            raise NotAllowed()
        now = self._store.clock.now()
        with self._store.transaction() as s:
            row = IntakeRequest(org_id=referrer.org_id, sent_by=referrer.id, source=source, created_at=now,
                                status=RequestStatus.RECEIVED, body_enc=b"")
            s.add(row)
            s.flush()
            row.body_enc = self._seal(referrer.org_id, row.id, "body", {k: body.get(k) for k in BODY_FIELDS})
            s.add(row)
            for coordinator in self._reviewers(s, referrer.org_id):
                outbox.schedule(s, org_id=referrer.org_id, user_id=coordinator, kind=ReminderKind.MELDEBOGEN_RECEIVED,
                                ref_id=row.id, due_at=now)
            audit.record(s, at=now, org_id=referrer.org_id, user_id=referrer.id, action="request.send",
                         detail=f"request={row.id};source={source}")
            return row.id

    def _reviewers(self, s: Session, org_id: int) -> list[int]:
        return list(s.exec(select(AppUser.id).where(AppUser.org_id == org_id, AppUser.active == True,  # noqa: E712
                                                    AppUser.role.in_(roles.holding(roles.reviews_meldebogen)))).all())

    def _line(self, row: IntakeRequest, sender: AppUser | None) -> RequestLine:
        return RequestLine(id=row.id, source=row.source, status=RequestStatus(row.status), created_at=row.created_at,
                           decided_at=row.decided_at, sender=sender.display_name if sender else "–")

    def sent(self, referrer: StaffUser, *, limit: int = 20) -> list[tuple[RequestLine, str | None]]:
        """What the referrer sent, newest first, each with a decline's reason: nothing of a case."""
        with self._store.transaction() as s:
            rows = s.exec(select(IntakeRequest).where(IntakeRequest.org_id == referrer.org_id,
                                                      IntakeRequest.sent_by == referrer.id)
                          .order_by(IntakeRequest.id.desc()).limit(limit)).all()
            return [(self._line(r, None), self._open(r, "reason", r.reason_enc)) for r in rows]

    def inbox(self, coordinator: StaffUser) -> list[RequestLine]:
        """The Meldebögen not decided yet (received, waiting), oldest first."""
        if not coordinator.may(roles.reviews_meldebogen):
            return []
        with self._store.transaction() as s:
            rows = s.exec(select(IntakeRequest, AppUser).join(AppUser, AppUser.id == IntakeRequest.sent_by)
                          .where(IntakeRequest.org_id == coordinator.org_id, IntakeRequest.status.in_(OPEN_REQUESTS))
                          .order_by(IntakeRequest.id)).all()
            return [self._line(r, u) for r, u in rows]

    def _request(self, s: Session, user: StaffUser, request_id: int) -> IntakeRequest:
        row = s.get(IntakeRequest, request_id)
        if row is None or row.org_id != user.org_id:
            raise NotAllowed()
        return row

    def view(self, coordinator: StaffUser, request_id: int) -> RequestView:
        """One Meldebogen, read (audited) by the coordinator."""
        if not coordinator.may(roles.reviews_meldebogen):
            raise NotAllowed()
        with self._store.transaction() as s:
            row = self._request(s, coordinator, request_id)
            audit.record(s, at=self._store.clock.now(), org_id=row.org_id, user_id=coordinator.id, action="request.view",
                         detail=f"request={row.id}")
            return RequestView(self._line(row, s.get(AppUser, row.sent_by)), self._open(row, "body", row.body_enc) or {},
                               self._open(row, "reason", row.reason_enc), row.assigned_to)

    def decide(self, coordinator: StaffUser, request_id: int, *, status: RequestStatus, to_user: int | None = None,
               reason: str | None = None) -> RequestView:
        """Assign (to a case manager, who is told), decline (with the reason its sender reads) or
        put on the waiting list a Meldebogen that is still open."""
        if not coordinator.may(roles.reviews_meldebogen) or status not in (
                RequestStatus.ASSIGNED, RequestStatus.DECLINED, RequestStatus.WAITING):
            raise NotAllowed()
        now = self._store.clock.now()
        with self._store.transaction() as s:
            row = self._request(s, coordinator, request_id)
            if row.status not in OPEN_REQUESTS:
                raise NotAllowed()
            if status is RequestStatus.ASSIGNED:
                target = s.get(AppUser, to_user) if to_user else None
                if (target is None or target.org_id != coordinator.org_id or not target.active
                        or not roles.receives_cases(Role(target.role))):
                    raise NotAllowed()
                row.assigned_to = target.id
                outbox.schedule(s, org_id=row.org_id, user_id=target.id, kind=ReminderKind.MELDEBOGEN_ASSIGNED,
                                ref_id=row.id, due_at=now)
            if status is RequestStatus.DECLINED:
                row.reason_enc = self._seal(row.org_id, row.id, "reason", " ".join((reason or "").split())[:500])
            row.status, row.decided_by, row.decided_at = status, coordinator.id, now
            s.add(row)
            audit.record(s, at=now, org_id=row.org_id, user_id=coordinator.id, action=f"request.{status.value}",
                         detail=f"request={row.id}" + (f";to={row.assigned_to}" if row.assigned_to else ""))
            return RequestView(self._line(row, None), {}, None, row.assigned_to)

    def for_intake(self, case_manager: StaffUser, request_id: int) -> dict[str, Any]:
        """What the assigned case manager's intake starts from (the Meldebogen's answers and its source)."""
        with self._store.transaction() as s:
            row = self._request(s, case_manager, request_id)
            if row.assigned_to != case_manager.id or row.status != RequestStatus.ASSIGNED:
                raise NotAllowed()
            body = self._open(row, "body", row.body_enc) or {}
            return {**{k: v for k, v in body.items() if k in ("given_name", "family_name", "birth_date", "phone") and v},
                    "source": row.source}

    def taken_on(self, s: Session, case_manager: StaffUser, request_id: int, case_id: int) -> None:
        """In the intake's unit of work: the Meldebogen became this case."""
        s.exec(update(IntakeRequest).where(IntakeRequest.id == request_id, IntakeRequest.org_id == case_manager.org_id,
                                           IntakeRequest.assigned_to == case_manager.id)
               .values(status=RequestStatus.TAKEN_ON, case_id=case_id))

    def subject(self, request_id: int) -> tuple[RequestLine, int | None] | None:
        """A message about the Meldebogen (to a coordinator, to its case manager): its line and
        to whom it is assigned; None when it is gone or decided otherwise meanwhile."""
        with self._store.transaction() as s:
            row = s.get(IntakeRequest, request_id)
            if row is None:
                return None
            return self._line(row, s.get(AppUser, row.sent_by)), row.assigned_to

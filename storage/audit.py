"""The audit trail: who did what to which case, when; never the data itself."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from storage.models import AuditEvent


def record(
    session: Session, *, at: datetime, org_id: int, user_id: int | None, action: str,
    case_id: int | None = None, detail: str = "",
) -> None:
    """Add an audit row to the caller's transaction, so it commits (or not) with the change."""
    session.add(AuditEvent(at=at, org_id=org_id, user_id=user_id, action=action, case_id=case_id, detail=detail))

"""The audit trail: who did what to which case, when; never the data itself."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import String, cast, func, literal, update
from sqlalchemy.orm import aliased
from sqlmodel import Session, select

from storage.models import MOVED_STUB, AppUser, AuditEvent, ClientCase

if TYPE_CHECKING:
    from storage.store import Store

log = logging.getLogger("casebot.audit")


def record(
    session: Session, *, at: datetime, org_id: int, user_id: int | None, action: str,
    case_id: int | None = None, detail: str = "",
) -> None:
    """Add an audit row to the caller's transaction, so it commits (or not) with the change."""
    session.add(AuditEvent(at=at, org_id=org_id, user_id=user_id, action=action, case_id=case_id, detail=detail))


@dataclass(frozen=True)
class Problem:
    seq: int
    what: str  # "changed", "missing", "out of order"


@dataclass(frozen=True)
class Verification:
    checked: int
    unsealed: int
    problems: list[Problem]
    head: tuple[int, str] | None  # the last sealed entry's place and hash: note it elsewhere


def _content(row, seq: int) -> bytes:  # noqa: ANN001
    """What an entry's hash covers: its place and every column but the chain, in a fixed form."""
    at = row.at if row.at.tzinfo else row.at.replace(tzinfo=UTC)
    return json.dumps([seq, row.id, at.astimezone(UTC).isoformat(), row.org_id, row.user_id, row.action,
                       row.case_id, row.detail], separators=(",", ":")).encode()


COLUMNS = (AuditEvent.id, AuditEvent.seq, AuditEvent.chain, AuditEvent.at, AuditEvent.org_id, AuditEvent.user_id,
           AuditEvent.action, AuditEvent.case_id, AuditEvent.detail)
GENESIS = "0" * 64
PAGE = 5000


class AuditChain:
    """A keyed hash chain over the audit trail. Entries are written as they happen (in the
    transaction of their change) and sealed afterwards in the order they were committed: each
    sealed entry gets the next place (`seq`) and a keyed hash of the previous entry's hash and its
    own content. A removed entry leaves a gap, a changed one no longer matches its hash, and
    entries moved about no longer chain. Sealing afterwards keeps the hot path as it was (no
    lock on the trail's last entry for every view of a case); an entry is protected from its
    sealing on (within minutes: the dispatcher seals at every planning round)."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def _mac(self, previous: str, row, seq: int) -> str:  # noqa: ANN001
        return self._store.keyring.audit_mac(previous.encode() + b"\x1f" + _content(row, seq))

    def seal(self, *, batch: int = 2000) -> int:
        """Seal the entries written since the last sealing; returns how many."""
        sealed = 0
        while True:
            with self._store.transaction() as s:
                if s.get_bind().dialect.name == "postgresql":  # one sealer at a time, across instances
                    s.exec(select(func.pg_advisory_xact_lock(0x4155444954)))
                last = s.exec(select(AuditEvent.seq, AuditEvent.chain).where(AuditEvent.seq.is_not(None))
                              .order_by(AuditEvent.seq.desc()).limit(1)).first()
                seq, previous = (last[0], last[1]) if last else (0, GENESIS)
                rows = s.exec(select(*COLUMNS).where(AuditEvent.seq.is_(None)).order_by(AuditEvent.id).limit(batch)).all()
                for row in rows:
                    seq += 1
                    previous = self._mac(previous, row, seq)
                    s.exec(update(AuditEvent).where(AuditEvent.id == row.id).values(seq=seq, chain=previous))
                sealed += len(rows)
            if len(rows) < batch:
                if sealed:
                    log.info("audit trail sealed up to entry %d (chain %s…)", seq, previous[:16])
                return sealed

    def verify(self) -> Verification:
        """Recompute the chain from the first entry; every problem with its place."""
        problems: list[Problem] = []
        previous, expected, checked, after = GENESIS, 1, 0, 0
        head = None
        while True:
            with self._store.transaction() as s:
                rows = s.exec(select(*COLUMNS).where(AuditEvent.seq > after).order_by(AuditEvent.seq).limit(PAGE)).all()
                unsealed = s.exec(select(func.count()).select_from(AuditEvent).where(AuditEvent.seq.is_(None))).one()
            for row in rows:
                if row.seq != expected:
                    problems.append(Problem(expected, f"missing (up to {row.seq - 1})" if row.seq > expected else "out of order"))
                    expected = row.seq
                if self._mac(previous, row, row.seq) != row.chain:
                    problems.append(Problem(row.seq, "changed, or not in its place"))
                previous, expected, checked = row.chain, expected + 1, checked + 1
                head = (row.seq, row.chain)
            if len(rows) < PAGE:
                return Verification(checked=checked, unsealed=unsealed, problems=problems, head=head)
            after = rows[-1].seq


    def export(self, org_id: int, *, case_code: str | None = None, user_id: int | None = None,
               since: datetime | None = None, until: datetime | None = None) -> list[dict]:
        """The trail of one case or one member of staff over a period, for the data-protection
        officer: case codes and staff names, no personal data of clients (the trail holds none)."""
        # a case that moved to another organisation since is named in this one's trail by the code
        # it had here: the closed stub it left (storage/transfers.py), never by its new one
        stub = aliased(ClientCase)
        code = func.coalesce(ClientCase.code, stub.code)
        query = (select(AuditEvent, AppUser.display_name, AppUser.role, code)
                 .join(AppUser, AuditEvent.user_id == AppUser.id, isouter=True)
                 .join(ClientCase, (AuditEvent.case_id == ClientCase.id) & (ClientCase.org_id == AuditEvent.org_id),
                       isouter=True)
                 .join(stub, (stub.org_id == AuditEvent.org_id)
                       & (stub.person_index == literal(MOVED_STUB) + cast(AuditEvent.case_id, String)), isouter=True)
                 .where(AuditEvent.org_id == org_id))
        if case_code:
            query = query.where(code == case_code.upper())
        if user_id:
            query = query.where(AuditEvent.user_id == user_id)
        if since:
            query = query.where(AuditEvent.at >= since)
        if until:
            query = query.where(AuditEvent.at < until)
        with self._store.transaction() as s:
            return [{"at": event.at.astimezone(UTC).isoformat(), "seq": event.seq, "staff": name, "role": role,
                     "action": event.action, "case": code, "detail": event.detail}
                    for event, name, role, code in s.exec(query.order_by(AuditEvent.id)).all()]

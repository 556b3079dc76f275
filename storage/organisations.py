"""Organisations on one installation: created by the operator with a first admin invitation,
each with a key of its own, switched off, and erased as a whole.

The key hierarchy: a master key (the key file) wraps each organisation's key; the
organisation's key wraps each of its case keys (case_key.kid "org:<id>"); a case key encrypts
the case's values. Destroying the organisation's key, and the case keys it wrapped, leaves
nothing of its cases readable, whatever copy of the database survives. Case keys written before
organisations had keys of their own are wrapped by the master key until `casebot migrate` moves
them under their organisation's (`rehome`); both kinds are read meanwhile.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import delete, func, update
from sqlmodel import select

from domain.roles import Role
from domain.vocabulary import CaseStatus, OutboxState
from storage import audit, tenancy
from storage.crypto import CryptoError, DataKey, WrappedKey
from storage.models import (
    AgendaItem,
    AppUser,
    CaseKey,
    ClientCase,
    Dialogue,
    District,
    IntakeRequest,
    Invitation,
    Organisation,
    Outbox,
)

if TYPE_CHECKING:
    from storage.store import Store

ORG_KID = "org:"  # case_key.kid of a case key wrapped by its organisation's key: "org:<org id>"


def org_key_aad(org_id: int) -> str:
    return f"org/{org_id}/key"


def case_kid(org_id: int) -> str:
    return f"{ORG_KID}{org_id}"


class OrganisationGone(Exception):
    """The organisation was erased: nothing of it can be read or written any more."""


@dataclass(frozen=True)
class OrganisationInfo:
    id: int
    name: str
    prefix: str
    created_at: datetime
    disabled_at: datetime | None
    erased_at: datetime | None
    staff: int
    open_cases: int

    @property
    def state(self) -> str:
        return "erased" if self.erased_at else "disabled" if self.disabled_at else "active"


class OrganisationRepository:
    def __init__(self, store: Store) -> None:
        self._store = store
        # unwrapped organisation keys: a few, asked for with every case key (they never change;
        # a rotation re-wraps them, an erasure destroys them and the case keys they wrapped)
        self._keys: dict[int, DataKey] = {}
        self._lock = threading.Lock()
        self._active: tuple[float, frozenset[int]] | None = None  # (until, active organisations)

    # the operator ---------------------------------------------------------------------
    def create(self, *, name: str, prefix: str, districts: list[str], default_language: str) -> int:
        now = self._store.clock.now()
        with self._store.transaction() as s:
            if s.exec(select(Organisation.id).where(Organisation.code_prefix == prefix.upper())).first() is not None:
                raise ValueError("an organisation already has this prefix")
            org = Organisation(name=name, code_prefix=prefix.upper(), default_language=default_language, created_at=now)
            s.add(org)
            s.flush()
            self._new_key(org)
            for code in districts:
                s.add(District(org_id=org.id, code=code, name=code))
            audit.record(s, at=now, org_id=org.id, user_id=None, action="org.create", detail=f"districts={len(districts)}")
            self._active = None
            return org.id

    def list(self) -> list[OrganisationInfo]:
        with self._store.transaction() as s:
            staff = dict(s.exec(select(AppUser.org_id, func.count()).where(AppUser.active == True)  # noqa: E712
                                .group_by(AppUser.org_id)).all())
            cases = dict(s.exec(select(ClientCase.org_id, func.count()).where(ClientCase.status == CaseStatus.OPEN)
                                .group_by(ClientCase.org_id)).all())
            return [OrganisationInfo(id=o.id, name=o.name, prefix=o.code_prefix, created_at=o.created_at,
                                     disabled_at=o.disabled_at, erased_at=o.erased_at, staff=staff.get(o.id, 0),
                                     open_cases=cases.get(o.id, 0))
                    for o in s.exec(select(Organisation).order_by(Organisation.id)).all()]

    def others_exist(self, org_id: int) -> bool:
        """Whether another active organisation is on the installation (a case could move there).
        Asked with every view of a case, so each instance remembers the answer a minute."""
        cached = self._active
        if cached is None or cached[0] < time.monotonic():
            with tenancy.acting_for(None), self._store.transaction() as s:
                active = frozenset(s.exec(select(Organisation.id).where(Organisation.disabled_at.is_(None),
                                                                        Organisation.erased_at.is_(None))).all())
            cached = self._active = (time.monotonic() + 60.0, active)
        return bool(cached[1] - {org_id})

    def by_prefix(self, prefix: str) -> int | None:
        with self._store.transaction() as s:
            return s.exec(select(Organisation.id).where(Organisation.code_prefix == prefix.upper())).first()

    def set_disabled(self, org_id: int, disabled: bool) -> bool:
        """Switch an organisation off (its staff are refused, nothing is sent to them) or on
        again; False when it is erased or already so."""
        now = self._store.clock.now()
        with self._store.transaction() as s:
            org = s.get(Organisation, org_id)
            if org is None or org.erased_at is not None or (org.disabled_at is not None) == disabled:
                return False
            org.disabled_at = now if disabled else None
            s.add(org)
            audit.record(s, at=now, org_id=org_id, user_id=None, action="org.disable" if disabled else "org.enable")
        self._active = None
        self._store.staff.forget_all()
        return True

    def erase(self, org_id: int, *, batch: int = 200, progress=None) -> int:  # noqa: ANN001
        """Erase a switched-off organisation as a whole; returns how many cases were erased.
        Every case is erased as one is (its key and values gone, statistics kept), its staff's
        drafts, contact details and agenda go, its staff are removed (their Telegram ids with
        them), its invitations and scheduled messages are cancelled, and last its own key is
        destroyed. Interrupted, it is simply run again."""
        with self._store.transaction() as s:
            org = s.get(Organisation, org_id)
            if org is None or org.disabled_at is None:
                raise ValueError("switch the organisation off first")
            users = s.exec(select(AppUser.id).where(AppUser.org_id == org_id)).all()
            s.exec(delete(Dialogue).where(Dialogue.user_id.in_(users)))
        erased = 0
        while True:
            with self._store.transaction() as s:
                codes = s.exec(select(ClientCase.code).where(ClientCase.org_id == org_id, ClientCase.erased_at.is_(None))
                               .limit(batch)).all()
            for code in codes:
                self._store.erasure.erase(code, org_id=org_id, actor_id=None, reason="organisation", drafts=False)
            erased += len(codes)
            if progress is not None and codes:
                progress(erased)
            if len(codes) < batch:
                break
        now = self._store.clock.now()
        with self._store.transaction() as s:
            s.exec(delete(CaseKey).where(CaseKey.case_id.in_(select(ClientCase.id).where(ClientCase.org_id == org_id))))
            s.exec(delete(AgendaItem).where(AgendaItem.org_id == org_id))
            s.exec(delete(IntakeRequest).where(IntakeRequest.org_id == org_id))
            s.exec(delete(Invitation).where(Invitation.org_id == org_id, Invitation.used_at.is_(None)))
            s.exec(update(Outbox).where(Outbox.org_id == org_id, Outbox.state == OutboxState.DUE)
                   .values(state=OutboxState.CANCELLED))
            # staff stay as numbers for the audit trail; who they were (their Telegram account,
            # name, contact details) goes
            s.exec(update(AppUser).where(AppUser.org_id == org_id)
                   .values(active=False, telegram_id=-AppUser.id, display_name="", contact_enc=None, contact_kid=None,
                           pin_hash=None))
            org = s.get(Organisation, org_id)
            org.key_kid, org.key_wrapped, org.erased_at = None, None, now
            s.add(org)
            audit.record(s, at=now, org_id=org_id, user_id=None, action="org.erase", detail=f"cases={erased}")
        with self._lock:
            self._keys.pop(org_id, None)
        self._store.staff.forget_all()
        return erased

    def first_admin_invitation(self, org_id: int, *, expires_in: timedelta) -> str:
        return self._store.staff.create_invitation(org_id=org_id, role=Role.ADMIN, district_id=None,
                                                   expires_in=expires_in, created_by=None)

    # keys -------------------------------------------------------------------------------
    def _new_key(self, org: Organisation) -> DataKey:
        key = DataKey.generate()
        wrapped = self._store.keyring.wrap(key, aad=org_key_aad(org.id))
        org.key_kid, org.key_wrapped = wrapped.kid, wrapped.blob
        return key

    def key(self, org_id: int) -> DataKey:
        """The organisation's key. Only a key read as committed is remembered: one made here
        (an organisation from before keys per organisation, whose `casebot migrate` has not
        run) is written in the caller's transaction, and goes if that rolls back, together
        with the case keys it wrapped."""
        key = self._keys.get(org_id)
        if key is not None:
            return key
        with self._store.engine.connect() as connection:  # what is committed, not the caller's transaction
            row = connection.execute(select(Organisation.key_kid, Organisation.key_wrapped, Organisation.erased_at)
                                     .where(Organisation.id == org_id)).first()
        if row is None or row.erased_at is not None:
            raise OrganisationGone()
        if row.key_wrapped is not None:
            key = self._store.keyring.unwrap(WrappedKey(row.key_kid, row.key_wrapped), aad=org_key_aad(org_id))
            with self._lock:
                self._keys[org_id] = key
            return key
        with self._store.transaction() as s:
            key = DataKey.generate()
            wrapped = self._store.keyring.wrap(key, aad=org_key_aad(org_id))
            made = s.exec(update(Organisation).where(Organisation.id == org_id, Organisation.key_wrapped.is_(None))
                          .values(key_kid=wrapped.kid, key_wrapped=wrapped.blob)).rowcount
            if made:
                return key
            row = s.exec(select(Organisation.key_kid, Organisation.key_wrapped).where(Organisation.id == org_id)).one()
            return self._store.keyring.unwrap(WrappedKey(row.key_kid, row.key_wrapped), aad=org_key_aad(org_id))

    def ensure_keys(self) -> int:
        """Give every organisation without one its key (`casebot migrate`); returns how many."""
        made = 0
        with self._store.transaction() as s:
            orgs = s.exec(select(Organisation.id).where(Organisation.key_wrapped.is_(None),
                                                        Organisation.erased_at.is_(None))).all()
        for org_id in orgs:
            with self._store.transaction():
                self.key(org_id)
            made += 1
        return made

    def wrap_case_key(self, org_id: int, case_key: DataKey, aad: str) -> tuple[str, bytes]:
        return case_kid(org_id), self.key(org_id).wrap(case_key, aad=aad)

    def unwrap_case_key(self, kid: str, wrapped: bytes, aad: str) -> DataKey:
        if not kid.startswith(ORG_KID):  # written before organisations had keys: the master key's
            return self._store.keyring.unwrap(WrappedKey(kid, wrapped), aad=aad)
        try:
            org_key = self.key(int(kid[len(ORG_KID):]))
        except OrganisationGone:
            raise CryptoError("the organisation's key was destroyed") from None
        return org_key.unwrap(wrapped, aad=aad)

    def rehome(self, *, batch: int = 500) -> int:
        """Move case keys wrapped by the master key under their organisation's key (compare and
        set: a case erased meanwhile stays erased); returns how many moved."""
        from storage.cases import key_aad

        moved = 0
        while True:
            with self._store.transaction() as s:
                rows = s.exec(select(CaseKey.case_id, CaseKey.kid, CaseKey.wrapped, ClientCase.org_id)
                              .join(ClientCase, ClientCase.id == CaseKey.case_id)
                              .where(CaseKey.kid.not_like(f"{ORG_KID}%")).limit(batch)).all()
            fresh = []
            for case_id, kid, wrapped, org_id in rows:
                try:
                    data_key = self.unwrap_case_key(kid, wrapped, key_aad(case_id))
                except CryptoError:
                    continue  # damaged: it stays as it is
                fresh.append((case_id, kid, wrapped, *self.wrap_case_key(org_id, data_key, key_aad(case_id))))
            with self._store.transaction() as s:
                for case_id, kid, wrapped, new_kid, new_blob in fresh:
                    moved += s.exec(update(CaseKey).where(CaseKey.case_id == case_id, CaseKey.kid == kid,
                                                          CaseKey.wrapped == wrapped)
                                    .values(kid=new_kid, wrapped=new_blob)).rowcount
            if len(rows) < batch or not fresh:
                return moved

"""Staff lifecycle: a colleague leaves (deactivated, their caseload handed on in the same step),
comes back (reactivated), or changes role. Admins only; every change audited."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import delete, func, update
from sqlmodel import select

from domain import roles
from domain.roles import Role
from domain.vocabulary import CaseStatus, OutboxState
from storage import audit
from storage.models import AppUser, ClientCase, Dialogue, District, Outbox
from storage.referrals import _follow_ups_to
from storage.types import Member, NotAllowed, StaffUser, staff_label

if TYPE_CHECKING:
    from storage.store import Store


class StaffLifecycle:
    def __init__(self, store: Store) -> None:
        self._store = store

    def members(self, admin: StaffUser) -> list[Member]:
        self._admin(admin)
        with self._store.transaction() as s:
            load = (select(func.count(ClientCase.id)).where(ClientCase.assigned_to == AppUser.id,
                                                            ClientCase.status == CaseStatus.OPEN)
                    .correlate(AppUser).scalar_subquery())
            rows = s.exec(select(AppUser, District.code, load.label("load"))
                          .join(District, AppUser.district_id == District.id, isouter=True)
                          .where(AppUser.org_id == admin.org_id).order_by(AppUser.active.desc(), AppUser.id)).all()
            return [Member(u.id, staff_label(u.display_name, u.id), Role(u.role), code, u.active, n, bool(u.pin_locked),
                           u.employer, u.capacity)
                    for u, code, n in rows]

    def member(self, admin: StaffUser, user_id: int) -> Member:
        found = next((m for m in self.members(admin) if m.id == user_id), None)
        if found is None:
            raise NotAllowed()
        return found

    def deactivate(self, admin: StaffUser, user_id: int, *, hand_to: int | None) -> int:
        """The colleague can do nothing more: their open dialogue is closed, their pending
        reminders dropped, and their open cases (with their referral follow-ups) go to `hand_to`
        (a case manager, or a coordinator who shares them out) in the same transaction. Returns
        how many cases moved. Raises NotAllowed for oneself, another organisation's user, or
        open cases without anyone to take them."""
        self._admin(admin)
        now = self._store.clock.now()
        with self._store.transaction() as s:
            target = self._target(s, admin, user_id)
            if not target.active:
                return 0
            cases = s.exec(select(ClientCase).where(ClientCase.assigned_to == target.id,
                                                    ClientCase.status == CaseStatus.OPEN)).all()
            receiver = s.get(AppUser, hand_to) if hand_to else None
            if cases and (receiver is None or receiver.org_id != admin.org_id or not receiver.active
                          or receiver.id == target.id or Role(receiver.role) not in roles.CASE_WORKERS):
                raise NotAllowed()
            for case in cases:
                case.assigned_to, case.updated_at = receiver.id, now
                s.add(case)
                audit.record(s, at=now, org_id=admin.org_id, user_id=admin.id or None, action="case.reassign", case_id=case.id,
                             detail=f"from={target.id};to={receiver.id};reason=deactivated")
                _follow_ups_to(s, case.id, receiver.id)
            s.exec(update(Outbox).where(Outbox.user_id == target.id, Outbox.state == OutboxState.DUE)
                   .values(state=OutboxState.CANCELLED))
            s.exec(delete(Dialogue).where(Dialogue.user_id == target.id))
            target.active = False
            s.add(target)
            audit.record(s, at=now, org_id=admin.org_id, user_id=admin.id or None, action="user.deactivate",
                         detail=f"user={target.id};cases={len(cases)};to={receiver.id if receiver else '-'}")
            telegram_id = target.telegram_id
        self._store.staff._forget(telegram_id)
        return len(cases)

    def reactivate(self, admin: StaffUser, user_id: int) -> None:
        self._admin(admin)
        with self._store.transaction() as s:
            target = self._target(s, admin, user_id)
            target.active = True
            s.add(target)
            audit.record(s, at=self._store.clock.now(), org_id=admin.org_id, user_id=admin.id or None, action="user.reactivate",
                         detail=f"user={target.id}")
            telegram_id = target.telegram_id
        self._store.staff._forget(telegram_id)

    def change_role(self, admin: StaffUser, user_id: int, role: Role, *, district_id: int | None = None) -> None:
        """A new role. A case manager serves a district (kept, or the one given); someone who
        still holds open cases keeps a role that works on cases (hand them on first)."""
        self._admin(admin)
        with self._store.transaction() as s:
            target = self._target(s, admin, user_id)
            district_id = district_id or target.district_id
            if roles.needs_district(role) and (district_id is None or s.get(District, district_id) is None
                                               or s.get(District, district_id).org_id != admin.org_id):
                raise NotAllowed()
            holds = s.exec(select(func.count(ClientCase.id)).where(ClientCase.assigned_to == target.id,
                                                                    ClientCase.status == CaseStatus.OPEN)).one()
            if holds and role not in roles.CASE_WORKERS:
                raise NotAllowed()
            previous = target.role
            target.role, target.district_id = role.value, district_id if roles.needs_district(role) else target.district_id
            s.add(target)
            audit.record(s, at=self._store.clock.now(), org_id=admin.org_id, user_id=admin.id or None, action="user.role",
                         detail=f"user={target.id};from={previous};to={role.value}")
            telegram_id = target.telegram_id
        self._store.staff._forget(telegram_id)

    def set_employer(self, admin: StaffUser, user_id: int, employer: str) -> None:
        """The member's employer (the Träger: "Caritas", "Stadt Leverkusen, KI"), as reports count
        cases by it. A category, not personal data; audited like a role."""
        self._admin(admin)
        with self._store.transaction() as s:
            target = self._target(s, admin, user_id)
            target.employer = " ".join(employer.split())[:60]
            s.add(target)
            audit.record(s, at=self._store.clock.now(), org_id=admin.org_id, user_id=admin.id or None, action="user.employer",
                         detail=f"user={target.id}")

    def set_capacity(self, admin: StaffUser, user_id: int, capacity: int | None) -> None:
        """The most open cases a case manager takes (None: no limit). New cases go to colleagues
        with room; the cases they hold stay with them."""
        self._admin(admin)
        if capacity is not None and not 1 <= capacity <= 500:
            raise ValueError("a capacity lies between 1 and 500 open cases")
        with self._store.transaction() as s:
            target = self._target(s, admin, user_id)
            if not roles.receives_cases(Role(target.role)):
                raise NotAllowed()
            target.capacity = capacity
            s.add(target)
            audit.record(s, at=self._store.clock.now(), org_id=admin.org_id, user_id=admin.id or None, action="user.capacity",
                         detail=f"user={target.id};capacity={capacity if capacity is not None else '-'}")

    def _admin(self, admin: StaffUser) -> None:
        if not admin.may(roles.manages_users):
            raise NotAllowed()

    def _target(self, s, admin: StaffUser, user_id: int) -> AppUser:  # noqa: ANN001
        target = s.get(AppUser, user_id)
        if target is None or target.org_id != admin.org_id or target.id == admin.id:
            raise NotAllowed()
        return target

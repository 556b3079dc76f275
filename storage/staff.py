"""Organisations, districts, staff users and invitations."""

from __future__ import annotations

import hashlib
import secrets
import time
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import bindparam, func, update
from sqlalchemy import select as sa_select
from sqlmodel import select

from domain import roles
from domain.organisation import MAX_DISTRICT_NAME, Assignment, Candidate, DistrictInfo, assign
from domain.roles import Role
from domain.vocabulary import CaseStatus
from storage import audit
from storage.models import AppUser, ClientCase, District, Invitation, Organisation
from storage.types import NOT_REMEMBERED, InvitationProblem, NotAllowed, StaffUser

if TYPE_CHECKING:
    from storage.store import Store


def _hash_code(code: str) -> str:
    return hashlib.sha256(code.encode("utf-8")).hexdigest()


def _staff(user: AppUser, district: District | None) -> StaffUser:
    return StaffUser(
        id=user.id, org_id=user.org_id, telegram_id=user.telegram_id, role=Role(user.role),
        district_id=user.district_id, district_code=district.code if district else None, language=user.language,
        display_name=user.display_name,
    )


_USER_BY_TELEGRAM_ID = (
    sa_select(AppUser.id, AppUser.org_id, AppUser.telegram_id, AppUser.role, AppUser.district_id,
              AppUser.language, AppUser.display_name, AppUser.pin_locked, District.code.label("district_code"),
              Organisation.disabled_at.label("org_disabled"))
    .join(Organisation, AppUser.org_id == Organisation.id)
    .join(District, AppUser.district_id == District.id, isouter=True)
    .where(AppUser.telegram_id == bindparam("telegram_id"), AppUser.active.is_(True))
)


STAFF_CACHE_SECONDS = 10.0
DISTRICTS_CACHE_SECONDS = 30.0
STAFF_CACHE_SIZE = 10_000


class StaffRepository:
    def __init__(self, store: Store) -> None:
        self._store = store
        self._cache: dict[int, tuple[float, StaffUser | None]] = {}  # telegram id -> (until, user)
        self._districts: dict[int, tuple[float, tuple[DistrictInfo, ...]]] = {}

    # organisation -----------------------------------------------------------------------
    def create_organisation(self, *, name: str, prefix: str, districts: list[str], default_language: str) -> int:
        return self._store.organisations.create(name=name, prefix=prefix, districts=districts,
                                                default_language=default_language)

    def first_organisation_id(self) -> int | None:
        with self._store.transaction() as s:
            return s.exec(select(Organisation.id).order_by(Organisation.id)).first()

    def organisation(self, org_id: int) -> Organisation:
        with self._store.transaction() as s:
            return s.get(Organisation, org_id)

    def districts(self, org_id: int) -> tuple[DistrictInfo, ...]:
        """The organisation's districts. Every dialogue step needs them and an admin changes them
        a few times a year, so each instance keeps them DISTRICTS_CACHE_SECONDS."""
        cached = self._districts.get(org_id)
        if cached is None or cached[0] < time.monotonic():
            with self._store.transaction() as s:
                rows = s.exec(select(District).where(District.org_id == org_id).order_by(District.id)).all()
                cached = self._districts[org_id] = (time.monotonic() + DISTRICTS_CACHE_SECONDS,
                                                    tuple(DistrictInfo(id=d.id, code=d.code, name=d.name) for d in rows))
        return cached[1]

    def save_district(self, admin: StaffUser, *, code: str, name: str, quarters: tuple[str, ...] = (),
                      border: tuple[str, ...] = (), neighbours: tuple[str, ...] = (), new: bool = False) -> DistrictInfo:
        """A district as an admin keeps it: its name, its quarters, which of them are border
        quarters and the districts they border. ValueError (with a reason, no data) if it is not one."""
        if not admin.may(roles.manages_users):
            raise NotAllowed()
        name = " ".join(name.split())
        if not name or len(name) > MAX_DISTRICT_NAME or not code or len(code) > 16:
            raise ValueError("a district needs a code (up to 16 characters) and a name (up to 100)")
        settings = self._store.settings
        now = self._store.clock.now()
        with self._store.transaction() as s:
            row = s.exec(select(District).where(District.org_id == admin.org_id, District.code == code)).first()
            if (row is None) != new:
                raise ValueError("a district with this code exists already" if new else f"no such district: {code}")
            row = row or District(org_id=admin.org_id, code=code, name=name)
            row.name = name
            s.add(row)
            s.flush()
            self._districts.pop(admin.org_id, None)
            for section, value in (("quarters", quarters), ("border", border), ("neighbours", neighbours)):
                settings.set(admin.org_id, f"{section}.{code}", ", ".join(value), user_id=admin.id or None, audited=False)
            # one entry for the save (its quarters, border quarters and neighbours are settings)
            audit.record(s, at=now, org_id=admin.org_id, user_id=admin.id or None,
                         action="district.create" if new else "district.change", detail=f"district={row.id}")
            info = DistrictInfo(id=row.id, code=row.code, name=row.name)
        self._districts.pop(admin.org_id, None)
        return info

    def district_by_code(self, org_id: int, code: str) -> DistrictInfo | None:
        return next((d for d in self.districts(org_id) if d.code == code), None)

    # users ------------------------------------------------------------------------------
    def user_by_telegram_id(self, telegram_id: int) -> StaffUser | None:
        """Runs for every update, so it is one Core statement rather than an ORM query; the
        answer is remembered for STAFF_CACHE_SECONDS (see `remembered`)."""
        with self._store.reading() as connection:
            row = connection.execute(_USER_BY_TELEGRAM_ID, {"telegram_id": telegram_id}).first()
        user = None if row is None else StaffUser(
            id=row.id, org_id=row.org_id, telegram_id=row.telegram_id, role=Role(row.role),
            district_id=row.district_id, district_code=row.district_code, language=row.language,
            display_name=row.display_name, pin_locked=bool(row.pin_locked), org_disabled=row.org_disabled is not None)
        self._cache[telegram_id] = (time.monotonic() + STAFF_CACHE_SECONDS, user)
        if len(self._cache) > STAFF_CACHE_SIZE:
            self._cache.pop(next(iter(self._cache)))
        return user

    def remembered(self, telegram_id: int) -> StaffUser | None | object:
        """The sender as looked up less than STAFF_CACHE_SECONDS ago, or NOT_REMEMBERED. Saves
        the database round trip on most updates; a change made here forgets at once, one made
        on another instance is seen within the lifetime."""
        entry = self._cache.get(telegram_id)
        if entry is None or entry[0] < time.monotonic():
            return NOT_REMEMBERED
        return entry[1]

    def forget_all(self) -> None:
        """Every sender is looked up again (an organisation was switched off or on, or erased)."""
        self._forget()

    def _forget(self, telegram_id: int | None = None) -> None:
        if telegram_id is None:
            self._cache.clear()
        else:
            self._cache.pop(telegram_id, None)

    def user_by_id(self, user_id: int) -> StaffUser | None:
        with self._store.transaction() as s:
            user = s.get(AppUser, user_id)
            if user is None:
                return None
            return _staff(user, s.get(District, user.district_id) if user.district_id else None)

    def members(self, org_id: int, role: Role) -> list[StaffUser]:
        with self._store.transaction() as s:
            rows = s.exec(select(AppUser, District).join(District, AppUser.district_id == District.id, isouter=True)
                          .where(AppUser.org_id == org_id, AppUser.role == role.value,
                                 AppUser.active == True).order_by(AppUser.id)).all()  # noqa: E712
            return [_staff(u, d) for u, d in rows]

    def case_managers(self, org_id: int) -> list[tuple[StaffUser, int]]:
        """Active case managers with their number of open cases (for reassignment by capacity)."""
        with self._store.transaction() as s:
            open_cases = (select(func.count(ClientCase.id))
                          .where(ClientCase.assigned_to == AppUser.id, ClientCase.status == CaseStatus.OPEN)
                          .correlate(AppUser).scalar_subquery())
            rows = s.exec(select(AppUser, District, open_cases.label("load"))
                          .join(District, AppUser.district_id == District.id, isouter=True)
                          .where(AppUser.org_id == org_id, AppUser.role.in_(roles.holding(roles.receives_cases)),
                                 AppUser.active == True)  # noqa: E712
                          .order_by(AppUser.id)).all()
            return [(_staff(u, d), load) for u, d, load in rows]

    def digest_preferences(self, user_id: int) -> tuple[str, int]:
        with self._store.transaction() as s:
            user = s.get(AppUser, user_id)
            return user.digest_frequency, user.digest_hour

    def set_digest_preferences(self, user_id: int, *, frequency: str, hour: int) -> None:
        with self._store.transaction() as s:
            s.exec(update(AppUser).where(AppUser.id == user_id).values(digest_frequency=frequency, digest_hour=hour))

    def set_language(self, user_id: int, language: str) -> None:
        with self._store.transaction() as s:
            s.exec(update(AppUser).where(AppUser.id == user_id).values(language=language))
        self._forget()  # by user id: simplest to forget everyone (it is a rare change)

    def candidates(self, org_id: int) -> tuple[Candidate, ...]:
        """The organisation's active case managers: district, open cases, capacity."""
        with self._store.transaction() as s:
            open_cases = (
                select(func.count(ClientCase.id))
                .where(ClientCase.assigned_to == AppUser.id, ClientCase.status == CaseStatus.OPEN)
                .correlate(AppUser)
                .scalar_subquery()
            )
            rows = s.exec(
                select(AppUser.id, AppUser.district_id, open_cases, AppUser.capacity)
                .where(AppUser.org_id == org_id, AppUser.role.in_(roles.holding(roles.receives_cases)),
                       AppUser.active == True)  # noqa: E712
                .order_by(AppUser.id)
            ).all()
        return tuple(Candidate(user_id, district_id, count, capacity) for user_id, district_id, count, capacity in rows)

    def assignment(self, *, org_id: int, district_id: int, quarter: str | None, preferred: StaffUser) -> Assignment:
        """Who takes a new case of this district and quarter (domain/organisation.py: assign)."""
        districts = {d.id: d.code for d in self.districts(org_id)}
        by_code = {code: i for i, code in districts.items()}
        borders = self._store.settings.borders(org_id).get(districts.get(district_id, ""))
        border_districts = tuple(by_code[c] for c in (borders.of(quarter) if borders else ()) if c in by_code)
        candidates = self.candidates(org_id)
        recorder = next((c for c in candidates if c.user_id == preferred.id), None)
        return assign(district_id=district_id, border_districts=border_districts, recorder=recorder,
                      recorder_id=preferred.id, candidates=candidates)

    def case_manager_for_district(self, *, org_id: int, district_id: int, preferred: StaffUser) -> int:
        """The case manager a case of the district goes to (no quarter known: by district only)."""
        return self.assignment(org_id=org_id, district_id=district_id, quarter=None, preferred=preferred).user_id

    # invitations ------------------------------------------------------------------------
    def create_invitation(
        self, *, org_id: int, role: Role, district_id: int | None, expires_in: timedelta, created_by: int | None
    ) -> str:
        """A fresh single-use code (URL-safe, fits a t.me start parameter); only its hash is kept."""
        code = secrets.token_urlsafe(18)
        now = self._store.clock.now()
        with self._store.transaction() as s:
            s.add(Invitation(
                org_id=org_id, code_hash=_hash_code(code), role=role.value, district_id=district_id,
                created_by=created_by, created_at=now, expires_at=now + expires_in,
            ))
            audit.record(s, at=now, org_id=org_id, user_id=created_by, action="invitation.create", detail=f"role={role.value}")
        return code

    def refused_press(self, user: StaffUser, *, family: str, why: str) -> None:
        """Audit a button press that was refused: its family and why (never its data)."""
        with self._store.transaction() as s:
            audit.record(s, at=self._store.clock.now(), org_id=user.org_id, user_id=user.id, action="button.refused",
                         detail=f"family={family};why={why}")

    def refuse_invitation(self, *, telegram_id: int, reason: str, org_id: int | None = None) -> None:
        """Audit a refused invitation code: the reason and a keyed hash of the sender (who they
        are is nobody's business; that the same sender keeps trying is). In the trail of the
        organisation whose invitation it was (used, expired); an unknown code belongs to none,
        and goes to the installation's first."""
        sender = self._store.keyring.blind_index("telegram-sender", str(telegram_id))[:16]
        with self._store.transaction() as s:
            if (org_id := org_id or self.first_organisation_id()) is not None:
                audit.record(s, at=self._store.clock.now(), org_id=org_id, user_id=None, action="invitation.refused",
                             detail=f"reason={reason};sender={sender}")

    def redeem_invitation(self, *, code: str, telegram_id: int, language: str | None, display_name: str = "") -> StaffUser:
        """Register the person holding `code`. The code is spent in the same transaction, and
        only if it was still unused, so two presses of one link make one user."""
        now = self._store.clock.now()
        with self._store.transaction() as s:
            invitation = s.exec(select(Invitation).where(Invitation.code_hash == _hash_code(code))).first()
            if invitation is None:
                raise InvitationProblem("unknown")
            if invitation.used_at is not None:
                raise InvitationProblem("used", invitation.org_id)
            org = s.get(Organisation, invitation.org_id)
            if invitation.expires_at <= now or org.disabled_at is not None or org.erased_at is not None:
                raise InvitationProblem("expired", invitation.org_id)
            user = AppUser(
                org_id=invitation.org_id, telegram_id=telegram_id, role=invitation.role,
                district_id=invitation.district_id, language=language, created_at=now,
                display_name=" ".join(display_name.split())[:128],
            )
            s.add(user)
            s.flush()
            spent = s.exec(
                update(Invitation)
                .where(Invitation.id == invitation.id, Invitation.used_at.is_(None))
                .values(used_at=now, used_by=user.id)
            )
            if spent.rowcount != 1:
                raise InvitationProblem("used", invitation.org_id)
            self._forget(telegram_id)
            audit.record(s, at=now, org_id=user.org_id, user_id=user.id, action="user.register", detail=f"role={user.role}")
            district = s.get(District, user.district_id) if user.district_id else None
            return _staff(user, district)

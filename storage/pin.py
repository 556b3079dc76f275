"""A PIN on top of Telegram: a lost phone with an open Telegram session must not show names.

Revealing names or details, copies and every case-changing action ask for the PIN once the
last entry is older than the idle time (PIN_IDLE_MINUTES, 30 by default), or after `/lock`.
The PIN is kept only as an Argon2id hash; five wrong entries in a row lock the account until
an admin lifts the lock.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from storage import audit
from storage.models import AppUser
from storage.types import NotAllowed, StaffUser

if TYPE_CHECKING:
    from storage.store import Store

MAX_FAILURES = 5
PIN_PATTERN = re.compile(r"^\d{4,8}$")
# interactive use: about 50 ms and 64 MiB per check, as the argon2-cffi defaults (RFC 9106's second choice)
_HASHER = PasswordHasher()


class PinState(StrEnum):
    NONE = "none"  # no PIN set yet
    OPEN = "open"  # entered recently
    ASK = "ask"  # idle, or locked by /lock: ask for it
    LOCKED = "locked"  # too many wrong entries: an admin unlocks


@dataclass(frozen=True)
class Outcome:
    ok: bool
    locked: bool = False
    left: int = MAX_FAILURES


class PinRepository:
    def __init__(self, store: Store, idle_minutes: int = 30) -> None:
        self._store = store
        self.idle = timedelta(minutes=idle_minutes)

    def admit(self, user_id: int) -> PinState:
        """The PIN state before a protected action; when it is open, the idle time starts again
        in the same transaction (one visit to the database per protected press)."""
        with self._store.transaction() as s:
            user = s.get(AppUser, user_id)
            now = self._store.clock.now()
            if user.pin_locked:
                return PinState.LOCKED
            if user.pin_hash is None:
                return PinState.NONE
            if not (user.pin_until and user.pin_until > now):
                return PinState.ASK
            user.pin_until = now + self.idle
            s.add(user)
            return PinState.OPEN

    def set_pin(self, staff: StaffUser, pin: str) -> None:
        """Set the first PIN, or change it while the session is open."""
        if not PIN_PATTERN.match(pin):
            raise ValueError("a PIN is 4 to 8 digits")
        with self._store.transaction() as s:
            user = s.get(AppUser, staff.id)
            if user.pin_locked or (user.pin_hash is not None and not (user.pin_until and user.pin_until > self._store.clock.now())):
                raise NotAllowed()
            user.pin_hash, user.pin_failures = _HASHER.hash(pin), 0
            user.pin_until = self._store.clock.now() + self.idle
            s.add(user)
            audit.record(s, at=self._store.clock.now(), org_id=staff.org_id, user_id=staff.id, action="pin.set")

    def unlock(self, staff: StaffUser, pin: str) -> Outcome:
        with self._store.transaction() as s:
            user = s.get(AppUser, staff.id)
            if user.pin_locked or user.pin_hash is None:
                return Outcome(False, locked=user.pin_locked, left=0)
            try:
                _HASHER.verify(user.pin_hash, pin)
                ok = True
            except (VerificationError, InvalidHashError):
                ok = False
            now = self._store.clock.now()
            if ok:
                user.pin_failures, user.pin_until = 0, now + self.idle
            else:
                user.pin_failures += 1
                user.pin_locked = user.pin_failures >= MAX_FAILURES
            s.add(user)
            audit.record(s, at=now, org_id=staff.org_id, user_id=staff.id,
                         action="pin.ok" if ok else ("pin.locked" if user.pin_locked else "pin.wrong"))
            locked, left = user.pin_locked, MAX_FAILURES - user.pin_failures
        if locked:
            self._store.staff._forget(staff.telegram_id)
        return Outcome(ok, locked=locked, left=left)

    def lock(self, staff: StaffUser) -> None:
        """/lock: the next protected action asks for the PIN."""
        with self._store.transaction() as s:
            user = s.get(AppUser, staff.id)
            user.pin_until = None
            s.add(user)

    def lift(self, admin: StaffUser, user_id: int) -> None:
        """An admin lifts the lock after too many wrong entries (the PIN stays)."""
        with self._store.transaction() as s:
            user = s.get(AppUser, user_id)
            if user is None or user.org_id != admin.org_id:
                raise NotAllowed()
            user.pin_locked, user.pin_failures = False, 0
            s.add(user)
            audit.record(s, at=self._store.clock.now(), org_id=admin.org_id, user_id=admin.id or None,
                         action="pin.unlock", detail=f"user={user.id}")
            telegram_id = user.telegram_id
        self._store.staff._forget(telegram_id)

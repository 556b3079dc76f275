"""The storage facade the bot talks to: the engine, the keys, the clock and the repositories,
and the unit of work that makes one use case one transaction."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine
from sqlmodel import Session

from storage.clock import Clock
from storage.crypto import Keyring

# The session of the unit of work running in this task (asyncio copies the context per task, so
# two users' updates never share one). Keyed by store: tests run two instances in one process.
_ACTIVE: ContextVar[tuple[Store, Session] | None] = ContextVar("casebot_unit_of_work", default=None)


class Store:
    def __init__(
        self, engine: Engine, keyring: Keyring, clock: Clock | None = None, tz: ZoneInfo | None = None
    ) -> None:
        from storage.cases import CaseRepository
        from storage.casework import CaseworkRepository
        from storage.catalogue import CatalogueRepository
        from storage.conferences import ConferenceRepository
        from storage.dialogues import DialogueRepository
        from storage.digest import DigestRepository
        from storage.jourfixe import JourFixeRepository
        from storage.locales import LocaleRepository
        from storage.outbox import OutboxRepository
        from storage.planner import Planner
        from storage.referrals import ReferralRepository
        from storage.staff import StaffRepository

        self.engine = engine
        self.keyring = keyring
        self.clock = clock or Clock()
        self.tz = tz or ZoneInfo("Europe/Berlin")
        self.staff = StaffRepository(self)
        self.cases = CaseRepository(self)
        self.dialogues = DialogueRepository(self)
        self.casework = CaseworkRepository(self)
        self.referrals = ReferralRepository(self)
        self.catalogue = CatalogueRepository(self)
        self.outbox = OutboxRepository(self)
        self.conferences = ConferenceRepository(self)
        self.jourfixe = JourFixeRepository(self)
        self.locales = LocaleRepository(self)
        self.digest = DigestRepository(self)
        self.planner = Planner(self)

    def _active(self) -> Session | None:
        active = _ACTIVE.get()
        return active[1] if active is not None and active[0] is self else None

    @contextmanager
    def unit_of_work(self) -> Iterator[Session]:
        """One use case, one transaction (design decision 7): every repository call inside the
        block joins this session, and it commits once when the block ends normally (rolls back
        otherwise). So a form's draft is consumed in the same transaction that writes its record,
        its audit entry and its scheduled messages: a failure anywhere keeps the draft."""
        if self._active() is not None:
            raise RuntimeError("a unit of work is already open in this task")
        with Session(self.engine, expire_on_commit=False) as session:
            token = _ACTIVE.set((self, session))
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise
            finally:
                _ACTIVE.reset(token)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """What a repository writes or reads in: the open unit of work's session, or (called on its
        own) a unit of work of its own."""
        session = self._active()
        if session is not None:
            yield session
            return
        with self.unit_of_work() as session:
            yield session

    @contextmanager
    def reading(self) -> Iterator[Connection]:
        """A connection for the hot path's Core reads: the unit of work's, or a short one that
        commits nothing (no COMMIT round trip)."""
        session = self._active()
        if session is not None:
            yield session.connection()
            return
        with self.engine.connect() as connection:
            yield connection

    @contextmanager
    def writing(self) -> Iterator[Connection]:
        """A connection for the hot path's Core writes: the unit of work's, or one transaction."""
        session = self._active()
        if session is not None:
            yield session.connection()
            return
        with self.engine.begin() as connection:
            yield connection

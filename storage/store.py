"""The storage facade the bot talks to: one object with the engine, the keys and the clock."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlmodel import Session

from bot.clock import Clock
from storage.crypto import Keyring


class Store:
    def __init__(
        self, engine: Engine, keyring: Keyring, clock: Clock | None = None, tz: ZoneInfo | None = None
    ) -> None:
        from storage.cases import CaseRepository
        from storage.casework import CaseworkRepository
        from storage.catalogue import CatalogueRepository
        from storage.conferences import ConferenceRepository
        from storage.dialogues import DialogueRepository
        from storage.jourfixe import JourFixeRepository
        from storage.locales import LocaleRepository
        from storage.outbox import OutboxRepository
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

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session that commits when the block ends normally and rolls back otherwise."""
        with Session(self.engine, expire_on_commit=False) as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

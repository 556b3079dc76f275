"""Fixtures: a real SQLite file and a real PostgreSQL database per test, and the real bot."""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from bot.app import build_application, build_services
from bot.cli import initialise
from bot.services import Services
from bot.settings import Settings
from domain.roles import Role
from storage.clock import FixedClock
from tests.telegram_fake import FakeTelegram, TgUser

TEST_TOKEN = "123456:" + "A" * 35
# trust authentication on the local server; CI's .ci/run starts it if it is not running
POSTGRES_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def _postgres_available() -> bool:
    try:
        psycopg.connect(POSTGRES_ADMIN_URL, connect_timeout=3).close()
        return True
    except psycopg.OperationalError:
        return False


@pytest.fixture(scope="session")
def postgres_server() -> str:
    if not _postgres_available():
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is not reachable at TEST_POSTGRES_URL; CI must run the PostgreSQL tests")
        pytest.skip("PostgreSQL is not reachable (set TEST_POSTGRES_URL)")
    return POSTGRES_ADMIN_URL


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A fresh, empty database on the real server, dropped afterwards."""
    name = f"casebot_test_{secrets.token_hex(6)}"
    with psycopg.connect(postgres_server, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base = postgres_server.rsplit("/", 1)[0]
    yield f"{base}/{name}".replace("postgresql://", "postgresql+psycopg://", 1)
    with psycopg.connect(postgres_server, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'casebot.sqlite3'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def clock() -> FixedClock:
    # a Tuesday morning in Leverkusen
    return FixedClock(datetime(2026, 11, 24, 9, 0, tzinfo=UTC))


def make_settings(database_url: str, tmp_path: Path, **overrides: object) -> Settings:
    # the in-process Bot API has no limits to pace for; the simulator tests keep the default
    overrides.setdefault("telegram_rate_limit", 0)
    overrides.setdefault("telegram_bot_token", TEST_TOKEN)
    overrides.setdefault("locale_refresh_seconds", 0)  # the tests switch instances at once
    overrides.setdefault("pin_required", False)  # tests/test_pin.py is about the PIN; the rest is not
    return Settings(_env_file=None, database_url=database_url, master_key_file=tmp_path / "keys" / "master.key",
                    **overrides)


@dataclass
class BotUnderTest:
    app: object
    fake: FakeTelegram
    services: Services
    settings: Settings
    admin_code: str
    _next_user: int = 4242

    def user(self, *, language_code: str | None = "de", first_name: str = "Ana") -> TgUser:
        self._next_user += 1
        return TgUser(self.app, self.fake, self._next_user, first_name=first_name, language_code=language_code)

    async def register(self, role: Role = Role.CASE_MANAGER, district: str | None = "I",
                       language_code: str | None = "de", *, org_id: int | None = None) -> TgUser:
        """A member of staff registered with an invitation (of the first organisation, or `org_id`)."""
        store = self.services.store
        org_id = org_id or store.staff.first_organisation_id()
        district_id = store.staff.district_by_code(org_id, district).id if district else None
        code = store.staff.create_invitation(org_id=org_id, role=role, district_id=district_id,
                                             expires_in=timedelta(days=7), created_by=None)
        user = self.user(language_code=language_code)
        await user.send(f"/start {code}")
        return user


async def start_bot(settings: Settings, clock: FixedClock, fake: FakeTelegram | None = None):  # noqa: ANN201
    services = build_services(settings, clock=clock)
    fake = fake or FakeTelegram()
    app = build_application(settings, services=services, request=fake)
    await app.initialize()
    return app, fake, services


@pytest.fixture
async def bot(database_url: str, tmp_path: Path, clock: FixedClock) -> AsyncIterator[BotUnderTest]:
    settings = make_settings(database_url, tmp_path)
    admin_code = initialise(settings, org_name="Stadt Leverkusen", prefix="LEV", districts=["I", "II", "III"], quiet=True)
    app, fake, services = await start_bot(settings, clock)
    yield BotUnderTest(app, fake, services, settings, admin_code)
    await app.shutdown()
    services.store.close()

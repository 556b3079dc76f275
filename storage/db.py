"""The database engine and migrations. SQLite is the embedded default; PostgreSQL scales out."""

from __future__ import annotations

import functools
import time
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, exc, inspect
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def _ensure_sqlite_directory(url: str) -> None:
    path = make_url(url).database
    if url.startswith("sqlite") and path and path != ":memory:":
        # the data directory is for the bot alone (the key file usually sits beside the database)
        Path(path).parent.mkdir(mode=0o700, parents=True, exist_ok=True)


def make_engine(url: str, *, pool_size: int = 5) -> Engine:
    _ensure_sqlite_directory(url)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30}, pool_size=pool_size, max_overflow=4)

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection, _record) -> None:  # noqa: ANN001
            cursor = dbapi_connection.cursor()
            # WAL lets readers run beside the writer; NORMAL fsyncs at checkpoints, which in WAL
            # mode still never corrupts the database (a power cut may lose the last commits).
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    # as many connections as worker threads use them (bot/app.py), and a few for the CLI and the rest
    engine = create_engine(url, pool_size=pool_size, max_overflow=4)
    _ping_when_idle(engine)
    return engine


# A pooled connection is checked for life before use only when it lay idle this long. SQLAlchemy's
# pool_pre_ping pings at every checkout: five round trips per update, a fifth of all. A
# connection that dies while busy or briefly idle (a database restart, a killed backend) fails
# that one use instead: the user is told to try again (their answers kept), and SQLAlchemy
# then replaces every connection of the pool opened before it.
PING_AFTER_IDLE_SECONDS = 5.0


def _ping_when_idle(engine: Engine) -> None:
    @event.listens_for(engine, "checkin")
    def _idle_since(dbapi_connection, record) -> None:  # noqa: ANN001
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _alive(dbapi_connection, record, proxy) -> None:  # noqa: ANN001
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since < PING_AFTER_IDLE_SECONDS:
            return
        try:
            with dbapi_connection.cursor() as cursor:
                cursor.execute("SELECT 1")
            if not dbapi_connection.autocommit:
                dbapi_connection.rollback()
        except Exception:  # noqa: BLE001 - dead: the pool opens a new one and tries again
            raise exc.DisconnectionError() from None


def upsert_insert(dialect: str):  # noqa: ANN201 - the dialect's INSERT, which knows ON CONFLICT
    """`INSERT .. ON CONFLICT`, spelt the same on both databases we support."""
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


@functools.lru_cache(maxsize=1)
def head_revision() -> str:
    """The newest migration this version ships."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def schema_current(connection) -> bool:  # noqa: ANN001 - a SQLAlchemy connection
    """Whether the database is at the newest migration (False before `casebot migrate`)."""
    if not inspect(connection).has_table("alembic_version"):
        return False
    return connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar() == head_revision()


def migrate(url: str) -> None:
    """Bring the schema to the newest revision (idempotent)."""
    _ensure_sqlite_directory(url)
    command.upgrade(alembic_config(url), "head")


def is_initialised(engine: Engine) -> bool:
    return inspect(engine).has_table("organisation")

"""The database engine and migrations. SQLite is the embedded default; PostgreSQL scales out."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, inspect
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
    return create_engine(url, pool_pre_ping=True, pool_size=pool_size, max_overflow=4)


def upsert_insert(dialect: str):  # noqa: ANN201 - the dialect's INSERT, which knows ON CONFLICT
    """`INSERT .. ON CONFLICT`, spelt the same on both databases we support."""
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def migrate(url: str) -> None:
    """Bring the schema to the newest revision (idempotent)."""
    _ensure_sqlite_directory(url)
    command.upgrade(alembic_config(url), "head")


def is_initialised(engine: Engine) -> bool:
    return inspect(engine).has_table("organisation")

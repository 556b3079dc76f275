"""The database engine and migrations. SQLite is the embedded default; PostgreSQL scales out."""

from __future__ import annotations

import functools
import time
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import Column, Connection, Engine, MetaData, String, Table, create_engine, delete, event, exc, inspect, select
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
    _abandoned_with_the_client(engine)
    return engine


# How often PostgreSQL checks, while a statement of ours runs or waits for a lock, that we are
# still there. Without it, a statement of an instance that died (kill -9, a lost network) waiting
# on a lock runs on once the lock is free, and commits: an update's first write would then mark
# it handled with nothing sent to anybody, and no other instance would handle it again.
CLIENT_CHECK_MILLISECONDS = 1000


def _abandoned_with_the_client(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _check_client(dbapi_connection, _record) -> None:  # noqa: ANN001
        if dbapi_connection.info.server_version < 140000:  # (PostgreSQL 14 brought the check)
            return
        with dbapi_connection.cursor() as cursor:
            cursor.execute(f"SET client_connection_check_interval = {CLIENT_CHECK_MILLISECONDS}")
        if not dbapi_connection.autocommit:
            dbapi_connection.commit()


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


# Which releases may run on the schema as it stands, each named by the newest migration it ships
# (migration 0021; written by every migration run, in its transaction: storage/migrations/env.py).
# Each migration says in its module which is the oldest release that still runs on the schema
# after it: `oldest_release_served = "<that release's newest revision>"`. An expansion (it only
# adds what older code does not know) names the release before the one that ships it, and so
# does a contraction that drops only what that release no longer uses (its predecessor's
# leftovers): during a rolling upgrade the previous release keeps running beside the new one. A
# migration without it changes what the running release uses: every instance of it must be
# stopped first. (Not a model: it is the schema's bookkeeping, like alembic_version.)
SCHEMA_RELEASE = Table("schema_release", MetaData(), Column("head", String(32), primary_key=True))


class SchemaAhead(RuntimeError):
    """The database is at a newer schema that this release may not run on."""


@functools.lru_cache(maxsize=1)
def _scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config("sqlite://"))


def head_revision() -> str:
    """The newest migration this version ships."""
    return _scripts().get_current_head()


def releases_beside(revision: str, scripts: ScriptDirectory | None = None) -> list[str]:
    """The releases that may run on the schema at `revision`, newest first: its own, and back
    to the newest `oldest_release_served` of the migrations on the way (none past a migration
    that declares none)."""
    scripts = scripts or _scripts()
    heads, floors, step = [revision], set(), scripts.get_revision(revision)
    while step is not None and step.down_revision:
        floor = getattr(step.module, "oldest_release_served", None)
        if floor is None:
            break
        floors.add(floor)
        heads.append(step.down_revision)
        if step.down_revision in floors:
            break
        step = scripts.get_revision(step.down_revision)
    return heads


def note_releases(connection: Connection, revision: str | None, scripts: ScriptDirectory) -> None:
    """After migrations ran (in their transaction): which releases the schema now serves."""
    if revision is None or not inspect(connection).has_table(SCHEMA_RELEASE.name):
        return
    # idempotent, so that instances starting at once (each runs `migrate`) never collide
    heads = releases_beside(revision, scripts)
    connection.execute(delete(SCHEMA_RELEASE).where(SCHEMA_RELEASE.c.head.not_in(heads)))
    connection.execute(upsert_insert(connection.dialect.name)(SCHEMA_RELEASE).on_conflict_do_nothing(),
                       [{"head": head} for head in heads])


def schema_state(connection: Connection) -> str:
    """How the database's schema stands to this release: "current"; "newer" (a later release
    migrated it, and declared this one fit to run beside it); "behind" (run casebot migrate);
    "incompatible" (a later release migrated it past what this one can use)."""
    return _schema(connection)[0]


def _schema(connection: Connection) -> tuple[str, str | None]:
    """(schema_state, the revision the database is at: None before the first migration)."""
    if not inspect(connection).has_table("alembic_version"):
        return "behind", None
    revision = connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
    head = head_revision()
    if revision == head:
        return "current", revision
    if _known(revision):
        return "behind", revision
    serves = set(connection.scalars(select(SCHEMA_RELEASE.c.head))) if inspect(connection).has_table(SCHEMA_RELEASE.name) else set()
    return ("newer" if head in serves else "incompatible"), revision


def _schema_at(url: str) -> tuple[str, str | None]:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return _schema(connection)
    finally:
        engine.dispose()


def _known(revision: str | None) -> bool:
    if revision is None:
        return True
    try:
        return _scripts().get_revision(revision) is not None
    except CommandError:
        return False


def pending_migrations(url: str) -> tuple[list[tuple[str, str, str | None]], bool]:
    """What `migrate` would apply, oldest first (revision, what it does, the oldest release
    served after it), and whether the release running now keeps running on the result (a
    rolling upgrade). Raises SchemaAhead when the database is past this release."""
    state, revision = _schema_at(url)
    if state in ("newer", "incompatible"):
        raise SchemaAhead(f"the database is at revision {revision}, newer than this release ({head_revision()})"
                          + ("; it still serves this release" if state == "newer" else ""))
    steps = list(_scripts().iterate_revisions(head_revision(), revision))
    pending = [(step.revision, " ".join((step.doc or "").split("\n\n")[0].split()),
                getattr(step.module, "oldest_release_served", None)) for step in reversed(steps)]
    return pending, revision is not None and revision in releases_beside(head_revision())


def migrate(url: str) -> str:
    """Bring the schema to the newest revision (idempotent); returns how it stood before
    (schema_state). A schema a later release already migrated is left alone when it still
    serves this release (a rolling upgrade: this instance restarted while the new ones run);
    otherwise raises SchemaAhead."""
    _ensure_sqlite_directory(url)
    state, _ = _schema_at(url)
    if state == "newer":
        return state
    if state == "incompatible":
        raise SchemaAhead(f"the database was migrated by a newer release that this one ({head_revision()}) "
                          "cannot run beside; run the newer release")
    command.upgrade(alembic_config(url), "head")
    return state


def is_initialised(engine: Engine) -> bool:
    return inspect(engine).has_table("organisation")

"""Backup and restore of the database (GDPR Art. 32(1)(c): "can you restore, and how fast").

SQLite: the online backup API (a consistent copy while the bot runs). PostgreSQL: `pg_dump` in
its custom format, restored with `pg_restore`. Neither holds a key: the master key is kept apart
(a backup without it is ciphertext); every personal value in it is encrypted as in the database.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from storage.db import is_initialised
from storage.types import BackupFailed


@dataclass(frozen=True)
class Copied:
    path: Path
    bytes: int
    seconds: float


def _is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def _libpq(url: str) -> str:
    """The URL as PostgreSQL's own tools take it (without SQLAlchemy's driver name)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def backup(url: str, target: Path) -> Copied:
    started = time.monotonic()
    target.parent.mkdir(parents=True, exist_ok=True)
    if _is_sqlite(url):
        source = sqlite3.connect(make_url(url).database)
        copy = sqlite3.connect(target)
        try:
            with copy:
                source.backup(copy)  # consistent, page by page, while others write
        finally:
            copy.close()
            source.close()
    else:
        _tool(["pg_dump", "--format=custom", "--no-owner", "--no-privileges", f"--file={target}", _libpq(url)])
    target.chmod(0o600)
    return Copied(target, target.stat().st_size, time.monotonic() - started)


def holds_data(url: str) -> bool:
    """Whether the database has an organisation in it (a restore would overwrite something)."""
    engine = create_engine(url)
    try:
        if not is_initialised(engine):
            return False
        with engine.connect() as c:
            return bool(c.execute(text("SELECT COUNT(*) FROM organisation")).scalar())
    finally:
        engine.dispose()


def restore(url: str, source: Path) -> Copied:
    """Put the backup in place of the database (the bot stopped). The caller migrates after it."""
    started = time.monotonic()
    if not source.is_file():
        raise BackupFailed("no such backup file")
    if _is_sqlite(url):
        if not _sqlite_file(source):
            raise BackupFailed("this is not a SQLite backup")
        database = Path(make_url(url).database)
        database.parent.mkdir(parents=True, exist_ok=True)
        for stale in (Path(f"{database}-wal"), Path(f"{database}-shm")):  # the old database's log
            stale.unlink(missing_ok=True)
        partial = database.with_suffix(".restoring")
        shutil.copyfile(source, partial)
        partial.replace(database)  # whole or not at all
    else:
        _tool(["pg_restore", "--clean", "--if-exists", "--no-owner", "--no-privileges", "--exit-on-error",
               f"--dbname={_libpq(url)}", str(source)])
    return Copied(source, source.stat().st_size, time.monotonic() - started)


def _sqlite_file(path: Path) -> bool:
    with path.open("rb") as f:
        return f.read(16) == b"SQLite format 3\x00"


def _tool(command: list[str]) -> None:
    if shutil.which(command[0]) is None:
        raise BackupFailed(f"{command[0]} is not installed (Debian: postgresql-client)")
    result = subprocess.run(command, capture_output=True, text=True, timeout=6 * 3600)
    if result.returncode != 0:  # its first line names the problem (libpq never prints a password)
        raise BackupFailed(f"{command[0]}: {(result.stderr.strip().splitlines() or ['failed'])[0]}")

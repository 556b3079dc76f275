"""The storage facade the bot talks to: the engine, the keys, the clock and the repositories,
and the unit of work that makes one use case one transaction."""

from __future__ import annotations

import asyncio
import contextvars
import functools
import re
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import psycopg
from psycopg.pq import TransactionStatus
from psycopg.rows import namedtuple_row
from sqlalchemy import Connection, Engine, event
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from storage import tenancy  # also registers the one place that keeps organisations apart
from storage.clock import Clock
from storage.crypto import Keyring

# The session of the unit of work running in this task (asyncio copies the context per task, so
# two users' updates never share one). Keyed by store: tests run two instances in one process.
_ACTIVE: ContextVar[tuple[Store, Session] | None] = ContextVar("casebot_unit_of_work", default=None)


@dataclass
class Settlement:
    """The inbox update being handled in this task, and whether a commit has settled it yet."""

    store: Store
    update_id: int
    settled: bool = False
    # small writes that wait for the transaction that finishes the update (Store.at_finish):
    # (statement, parameters), so that transaction can send them with its own (Store.in_one_trip)
    at_finish: list[tuple[Any, dict[str, Any]]] = field(default_factory=list)


_SETTLING: ContextVar[Settlement | None] = ContextVar("casebot_settling", default=None)
T = TypeVar("T")
# Repositories the bot reaches through `store.aio` (each call in a worker thread)
REPOSITORIES = ("staff", "cases", "dialogues", "casework", "referrals", "catalogue", "outbox", "conferences",
                "jourfixe", "locales", "digest", "planner", "updates", "inbox", "timeline", "casefile", "watch",
                "settings", "keys", "audit", "lifecycle", "erasure", "export", "pin", "documents", "reports", "profiles",
                "organisations", "requests", "transfers", "archive")


class Store:
    def __init__(
        self, engine: Engine, keyring: Keyring, clock: Clock | None = None, tz: ZoneInfo | None = None,
        *, threads: int = 16,
    ) -> None:
        from storage.archive import OrganisationArchive
        from storage.audit import AuditChain
        from storage.casefile import CaseFileRepository
        from storage.cases import CaseRepository
        from storage.casework import CaseworkRepository
        from storage.catalogue import CatalogueRepository
        from storage.conferences import ConferenceRepository
        from storage.dialogues import DialogueRepository
        from storage.digest import DigestRepository
        from storage.documents import DocumentRepository
        from storage.erasure import Erasure
        from storage.export import SubjectAccess
        from storage.inbox import InboxRepository
        from storage.jourfixe import JourFixeRepository
        from storage.keys import KeyRotation
        from storage.lifecycle import StaffLifecycle
        from storage.locales import LocaleRepository
        from storage.organisations import OrganisationRepository
        from storage.outbox import OutboxRepository
        from storage.pin import PinRepository
        from storage.planner import Planner
        from storage.profiles import ProfileRepository
        from storage.referrals import ReferralRepository
        from storage.reports import ReportRepository
        from storage.requests import RequestRepository
        from storage.settings import SettingsRepository
        from storage.staff import StaffRepository
        from storage.timeline import TimelineRepository
        from storage.transfers import TransferRepository
        from storage.updates import UpdateRepository
        from storage.watch import WatchRepository

        self.engine = engine
        self.keyring = keyring
        self.clock = clock or Clock()
        self.tz = tz or ZoneInfo("Europe/Berlin")
        self.organisations = OrganisationRepository(self)
        self.staff = StaffRepository(self)
        self.requests = RequestRepository(self)
        self.transfers = TransferRepository(self)
        self.archive = OrganisationArchive(self)
        self.cases = CaseRepository(self)
        self.dialogues = DialogueRepository(self)
        self.casework = CaseworkRepository(self)
        self.referrals = ReferralRepository(self)
        self.catalogue = CatalogueRepository(self)
        self.outbox = OutboxRepository(self)
        self.conferences = ConferenceRepository(self)
        self.jourfixe = JourFixeRepository(self)
        self.locales = LocaleRepository(self)
        self.timeline = TimelineRepository(self)
        self.casefile = CaseFileRepository(self)
        self.watch = WatchRepository(self)
        self.settings = SettingsRepository(self)
        self.keys = KeyRotation(self)
        self.audit = AuditChain(self)
        self.lifecycle = StaffLifecycle(self)
        self.erasure = Erasure(self)
        self.export = SubjectAccess(self)
        self.pin = PinRepository(self)
        self.documents = DocumentRepository(self)
        self.reports = ReportRepository(self)
        self.profiles = ProfileRepository(self)
        self.digest = DigestRepository(self)
        self.planner = Planner(self)
        self.updates = UpdateRepository(self)
        self.inbox = InboxRepository(self)
        # Database work never runs on the event loop: a statement that waits (a lock, a slow
        # network to PostgreSQL) holds up one worker thread and the one user whose step it is,
        # never everybody. The engine's pool is sized to the threads (bot/app.py).
        self._threads = threads
        self._executor: ThreadPoolExecutor | None = None
        # SQLite has one writer, and its busy handler sleeps when two collide: transactions of
        # this process take turns here instead (reads on their own connection still overlap)
        self._one_writer = threading.RLock() if engine.dialect.name == "sqlite" else None
        # a read on its own needs no transaction: on PostgreSQL that saves the BEGIN and the
        # ROLLBACK round trips around every lone SELECT (SQLite has no round trips to save)
        self._reader = engine.execution_options(isolation_level="AUTOCOMMIT") if engine.dialect.name == "postgresql" else engine
        # A unit of work on PostgreSQL begins its transaction at its first write (or locking
        # read): one that only reads costs no BEGIN and no COMMIT round trip. (Under READ
        # COMMITTED each statement sees what is committed when it starts, in a transaction or
        # not, so reads before the first write see the same either way.)
        self._units = (engine.execution_options(isolation_level="AUTOCOMMIT", **{_BEGIN_AT_FIRST_WRITE: True})
                       if engine.dialect.name == "postgresql" else engine)
        listeners = [("begin", _nothing_written_yet), ("after_cursor_execute", _note_write)]
        if engine.dialect.name == "postgresql":  # (SQLite's units keep their usual transaction)
            listeners.append(("before_cursor_execute", _begin_at_first_write))
        for name, listener in listeners:
            if not event.contains(engine, name, listener):
                event.listen(engine, name, listener)
        self.aio = _OffLoop(self)

    @staticmethod
    def act_for(org_id: int | None) -> None:
        """From here on in this task (one update's handling) read and write only this
        organisation's rows (storage/tenancy.py); None: nobody's in particular."""
        tenancy.bind(org_id)

    @staticmethod
    def acting_for(org_id: int | None):  # noqa: ANN205 - a context manager
        """`with store.acting_for(org)`: the same, for a block; what was bound before comes back."""
        return tenancy.acting_for(org_id)

    def operational_state(self) -> dict[str, Any]:
        """What the readiness check and the metrics read: raises when the database does not answer."""
        from sqlalchemy import func, select, text

        from storage import crypto
        from storage.db import schema_state
        from storage.models import InboxUpdate, Outbox

        now = self.clock.now()
        with tenancy.acting_for(None), self._reader.connect() as c:
            c.execute(text("SELECT 1"))
            schema = schema_state(c)
            due = c.execute(select(func.count()).select_from(Outbox).where(Outbox.state == "due")).scalar()
            oldest = c.execute(select(func.min(Outbox.due_at)).where(Outbox.state == "due", Outbox.due_at <= now)).scalar()
            inbox = c.execute(select(func.count()).select_from(InboxUpdate)).scalar()
        if oldest is not None and oldest.tzinfo is None:
            oldest = oldest.replace(tzinfo=now.tzinfo)
        return {"schema": schema, "outbox_due": due, "inbox_depth": inbox,
                "oldest_due_seconds": max((now - oldest).total_seconds(), 0.0) if oldest else 0.0,
                "unreadable": crypto.unreadable_values}

    def readable_cases(self) -> tuple[int, int]:
        """(case keys that unwrap with the keys at hand, those that do not): a restore drill's check."""
        from sqlmodel import select

        from storage.models import CaseKey, ClientCase

        good = bad = 0
        with tenancy.acting_for(None), self.transaction() as s:
            rows = s.exec(select(CaseKey.case_id, CaseKey.kid, CaseKey.wrapped)
                          .join(ClientCase, ClientCase.id == CaseKey.case_id)).all()
        for case_id, kid, wrapped in rows:
            try:
                self.cases.unwrap(case_id, kid, wrapped)
                good += 1
            except Exception:  # noqa: BLE001 - counted: the key file does not belong to this backup
                bad += 1
        return good, bad

    async def run(self, work: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """`work(*args, **kwargs)` in a worker thread, with the caller's context (so a unit of
        work opened inside stays one transaction, and the caller's task sees its result)."""
        if self._executor is None:
            self._executor = ThreadPoolExecutor(self._threads, thread_name_prefix="casebot-db")
        context = contextvars.copy_context()
        call = functools.partial(context.run, work, *args, **kwargs)
        return await asyncio.get_running_loop().run_in_executor(self._executor, call)

    def close(self) -> None:
        """Stop the worker threads and close the database connections."""
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None
        self.engine.dispose()

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
        with self._turn(), Session(self._units, expire_on_commit=False) as session:
            token = _ACTIVE.set((self, session))
            try:
                yield session
                session.flush()  # (what it adds counts as written, too)
                pending = (session.info[_SETTLED_HERE] if _SETTLED_HERE in session.info
                           else self._settle_in(session.connection()))
                session.commit()
            except BaseException:
                session.rollback()
                raise
            finally:
                _ACTIVE.reset(token)
        if pending is not None:
            pending.settled = True

    def settle_now(self, session: Session) -> None:
        """In a unit of work, after its writes: mark the update being handled as handled now
        instead of at the unit's end, so that its last statements before the commit are few (a
        lock taken there lasts until the commit: CaseRepository.create)."""
        if _SETTLED_HERE not in session.info:
            session.flush()
            session.info[_SETTLED_HERE] = self._settle_in(session.connection())

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
        """A connection for the hot path's Core reads: the unit of work's, or a short one outside
        any transaction (each statement sees what is committed; no BEGIN, COMMIT or ROLLBACK)."""
        session = self._active()
        if session is not None:
            yield session.connection()
            return
        with self._reader.connect() as connection:
            yield connection

    @contextmanager
    def writing(self) -> Iterator[Connection]:
        """A connection for the hot path's Core writes: the unit of work's, or one transaction."""
        session = self._active()
        if session is not None:
            yield session.connection()
            return
        with self._turn(), self.engine.begin() as connection:
            yield connection
            pending = self._settle_in(connection)
        if pending is not None:
            pending.settled = True

    def write_one(self, statement: Any, params: dict[str, Any]) -> Any:
        """One write statement as a transaction of its own (or in the open unit of work); its
        result. On PostgreSQL, while an inbox update is handled and not yet marked handled, the
        statement marks it in the same statement (a data-modifying CTE, storage/inbox.py) and runs
        without BEGIN and COMMIT: one round trip instead of four. (The update counts as handled
        even when the statement changes no row: its handling goes on and ends either way.)"""
        pending = self._unsettled()
        if self.engine.dialect.name != "postgresql" or self._active() is not None or pending is None:
            with self.writing() as connection:
                return connection.execute(statement, params)
        with self._reader.connect() as connection:  # (autocommit: the statement is its own transaction)
            result = connection.execute(self.inbox.settling_too(statement), {**params, "settle_id": pending.update_id})
        pending.settled = True
        return result

    @contextmanager
    def settling(self, update_id: int) -> Iterator[Settlement]:
        """While an inbox update is handled in this task: the first transaction that commits
        marks it handled in the inbox too, so what its handling wrote and "handled" are one commit
        (a crash after it does not handle the update again). The caller finishes it afterwards."""
        settlement = Settlement(self, update_id)
        token = _SETTLING.set(settlement)
        try:
            yield settlement
        finally:
            _SETTLING.reset(token)

    def at_finish(self, statement: Any, params: dict[str, Any]) -> None:
        """A small write that only tidies (which message holds the current question): while an
        inbox update is handled it joins the transaction that finishes the update, one commit
        fewer per step; otherwise it runs now. Lost if that transaction fails, so nothing that
        matters may go this way."""
        pending = self._settlement()
        if pending is not None:
            pending.at_finish.append((statement, params))
            return
        with self.writing() as connection:
            connection.execute(statement, params)

    def in_one_trip(self, steps: list[tuple[Any, dict[str, Any]]]) -> list[list[Any]]:
        """Write statements none of which needs another's result, as one transaction; the rows
        each returns (attributes by column name). On PostgreSQL they travel to the server
        together with BEGIN and COMMIT (psycopg's pipeline mode): one round trip, where one
        after another each statement costs one and BEGIN and COMMIT one more each. Elsewhere
        (SQLite, or inside an open unit of work) they run one after another.

        The statements are compiled once for PostgreSQL (arrays instead of expanding IN), their
        parameters processed by their types as SQLAlchemy would."""
        if self.engine.dialect.name != "postgresql" or self._active() is not None:
            with self.writing() as connection:
                return [list(result) if (result := connection.execute(statement, params)).returns_rows else []
                        for statement, params in steps]
        ready = []  # (the statements and their values, before anything is sent)
        for statement, params in steps:
            sql, compiled, processors = _for_postgresql(statement, self.engine.dialect)
            values = compiled.construct_params(params)
            for name, process in processors.items():
                if name in values:
                    values[name] = process(values[name])
            ready.append((sql, values))
        with self._reader.connect() as connection:  # (autocommit: BEGIN and COMMIT are ours to send)
            driver, cursors = connection.connection.driver_connection, []
            try:
                with driver.pipeline():
                    driver.execute("BEGIN")
                    for sql, values in ready:
                        cursors.append(driver.cursor(row_factory=namedtuple_row).execute(sql, values))
                    driver.execute("COMMIT")
            except psycopg.Error as failure:
                # as SQLAlchemy would have raised it (callers see one family of errors), and a
                # dead connection never goes back to the pool
                gone = driver.closed or driver.broken or self.engine.dialect.is_disconnect(failure, driver, None)
                if gone:
                    connection.invalidate()
                elif driver.info.transaction_status != TransactionStatus.IDLE:
                    driver.execute("ROLLBACK")
                raise DBAPIError.instance(None, None, failure, psycopg.Error, connection_invalidated=gone) from failure
            except BaseException:
                connection.invalidate()  # (stopped halfway, perhaps inside the transaction: not for the pool)
                raise
            return [cursor.fetchall() if cursor.description else [] for cursor in cursors]

    def handling(self) -> int | None:
        """The inbox update being handled in this task, if any."""
        pending = self._settlement()
        return pending.update_id if pending is not None else None

    def finishes_later(self) -> bool:
        """Whether an `at_finish` write would wait for the update's finishing transaction now."""
        return self._settlement() is not None

    def _settlement(self) -> Settlement | None:
        """The inbox update being handled in this task, if it is this store's."""
        pending = _SETTLING.get()
        return pending if pending is not None and pending.store is self else None

    def _unsettled(self) -> Settlement | None:
        """The same, while no commit has marked it handled yet."""
        pending = self._settlement()
        return pending if pending is not None and not pending.settled else None

    def _settle_in(self, connection: Connection) -> Settlement | None:
        """Mark the update being handled as handled in this transaction, if it wrote anything:
        a transaction that only read leaves nothing a second handling would repeat, and after a
        crash the update must be handled again (its first write may not have happened yet)."""
        pending = self._unsettled()
        if pending is None or not connection.info.get(_WROTE):
            return None
        self.inbox.mark_handled(pending.update_id, connection)
        return pending

    @contextmanager
    def _turn(self) -> Iterator[None]:
        if self._one_writer is None:
            yield
            return
        with self._one_writer:
            yield


_WROTE = "casebot_wrote"  # in Connection.info: this transaction has written
_SETTLED_HERE = "casebot_settled_here"  # in Session.info: what Store.settle_now settled (or None)


def _nothing_written_yet(connection: Connection) -> None:
    connection.info.pop(_WROTE, None)


def _note_write(connection: Connection, cursor: Any, statement: str, *_: Any) -> None:
    if not statement.startswith("SELECT"):  # (whatever is not a query counts as a write)
        connection.info[_WROTE] = True


_BEGIN_AT_FIRST_WRITE = "casebot_begin_at_first_write"  # an execution option of units of work
# what a plain read looks like: it needs no transaction around it (locks taken by a SELECT last
# until the transaction ends, so those need one)
_LOCKING = re.compile(r"\bFOR (NO KEY )?UPDATE\b|\bFOR (KEY )?SHARE\b|pg_advisory_xact_lock")
_plain_reads: dict[str, bool] = {}


def _begin_at_first_write(connection: Connection, cursor: Any, statement: str, *_: Any) -> None:
    if not connection.get_execution_options().get(_BEGIN_AT_FIRST_WRITE):
        return
    plain = _plain_reads.get(statement)
    if plain is None:
        if len(_plain_reads) > 4096:  # (statements with their values written in would pile up)
            _plain_reads.clear()
        plain = _plain_reads[statement] = statement.startswith("SELECT") and not _LOCKING.search(statement)
    driver = cursor.connection
    if not plain and driver.info.transaction_status == TransactionStatus.IDLE:
        driver.execute("BEGIN")  # (the connection is in autocommit: COMMIT comes with the unit's commit)


_COMPILED: dict[object, tuple[str, Any, dict[str, Callable[[Any], Any]]]] = {}


def _for_postgresql(statement: Any, dialect: Any) -> tuple[str, Any, dict[str, Callable[[Any], Any]]]:
    """A statement's PostgreSQL text, compiled form and its parameters' processors (by name:
    what the parameter's type does to a value before the driver sees it), built once."""
    found = _COMPILED.get(statement)
    if found is None:
        compiled = statement.compile(dialect=dialect)
        if "POSTCOMPILE" in compiled.string:
            raise ValueError("a statement sent in one trip cannot expand IN parameters: use = ANY(array)")
        processors = {name: process for name, bind in compiled.binds.items()
                      if (process := bind.type.dialect_impl(dialect).bind_processor(dialect)) is not None}
        found = _COMPILED[statement] = (compiled.string, compiled, processors)
    return found


def in_place_when(check: Callable[..., bool]) -> Callable[[Callable[..., T]], Callable[..., T]]:
    """Marks a repository method that `store.aio` calls in place instead of in a worker thread
    when `check(repository, *args, **kwargs)` says it will not reach the database this time."""
    def mark(method: Callable[..., T]) -> Callable[..., T]:
        method.in_place_when = check
        return method

    return mark


# A repository method whose only write goes through `Store.at_finish`: while an inbox update is
# handled it merely queues that write.
defers_to_finish = in_place_when(lambda repository, *_, **__: repository._store.finishes_later())


class _OffLoop:
    """`await store.aio.cases.list_for(...)`: every repository method, as a coroutine that runs
    it in a worker thread. The one way the bot's handlers reach the database."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def __getattr__(self, name: str) -> _OffLoopRepository:
        if name not in REPOSITORIES:
            raise AttributeError(name)
        return _OffLoopRepository(self._store, getattr(self._store, name))


class _OffLoopRepository:
    def __init__(self, store: Store, repository: object) -> None:
        self._store, self._repository = store, repository

    def __getattr__(self, name: str) -> Callable[..., Any]:
        method = getattr(self._repository, name)
        check = getattr(method, "in_place_when", None)

        async def call(*args: Any, **kwargs: Any) -> Any:
            if check is not None and check(self._repository, *args, **kwargs):
                return method(*args, **kwargs)  # nothing for the database this time: no thread needed
            return await self._store.run(method, *args, **kwargs)

        return call

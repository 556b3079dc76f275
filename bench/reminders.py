"""Time-driven work at scale: claiming due reminders, sending pace, digest build time.

    .venv/bin/python bench/reminders.py [--rows 1000000] [--messages 240] [--skip-postgres]

1. Claim-and-dispatch among --rows scheduled rows (0.1 % of them due) on SQLite and on
   PostgreSQL: p50/p99 time to claim a batch of 100, beside the same on 10,000 rows.
2. Sending pace against the local Bot API simulator enforcing Telegram's limits (one message a
   second per chat, 30 a second overall), over real HTTP: messages per second as a share of the
   allowed rate, and how many 429s (target: at least 95 % with no 429).
3. Digest build time (figures, text and chart) for 10,000 and 100,000 cases, beside 1,000.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import socket
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psycopg  # noqa: E402
from sqlalchemy import insert, update  # noqa: E402

from bot.app import build_application, build_services  # noqa: E402
from bot.cli import initialise  # noqa: E402
from bot.settings import Settings  # noqa: E402
from simulator.botapi import RateLimit  # noqa: E402
from simulator.server import SIMULATOR_TOKEN, SimulatorThread  # noqa: E402
from storage.cases import NAME_RULES  # noqa: E402
from storage.clock import FixedClock  # noqa: E402
from storage.models import AppUser, ClientCase, Outbox  # noqa: E402
from storage.watch import REVISION as WATCH_REVISION  # noqa: E402

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
ROUNDS = 200  # claims timed per table
ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def settings_for(url: str, workdir: Path, **extra: object) -> Settings:
    return Settings(_env_file=None, telegram_bot_token=SIMULATOR_TOKEN, database_url=url,
                    master_key_file=workdir / f"{secrets.token_hex(4)}.key", **extra)


def fresh_database(kind: str, workdir: Path) -> str:
    if kind == "sqlite":
        return f"sqlite:///{workdir / secrets.token_hex(4)}.sqlite3"
    name = f"casebot_bench_{secrets.token_hex(4)}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"


def drop_database(url: str) -> None:
    if url.startswith("postgresql"):
        with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')


def staff_user(services) -> tuple[int, int]:  # noqa: ANN001
    store = services.store
    org_id = store.staff.first_organisation_id()
    with store.transaction() as s:
        user = AppUser(org_id=org_id, telegram_id=1, role="case-manager", created_at=NOW)
        s.add(user)
        s.flush()
        return org_id, user.id


def fill_outbox(services, rows: int) -> None:  # noqa: ANN001
    """`rows` scheduled messages, one in a thousand due now, the rest spread over a year."""
    org_id, user_id = staff_user(services)
    chunk = 50_000
    with services.store.engine.begin() as connection:
        for start in range(0, rows, chunk):
            connection.execute(insert(Outbox), [
                {"org_id": org_id, "user_id": user_id, "kind": "reassess-soon", "ref_id": n, "state": "due",
                 "attempts": 0, "due_at": NOW - timedelta(minutes=1) if n % 1000 == 0 else NOW + timedelta(minutes=n % 525_600)}
                for n in range(start, min(rows, start + chunk))])


def claim_times(kind: str, rows: int, workdir: Path) -> list[float]:
    url = fresh_database(kind, workdir)
    try:
        settings = settings_for(url, workdir)
        initialise(settings, org_name="Bench", prefix="BEN", districts=["I"], quiet=True)
        services = build_services(settings, clock=FixedClock(NOW))
        fill_outbox(services, rows)
        if kind == "postgresql":
            with services.store.engine.begin() as connection:
                connection.exec_driver_sql("ANALYZE outbox")
        times = []
        for _ in range(ROUNDS):
            started = time.perf_counter()
            batch = services.store.outbox.claim_due(limit=100)
            times.append(time.perf_counter() - started)
            with services.store.engine.begin() as connection:  # give them back (not timed)
                connection.execute(update(Outbox).where(Outbox.id.in_([r.id for r in batch]))
                                   .values(state="due", lease_until=None))
        services.store.engine.dispose()
        return times
    finally:
        drop_database(url)


def report(label: str, times: list[float], baseline: list[float]) -> None:
    p = lambda values, q: sorted(values)[max(0, int(len(values) * q) - 1)] * 1000  # noqa: E731
    print(f"  {label:<28} p50 {statistics.median(times) * 1000:7.2f} ms   p99 {p(times, 0.99):7.2f} ms   "
          f"(10,000 rows: p50 {statistics.median(baseline) * 1000:6.2f} ms, p99 {p(baseline, 0.99):6.2f} ms; "
          f"p99 ratio x{p(times, 0.99) / p(baseline, 0.99):.2f})")


async def sending_pace(messages: int, workdir: Path) -> None:
    # the simulator in a thread and event loop of its own, as a real Bot API server would be
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    thread = SimulatorThread(port=port, rate_limit=RateLimit(per_chat=1, overall=30, window=1.0),
                             bot_username="bench_bot")
    thread.start()
    thread.ready.wait(10)
    api = thread.simulator.api
    settings = settings_for(f"sqlite:///{workdir / 'pace.sqlite3'}", workdir, telegram_rate_limit=30,
                            telegram_api_url=f"http://127.0.0.1:{port}")
    initialise(settings, org_name="Bench", prefix="BEN", districts=["I"], quiet=True)
    services = build_services(settings)
    app = build_application(settings, services=services)
    await app.initialize()
    store = services.store
    org_id = store.staff.first_organisation_id()
    with store.transaction() as s:
        users = []
        for n in range(messages):
            person = thread.call(lambda sim, name: sim.api.add_user(name, "de"), f"P{n}")
            user = AppUser(org_id=org_id, telegram_id=person.id, role="coordinator", display_name=f"P{n}", created_at=NOW)
            s.add(user)
            users.append(user)
        s.flush()
        for user in users:
            s.add(Outbox(org_id=org_id, user_id=user.id, kind="delivery-failed", ref_id=users[0].id,
                         due_at=store.clock.now() - timedelta(seconds=1)))
    started = time.perf_counter()
    sent = 0
    while sent < messages:
        sent += await services.dispatcher.dispatch_once(app.bot, plan=False)
    elapsed = time.perf_counter() - started
    await app.shutdown()
    rate = sent / elapsed
    print(f"  {sent} messages to {sent} people in {elapsed:.1f} s: {rate:.1f} per second, "
          f"{rate / 30 * 100:.0f} % of the allowed 30 per second, {api.rejected_429} answered 429")


def fill_cases(services, cases: int) -> int:  # noqa: ANN001
    """`cases` open cases (no values: what the digest and the planner read is in the row), with
    re-assessments due across three months and a case manager per 300; returns the org id. The
    rows are as this version records them: their watch dates and name indexes computed (a case
    of an older version has them computed once, by `casebot migrate` or else by the planner a
    slice a round, which would then be measured instead of the planning)."""
    store = services.store
    org_id = store.staff.first_organisation_id()
    districts = [d.id for d in store.staff.districts(org_id)]
    with store.transaction() as s:
        managers = [AppUser(org_id=org_id, telegram_id=10_000 + n, role="case-manager", display_name=f"CM {n}",
                            district_id=districts[n % 3], created_at=NOW) for n in range(max(5, cases // 300))]
        s.add_all(managers)
        s.flush()
        manager_ids = [m.id for m in managers]
    with store.engine.begin() as connection:
        for start in range(0, cases, 50_000):
            connection.execute(insert(ClientCase), [
                {"org_id": org_id, "code": f"BEN-2026-{n:06d}", "district_id": districts[n % 3],
                 "assigned_to": manager_ids[n % len(manager_ids)], "created_by": manager_ids[0], "status": "open",
                 "phase": "planning", "person_index": f"{n:064d}", "person_fold": f"{n:064d}",
                 "index_rev": NAME_RULES, "watch_rev": WATCH_REVISION, "consent_version": "2026-01", "consent_at": NOW,
                 "next_due_on": date(2026, 11, 1) + timedelta(days=n % 90), "assessments": 1,
                 "last_contact_on": date(2026, 11, 20) - timedelta(days=n % 120),
                 "created_at": NOW - timedelta(days=n % 365), "updated_at": NOW}
                for n in range(start, min(cases, start + 50_000))])
    return org_id


def with_cases(database: str, workdir: Path, cases: int):  # noqa: ANN201
    """A fresh SQLite installation under the fixed clock with `cases` open cases (fill_cases)."""
    settings = settings_for(f"sqlite:///{workdir / database}", workdir)
    initialise(settings, org_name="Bench", prefix="BEN", districts=["I", "II", "III"], quiet=True)
    services = build_services(settings, clock=FixedClock(NOW))
    fill_cases(services, cases)
    return services


def digest_time(cases: int, workdir: Path, *, measure: str = "digest") -> float:
    """Seconds to build the digest (or, measure="planner", for the planner's first round) over
    `cases` open cases whose re-assessments fall due across three months."""
    from bot import digest

    services = with_cases(f"digest{cases}-{secrets.token_hex(2)}.sqlite3", workdir, cases)
    store = services.store
    org_id = store.staff.first_organisation_id()
    t = services.catalogs.get("de")
    started = time.perf_counter()
    if measure == "planner":
        services.dispatcher.plan(force=True)
    else:
        digest.build(services, org_id, t, days=7)
    elapsed = time.perf_counter() - started
    store.close()
    return elapsed


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--messages", type=int, default=240)
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        work = Path(workdir)
        print(f"1. claiming due reminders (batches of 100) among {args.rows:,} scheduled rows")
        for kind in ("sqlite",) + (() if args.skip_postgres else ("postgresql",)):
            baseline = claim_times(kind, 10_000, work)
            report(kind, claim_times(kind, args.rows, work), baseline)
        print("2. sending pace against a local Bot API that enforces Telegram's limits")
        await sending_pace(args.messages, work)
        print("3. digest build time (figures, text, chart), SQLite")
        digest_time(500, work)  # warm up: the first chart imports matplotlib
        base = digest_time(1_000, work)
        for cases in (10_000, 100_000):
            took = digest_time(cases, work)
            print(f"  {cases:>7,} cases: {took:6.2f} s   (1,000 cases: {base:.2f} s; ratio x{took / base:.1f})")
        print("4. the planner's first round (reminder rows for every due case), SQLite")
        base = digest_time(1_000, work, measure="planner")
        took = digest_time(100_000, work, measure="planner")
        print(f"  100,000 cases: {took:6.2f} s   (1,000 cases: {base:.2f} s; goal: at most 3 s)")


if __name__ == "__main__":
    asyncio.run(main())

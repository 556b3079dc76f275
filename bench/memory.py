"""Memory of one instance over a large database: RSS after start, after the digest, after the
planner's round, and the peak, with --cases open cases beside a baseline of 1,000 in the same run.

    .venv/bin/python bench/memory.py [--cases 1000000]

Each measurement runs in a fresh process that opens the database the way `casebot run` does
(the services and the Application built, every module imported), so nothing of the set-up is
counted. Goal (issue 17): at most 150 MB with 1,000,000 cases, and flat while the digest, the
planner and a report run (nothing loads all cases).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def rss() -> tuple[float, float]:
    fields = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def measure(database: Path, key: Path) -> dict:
    """In the child process: what one instance holds."""
    from reminders import NOW

    from bot import digest, reports
    from bot.app import build_application, build_services
    from domain.reports import Period
    from storage.clock import FixedClock

    settings = _settings(database, key)
    services = build_services(settings, clock=FixedClock(NOW))
    build_application(settings, services=services)
    figures = {"start": rss()[0]}
    org_id = services.store.staff.first_organisation_id()
    started = time.perf_counter()
    digest.build(services, org_id, services.catalogs.get("de"), days=7)
    figures["digest_s"] = time.perf_counter() - started
    figures["after digest"] = rss()[0]
    started = time.perf_counter()
    figures["planned"] = services.dispatcher.plan(force=True)
    figures["planner_s"] = time.perf_counter() - started
    figures["after planner"] = rss()[0]
    peak_before_report = rss()[1]
    started = time.perf_counter()  # the quarter's report, as `casebot report` makes it
    reports.build(services.store.reports.facts(org_id, Period.parse(f"{NOW.year}-Q{(NOW.month - 1) // 3 + 1}")),
                  internal=False)
    figures["report_s"] = time.perf_counter() - started
    figures["after report"], figures["peak"] = rss()
    figures["peak before report"] = peak_before_report
    services.store.close()
    return figures


def _settings(database: Path, key: Path):  # noqa: ANN202
    from bot.settings import Settings
    from simulator.server import SIMULATOR_TOKEN

    return Settings(_env_file=None, telegram_bot_token=SIMULATOR_TOKEN, database_url=f"sqlite:///{database}",
                    master_key_file=key)


def prepare(cases: int, workdir: Path) -> Path:
    from reminders import NOW, fill_cases

    from bot.app import build_services
    from bot.cli import initialise
    from storage.clock import FixedClock

    database = workdir / f"memory{cases}.sqlite3"
    settings = _settings(database, workdir / "master.key")
    initialise(settings, org_name="Bench", prefix="BEN", districts=["I", "II", "III"], quiet=True)
    services = build_services(settings, clock=FixedClock(NOW))
    fill_cases(services, cases)
    services.store.close()
    return database


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(Path(args.child[0]), Path(args.child[1]))))
        return
    with tempfile.TemporaryDirectory() as workdir:
        print(f"one instance (SQLite), 1,000 cases beside {args.cases:,}")
        for cases in (1000, args.cases):
            started = time.perf_counter()
            database = prepare(cases, Path(workdir))
            prepared = time.perf_counter() - started
            child = subprocess.run([sys.executable, __file__, "--child", str(database), str(Path(workdir) / "master.key")],
                                   capture_output=True, text=True, check=True)
            f = json.loads(child.stdout.strip().splitlines()[-1])
            print(f"  {cases:>9,} cases (made in {prepared:.0f} s): RSS {f['start']:.0f} MB after start, "
                  f"{f['after digest']:.0f} MB after the digest ({f['digest_s']:.1f} s), {f['after planner']:.0f} MB after "
                  f"the planner ({f['planned']:,} planned in {f['planner_s']:.1f} s), peak {f['peak before report']:.0f} MB; "
                  f"{f['after report']:.0f} MB after the quarter's report ({f['report_s']:.1f} s), peak {f['peak']:.0f} MB")


if __name__ == "__main__":
    main()

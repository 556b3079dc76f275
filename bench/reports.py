"""The report for a period over many cases: time and peak memory, beside the digest in the same run.

    .venv/bin/python bench/reports.py [--cases 10000 100000]

Each size on a fresh SQLite installation (bench/reminders.py: fill_cases; cases opened across a
year, so a quarter's report has new, open and closed cases to count), then: the facts read
(storage/reports.py), the tables counted and suppressed (domain/reports.py), and the workbook
and the CSV files written (bot/reports.py); the digest built over the same cases as the baseline.
Peak memory is Python's allocations during the step (tracemalloc). Figures, not pass/fail.
"""

from __future__ import annotations

import argparse
import secrets
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.reminders import with_cases  # noqa: E402
from bot import digest, reports  # noqa: E402
from domain.reports import Period  # noqa: E402


def measured(work):  # noqa: ANN001, ANN201
    """(seconds, peak MB of Python allocations, result)."""
    tracemalloc.start()
    started = time.perf_counter()
    result = work()
    elapsed = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1] / 1024 / 1024
    tracemalloc.stop()
    return elapsed, peak, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, nargs="+", default=[10_000, 100_000])
    args = parser.parse_args()
    period = Period.parse("2026-Q4")
    with tempfile.TemporaryDirectory() as workdir:
        for cases in args.cases:
            services = with_cases(f"report{cases}-{secrets.token_hex(2)}.sqlite3", Path(workdir), cases)
            baseline, baseline_peak, _ = measured(lambda services=services: digest.build(
                services, services.store.staff.first_organisation_id(), services.catalogs.get("de"), days=7))
            elapsed, peak, size = measured(lambda services=services: report(services, period))
            print(f"{cases:>7} cases: report {elapsed:6.2f} s, peak {peak:6.1f} MB, files {size // 1024} KB"
                  f" | digest {baseline:5.2f} s, peak {baseline_peak:5.1f} MB | ratio x{elapsed / baseline:.2f}")
            services.store.close()


def report(services, period: Period) -> int:  # noqa: ANN001
    """The whole report as /report makes it: facts, tables, workbook and CSV files; their size."""
    store, t = services.store, services.catalogs.get("de")
    results = reports.build(store.reports.facts(store.staff.first_organisation_id(), period), internal=False)
    made = {"organisation": "Bench", "period": period, "made_on": period.end}
    return len(reports.workbook(t, results, **made)) + len(reports.csv_zip(t, results, **made))

if __name__ == "__main__":
    main()

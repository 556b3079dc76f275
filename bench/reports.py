"""The report for a period over many cases: time and peak memory, beside the digest in the same run.

    .venv/bin/python bench/reports.py [--cases 10000 100000]

Each size on a fresh SQLite installation (bench/reminders.py: fill_cases; cases opened across a
year, so a quarter's report has new, open and closed cases to count; each with its data key and
an encrypted profile, which the report decrypts for the clients' figures), then: the facts read
(storage/reports.py), the tables counted and suppressed (domain/reports.py), and the workbook
and the CSV files written (bot/reports.py); the digest built over the same cases as the baseline.
Peak memory is Python's allocations during the step (tracemalloc). Figures, not pass/fail.
"""

from __future__ import annotations

import argparse
import json
import secrets
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import insert, select  # noqa: E402

from bench.reminders import with_cases  # noqa: E402
from bot import digest, reports  # noqa: E402
from domain.reports import Period  # noqa: E402
from storage.cases import key_aad  # noqa: E402
from storage.crypto import DataKey  # noqa: E402
from storage.models import CaseKey, CaseProfile, ClientCase  # noqa: E402
from storage.profiles import profile_aad  # noqa: E402


def measured(work):  # noqa: ANN001, ANN201
    """(seconds, peak MB of Python allocations, result): timed on its own, then run again under
    tracemalloc (which slows Python down) for the memory."""
    started = time.perf_counter()
    result = work()
    elapsed = time.perf_counter() - started
    tracemalloc.start()
    work()
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
            with_profiles(services)
            baseline, baseline_peak, _ = measured(lambda services=services: digest.build(
                services, services.store.staff.first_organisation_id(), services.catalogs.get("de"), days=7))
            elapsed, peak, size = measured(lambda services=services: report(services, period))
            print(f"{cases:>7} cases: report {elapsed:6.2f} s, peak {peak:6.1f} MB, files {size // 1024} KB"
                  f" | digest {baseline:5.2f} s, peak {baseline_peak:5.1f} MB | ratio x{elapsed / baseline:.2f}")
            services.store.close()


def with_profiles(services) -> None:  # noqa: ANN001
    """A data key and an encrypted profile for every case, as intakes and assessments leave them."""
    store = services.store
    with store.engine.begin() as connection:
        ids = [row[0] for row in connection.execute(select(ClientCase.id))]
    for start in range(0, len(ids), 10_000):
        keys, profiles = [], []
        for case_id in ids[start : start + 10_000]:
            key = DataKey.generate()
            wrapped = store.keyring.wrap(key, aad=key_aad(case_id))
            keys.append({"case_id": case_id, "kid": wrapped.kid, "wrapped": wrapped.blob})
            profile = {"age_band": ("21-26", "27-34", "35-49")[case_id % 3], "residence_status": "aufenthaltserlaubnis",
                       "benefits": "sgb2", "source": "fb50", "target_group": "inside", "interpreter": "yes",
                       "needs_first": {"housing": "high", "work": "medium"}, "needs_latest": {"housing": "medium"},
                       "strengths_first": ["language"], "strengths_latest": ["language", "work"]}
            profiles.append({"case_id": case_id, "body_enc": key.encrypt(json.dumps(profile), aad=profile_aad(case_id))})
        with store.engine.begin() as connection:
            connection.execute(insert(CaseKey), keys)
            connection.execute(insert(CaseProfile), profiles)


def report(services, period: Period) -> int:  # noqa: ANN001
    """The whole report as /report makes it: facts, tables, workbook and CSV files; their size."""
    store, t = services.store, services.catalogs.get("de")
    results = reports.build(store.reports.facts(store.staff.first_organisation_id(), period), internal=False)
    made = {"organisation": "Bench", "period": period, "made_on": period.end}
    return len(reports.workbook(t, results, **made)) + len(reports.csv_zip(t, results, **made))

if __name__ == "__main__":
    main()

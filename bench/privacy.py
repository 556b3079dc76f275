"""Privacy operations at scale: master key rotation, and the Art. 15 copy of a long case.

    .venv/bin/python bench/privacy.py [--cases 100000] [--entries 1000]

1. `casebot rotate-key`'s work over --cases cases (each with its wrapped data key): how long
   the re-wrapping takes, and whether the bot keeps answering meanwhile: p50/p99 of a case
   manager's look at a case (a read and an audit write) before and during the rotation.
2. The Art. 15 copy (everything decrypted) of a case with --entries entries, beside one with 10.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import insert  # noqa: E402

from bench.casefile import case_with_entries  # noqa: E402
from bench.reminders import NOW, settings_for, with_cases  # noqa: E402
from bot.app import build_services  # noqa: E402
from bot.cli import initialise  # noqa: E402
from domain.roles import Role  # noqa: E402
from storage.cases import key_aad  # noqa: E402
from storage.clock import FixedClock  # noqa: E402
from storage.crypto import DataKey, Keyring  # noqa: E402
from storage.models import AppUser, CaseKey  # noqa: E402


def percentiles(times: list[float]) -> str:
    ordered = sorted(times)
    return (f"p50 {statistics.median(ordered) * 1000:6.2f} ms, "
            f"p99 {ordered[max(0, int(len(ordered) * 0.99) - 1)] * 1000:6.2f} ms ({len(ordered)} looks)")


def staff(services, role: Role, telegram_id: int):  # noqa: ANN001, ANN201
    store = services.store
    org_id = store.staff.first_organisation_id()
    district = store.staff.districts(org_id)[0].id
    with store.transaction() as s:
        s.add(AppUser(org_id=org_id, telegram_id=telegram_id, role=role.value, district_id=district, created_at=NOW))
    return store.staff.user_by_telegram_id(telegram_id)


def rotation(cases: int, workdir: Path) -> None:
    services = with_cases("rotate.sqlite3", workdir, cases)
    store = services.store
    settings = services.settings
    keyring = store.keyring
    with store.engine.begin() as connection:
        ids = [r[0] for r in connection.exec_driver_sql("SELECT id FROM client_case ORDER BY id")]
        for start in range(0, len(ids), 20_000):
            rows = []
            for case_id in ids[start:start + 20_000]:
                wrapped = keyring.wrap(DataKey.generate(), aad=key_aad(case_id))
                rows.append({"case_id": case_id, "kid": wrapped.kid, "wrapped": wrapped.blob})
            connection.execute(insert(CaseKey), rows)
    coordinator = staff(services, Role.COORDINATOR, 1)
    codes = [f"BEN-2026-{n:06d}" for n in range(0, cases, max(1, cases // 500))]

    def looks(stop: threading.Event | None, rounds: int = 300) -> list[float]:
        times, n = [], 0
        while (stop is None and n < rounds) or (stop is not None and not stop.is_set()):
            started = time.perf_counter()
            store.cases.get_for(coordinator, codes[n % len(codes)])
            times.append(time.perf_counter() - started)
            n += 1
        return times

    before = looks(None)
    Keyring.load(settings.master_key_file).rotated().save(settings.master_key_file)
    keyring.refresh(force=True)
    stop, during = threading.Event(), []
    watcher = threading.Thread(target=lambda: during.extend(looks(stop)))
    watcher.start()
    started = time.perf_counter()
    moved = store.keys.rewrap()
    elapsed = time.perf_counter() - started
    stop.set()
    watcher.join()
    assert store.keys.in_use() == {keyring.active_kid: cases}
    print(f"rotation of {cases} case keys: {moved} re-wrapped in {elapsed:.1f} s ({moved / elapsed:,.0f} per second)")
    print(f"  a look at a case before: {percentiles(before)}")
    print(f"  the same during the rotation: {percentiles(during)}")
    store.close()


def export(entries: int, workdir: Path) -> None:
    settings = settings_for(f"sqlite:///{workdir / 'export.sqlite3'}", workdir)
    initialise(settings, org_name="Bench", prefix="BEN", districts=["I"], quiet=True)
    services = build_services(settings, clock=FixedClock(NOW))
    cm, coordinator = staff(services, Role.CASE_MANAGER, 1), staff(services, Role.COORDINATOR, 2)
    small, large = case_with_entries(services, cm, 10), case_with_entries(services, cm, entries)
    timings = {}
    for code in (small, large):
        times = []
        for _ in range(5):
            started = time.perf_counter()
            services.store.export.export(coordinator, code)
            times.append(time.perf_counter() - started)
        timings[code] = statistics.median(times)
    print(f"Art. 15 copy of a case with {entries} entries: median {timings[large] * 1000:.0f} ms "
          f"(10 entries: {timings[small] * 1000:.1f} ms, x{timings[large] / timings[small]:.0f})")
    services.store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--entries", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        rotation(args.cases, Path(tmp))
        export(args.entries, Path(tmp))


if __name__ == "__main__":
    main()

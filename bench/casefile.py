"""The case file at scale: a timeline page, and the status watcher's planning pass.

    .venv/bin/python bench/casefile.py [--entries 1000] [--cases 100000] [--rounds 30]

1. Opening the timeline of a case with --entries entries (contacts with notes and changes of the
   intake, written through the repositories as a case manager would), page 1 and a page deep in it, beside the same on a
   case with 10 entries in the same run; and how many values each page decrypts (the goal: a
   page decrypts its own entries only, whatever the case holds).
2. The status watcher's planning pass over --cases open cases (two watch dates each, one in
   twenty due), beside the existing planner's re-assessment pass over the same cases.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import insert  # noqa: E402

from bench.reminders import NOW, settings_for, with_cases  # noqa: E402
from bot.app import build_services  # noqa: E402
from bot.cli import initialise  # noqa: E402
from storage import crypto  # noqa: E402
from storage.clock import FixedClock  # noqa: E402
from storage.models import AppUser, CaseWatch  # noqa: E402
from storage.types import StaffUser  # noqa: E402


class CountingDecrypts:
    """Counts the values decrypted while it is active (the data key's decrypt, patched)."""

    def __init__(self) -> None:
        self.count = 0
        self._original = crypto.DataKey.decrypt

    def __enter__(self) -> CountingDecrypts:
        original, counter = self._original, self

        def counted(key, blob, *, aad):  # noqa: ANN001, ANN202
            counter.count += 1
            return original(key, blob, aad=aad)

        crypto.DataKey.decrypt = counted
        return self

    def __exit__(self, *exc: object) -> None:
        crypto.DataKey.decrypt = self._original


def case_with_entries(services, staff: StaffUser, entries: int) -> str:  # noqa: ANN001
    store = services.store
    values = {"given_name": "Bench", "family_name": f"Person {entries}", "birth_date": "1990-01-01",
              "district": str(staff.district_id), "residence_status": "aufenthaltserlaubnis"}
    case = store.cases.create(user=staff, district_id=staff.district_id, assigned_to=staff.id,
                              person_index=f"bench-{entries}", consent_version="2026-01", consent_at=NOW,
                              next_due_on=None, record="intake", values=values)
    for n in range(entries - 1):
        if n % 3 == 0:  # every third entry a change of the intake: its details are encrypted with it
            store.casefile.amend(staff, case.code, changes={"phone": f"+49 171 {n:07d}"}, nature="update")
        else:
            store.casework.add_contact(staff, case.code, happened_on=date(2026, 11, 24) - timedelta(days=n % 365),
                                       kind="phone", note=f"Telefonat {n}: Termin beim Jobcenter vereinbart")
    return case.code


def page_times(services, staff: StaffUser, code: str, rounds: int, *, deep: bool) -> tuple[list[float], int]:  # noqa: ANN001
    timeline = services.store.timeline
    cursor = ""
    if deep:  # the cursor of a page half-way down
        page = timeline.page(staff, code)
        for _ in range(max(0, page.total // 16)):
            last = page.entries[-1]
            cursor = f"o{last.happened_on.isoformat()}.{last.id}"
            page = timeline.page(staff, code, cursor=cursor)
    times = []
    with CountingDecrypts() as decrypts:
        for _ in range(rounds):
            started = time.perf_counter()
            timeline.page(staff, code, cursor=cursor)
            times.append(time.perf_counter() - started)
    return times, decrypts.count // rounds


def timeline_bench(entries: int, rounds: int, workdir: Path) -> None:
    settings = settings_for(f"sqlite:///{workdir / 'timeline.sqlite3'}", workdir)
    initialise(settings, org_name="Bench", prefix="BEN", districts=["I"], quiet=True)
    services = build_services(settings, clock=FixedClock(NOW))
    store = services.store
    org_id = store.staff.first_organisation_id()
    district = store.staff.districts(org_id)[0].id
    with store.transaction() as s:
        s.add(AppUser(org_id=org_id, telegram_id=1, role="case-manager", district_id=district, created_at=NOW))
    staff = store.staff.user_by_telegram_id(1)
    small, large = case_with_entries(services, staff, 10), case_with_entries(services, staff, entries)
    base, base_decrypts = page_times(services, staff, small, rounds, deep=False)
    print(f"timeline page, case with 10 entries:      median {statistics.median(base) * 1000:6.2f} ms, "
          f"{base_decrypts} values decrypted")
    for deep in (False, True):
        times, decrypts = page_times(services, staff, large, rounds, deep=deep)
        label = f"case with {entries} entries, {'a page half-way down' if deep else 'page 1'}"
        print(f"timeline page, {label:<38} median {statistics.median(times) * 1000:6.2f} ms "
              f"(x{statistics.median(times) / statistics.median(base):.2f} the 10-entry case), {decrypts} values decrypted")
    store.close()


def watcher_bench(cases: int, workdir: Path) -> None:
    services = with_cases("watch.sqlite3", workdir, cases)
    store = services.store
    today = NOW.astimezone(services.settings.tz).date()
    with store.engine.begin() as connection:
        ids = [r[0] for r in connection.exec_driver_sql("SELECT id FROM client_case ORDER BY id")]
        connection.exec_driver_sql("UPDATE client_case SET watch_rev = 1")  # no backfill in the timing
        for start in range(0, len(ids), 50_000):
            connection.execute(insert(CaseWatch), [
                {"case_id": case_id, "kind": kind, "due_on": today - timedelta(days=1) if (case_id + k) % 20 == 0
                 else today + timedelta(days=30 + case_id % 700)}
                for case_id in ids[start:start + 50_000] for k, kind in enumerate(("expiry", "age-27"))])
    hours = services.working_hours
    deliver_at = hours.next_delivery(NOW)
    planner = store.planner
    started = time.perf_counter()
    reassessments = planner.add(planner._reassessments(today, deliver_at, services.settings.reminder_days_before))
    existing = time.perf_counter() - started
    started = time.perf_counter()
    watched = planner.add(store.watch.planned(today, deliver_at))
    watcher = time.perf_counter() - started
    print(f"planning over {cases} cases: re-assessments {existing:6.2f} s ({reassessments} planned); "
          f"status watcher {watcher:6.2f} s ({watched} planned, {2 * cases} watch dates); "
          f"ratio x{watcher / existing:.2f}")
    store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--entries", type=int, default=1000)
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        timeline_bench(args.entries, args.rounds, workdir)
        watcher_bench(args.cases, workdir)


if __name__ == "__main__":
    main()

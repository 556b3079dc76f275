"""How many interactions a clean intake takes: every message typed and every button pressed,
through the real Application (only the network to Telegram replaced), counted, not timed.

    .venv/bin/python bench/intake_taps.py

The same client is recorded twice: one question at a time, and the quick way (family name,
given name and birth date in one message, both arrival dates in one, the household as "2 + 1").
Both ways have today's "None" without "Done" and the interpreter answered with "Done"; the
presses issue 12's version needed for those (two) are added to the one-by-one count to give its figure. Issue
12 counted 21 for the intake as it was then; the questions added since (address, valid until,
benefits) are counted apart, so the figures compare the same data. Each run checks that both
ways stored the same answers.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.app import build_application, build_services  # noqa: E402
from bot.cli import initialise  # noqa: E402
from bot.settings import Settings  # noqa: E402
from storage.clock import FixedClock  # noqa: E402
from storage.types import Role  # noqa: E402
from tests.flows import INTAKE_STEPS  # noqa: E402
from tests.telegram_fake import FakeTelegram, TgUser  # noqa: E402

TOKEN = "123456:" + "C" * 35
# questions the intake gained after issue 12 counted its 21 interactions
ADDED_SINCE = ("address", "residence_valid_until", "benefits")

# presses issue 12's version needed that no question of today asks for: "Done" after "None", and the
# interpreter asked on its own after the languages
PRESSES_0_7_HAD_MORE = 2
# one question at a time: today's questions with the answers of tests/flows.py
ONE_BY_ONE = [("/new", None), *((f"{a}:{v}", name) for name, (a, v) in INTAKE_STEPS.items()), ("press:✔ Speichern", None)]
QUICK = [
    ("/new", None), ("press:Einwilligung erteilt", "consent"), ("press:FB 50 (Soziales)", "source"),
    ("send:Haddad, Amina, 01.02.1995", "given_name"),  # family name, given name, birth date
    ("press:I", "district"), ("send:Kölner Str. 12", "address"), ("send:Opladen", "quarter"),
    ("press:Aufenthaltserlaubnis", "residence_status"), ("send:30.06.2027", "residence_valid_until"),
    ("send:10.03.2024 01.04.2024", "arrived_germany"),  # both arrival dates
    ("press:SGB II (Bürgergeld, Jobcenter)", "benefits"), ("press:Keine", "other_case_management"),
    ("press:Arabisch", "languages"), ("press:✔ Fertig · Dolmetscher:in nötig", "languages_done"),
    ("press:2 + 1", "adults"),  # adults and children
    ("send:+49 171 1234567", "phone"), ("send:Sucht einen Kita-Platz", "note"), ("press:✔ Speichern", None),
]


async def play(steps: list[tuple[str, str | None]]) -> tuple[int, int, dict]:
    """(interactions, of them for questions added since issue 12, the stored intake)."""
    with tempfile.TemporaryDirectory() as home:
        settings = Settings(_env_file=None, database_url=f"sqlite:///{home}/taps.sqlite3", telegram_bot_token=TOKEN,
                            master_key_file=Path(home) / "master.key", telegram_rate_limit=0, pin_required=False,
                            locale_refresh_seconds=0)
        initialise(settings, org_name="Stadt Leverkusen", prefix="LEV", districts=["I", "II"], quiet=True)
        services = build_services(settings, clock=FixedClock(datetime(2026, 11, 24, 9, 0, tzinfo=UTC)))
        fake = FakeTelegram()
        app = build_application(settings, services=services, request=fake)
        await app.initialize()
        store = services.store
        org_id = store.staff.first_organisation_id()
        code = store.staff.create_invitation(org_id=org_id, role=Role.CASE_MANAGER,
                                             district_id=store.staff.district_by_code(org_id, "I").id,
                                             expires_in=timedelta(days=1), created_by=None)
        user = TgUser(app, fake, 7001)
        await user.send(f"/start {code}")
        taps = added = 0
        for step, question in steps:
            kind, _, value = step.partition(":") if not step.startswith("/") else ("send", "", step)
            await (user.press(value) if kind == "press" else user.send(value))
            taps += 1
            added += question in ADDED_SINCE
        assert user.last().text.startswith("Gespeichert als Fall LEV-2026-0001"), user.last().text
        manager = store.staff.user_by_telegram_id(user.id)
        intake = store.cases.reveal(manager, "LEV-2026-0001").records["intake"]
        await app.shutdown()
        store.close()
        return taps, added, intake


async def main() -> None:
    slow, slow_added, slow_intake = await play(ONE_BY_ONE)
    quick, quick_added, quick_intake = await play(QUICK)
    assert slow_intake == quick_intake, "both ways must store the same intake"
    old = PRESSES_0_7_HAD_MORE
    print("clean intake, interactions (a message typed or a button pressed), the same answers stored every way")
    print(f"{'':<42}{'before':>6}{'one by one':>12}{'quick':>8}")
    print(f"{'the questions issue 12 counted (21 then)':<42}{slow - slow_added + old:>6}{slow - slow_added:>12}"
          f"{quick - quick_added:>8}")
    print(f"{'+ address, valid until, benefits (since)':<42}{slow + old:>6}{slow:>12}{quick:>8}")
    print(f"quick / before, on the data of issue 12: {(quick - quick_added) / (slow - slow_added + old):.2f} "
          f"(goal: 15 or fewer interactions)")


if __name__ == "__main__":
    asyncio.run(main())

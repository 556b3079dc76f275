"""Writes an installation as version 0.1 (commit 806ad41) left it, for the upgrade test.

Run once against that version's code (a worktree of it), never against the current one:

    git worktree add /tmp/v0.1 806ad41
    cd /tmp/v0.1 && python3 -m venv .venv && .venv/bin/pip install -q -e '.[test]'
    .venv/bin/python <this checkout>/tests/compat/make_v0_1.py <this checkout>/tests/compat/v0_1

It leaves a SQLite database, its master key and `state.json` (who is who, and the callback
data of buttons that stand in the chats): a case manager half-way through an assessment
(open dialogue), a referral marked as sent (its follow-up question scheduled), a goal and a
re-assessment whose reminders are planned, and a handover waiting for the receiving manager.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.cli import initialise
from bot.clock import FixedClock
from storage.types import Role
from tests.conftest import BotUnderTest, make_settings, start_bot
from tests.flows import run_intake


async def main(target: Path) -> None:
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    clock = FixedClock(datetime(2026, 11, 24, 9, 0, tzinfo=UTC))
    settings = make_settings(f"sqlite:///{target / 'casebot.sqlite3'}", target)
    admin_code = initialise(settings, org_name="Stadt Leverkusen", prefix="LEV", districts=["I", "II", "III"],
                            quiet=True)
    app, fake, services = await start_bot(settings, clock)
    bot = BotUnderTest(app, fake, services, settings, admin_code)
    manager = await bot.register(Role.CASE_MANAGER, "I")
    colleague = await bot.register(Role.CASE_MANAGER, "II")
    await run_intake(manager)
    code = services.store.cases.list_for(services.store.staff.user_by_telegram_id(manager.id))[0].code
    # a goal (its reminders are planned) and a referral marked as sent (its follow-up scheduled)
    await manager.send(f"/goal {code}")
    await manager.press("Sprache")
    await manager.send("A1-Kurs beginnen")
    await manager.press("die Klient:in")
    await manager.send("15.12.2026")
    await manager.press("✔ Speichern")
    await manager.send(f"/refer {code}")
    await manager.press("Sprache")
    for message in reversed(manager.messages()):
        if message.reply_markup:
            break
    await manager.press(message.buttons()[0]["text"])
    await manager.send("Sprachkurs vermitteln")
    await manager.press("Einwilligung erteilt")
    await manager.press("Sprache")
    await manager.press("Fertig")
    await manager.press("✔ Speichern")
    await manager.press("📤 Als gesendet markieren")
    # the case view, whose buttons stay in the chat
    await manager.send(f"/case {code}")
    case_view = manager.last_with_buttons()
    # a handover offered to the colleague: the request is an outbox row, due now
    await manager.send(f"/handover {code}")
    await manager.press("II")
    await manager.send("Zieht nach Opladen")
    await manager.press("✔ Speichern")
    # plan the reminders, then leave an assessment half-way (an open dialogue)
    services.dispatcher.plan(force=True)
    await manager.send(f"/assess {code}")
    await manager.press("hoch")
    await manager.send("Braucht Integrationskurs")
    question = manager.last_with_buttons()
    state = {
        "manager": manager.id, "colleague": colleague.id, "code": code,
        "case_view_buttons": [b["callback_data"] for b in case_view.buttons()],
        "open_question_buttons": [[b["text"], b["callback_data"]] for b in question.buttons()],
        "open_question_text": question.text,
    }
    (target / "state.json").write_text(json.dumps(state, ensure_ascii=False, indent=1))
    await app.shutdown()
    services.store.engine.dispose()
    for leftover in target.glob("casebot.sqlite3-*"):
        leftover.unlink()


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]).resolve()))

"""End to end over real HTTP: the simulator's server, the bot with PTB's own network stack
(httpx, long polling getUpdates), and people acting through the chat page's API."""

from __future__ import annotations

import asyncio

import pytest

from simulator.botapi import RateLimit
from tests.flows import INTAKE_STEPS
from tests.live import live  # noqa: F401  (the fixture)


async def test_registration_and_a_full_intake_over_http(live):
    ana = await live.person("Ana", "de")
    await live.say(ana, f"/start {live.admin_code}")
    await live.wait_for(ana, lambda ms: len(ms) >= 2)
    assert "Willkommen! Sie sind registriert als Admin." in (await live.bot_messages(ana))[0]["text"]
    await live.say(ana, "/invite")
    await live.press(ana, "Case Manager:in")
    messages = await live.press(ana, "I")
    code = messages[-1]["text"].split("\n")[1]
    assert "https://t.me/kim_sim_bot?start=" + code in messages[-1]["text"]
    cem = await live.person("Cem", "de")
    await live.say(cem, f"/start {code}")
    await live.say(cem, "/new")
    for name, (action, value) in INTAKE_STEPS.items():
        await (live.press(cem, value) if action == "press" else live.say(cem, value))
    messages = await live.press(cem, "✔ Speichern")
    assert messages[-1]["text"].startswith("Gespeichert als Fall LEV-2026-0001.")
    listing = await live.say(cem, "/cases")
    assert "LEV-2026-0001 · offen" in listing[-1]["text"] and "Amina" not in listing[-1]["text"]


async def test_a_stale_button_over_http_gets_a_toast_and_changes_nothing(live):
    ana = await live.person("Ana", "de")
    await live.say(ana, f"/start {live.admin_code}")
    await live.wait_for(ana, lambda ms: len(ms) >= 2)
    invitation_message = (await live.say(ana, "/invite"))[-1]
    stale = invitation_message["buttons"][0][0]["data"]
    await live.press(ana, "Koordinator:in")  # the message turns into the invitation
    before = await live.bot_messages(ana)
    await live.http.post("/api/press", json={"user_id": ana, "message_id": invitation_message["id"], "data": "f|deadbeef|0|c|0"})
    for _ in range(100):
        alerts = (await live.state())["alerts"]
        if alerts:
            break
        await asyncio.sleep(0.05)
    assert alerts[-1]["text"] == "Diese Taste ist nicht mehr gültig. Bitte die neueste Frage verwenden."
    assert alerts[-1]["alert"] is True
    assert await live.bot_messages(ana) == before
    assert stale.startswith("i|")


@pytest.mark.parametrize("live", [RateLimit(per_chat=1, overall=30, window=1.0)], indirect=True)
async def test_a_429_is_waited_out_and_no_message_is_lost(live):
    ana = await live.person("Ana", "de")
    await live.http.post("/api/send", json={"user_id": ana, "text": f"/start {live.admin_code}"})
    # welcome and help come one right after the other: the second hits the per-chat limit
    messages = await live.wait_for(ana, lambda ms: len(ms) >= 2, timeout=15)
    assert live.api.rejected_429 >= 1
    assert "Willkommen!" in messages[0]["text"] and "/invite" in messages[1]["text"]
    assert len(messages) == 2  # waited out and sent once, not lost and not twice

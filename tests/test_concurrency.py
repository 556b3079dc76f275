"""The update processor: one user's updates in order, different users overlapping."""

from __future__ import annotations

import asyncio

from telegram import Update
from telegram.ext import Application, MessageHandler, filters

from bot.concurrency import PerUserUpdateProcessor
from tests.conftest import TEST_TOKEN
from tests.telegram_fake import FakeTelegram


def message(update_id: int, user_id: int, text: str) -> dict:
    return {"update_id": update_id, "message": {
        "message_id": update_id, "date": 1, "text": text, "chat": {"id": user_id, "type": "private"},
        "from": {"id": user_id, "is_bot": False, "first_name": "U"}}}


async def test_one_users_updates_are_serial_and_ordered_while_users_overlap():
    events: list[tuple[str, int, str]] = []

    async def slow(update: Update, context) -> None:  # noqa: ANN001
        events.append(("start", update.effective_user.id, update.effective_message.text))
        await asyncio.sleep(0.02)  # as if waiting for the Bot API
        events.append(("end", update.effective_user.id, update.effective_message.text))

    fake = FakeTelegram()
    processor = PerUserUpdateProcessor(max_concurrent_updates=16)
    app = Application.builder().token(TEST_TOKEN).request(fake).get_updates_request(fake) \
        .concurrent_updates(processor).build()
    app.add_handler(MessageHandler(filters.TEXT, slow))
    async with app:
        await app.start()
        for n, (user, text) in enumerate([(1, "a1"), (1, "a2"), (2, "b1"), (1, "a3"), (2, "b2")]):
            await app.update_queue.put(Update.de_json(message(n + 1, user, text), app.bot))
        for _ in range(200):
            if len([e for e in events if e[0] == "end"]) == 5:
                break
            await asyncio.sleep(0.01)
        await app.stop()
    user_one = [e for e in events if e[1] == 1]
    assert [(kind, text) for kind, _, text in user_one] == [
        ("start", "a1"), ("end", "a1"), ("start", "a2"), ("end", "a2"), ("start", "a3"), ("end", "a3")]
    first_end = events.index(("end", 1, "a1"))
    assert ("start", 2, "b1") in events[:first_end]  # user 2 did not wait for user 1
    assert processor._locks == {}  # nothing kept for idle users

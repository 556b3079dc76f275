"""Update processing order: each user's updates one after another, different users at once."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

from bot.inbox import Inbox


class PerUserUpdateProcessor(BaseUpdateProcessor):
    """A dialogue step must see the step before it, so one user's updates are processed in
    the order they came. Nothing orders different users, so while one waits for the Bot API
    (tens of milliseconds per call over the internet) the others go on; processing all
    updates one by one would cap the whole installation at a few updates per second."""

    def __init__(self, max_concurrent_updates: int = 64, *, inbox: Inbox | None = None) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: dict[int, asyncio.Lock] = {}
        self._queued: dict[int, int] = {}
        self.inbox = inbox

    async def process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """An update from the inbox leaves it when its handling ends (bot/inbox.py)."""
        if self.inbox is None:
            await super().process_update(update, coroutine)
            return
        async with self.inbox.handling(getattr(update, "update_id", None), update):
            await super().process_update(update, coroutine)

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        user = update.effective_user if isinstance(update, Update) else None
        key = user.id if user is not None else 0
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._queued[key] = self._queued.get(key, 0) + 1
        try:
            async with lock:  # asyncio.Lock wakes its waiters first come, first served
                await coroutine
        finally:
            self._queued[key] -= 1
            if not self._queued[key]:  # forget idle users: the dict stays as small as the activity
                del self._queued[key], self._locks[key]

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

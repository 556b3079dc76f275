"""Sending within Telegram's limits, without one chat's 429 holding up the others.

python-telegram-bot's AIORateLimiter pauses every request after any 429: a retry_after of 10 s
for one chat delayed an unrelated chat by 9.6 s. Here a 429 on a request for a chat pauses that
chat only; one for a request without a chat (the bot as a whole) pauses everyone, as it must.
All requests together keep to the overall rate (a token bucket, bursts up to a second's worth).
"""

from __future__ import annotations

import asyncio
import logging
import warnings
from collections.abc import Callable, Coroutine
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

log = logging.getLogger("casebot.ratelimit")


def _seconds(error: RetryAfter) -> float:
    with warnings.catch_warnings():  # PTB 22 warns that retry_after becomes a timedelta
        warnings.simplefilter("ignore")
        value = error.retry_after
    return value.total_seconds() if hasattr(value, "total_seconds") else float(value)


class PerChatRateLimiter(BaseRateLimiter[int]):
    def __init__(self, overall_per_second: float = 30.0, *, max_retries: int = 5) -> None:
        self.rate, self.max_retries = overall_per_second, max_retries
        self._tokens, self._filled_at = overall_per_second, 0.0
        self._paused_until: dict[int | None, float] = {}  # chat id (None: everyone) -> loop time
        self._bucket = asyncio.Lock()
        self.waited: dict[int | None, float] = {}  # seconds waited out after 429s, by chat (None: all)
        self.retries = 0

    async def initialize(self) -> None:
        self._filled_at = asyncio.get_running_loop().time()

    async def shutdown(self) -> None:
        pass

    async def _until_free(self, chat: int | None) -> None:
        loop = asyncio.get_running_loop()
        while True:
            until = max(self._paused_until.get(None, 0.0), self._paused_until.get(chat, 0.0) if chat else 0.0)
            if until <= loop.time():
                break
            self.waited[chat] = self.waited.get(chat, 0.0) + until - loop.time()
            await asyncio.sleep(until - loop.time())
        async with self._bucket:  # the overall rate: one token a request
            now = loop.time()
            self._tokens = min(self.rate, self._tokens + (now - self._filled_at) * self.rate)
            self._filled_at = now
            if self._tokens < 1:
                await asyncio.sleep((1 - self._tokens) / self.rate)
                self._tokens, self._filled_at = 1.0, loop.time()
            self._tokens -= 1

    async def process_request(
        self, callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]] | None]],
        args: Any, kwargs: dict[str, Any], endpoint: str, data: dict[str, Any], rate_limit_args: int | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]] | None:
        chat = data.get("chat_id")
        chat = int(chat) if isinstance(chat, int | str) and str(chat).lstrip("-").isdigit() else None
        retries = rate_limit_args if rate_limit_args is not None else self.max_retries
        for attempt in range(retries + 1):
            await self._until_free(chat)
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as error:
                if attempt == retries:
                    raise
                self.retries += 1
                pause = _seconds(error) + 0.1
                log.info("429 for %s: waiting %.1f s", "a chat" if chat else "the bot", pause)
                self._paused_until[chat] = asyncio.get_running_loop().time() + pause
        raise AssertionError("unreachable")

"""Sends what is due in the outbox: rows, not timers (design decision 4).

A restart catches up on what fell due while the bot was down; two instances never send the
same row (claims are leases, taken with SKIP LOCKED on PostgreSQL). Sending keeps to Telegram's
limits: one message a second per chat, TELEGRAM_RATE_LIMIT a second overall; a 429 is waited
out by PTB's rate limiter, network errors are retried later, and a recipient who blocked the bot
is reported to the coordinators instead of being retried for ever.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from telegram import Bot, InlineKeyboardMarkup, InputFile
from telegram.error import BadRequest, Forbidden, NetworkError

from bot.settings import Settings
from domain import roles
from domain.calendar import WorkingHours
from domain.reminders import ReminderKind
from domain.vocabulary import OutboxState
from storage.store import Store
from storage.types import CryptoError, Planned, ScheduledMessage, StaffUser

log = logging.getLogger("casebot.dispatcher")
RETRY_AFTER_NETWORK_ERROR = timedelta(minutes=1)
PLAN_EVERY = timedelta(minutes=10)
SEEN_UPDATES_KEPT = timedelta(days=3)  # Telegram stops redelivering an update within a day
MAX_ATTEMPTS = 5  # a row that still cannot be composed after this many rounds is given up
PER_CHAT_INTERVAL = 1.0  # seconds between two messages to one chat
# Telegram counts any one second: sends spaced exactly at the limit collide as soon as the
# network delays one and not the next; 3 % headroom keeps clear of 429s at 97 % of the rate.
PACE_HEADROOM = 0.97
CAPTION_LIMIT = 1000  # Telegram allows 1024 characters under a file


@dataclass(frozen=True)
class Notice:
    """A scheduled message as it goes out (bot/notices.py composes it)."""

    text: str
    keyboard: InlineKeyboardMarkup | None = None
    document: tuple[bytes, str] | None = None  # (content, file name), e.g. a calendar file
    photo: bytes | None = None  # a chart
    # instead of a new message: this message of the user's chat is replaced by `text` (a reveal
    # hidden again), or deleted (`text` empty); one that is too old or gone is given up quietly
    replaces: int | None = None
    # a reminder that may wait for the morning message (a due re-assessment, a goal, a hint of
    # the status watcher): the case it is about; several of one round come as one message with a
    # line and buttons each. Without it (a Fallkonferenz in an hour) a notice comes on its own.
    morning_case: str | None = None


Compose = Callable[[ScheduledMessage, StaffUser], Notice | None]
# (the recipient, [(the rows a notice is about, the notice)]) -> one message saying them all
Gather = Callable[[StaffUser, list[tuple[list[ScheduledMessage], Notice]]], Notice]
# a person gets at most this many messages in one round; the rest come gathered in one more
MESSAGES_PER_ROUND = 5


class Dispatcher:
    """`compose(row, user)` says what a row says to its recipient (None: nothing any more)."""

    def __init__(self, store: Store, settings: Settings, compose: Compose, gather: Gather) -> None:
        self.store, self.settings, self.compose, self.gather = store, settings, compose, gather
        self.planner = store.planner
        self.failed_rows = 0  # rows set aside since start (unreadable, or failing to compose)
        self._wake = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._bot: Bot | None = None
        self._planned_at = None
        self._gate = asyncio.Lock()
        self._next_slot = 0.0
        self._loop_of_wake: asyncio.AbstractEventLoop | None = None

    @property
    def hours(self) -> WorkingHours:
        return self.settings.working_hours

    def kick(self) -> None:
        """Something became due now: look at once instead of at the next tick. Safe to call from
        a worker thread (a use case that scheduled a message runs in one)."""
        loop = self._loop_of_wake
        if loop is None or loop.is_closed():
            return  # not started (tests, the CLI): the next round finds it
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._wake.set()
        else:
            loop.call_soon_threadsafe(self._wake.set)

    async def start(self, bot: Bot) -> None:
        self._bot = bot
        self._loop_of_wake = asyncio.get_running_loop()
        self._task = asyncio.create_task(self._loop(), name="dispatcher")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _loop(self) -> None:
        interval = self.settings.dispatch_interval_seconds
        while True:
            try:
                await self.dispatch_once(self._bot)
            except Exception:  # noqa: BLE001 - a bad row or a database hiccup must not stop reminders
                log.exception("dispatch round failed")
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), interval)

    def plan(self, *, force: bool = False) -> int:
        """Turn case data into reminder rows (at most every PLAN_EVERY, unless forced)."""
        now = self.store.clock.now()
        if not force and self._planned_at is not None and now - self._planned_at < PLAN_EVERY:
            self.planner.catch_up()  # (an upgrade's left-overs: a slice every round until done)
            return 0
        self._planned_at = now
        self.store.updates.forget_before(now - SEEN_UPDATES_KEPT)
        self.store.audit.seal()  # the audit entries written since the last round join the chain
        self.store.erasure.run_retention()  # closed cases past their retention period, without a hold
        settings = self.settings
        return self.planner.plan(hours=self.hours, days_before=settings.reminder_days_before,
                                 silent_days=settings.silent_case_days)

    async def dispatch_once(self, bot: Bot, *, plan: bool = True) -> int:
        """Plan, claim what is due, send it (paced), mark it. Returns how many were sent."""
        if plan:
            await self.store.run(self.plan)
        # Compose everything first (database reads, in a worker thread), then send: composing
        # while others send bunches their requests at Telegram's end, where a bunch is counted
        # against the one-second limit.
        by_chat = await self.store.run(self._compose_due)
        results = await asyncio.gather(*(self._deliver_in_turn(bot, items) for items in by_chat.values()))
        return sum(results)

    def _compose_due(self) -> dict[int, list[tuple[list[ScheduledMessage], StaffUser, Notice]]]:
        by_chat: dict[int, list[tuple[list[ScheduledMessage], StaffUser, Notice]]] = defaultdict(list)
        for row in self.store.outbox.claim_due(limit=200):
            try:
                user = self.store.staff.user_by_id(row.user_id)
                notice = self.compose(row, user) if user is not None else None
            except Exception as failure:  # noqa: BLE001 - one bad row must not stop everyone's reminders
                self._set_aside(row, failure)
                continue
            if notice is None:  # nothing left to say (done meanwhile, closed, user gone)
                self.store.outbox.finish(row.id, state=OutboxState.CANCELLED)
                continue
            by_chat[row.user_id].append(([row], user, notice))
        return {chat: self._bounded(items) for chat, items in by_chat.items()}

    def _bounded(self, items: list) -> list:
        """One notification where there would be many: the reminders that may wait for the
        morning come as one message (each with its own buttons); then at most
        MESSAGES_PER_ROUND messages to one person, the plain rest gathered into one more
        (calendar files and charts still come on their own)."""
        morning = [item for item in items if item[2].morning_case]
        if len(morning) > 1:
            items = [item for item in items if not item[2].morning_case] + [self._gathered(morning)]
        if len(items) <= MESSAGES_PER_ROUND:
            return items
        plain = [item for item in items[MESSAGES_PER_ROUND - 1:] if not item[2].document and not item[2].photo]
        kept = [item for item in items if item not in plain]
        if not plain:
            return items
        return [*kept, self._gathered(plain)]

    def _gathered(self, items: list) -> tuple:
        user = items[0][1]
        return [row for item in items for row in item[0]], user, self.gather(user, [(item[0], item[2]) for item in items])

    def _set_aside(self, row: ScheduledMessage, failure: Exception) -> None:
        """A row that cannot be composed: unreadable data stays unreadable, so it fails at once;
        anything else (a database hiccup) is tried again later, a few times."""
        self.failed_rows += 1
        log.warning("scheduled message %s could not be composed: %s", row.id, type(failure).__name__)
        if isinstance(failure, CryptoError) or row.attempts >= MAX_ATTEMPTS:
            self.store.outbox.finish(row.id, state=OutboxState.FAILED)
        else:
            self.store.outbox.postpone(row.id, self._retry_at(row))

    async def _deliver_in_turn(self, bot: Bot, items: list) -> int:
        sent = 0
        for n, (rows, user, notice) in enumerate(items):
            if n and self.settings.telegram_rate_limit:
                await asyncio.sleep(PER_CHAT_INTERVAL / PACE_HEADROOM)
            sent += await self._deliver(bot, rows, user, notice)
        return sent

    async def _pace(self) -> None:
        """Space sends evenly at the overall rate (no bursts: Telegram counts any one second)."""
        rate = self.settings.telegram_rate_limit
        if not rate:
            return
        loop = asyncio.get_running_loop()
        async with self._gate:
            now = loop.time()
            if self._next_slot > now:
                await asyncio.sleep(self._next_slot - now)
            self._next_slot = max(now, self._next_slot) + 1 / (rate * PACE_HEADROOM)

    async def _deliver(self, bot: Bot, rows: list[ScheduledMessage], user: StaffUser, notice: Notice) -> int:
        """Send one message (for one row, or several gathered); returns how many rows it sent."""
        store, row = self.store, rows[0]
        try:
            await self._pace()
            if notice.replaces is not None:
                await self._replace(bot, user, notice)
            elif notice.document:
                content, name = notice.document
                caption = notice.text if len(notice.text) <= CAPTION_LIMIT else None
                if caption is None:  # a long agenda: the text first, then the file
                    await bot.send_message(user.telegram_id, notice.text)
                    await self._pace()
                await bot.send_document(user.telegram_id, InputFile(content, filename=name), caption=caption,
                                        reply_markup=notice.keyboard)
            else:
                await bot.send_message(user.telegram_id, notice.text, reply_markup=notice.keyboard)
            if notice.photo:
                await self._pace()
                await bot.send_photo(user.telegram_id, notice.photo)
        except Forbidden:  # the user blocked the bot: retrying will not help, the coordinators should know
            await self._finish(rows, OutboxState.FAILED)
            log.warning("scheduled message %s failed: the recipient blocked the bot", row.id)
            await store.run(self._report_blocked, user)
            return 0
        except BadRequest:
            await self._finish(rows, OutboxState.FAILED)
            log.warning("scheduled message %s refused by the Bot API", row.id)
            return 0
        except NetworkError:  # includes timeouts; a 429 is waited out by the rate limiter first
            for each in rows:
                await store.aio.outbox.postpone(each.id, self._retry_at(each))
            return 0
        await self._finish(rows, OutboxState.SENT)
        return len(rows)

    async def _replace(self, bot: Bot, user: StaffUser, notice: Notice) -> None:
        """Edit or delete a message of the user's chat. Telegram refuses both for a message
        that is gone or too old (48 hours for deleting): nothing is left to hide then."""
        try:
            if notice.text:
                await bot.edit_message_text(notice.text, chat_id=user.telegram_id, message_id=notice.replaces,
                                            reply_markup=notice.keyboard)
            else:
                await bot.delete_message(user.telegram_id, notice.replaces)
        except BadRequest:
            log.info("a message to hide or delete was gone or too old; given up")

    def _retry_at(self, row: ScheduledMessage) -> datetime:
        """When to try a row again: a little later each attempt."""
        return self.store.clock.now() + RETRY_AFTER_NETWORK_ERROR * row.attempts

    async def _finish(self, rows: list[ScheduledMessage], state: OutboxState) -> None:
        for row in rows:
            await self.store.aio.outbox.finish(row.id, state=state)

    def _report_blocked(self, user: StaffUser) -> None:
        store = self.store
        today = store.clock.now().astimezone(self.hours.tz).date()
        coordinators = [u for role in roles.holding(roles.reads_digest) for u in store.staff.members(user.org_id, role)]
        kind = ReminderKind.DELIVERY_FAILED
        self.planner.add(Planned(user.org_id, c.id, kind, user.id, store.clock.now(), f"{kind}:{user.id}:{today}:{c.id}")
                         for c in coordinators if c.id != user.id)
        self.kick()

"""Sends what is due in the outbox: rows, not timers (design decision 4). A restart catches up on
what fell due while the bot was down; two instances never send the same row (claims are leases
taken with SKIP LOCKED on PostgreSQL)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden, NetworkError

from bot.callbacks import pack
from bot.domains import REFERRAL_STATUSES
from bot.i18n import N_
from storage.models import Outbox

log = logging.getLogger("casebot.dispatcher")
RETRY_AFTER_NETWORK_ERROR = timedelta(minutes=1)
FOLLOW_UP_ANSWERS = ("accepted", "completed", "declined", "no-show", "no-offer", "waiting-list")


class Dispatcher:
    def __init__(self, services) -> None:  # noqa: ANN001 - bot.services.Services (imports it)
        self.services = services
        self._wake = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._bot: Bot | None = None

    def kick(self) -> None:
        """Something became due now: look at once instead of at the next tick."""
        self._wake.set()

    async def start(self, bot: Bot) -> None:
        self._bot = bot
        self._task = asyncio.create_task(self._loop(), name="dispatcher")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _loop(self) -> None:
        interval = self.services.settings.dispatch_interval_seconds
        while True:
            try:
                await self.dispatch_once(self._bot)
            except Exception:  # noqa: BLE001 - a bad row or a database hiccup must not stop reminders
                log.exception("dispatch round failed")
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), interval)

    async def dispatch_once(self, bot: Bot) -> int:
        """Claim what is due, send it, mark it. Returns how many were sent."""
        sent = 0
        for row in self.services.store.outbox.claim_due():
            sent += await self._deliver(bot, row)
        return sent

    async def _deliver(self, bot: Bot, row: Outbox) -> int:
        store = self.services.store
        user = store.staff.user_by_id(row.user_id)
        message = self._compose(row, user) if user is not None else None
        if message is None:  # nothing left to ask (answered, closed, user gone)
            store.outbox.finish(row.id, state="cancelled")
            return 0
        text, keyboard = message
        try:
            await bot.send_message(chat_id=user.telegram_id, text=text, reply_markup=keyboard)
        except Forbidden:  # the user blocked the bot: retrying will not help
            store.outbox.finish(row.id, state="failed")
            log.warning("scheduled message %s failed: the recipient blocked the bot", row.id)
            return 0
        except BadRequest:
            store.outbox.finish(row.id, state="failed")
            log.warning("scheduled message %s refused by the Bot API", row.id)
            return 0
        except NetworkError:  # includes timeouts; RetryAfter is waited out by the rate limiter
            store.outbox.postpone(row.id, store.clock.now() + RETRY_AFTER_NETWORK_ERROR)
            return 0
        store.outbox.finish(row.id, state="sent")
        return 1

    def _compose(self, row: Outbox, user) -> tuple[str, InlineKeyboardMarkup] | None:  # noqa: ANN001
        services = self.services
        t = services.catalogs.get(user.language or services.settings.default_language)
        if row.kind == "referral-follow-up":
            subject = services.store.referrals.follow_up_subject(row.ref_id)
            if subject is None:
                return None
            code, referral = subject
            labels = {c.value: t.plain(c.label) for c in REFERRAL_STATUSES}
            buttons = [InlineKeyboardButton(labels[s], callback_data=pack("r", referral.id, s)) for s in FOLLOW_UP_ANSWERS]
            rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
            rows.append([InlineKeyboardButton(t.plain("⏰ Ask again in 7 days"), callback_data=pack("r", referral.id, "later"))])
            return (t.gettext(N_("How did the referral of {code} to {service} go? The result is recorded in the case."),
                              code=t.isolate(code), service=referral.service_name), InlineKeyboardMarkup(rows))
        if row.kind == "handover-request":
            subject = services.store.referrals.handover_subject(row.ref_id)
            if subject is None:
                return None
            code, note, _, _ = subject
            keyboard = InlineKeyboardMarkup([[
                InlineKeyboardButton(t.plain("✔ Accept"), callback_data=pack("h", row.ref_id, "a")),
                InlineKeyboardButton(t.plain("✖ Decline"), callback_data=pack("h", row.ref_id, "d")),
            ]])
            return (t.gettext(N_("Case {code} is to be handed over to you. Note from the previous case manager:\n{note}"),
                              code=t.isolate(code), note=note), keyboard)
        log.warning("scheduled message %s has an unknown kind", row.id)
        return None

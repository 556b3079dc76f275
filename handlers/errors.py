"""The last line of defence: log what broke (never the data) and tell the user."""

from __future__ import annotations

import contextlib
import logging
import traceback

from telegram import Update
from telegram.error import TelegramError

from bot.i18n import N_, Translator
from bot.ops import OUTCOME
from bot.services import BotContext

log = logging.getLogger("casebot.errors")
# Translators: after a technical failure; the answers typed so far are really kept
SORRY = N_("Sorry, something went wrong. Your earlier answers are kept; please try again.")


async def _translator(update: Update, context: BotContext) -> Translator:
    """The user's language. PTB hands error handlers a fresh context, without what the access
    layer set, so it is found again here: the staff member's choice if the database answers,
    else their Telegram language."""
    if context.t is not None:
        return context.t
    services, user = context.services, update.effective_user
    try:
        staff = await services.store.aio.staff.user_by_telegram_id(user.id) if user else None
    except Exception:  # noqa: BLE001 - the database may be what failed
        staff = None
    return services.translator(staff, user)


async def on_error(update: object, context: BotContext) -> None:
    error = context.error
    OUTCOME.set("error")
    context.services.metrics.errors.labels(type(error).__name__ if error else "unknown").inc()
    # The exception's text may quote user input, so only its type and the code path are logged.
    frames = "".join(traceback.format_tb(error.__traceback__)) if error else ""
    log.error("update failed: %s\n%s", type(error).__name__, frames)
    if not isinstance(update, Update) or update.effective_chat is None:
        return
    try:
        t = await _translator(update, context)
        if update.callback_query:  # stop the button's spinner; the message says what happened
            with contextlib.suppress(TelegramError):  # (answered before it broke: Telegram takes one answer)
                await update.callback_query.answer()
        await update.effective_chat.send_message(t.gettext(SORRY))
    except Exception:  # noqa: BLE001 - the error path itself must not raise
        log.error("could not tell the user about the failure")

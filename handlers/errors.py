"""The last line of defence: log what broke (never the data) and tell the user."""

from __future__ import annotations

import logging
import traceback

from telegram import Update

from bot.i18n import N_
from bot.services import BotContext

log = logging.getLogger("casebot.errors")


async def on_error(update: object, context: BotContext) -> None:
    error = context.error
    # The exception's text may quote user input, so only its type and the code path are logged.
    frames = "".join(traceback.format_tb(error.__traceback__)) if error else ""
    log.error("update failed: %s\n%s", type(error).__name__, frames)
    if isinstance(update, Update) and update.effective_chat and context.t is not None:
        try:
            await update.effective_chat.send_message(context.t.gettext(
                N_("Sorry, something went wrong. Your earlier answers are kept; please try again.")))
        except Exception:  # noqa: BLE001 - the error path itself must not raise
            log.error("could not tell the user about the failure")

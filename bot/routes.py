"""How handler modules declare their routes: commands, and presses of one family of buttons.

A press whose data does not parse, or whose handler finds it stale (raises `StaleButton`), is
refused here, in one place, with the family's localised refusal. So is a press whose message
Telegram no longer lets the bot change (deleted meanwhile); a second press of the same button
before the first was answered (a double tap on a slow connection) whose change is on screen
already is answered and otherwise left alone: Telegram refuses an edit that changes nothing.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from html import escape

from telegram import InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, filters

from bot.buttons import STALE, Buttons
from bot.dialogue_view import pages
from bot.ops import OUTCOME
from bot.services import BotContext

NEW_MESSAGES = filters.UpdateType.MESSAGE


class _ReplyToOurPdf(filters.MessageFilter):
    """A photo or file sent in reply to a PDF the bot sent: perhaps a signed form coming back."""

    def filter(self, message: Message) -> bool:
        target = message.reply_to_message
        return bool(target and target.from_user and target.from_user.is_bot and target.document
                    and (target.document.file_name or "").endswith(".pdf") and (message.photo or message.document))


# a signed scan coming back (handlers/documents.py keeps it; it changes a case, so it wants the PIN)
SIGNED_SCAN = NEW_MESSAGES & _ReplyToOurPdf()


class StaleButton(Exception):
    """The pressed button no longer applies (done meanwhile, not the user's, not their role)."""


async def refuse_press(update: Update, context: BotContext, refusal: str = STALE, *, family: str = "?",
                       why: str = "unknown") -> None:
    """Refuse a press, and audit it: a forged button is worth knowing about."""
    OUTCOME.set("refused")
    context.services.metrics.stale_presses.inc()
    with contextlib.suppress(BadRequest):  # answered already (the handler had begun): nothing more to say there
        await update.callback_query.answer(context.t.plain(refusal), show_alert=True)
    if context.staff is not None:
        await context.services.store.aio.staff.refused_press(context.staff, family=family, why=why)


def press(buttons: Buttons, handler: Callable[..., Awaitable[None]]) -> BaseHandler:
    """Route a family's presses to `handler(update, context, *typed values)`."""

    async def on_press(update: Update, context: BotContext) -> None:
        values = buttons.parse(update.callback_query.data)
        if values is None:  # forged, or from a version with other buttons
            await refuse_press(update, context, buttons.refusal, family=buttons.prefix, why="unreadable")
            return
        try:
            await handler(update, context, *values)
        except StaleButton:  # done meanwhile, or not the user's to press
            await refuse_press(update, context, buttons.refusal, family=buttons.prefix, why="refused")
        except BadRequest as refusal:
            edit = _refused_edit(refusal)
            if edit is None:
                raise
            if edit == "gone":
                await refuse_press(update, context, buttons.refusal, family=buttons.prefix, why="gone")
            else:  # "same": the first press's change is on screen; this one only stops the spinner
                with contextlib.suppress(BadRequest):
                    await update.callback_query.answer()

    on_press.__doc__ = handler.__doc__
    return CallbackQueryHandler(on_press, pattern=buttons.pattern)


def _refused_edit(refusal: BadRequest) -> str | None:
    """Telegram's refusal of an edit of the pressed message: "same" (it already shows that),
    "gone" (deleted, or no longer editable); None for any other bad request (a fault of ours)."""
    said = refusal.message.lower()
    if "message is not modified" in said:
        return "same"
    if "message to edit not found" in said or "message can't be edited" in said:
        return "gone"
    return None


def command(name: str, handler: Callable[..., Awaitable[None]]) -> BaseHandler:
    """A command in a new message (an edited "/new" does not start a dialogue)."""
    return CommandHandler(name, handler, filters=NEW_MESSAGES)


async def send_pages(update: Update, lines: list[str], markup: InlineKeyboardMarkup | None = None) -> None:
    """A list however long, in messages Telegram takes (whole lines, in order), the buttons
    under the last."""
    shown = pages(lines)
    for page in shown[:-1]:
        await update.effective_message.reply_text(page)
    await update.effective_message.reply_text(shown[-1], reply_markup=markup)


async def reply(update: Update, text: str) -> None:
    """A short answer in plain text: a toast to a button press, a message to a command."""
    if update.callback_query:
        await update.callback_query.answer(text, show_alert=True)
    else:
        await update.effective_message.reply_text(escape(text))

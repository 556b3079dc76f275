"""How handler modules declare their routes: commands, and presses of one family of buttons.

A press whose data does not parse, or whose handler finds it stale (raises `StaleButton`), is
refused here, in one place, with the family's localised refusal. So is a press whose message
Telegram no longer lets the bot change (deleted meanwhile).

A double tap on a slow connection sends the same press twice, both before the first is
answered, and the second finds its work done: its edit changes nothing (Telegram refuses
that), or its button no longer applies (the dialogue is saved, the reminder done). Such a
second press is answered and otherwise left alone, without the pop-up "no longer valid" over
the first one's result: a case manager would take it for a failed save.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from datetime import timedelta
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


# a press repeating the last one carried out for the same person (same message, same button)
# within this time is a double tap: one person's presses are handled in turn, so the second of
# a double tap comes right after the first is done, whenever the connection delivered it. Short,
# so that a press repeated on purpose after something changed is still told why it no longer works
DOUBLE_TAP = timedelta(seconds=3)
_CARRIED_OUT = "presses carried out"  # bot_data: telegram id -> (message id, data, when)
_REMEMBERED_PEOPLE = 10_000  # (a bound, not a cache policy: past it, memory starts again)


def _which(update: Update) -> tuple[int | None, str | None]:
    """A press as a double tap repeats it: the message it is on, and its button's data."""
    query = update.callback_query
    return query.message.message_id if query.message else None, query.data


def _carried_out(update: Update, context: BotContext) -> None:
    carried = context.bot_data.setdefault(_CARRIED_OUT, {})
    if len(carried) >= _REMEMBERED_PEOPLE:
        carried.clear()
    carried[update.callback_query.from_user.id] = (*_which(update), context.services.store.clock.now())


def _tapped_again(update: Update, context: BotContext) -> bool:
    """Whether this press repeats the last one carried out for its sender, on the same message,
    within DOUBLE_TAP."""
    last = context.bot_data.get(_CARRIED_OUT, {}).get(update.callback_query.from_user.id)
    return (last is not None and last[:2] == _which(update)
            and context.services.store.clock.now() - last[2] < DOUBLE_TAP)


def press(buttons: Buttons, handler: Callable[..., Awaitable[None]]) -> BaseHandler:
    """Route a family's presses to `handler(update, context, *typed values)`."""

    async def on_press(update: Update, context: BotContext) -> None:
        values = buttons.parse(update.callback_query.data)
        if values is None:  # forged, or from a version with other buttons
            await refuse_press(update, context, buttons.refusal, family=buttons.prefix, why="unreadable")
            return
        try:
            await handler(update, context, *values)
            _carried_out(update, context)
        except StaleButton:  # done meanwhile, or not the user's to press
            if _tapped_again(update, context):  # done by the first of a double tap: nothing to say
                with contextlib.suppress(BadRequest):
                    await update.callback_query.answer()
                return
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

"""Chat hygiene: what carries personal data does not stay in the chat.

Telegram keeps a bot chat's history on the phone and on Telegram's servers, and it is not
end-to-end encrypted. So a case manager's typed answers are deleted once the bot has them (a bot
may delete incoming messages in private chats), and a message in which the bot showed names
and details is hidden again after a while (REVEAL_SECONDS), with a button to show it again.
A deletion that fails for a passing reason is tried again by the dispatcher; one that Telegram
refuses (the message is gone, or older than 48 hours) is given up without an error.
"""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta

from telegram import InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest, Forbidden, NetworkError

from bot.services import BotContext
from domain.reminders import ReminderKind

log = logging.getLogger("casebot.hygiene")


async def forget_typed(update: Update, context: BotContext, message: Message | None = None) -> bool:
    """Delete the message the user typed (it is stored, or was refused and is typed again), or
    `message` of theirs (a scan quoted by the bot's answer that was pressed).
    False when it stays in the chat (too old for the bot to delete)."""
    message = message or update.effective_message
    if message is None or update.effective_chat is None or update.effective_chat.type != "private":
        return False
    try:
        await context.bot.delete_message(update.effective_chat.id, message.message_id)
    except (BadRequest, Forbidden):
        return False  # already gone, or too old: nothing to do
    except NetworkError:  # tried again in a minute, by the dispatcher
        staff, store = context.staff, context.services.store
        await store.aio.outbox.schedule_for(org_id=staff.org_id, user_id=staff.id, kind=ReminderKind.DELETE_MESSAGE,
                                            ref_id=message.message_id, due_at=store.clock.now() + timedelta(minutes=1))
    return True


async def hide_later(context: BotContext, message_id: int, code: str) -> None:
    """The message now shows names and details: hide it again after REVEAL_SECONDS."""
    services, staff = context.services, context.staff
    store = services.store
    await store.aio.outbox.schedule_for(
        org_id=staff.org_id, user_id=staff.id, kind=ReminderKind.REVEAL_EXPIRY, ref_id=message_id,
        due_at=store.clock.now() + timedelta(seconds=services.settings.reveal_seconds),
        # the case code rides in the key (a code is no personal data); the nonce keeps a second
        # reveal of the same message apart from the first
        key=f"{ReminderKind.REVEAL_EXPIRY}:{message_id}:{code}:{secrets.token_hex(4)}")


async def remember(context: BotContext, code: str, message_id: int) -> None:
    """A message about the case: an erasure of the case deletes it (while Telegram lets it)."""
    await context.services.store.aio.erasure.remember_message(context.staff, code, message_id)


async def show_about(update: Update, context: BotContext, code: str, text: str, markup: InlineKeyboardMarkup, *,
                     edit: bool) -> None:
    """A message about a case, from a press or a command: paging and filtering change the
    pressed message in place (no scrolling on a phone); anything else is a new message, which an
    erasure of the case deletes."""
    query = update.callback_query
    if query:
        await query.answer()
    if query and edit:
        await query.edit_message_text(text, reply_markup=markup)
    else:
        message = await update.effective_chat.send_message(text, reply_markup=markup)
        await remember(context, code, message.message_id)


async def shown_again(context: BotContext, message_id: int) -> None:
    """Hidden by the user (or shown anew): the pending hiding of that message is not needed."""
    await context.services.store.aio.outbox.cancel_for(user_id=context.staff.id, kind=ReminderKind.REVEAL_EXPIRY,
                                                       ref_id=message_id)

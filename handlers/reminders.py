"""A reminder's own buttons: snooze it to the next working morning, or mark it done."""

from __future__ import annotations

from telegram import Update

from bot.buttons import REMINDER
from bot.i18n import N_
from bot.routes import StaleButton, press
from bot.services import BotContext
from domain.calendar import snooze_until
from domain.vocabulary import OutboxState


async def on_button(update: Update, context: BotContext, row_id: int, action: str) -> None:
    """Snooze ("z") or done ("d"), only on the user's own reminder."""
    query, t, services = update.callback_query, context.t, context.services
    store = services.store
    row = await store.aio.outbox.get(row_id)
    if row is None or row.user_id != context.staff.id or row.state not in (OutboxState.SENT, OutboxState.DUE):
        raise StaleButton
    if action == "z":
        until = snooze_until(store.clock.now(), services.working_hours)
        await store.aio.outbox.postpone(row.id, until)
        await query.answer(t.plain(N_("I will remind you again on {date}."), date=t.datetime(until)))
    else:
        await store.aio.outbox.finish(row.id, state=OutboxState.DONE)
        await query.answer(t.plain(N_("Marked as done.")))
    await query.edit_message_reply_markup(reply_markup=None)


ROUTES = (press(REMINDER, on_button),)

"""A reminder's own buttons: snooze it to tomorrow morning, or mark it done."""

from __future__ import annotations

from datetime import timedelta

from telegram import Update

from bot.callbacks import unpack
from bot.i18n import N_
from bot.services import BotContext


async def on_button(update: Update, context: BotContext) -> None:
    query, t, services = update.callback_query, context.t, context.services
    parts = unpack(query.data, "o", 2)
    store = services.store
    row = store.outbox.get(int(parts[0])) if parts and parts[0].isdigit() and parts[1] in ("z", "d") else None
    if row is None or row.user_id != context.staff.id or row.state not in ("sent", "due"):
        await query.answer(t.plain(N_("This button is no longer valid.")), show_alert=True)
        return
    if parts[1] == "z":
        until = services.working_hours.next_delivery(store.clock.now() + timedelta(days=1))
        until = services.working_hours.local(until.astimezone(services.settings.tz).date(), services.working_hours.start)
        store.outbox.postpone(row.id, until)
        await query.answer(t.plain(N_("I will remind you again on {date}."), date=t.datetime(until)))
    else:
        store.outbox.finish(row.id, state="done")
        await query.answer(t.plain(N_("Marked as done.")))
    await query.edit_message_reply_markup(reply_markup=None)

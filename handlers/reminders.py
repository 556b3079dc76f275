"""A reminder's own buttons: snooze it to the next working morning, or mark it done."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.buttons import REMINDER
from bot.i18n import N_
from bot.routes import StaleButton, press
from bot.services import BotContext
from domain.calendar import snooze_until
from domain.reminders import CASE_REMINDERS
from domain.vocabulary import OutboxState


async def on_button(update: Update, context: BotContext, row_id: int, action: str) -> None:
    """Snooze ("z"), all of a gathered message ("Z"), or done ("d"), only on the user's own."""
    query, t, services = update.callback_query, context.t, context.services
    store = services.store
    row = await store.aio.outbox.get(row_id)
    if row is None or row.user_id != context.staff.id:
        raise StaleButton
    until = snooze_until(store.clock.now(), services.working_hours)
    if action == "Z":  # the row only names the message: its own item may be done already
        for other in _reminders_on(query.message.reply_markup):
            each = await store.aio.outbox.get(other)
            if each is not None and each.user_id == context.staff.id and each.state in (OutboxState.SENT, OutboxState.DUE):
                await store.aio.outbox.postpone(each.id, until)
        await query.answer(t.plain(N_("I will remind you again on {date}."), date=t.datetime(until)))
        await query.edit_message_reply_markup(reply_markup=None)
        return
    if row.state not in (OutboxState.SENT, OutboxState.DUE):
        raise StaleButton
    if action == "z":
        await store.aio.outbox.postpone(row.id, until)
        await query.answer(t.plain(N_("I will remind you again on {date}."), date=t.datetime(until)))
    else:
        # a reminder about a case's own dates is done when the case file says so (the assessment,
        # the goal's outcome or a contact recorded), not when the button is pressed
        still_due = row.kind in CASE_REMINDERS and await store.aio.casework.reminder_subject(
            row.kind, row.ref_id, row.user_id, row.dedupe_key) is not None
        if still_due:
            await query.answer(t.plain(N_(
                "Not done yet: the case file still shows it as due. Record it there (assessment, goal outcome "
                "or contact) and it is done; until then I remind you once a week.")), show_alert=True)
            return
        await store.aio.outbox.finish(row.id, state=OutboxState.DONE)
        await query.answer(t.plain(N_("Marked as done.")))
    await query.edit_message_reply_markup(reply_markup=_without(query.message.reply_markup, row.id))


def _reminders_on(markup: InlineKeyboardMarkup | None) -> list[int]:
    """The outbox rows whose buttons a message carries."""
    found = []
    for line in markup.inline_keyboard if markup else ():
        for button in line:
            parsed = REMINDER.parse(button.callback_data)
            if parsed and parsed[0] not in found:
                found.append(parsed[0])
    return found


def _without(markup: InlineKeyboardMarkup | None, row_id: int) -> InlineKeyboardMarkup | None:
    """The keyboard without the line of this reminder's buttons; none at all when no reminder
    is left on it (a single reminder loses its buttons, a gathered one only that line)."""
    if markup is None:
        return None

    def of_this_row(button: InlineKeyboardButton) -> bool:
        parsed = REMINDER.parse(button.callback_data)
        return parsed is not None and parsed[0] == row_id and parsed[1] != "Z"

    lines = [line for line in markup.inline_keyboard if not any(of_this_row(b) for b in line)]
    others = [b for line in lines for b in line if (REMINDER.parse(b.callback_data) or ("", ""))[1] == "d"]
    return InlineKeyboardMarkup(lines) if others else None


ROUTES = (press(REMINDER, on_button),)

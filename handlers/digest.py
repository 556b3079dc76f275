"""/digest: the coordinators' digest on demand, and how often it comes by itself."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot import digest
from bot.callbacks import pack, unpack
from bot.i18n import N_
from bot.services import BotContext
from storage.types import Role

FREQUENCIES = (("daily", N_("daily")), ("weekly", N_("weekly (Mondays)")), ("off", N_("off")))
HOURS = (7, 8, 9, 12)


def _settings_keyboard(t, frequency: str, hour: int) -> InlineKeyboardMarkup:  # noqa: ANN001
    mark = lambda on: "• " if on else ""  # noqa: E731
    return InlineKeyboardMarkup([
        [InlineKeyboardButton(mark(key == frequency) + t.plain(label), callback_data=pack("d", "f", key))
         for key, label in FREQUENCIES],
        [InlineKeyboardButton(mark(h == hour) + f"{h:02d}:00", callback_data=pack("d", "h", h)) for h in HOURS],
    ])


async def show(update: Update, context: BotContext) -> None:
    """The digest of the last seven days, now; then the choice of how often it comes."""
    t, services, staff = context.t, context.services, context.staff
    if staff.role is not Role.COORDINATOR:
        await update.effective_message.reply_text(t.gettext(N_("The digest is for coordinators.")))
        return
    result = digest.build(services, staff.org_id, t, days=7)
    await update.effective_message.reply_text(result.text)
    await update.effective_chat.send_photo(result.chart)
    frequency, hour = services.store.staff.digest_preferences(staff.id)
    await update.effective_chat.send_message(t.gettext(N_("The digest comes by itself:")),
                                             reply_markup=_settings_keyboard(t, frequency, hour))


async def on_button(update: Update, context: BotContext) -> None:
    query, t, store = update.callback_query, context.t, context.services.store
    parts = unpack(query.data, "d", 2)
    valid = parts is not None and context.staff.role is Role.COORDINATOR and (
        (parts[0] == "f" and parts[1] in {k for k, _ in FREQUENCIES}) or (parts[0] == "h" and parts[1] in map(str, HOURS)))
    if not valid:
        await query.answer(t.plain(N_("This button is no longer valid.")), show_alert=True)
        return
    frequency, hour = store.staff.digest_preferences(context.staff.id)
    frequency, hour = (parts[1], hour) if parts[0] == "f" else (frequency, int(parts[1]))
    store.staff.set_digest_preferences(context.staff.id, frequency=frequency, hour=hour)
    await query.answer(t.plain(N_("Saved.")))
    await query.edit_message_reply_markup(_settings_keyboard(t, frequency, hour))

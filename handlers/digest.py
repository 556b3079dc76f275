"""/digest: the coordinators' digest on demand, and how often it comes by itself."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot import digest
from bot.buttons import DIGEST
from bot.i18n import N_
from bot.routes import StaleButton, command, press
from bot.services import BotContext
from domain import roles

FREQUENCIES = (("daily", N_("daily")), ("weekly", N_("weekly (Mondays)")), ("off", N_("off")))
HOURS = (7, 8, 9, 12)


def _settings_keyboard(t, frequency: str, hour: int) -> InlineKeyboardMarkup:  # noqa: ANN001
    mark = lambda on: "• " if on else ""  # noqa: E731
    return InlineKeyboardMarkup([
        [InlineKeyboardButton(mark(key == frequency) + t.plain(label), callback_data=DIGEST.data("f", key))
         for key, label in FREQUENCIES],
        [InlineKeyboardButton(mark(h == hour) + f"{h:02d}:00", callback_data=DIGEST.data("h", h)) for h in HOURS],
    ])


async def show(update: Update, context: BotContext) -> None:
    """The digest of the last seven days, now; then the choice of how often it comes."""
    t, services, staff = context.t, context.services, context.staff
    if not staff.may(roles.reads_digest):
        await update.effective_message.reply_text(t.gettext(N_("The digest is for coordinators.")))
        return
    result = await services.store.run(digest.build, services, staff.org_id, t, days=7)  # queries and a chart
    await update.effective_message.reply_text(result.text)
    await update.effective_chat.send_photo(result.chart)
    frequency, hour = await services.store.aio.staff.digest_preferences(staff.id)
    await update.effective_chat.send_message(t.gettext(N_("The digest comes by itself:")),
                                             reply_markup=_settings_keyboard(t, frequency, hour))


async def on_button(update: Update, context: BotContext, setting: str, value: str) -> None:
    """How often the digest comes, and at what hour."""
    query, t, store = update.callback_query, context.t, context.services.store
    valid = context.staff.may(roles.reads_digest) and (
        (setting == "f" and value in {k for k, _ in FREQUENCIES}) or (setting == "h" and value in map(str, HOURS)))
    if not valid:
        raise StaleButton
    frequency, hour = await store.aio.staff.digest_preferences(context.staff.id)
    frequency, hour = (value, hour) if setting == "f" else (frequency, int(value))
    await store.aio.staff.set_digest_preferences(context.staff.id, frequency=frequency, hour=hour)
    await query.answer(t.plain(N_("Saved.")))
    await query.edit_message_reply_markup(_settings_keyboard(t, frequency, hour))


ROUTES = (command("digest", show), press(DIGEST, on_button))

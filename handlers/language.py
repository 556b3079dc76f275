"""/language: choose the language of the bot."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.buttons import LANGUAGE
from bot.i18n import N_
from bot.routes import StaleButton, command, press
from bot.services import BotContext


async def choose(update: Update, context: BotContext) -> None:
    """Offer the languages the organisation offers, each named in its own language."""
    catalogs, org = context.services.catalogs, context.staff.org_id
    buttons = [
        InlineKeyboardButton(("✓ " if code == context.t.language else "") + catalogs.get(code, org).language_name(code),
                             callback_data=LANGUAGE.data(code))
        for code in catalogs.offered(org)
    ]
    await update.effective_message.reply_text(
        context.t.gettext(N_("Which language should I use?")),
        reply_markup=InlineKeyboardMarkup([buttons[i : i + 2] for i in range(0, len(buttons), 2)]),
    )


async def on_button(update: Update, context: BotContext, language: str) -> None:
    """A language chosen: from now on everything comes in it."""
    query, services = update.callback_query, context.services
    if language not in services.catalogs.offered(context.staff.org_id):
        raise StaleButton
    await services.store.aio.staff.set_language(context.staff.id, language)
    context.t = services.catalogs.get(language, context.staff.org_id)
    await query.answer()
    await query.edit_message_text(context.t.gettext(N_("From now on I write in {language}."),
                                                     language=context.t.language_name(language)))


ROUTES = (command("language", choose), press(LANGUAGE, on_button))

"""/language: choose the language of the bot."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.callbacks import pack, unpack
from bot.i18n import N_
from bot.services import BotContext

PREFIX = "l"


async def choose(update: Update, context: BotContext) -> None:
    """Offer the shipped languages, each named in its own language."""
    catalogs = context.services.catalogs
    buttons = [
        InlineKeyboardButton(("✓ " if code == context.t.language else "") + catalogs.get(code).language_name(code),
                             callback_data=pack(PREFIX, code))
        for code in catalogs.languages
    ]
    await update.effective_message.reply_text(
        context.t.gettext(N_("Which language should I use?")),
        reply_markup=InlineKeyboardMarkup([buttons[i : i + 2] for i in range(0, len(buttons), 2)]),
    )


async def on_button(update: Update, context: BotContext) -> None:
    query, services = update.callback_query, context.services
    parts = unpack(query.data, PREFIX, 1)
    if parts is None or parts[0] not in services.catalogs.languages:
        await query.answer(context.t.plain(N_("This button is no longer valid.")), show_alert=True)
        return
    services.store.staff.set_language(context.staff.id, parts[0])
    context.t = services.catalogs.get(parts[0])
    await query.answer()
    await query.edit_message_text(context.t.gettext(N_("From now on I write in {language}."),
                                                     language=context.t.language_name(parts[0])))

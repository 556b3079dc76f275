"""/invite: an admin invites a colleague with a one-time code, straight from the chat."""

from __future__ import annotations

from datetime import timedelta

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.callbacks import pack, unpack
from bot.i18n import N_
from bot.services import BotContext
from handlers.start import ROLE_NAMES
from storage.types import Role

PREFIX = "i"
INVITATION_DAYS = 7
_ASK_DISTRICT = "?"
_NO_DISTRICT = "-"


def invitation_link(bot_username: str, code: str) -> str:
    return f"https://t.me/{bot_username}?start={code}"


async def invite(update: Update, context: BotContext) -> None:
    """Offer the roles to invite."""
    t = context.t
    if context.staff.role is not Role.ADMIN:
        await update.effective_message.reply_text(t.gettext(N_("Only admins can invite.")))
        return
    buttons = [[InlineKeyboardButton(t.plain(name), callback_data=pack(PREFIX, role.value, _ASK_DISTRICT))]
               for role, name in ROLE_NAMES.items()]
    await update.effective_message.reply_text(t.gettext(N_("Whom do you want to invite?")),
                                              reply_markup=InlineKeyboardMarkup(buttons))


async def on_button(update: Update, context: BotContext) -> None:
    """Role chosen: ask the district (case managers) or make the code."""
    query, services, t, staff = update.callback_query, context.services, context.t, context.staff
    parts = unpack(query.data, PREFIX, 2)
    roles = {r.value for r in Role}
    if staff.role is not Role.ADMIN or parts is None or parts[0] not in roles:
        await query.answer(t.plain(N_("This button is no longer valid.")), show_alert=True)
        return
    role, district = Role(parts[0]), parts[1]
    districts = {str(d.id): d for d in services.store.staff.districts(staff.org_id)}
    if district == _ASK_DISTRICT and role is Role.CASE_MANAGER:
        await query.answer()
        buttons = [[InlineKeyboardButton(d.name, callback_data=pack(PREFIX, role.value, d.id))] for d in districts.values()]
        await query.edit_message_text(t.gettext(N_("For which district?")), reply_markup=InlineKeyboardMarkup(buttons))
        return
    if district not in districts and district not in (_ASK_DISTRICT, _NO_DISTRICT):
        await query.answer(t.plain(N_("This button is no longer valid.")), show_alert=True)
        return
    code = services.store.staff.create_invitation(
        org_id=staff.org_id, role=role, district_id=int(district) if district in districts else None,
        expires_in=timedelta(days=INVITATION_DAYS), created_by=staff.id,
    )
    await query.answer()
    await query.edit_message_text(t.gettext(
        N_("One-time invitation for a {role}, valid for {days} days:\n<code>{code}</code>\n{link}\n"
           "Pass it on personally; whoever opens the link first is registered."),
        role=t.plain(ROLE_NAMES[role]), days=INVITATION_DAYS, code=code,
        link=invitation_link(context.bot.username, code),
    ))

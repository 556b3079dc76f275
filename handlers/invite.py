"""/invite: an admin invites a colleague with a one-time code, straight from the chat."""

from __future__ import annotations

from datetime import timedelta

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.buttons import INVITE
from bot.i18n import N_
from bot.invitations import INVITATION_DAYS, invitation_link
from bot.routes import StaleButton, command, press
from bot.services import BotContext
from domain import roles
from domain.roles import Role

_ASK_DISTRICT = "?"
_NO_DISTRICT = "-"


async def invite(update: Update, context: BotContext) -> None:
    """Offer the roles to invite."""
    t = context.t
    if not context.staff.may(roles.manages_users):
        await update.effective_message.reply_text(t.gettext(N_("Only admins can invite.")))
        return
    buttons = [[InlineKeyboardButton(t.plain(role.label), callback_data=INVITE.data(role.value, _ASK_DISTRICT))]
               for role in Role]
    await update.effective_message.reply_text(t.gettext(N_("Whom do you want to invite?")),
                                              reply_markup=InlineKeyboardMarkup(buttons))


async def on_button(update: Update, context: BotContext, role_value: str, district: str) -> None:
    """Role chosen: ask the district (case managers) or make the code."""
    query, services, t, staff = update.callback_query, context.services, context.t, context.staff
    role = next((r for r in Role if r.value == role_value), None)
    if not staff.may(roles.manages_users) or role is None:
        raise StaleButton
    districts = {str(d.id): d for d in await services.store.aio.staff.districts(staff.org_id)}
    if district == _ASK_DISTRICT and roles.needs_district(role):
        await query.answer()
        buttons = [[InlineKeyboardButton(d.name, callback_data=INVITE.data(role.value, d.id))] for d in districts.values()]
        await query.edit_message_text(t.gettext(N_("For which district?")), reply_markup=InlineKeyboardMarkup(buttons))
        return
    if district not in districts and district not in (_ASK_DISTRICT, _NO_DISTRICT):
        raise StaleButton
    code = await services.store.aio.staff.create_invitation(
        org_id=staff.org_id, role=role, district_id=int(district) if district in districts else None,
        expires_in=timedelta(days=INVITATION_DAYS), created_by=staff.id,
    )
    await query.answer()
    await query.edit_message_text(t.gettext(
        N_("One-time invitation for a {role}, valid for {days} days:\n<code>{code}</code>\n{link}\n"
           "Pass it on personally; whoever opens the link first is registered."),
        role=t.plain(role.label), days=INVITATION_DAYS, code=code,
        link=invitation_link(context.bot.username, code),
    ))


ROUTES = (command("invite", invite), press(INVITE, on_button))

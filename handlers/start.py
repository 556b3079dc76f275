"""Registration with an invitation (/start <code>) and the overview (/help)."""

from __future__ import annotations

from dataclasses import replace

from telegram import Update

from bot.commands import commands_for
from bot.i18n import N_
from bot.routes import command
from bot.services import BotContext
from domain import roles
from handlers.dialogue import explain_current
from storage.types import InvitationProblem

_INVITATION_PROBLEMS = {
    "unknown": N_("This invitation code is not valid. Please ask your admin for a new one."),
    "used": N_("This invitation has already been used. Please ask your admin for a new one."),
    "expired": N_("This invitation has expired. Please ask your admin for a new one."),
}


async def start(update: Update, context: BotContext) -> None:
    """/start <code> registers with an invitation; /start alone greets a registered user."""
    services, t = context.services, context.t
    if context.staff is not None:
        await help_command(update, context)
        return
    code = context.args[0] if context.args else ""
    if not code or len(code) > 64:
        await update.effective_message.reply_text(
            t.gettext(N_("This assistant is only for invited staff of the KIM case management.")))
        return
    language = services.language_for(None, update.effective_user)
    sender = update.effective_user.id
    try:
        if not services.gate.may_try_invitation(sender):
            raise InvitationProblem("locked")  # too many wrong codes: answered like a wrong one
        staff = await services.store.aio.staff.redeem_invitation(code=code, telegram_id=sender, language=language,
                                                       display_name=update.effective_user.full_name)
    except InvitationProblem as problem:
        if problem.reason in ("unknown", "locked"):
            services.gate.wrong_invitation(sender)
        await services.store.aio.staff.refuse_invitation(telegram_id=sender, reason=problem.reason, org_id=problem.org_id)
        await update.effective_message.reply_text(t.gettext(_INVITATION_PROBLEMS.get(problem.reason,
                                                                                     _INVITATION_PROBLEMS["unknown"])))
        return
    services.gate.is_staff(sender)
    services.store.act_for(staff.org_id)
    # a language the organisation added (an upload of its admins) counts as well as the shipped ones
    own = services.language_for(replace(staff, language=None), update.effective_user)
    if own != staff.language:
        await services.store.aio.staff.set_language(staff.id, own)
        staff = replace(staff, language=own)
    context.staff = staff
    t = context.t = services.translator(staff, update.effective_user)
    services.menus.publish_soon(context.bot, staff, t)  # their role's menu
    await update.effective_message.reply_text(t.gettext(
        N_("Welcome! You are registered as {role}."), role=t.plain(staff.role.label)))
    if context.services.settings.pin_required:
        await update.effective_chat.send_message(t.gettext(
            N_("Now set your PIN: /pin and 4 to 8 digits. It protects names and changes if your phone is lost.")))
    await help_command(update, context)


async def help_command(update: Update, context: BotContext) -> None:
    """/help: the commands of this user's role; inside a dialogue, how to answer the current
    question (and the question again)."""
    if await explain_current(update, context):
        return
    t, role = context.t, context.staff.role
    text = context.services.renderer.render(
        "help.j2", t, role_label=t.plain(role.label), case_worker=roles.sees_case_content(role),
        commands=[(name, t.plain(description)) for name, description in commands_for(role)])
    await update.effective_message.reply_text(text)


ROUTES = (command("start", start), command("help", help_command))

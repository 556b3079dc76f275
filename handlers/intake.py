"""/new: record a new client (intake)."""

from __future__ import annotations

from telegram import Update

from bot.i18n import N_
from bot.routes import command
from bot.services import BotContext
from domain import roles
from handlers.dialogue import begin


async def new_case(update: Update, context: BotContext) -> None:
    """Start the intake dialogue."""
    if not context.staff.may(roles.records_cases):
        await update.effective_message.reply_text(
            context.t.gettext(N_("Only case managers and coordinators record cases.")))
        return
    await begin(update, context, "intake")


ROUTES = (command("new", new_case),)

"""/pin, /unlock, /lock: the PIN on top of Telegram. The message with the PIN is deleted at once."""

from __future__ import annotations

from telegram import Update

from bot.hygiene import forget_typed
from bot.i18n import N_
from bot.routes import command
from bot.services import BotContext
from storage.types import NotAllowed


def _digits(context: BotContext) -> str:
    return context.args[0] if context.args else ""


async def set_pin(update: Update, context: BotContext) -> None:
    """/pin 4711: the first PIN, or a new one while the last entry still counts."""
    t, pin = context.t, context.services.store.aio.pin
    await forget_typed(update, context)
    try:
        await pin.set_pin(context.staff, _digits(context))
    except ValueError:
        await update.effective_chat.send_message(t.gettext(N_("A PIN is 4 to 8 digits: /pin 4711")))
        return
    except NotAllowed:
        await update.effective_chat.send_message(t.gettext(N_("Confirm your current PIN first (/unlock), then set a new one.")))
        return
    await update.effective_chat.send_message(t.gettext(
        N_("PIN set. It is asked for again after {minutes} minutes without use, or after /lock."),
        minutes=context.services.settings.pin_idle_minutes))


async def unlock(update: Update, context: BotContext) -> None:
    """/unlock 4711: the PIN, for names, copies and changes during the next idle time."""
    t, services = context.t, context.services
    await forget_typed(update, context)
    outcome = await services.store.aio.pin.unlock(context.staff, _digits(context))
    if outcome.ok:
        text = t.gettext(N_("Unlocked. Press the button again."))
    elif outcome.locked:
        text = t.gettext(N_("Too many wrong PINs: your account is locked. An admin can unlock it."))
    else:
        text = t.gettext(N_("Wrong PIN. Tries left: {left}."), left=outcome.left)
    await update.effective_chat.send_message(text)


async def lock(update: Update, context: BotContext) -> None:
    """/lock: before the phone leaves your hand."""
    await context.services.store.aio.pin.lock(context.staff)
    await update.effective_chat.send_message(context.t.gettext(N_("Locked. /unlock and your PIN open it again.")))


ROUTES = (
    command("pin", set_pin),
    command("unlock", unlock),
    command("lock", lock),
)

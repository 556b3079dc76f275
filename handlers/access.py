"""Who is writing: runs before every handler. Strangers get one short refusal and nothing is
stored about them; group chats are ignored (case talk belongs in private chats only)."""

from __future__ import annotations

import logging

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, MessageEntity, Update
from telegram.constants import ChatType
from telegram.ext import ApplicationHandlerStop, TypeHandler

from bot.buttons import HELD_SCAN
from bot.hygiene import forget_typed
from bot.i18n import N_, Translator
from bot.ops import OUTCOME
from bot.routes import SIGNED_SCAN
from bot.services import BotContext
from handlers.dialogue import show_current
from handlers.errors import SORRY
from storage.types import NOT_REMEMBERED

log = logging.getLogger("casebot.access")

# what a stranger may do: redeem an invitation
_OPEN_COMMANDS = ("/start",)
# what may interrupt an open dialogue without ending it (a save may ask for the PIN mid-dialogue)
# /new offers to continue the open dialogue or discard it (handlers/dialogue.py)
DIALOGUE_COMMANDS = ("/help", "/cancel", "/start", "/pin", "/unlock", "/lock", "/new")
# presses that reveal names or details, copy a case, or change something (button families of
# bot/buttons.py): they ask for the PIN when it was not entered within the idle time
PROTECTED_FAMILIES = frozenset({"e", "g", "r", "h", "x", "Q", "E", "u", "P", "A", "M", "Y", "S"})
PROTECTED_CASE_ACTIONS = frozenset({"reopen", "erase", "hold", "release", "export", "reassign"})
PROTECTED_COMMANDS = frozenset({"/reopen"})


def _command(update: Update) -> str | None:
    """The command a message starts with, as python-telegram-bot's CommandHandler sees one: a
    bot_command entity at its start ("/start" typed without one reaches the text handlers, so
    it must not count as a command here either: a stranger would get past the door)."""
    message = update.effective_message
    first = message.entities[0] if message and message.text and message.entities else None
    if first is None or first.type != MessageEntity.BOT_COMMAND or first.offset != 0:
        return None
    return message.parse_entity(first).split("@")[0].lower()  # (entity offsets count UTF-16 units)


async def identify(update: Update, context: BotContext) -> None:
    """Set `context.staff` and `context.t`; stop the update here if it is not for us."""
    chat = update.effective_chat
    if update.effective_user is None or chat is None or chat.type != ChatType.PRIVATE:
        raise ApplicationHandlerStop
    services = context.services
    services.store.act_for(None)  # nobody's organisation until the sender is known
    try:
        staff = _who_from_memory(services, update)
        if staff is NOT_REMEMBERED:
            staff = await services.store.run(_who, services, update)
    except Exception as failure:  # noqa: BLE001 - fail closed: nobody counts as identified
        log.warning("identifying the sender failed: %s", type(failure).__name__)
        OUTCOME.set("error")
        context.t = services.translator(None, update.effective_user)
        await _answer(update, context.t.plain(SORRY))
        raise ApplicationHandlerStop from None
    if staff is not None and staff.org_disabled:
        OUTCOME.set("refused")
        context.t = services.translator(staff, update.effective_user)
        await _answer(update, context.t.plain(N_("Your organisation's access to this assistant is switched off. "
                                                 "Please ask your coordinator or your IT department.")))
        raise ApplicationHandlerStop
    context.staff = staff
    context.t = services.translator(staff, update.effective_user)
    if staff is not None:
        # from here on this update reads and writes only its sender's organisation (storage/tenancy.py)
        services.store.act_for(staff.org_id)
        services.gate.is_staff(update.effective_user.id)
        if services.menus.wanted(staff, context.t.language):  # their role's commands, in their language
            services.menus.publish_soon(context.bot, staff, context.t)
    else:
        services.gate.is_not_staff(update.effective_user.id)
    if staff is not None or (update.message is not None and _command(update) in _OPEN_COMMANDS):
        return
    OUTCOME.set("refused")
    await _answer(update, context.t.plain(N_("This assistant is only for invited staff of the KIM case management.")))
    raise ApplicationHandlerStop


def _who_from_memory(services, update: Update):  # noqa: ANN001, ANN202
    """Who is writing, when memory knows it and no look at the languages is due: no visit to a
    worker thread at all (the common case: a colleague's next step)."""
    if services.catalogs.refresh_due():
        return NOT_REMEMBERED
    return services.store.staff.remembered(update.effective_user.id)


def _who(services, update: Update):  # noqa: ANN001, ANN202
    """Who is writing, and whether a language changed on another instance: one visit to a
    worker thread. The staff record comes from memory when it can. (A repeated delivery of an
    update never gets here: the inbox recognises it at the door.)"""
    services.catalogs.refresh()  # a language uploaded on another instance is live here too
    staff = services.store.staff.remembered(update.effective_user.id)
    if staff is NOT_REMEMBERED:
        staff = services.store.staff.user_by_telegram_id(update.effective_user.id)
    return staff


async def _answer(update: Update, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
    """Say why nothing happens; if that fails too, the update still stops here (no handler
    runs for someone who is not identified). `markup`: buttons under the answer to a message,
    which then quotes it (Telegram hands the quoted message back with a press)."""
    try:
        if update.callback_query:
            await update.callback_query.answer(text, show_alert=True)
        elif update.effective_message:
            await update.effective_message.reply_text(text, **({"do_quote": True, "reply_markup": markup} if markup else {}))
    except Exception as failure:  # noqa: BLE001
        log.warning("could not answer an update stopped at the door: %s", type(failure).__name__)


async def guard_dialogue(update: Update, context: BotContext) -> None:
    """A command in the middle of a dialogue does not silently drop the answers given so far."""
    command = _command(update)
    if context.staff is None or command is None or command in DIALOGUE_COMMANDS:
        return
    if not await context.services.store.aio.dialogues.is_open(context.staff.id):
        return
    await update.effective_message.reply_text(
        context.t.gettext(N_("A dialogue is open. Answer the question below, or /cancel to stop it."))
    )
    await show_current(update, context)
    raise ApplicationHandlerStop


def protected(update: Update) -> bool:
    """Whether the update reveals, copies or changes case data (and so wants a fresh PIN)."""
    if update.callback_query is None:  # (a signed scan coming back is kept with a case)
        return _command(update) in PROTECTED_COMMANDS or bool(SIGNED_SCAN.check_update(update))
    family, _, rest = (update.callback_query.data or "").partition("|")
    parts = rest.split("|")
    if family == "c":  # the case list and view: only "show names and details"
        return parts[0] == "r"
    if family == "k":
        return parts[0] in PROTECTED_CASE_ACTIONS
    if family == "f":  # a dialogue: only its saving
        return len(parts) > 2 and parts[2] == "k"
    return family in PROTECTED_FAMILIES


async def guard_pin(update: Update, context: BotContext) -> None:
    """A lost phone with an open Telegram session shows nothing: a locked account does nothing
    but read /help, and protected presses ask for the PIN after the idle time."""
    staff, t, services = context.staff, context.t, context.services
    if staff is None or not services.settings.pin_required:
        return
    command = _command(update)
    if staff.pin_locked and command != "/help":
        if command in ("/pin", "/unlock"):
            await forget_typed(update, context)  # a PIN typed into a locked account leaves the chat too
        await _answer(update, t.plain(N_("Your account is locked after too many wrong PINs. An admin can unlock it.")))
        raise ApplicationHandlerStop
    if not protected(update):
        return
    state = await services.store.aio.pin.admit(staff.id)
    if state == "open":
        return
    scan = SIGNED_SCAN.check_update(update)
    await _answer(update, t.plain(
        N_("First set a PIN: send /pin and 4 to 8 digits, for example /pin 4711. The message is deleted at once.")
        if state == "none" else
        N_("🔒 Please confirm it is you: send /unlock and your PIN, then press “Keep this scan”.") if scan else
        N_("🔒 Please confirm it is you: send /unlock and your PIN, then press again.")),
        _keep_scan(update, t) if scan else None)
    raise ApplicationHandlerStop


def _keep_scan(update: Update, t: Translator) -> InlineKeyboardMarkup:
    """A signed scan while the PIN is due is not stored: the answer quotes it with a button that
    keeps it once the PIN is confirmed (handlers/documents.py), so it need not be sent again.
    Telegram hands the quoted scan back with the press: nothing is held here."""
    document = update.effective_message.reply_to_message.message_id
    return InlineKeyboardMarkup([[InlineKeyboardButton(t.plain(N_("📎 Keep this scan")),
                                                       callback_data=HELD_SCAN.data(document))]])


# (handler, group): who is writing (group -3), whether a PIN is wanted (group -2), then whether an
# open dialogue is being interrupted (group -1); each may stop the update before group 0.
GUARDS = ((TypeHandler(Update, identify), -3), (TypeHandler(Update, guard_pin), -2),
          (TypeHandler(Update, guard_dialogue), -1))

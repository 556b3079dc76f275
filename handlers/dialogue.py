"""Drives any declared form through the chat: questions, answers, buttons, summary, save.

Every answered step is committed to the database before the next question is sent, so a
restart (or another instance) continues where the dialogue stood.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from collections.abc import Callable
from typing import Any

from telegram import Update
from telegram.error import BadRequest

from bot import dialogue_view
from bot.callbacks import unpack
from bot.completion import _completers
from bot.forms import engine
from bot.forms.registry import FORMS, PROMPT_PARAMS
from bot.forms.engine import Form, FormContext, Invalid, Kind, Stopped
from bot.i18n import N_
from bot.services import BotContext
from storage.types import CaseClosed, DialogueSnapshot, DuplicatePerson, NotAllowed, StaleDialogue

State = dict[str, Any]


async def begin(update: Update, context: BotContext, form_name: str, **about: object) -> None:
    """Open a new dialogue with the form and ask its first question. `about` says what it is
    about (case=code, referral=id) and stays in the dialogue's state."""
    services, staff = context.services, context.staff
    form = FORMS[form_name]
    state = {"context": about, "answers": {}}
    ctx = services.form_context(staff, form, state)
    snapshot = services.store.dialogues.start(
        user_id=staff.id, form=form_name, state=engine.new_state(form, ctx, about), update_id=update.update_id
    )
    await _send_step(update, context, form, snapshot, ctx)


async def show_current(update: Update, context: BotContext, *, error: str | None = None) -> bool:
    """Ask the current question again (after an interruption); False when no dialogue is open."""
    snapshot = context.services.store.dialogues.load(context.staff.id)
    if snapshot is None:
        return False
    form = FORMS[snapshot.form]
    await _strip_keyboard(context, update.effective_chat.id, snapshot.prompt_message_id)
    ctx = context.services.form_context(context.staff, form, snapshot.state)
    await _send_step(update, context, form, snapshot, ctx, error=error)
    return True


async def _send_step(
    update: Update, context: BotContext, form: Form, snapshot: DialogueSnapshot, ctx: FormContext,
    *, notices: list[str] = (), error: str | None = None, confirmation: tuple[str, str] | None = None,
    in_place: bool = False,
) -> None:
    """Show the dialogue's current step. `in_place`: the user pressed a button of the current
    question, so that message becomes the next step (a tidy chat, one Bot API call fewer)."""
    t, renderer = context.t, context.services.renderer
    if snapshot.state["step"] == engine.SUMMARY:
        text, keyboard = dialogue_view.summary(renderer, t, form, snapshot, ctx, notices=notices, error=error)
    else:
        text, keyboard = dialogue_view.question(
            renderer, t, form, snapshot, ctx, prompt_params=PROMPT_PARAMS[form.name](snapshot.state["step"]),
            notices=notices, error=error, confirmation=confirmation,
        )
    if in_place:
        try:
            await update.callback_query.edit_message_text(text, reply_markup=keyboard)
            return
        except BadRequest:
            pass  # too old to edit: send it as a new message
    message = await update.effective_chat.send_message(text, reply_markup=keyboard)
    context.services.store.dialogues.set_prompt_message(snapshot, message.message_id)


async def _strip_keyboard(context: BotContext, chat_id: int, message_id: int | None) -> None:
    """Take the buttons off an old question, so nobody presses them by mistake later."""
    if message_id is None:
        return
    try:
        await context.bot.edit_message_reply_markup(chat_id=chat_id, message_id=message_id, reply_markup=None)
    except BadRequest:
        pass  # already without buttons, or too old to edit: harmless


def _choice_from_text(fld: engine.Field, text: str, context: BotContext, ctx: FormContext, answers: dict) -> str | None:
    """Typing a button's label counts as pressing it (some keyboards are easier than buttons)."""
    wanted = text.strip().casefold()
    for choice in fld.options(ctx, answers):
        if dialogue_view.choice_label(context.t, choice).casefold() == wanted:
            return choice.value
    return None


async def on_text(update: Update, context: BotContext) -> None:
    """A typed answer to the current question."""
    services, t = context.services, context.t
    snapshot = services.store.dialogues.load(context.staff.id)
    if snapshot is None:
        await update.effective_message.reply_text(t.gettext(N_("No dialogue is open. /new records a new client, /help shows what I can do.")))
        return
    if snapshot.already_applied(update.update_id):
        return  # a repeated delivery (webhook retry, second instance): the first one answered
    form = FORMS[snapshot.form]
    ctx = services.form_context(context.staff, form, snapshot.state)
    fld = engine.current_field(form, snapshot.state)
    text = update.effective_message.text or ""
    try:
        if fld is None or fld.kind is Kind.MULTI:
            raise Invalid(N_("Please use the buttons below."))
        if fld.uses_buttons:
            value = _choice_from_text(fld, text, context, ctx, snapshot.state["answers"])
            if value is None:
                raise Invalid(N_("Please use the buttons below."))
        else:
            value = engine.parse_text(fld, text)
    except Invalid as problem:
        await show_current(update, context, error=t.plain(problem.message, **problem.params))
        return
    await _commit(update, context, form, snapshot, ctx, lambda s: engine.answer(form, s, value, ctx), answered=fld.name)


async def _commit(
    update: Update, context: BotContext, form: Form, snapshot: DialogueSnapshot, ctx: FormContext,
    step: Callable[[State], State], *, answered: str | None = None,
) -> None:
    """Apply one step, store it, then show what comes next."""
    t, store, query = context.t, context.services.store, update.callback_query
    try:
        state = step(snapshot.state)
    except Invalid as problem:
        message = t.plain(problem.message, **problem.params)
        if query:
            await query.answer(message, show_alert=True)
        else:
            await show_current(update, context, error=message)
        return
    except Stopped as stop:
        store.dialogues.discard(context.staff.id)
        await _close_prompt(update, context, snapshot)
        await update.effective_chat.send_message(t.gettext(stop.message))
        return
    try:
        saved = store.dialogues.save(snapshot, state, update_id=update.update_id)
    except StaleDialogue:
        await _stale(update, context)
        return
    notices = [t.plain(msg, **params) for msg, params in form.notices(answered, state["answers"], ctx)] \
        if answered and form.notices else []
    in_place = bool(query and query.message and query.message.message_id == snapshot.prompt_message_id)
    confirmation = None
    if query and answered:
        fld = form.field(answered)
        confirmation = (dialogue_view.field_label(t, fld),
                        dialogue_view.display_value(t, fld, state["answers"][answered], ctx))
    # The step is stored; these calls do not depend on each other, so the user waits for one
    # round trip to Telegram instead of two.
    await asyncio.gather(
        *([query.answer()] if query else []),
        *([] if in_place else [_close_prompt(update, context, snapshot)]),
        _send_step(update, context, form, saved, ctx, notices=notices, confirmation=confirmation, in_place=in_place),
    )


async def _close_prompt(update: Update, context: BotContext, snapshot: DialogueSnapshot) -> None:
    query = update.callback_query
    message_id = query.message.message_id if query and query.message else snapshot.prompt_message_id
    await _strip_keyboard(context, update.effective_chat.id, message_id)


async def _stale(update: Update, context: BotContext) -> None:
    notice = context.t.plain(N_("This button is no longer valid. Please use the latest question."))
    if update.callback_query:
        await update.callback_query.answer(notice, show_alert=True)
    else:
        await update.effective_message.reply_text(notice)


async def on_button(update: Update, context: BotContext) -> None:
    """A button of a form. Its nonce and version must be the dialogue's current ones."""
    query, services = update.callback_query, context.services
    parts = unpack(query.data, dialogue_view.PREFIX, 4)
    snapshot = services.store.dialogues.load(context.staff.id)
    if snapshot is not None and snapshot.already_applied(update.update_id):
        await query.answer()
        return
    if parts is None or snapshot is None or parts[0] != snapshot.nonce or parts[1] != str(snapshot.version):
        await _stale(update, context)
        return
    action, arg = parts[2], parts[3]
    form = FORMS[snapshot.form]
    ctx = services.form_context(context.staff, form, snapshot.state)
    fld = engine.current_field(form, snapshot.state)
    if action == "x":
        await cancel(update, context)
        return
    if action == "k":
        await _confirm(update, context, form, snapshot, ctx)
        return
    if action == "t":
        await _toggle(update, context, form, snapshot, ctx, arg)
        return
    steps: dict[str, Callable[[State], State]] = {
        "b": lambda s: engine.back(form, s, ctx),
        "s": lambda s: engine.skip(form, s, ctx),
        "d": lambda s: engine.finish_multi(form, s, ctx),
        "c": lambda s: engine.answer(form, s, _option(fld, arg, ctx, s["answers"]), ctx),
        "e": lambda s: engine.edit(form, s, _field_name(form, arg), ctx),
        "q": lambda s: engine.answer(form, s, _quick_date(arg, ctx), ctx),
    }
    if action not in steps:
        await _stale(update, context)
        return
    answered = fld.name if fld is not None and action in ("c", "d", "s", "q") else None
    await _commit(update, context, form, snapshot, ctx, steps[action], answered=answered)


def _option(fld: engine.Field | None, arg: str, ctx: FormContext, answers: dict) -> str:
    options = fld.options(ctx, answers) if fld else ()
    if not arg.isdigit() or int(arg) >= len(options):
        raise Invalid(N_("This button is no longer valid. Please use the latest question."))
    return options[int(arg)].value


def _quick_date(arg: str, ctx: FormContext) -> str:
    if arg not in ("0", "1"):
        raise Invalid(N_("This button is no longer valid. Please use the latest question."))
    return (ctx.today - timedelta(days=int(arg))).isoformat()


def _field_name(form: Form, arg: str) -> str:
    if not arg.isdigit() or int(arg) >= len(form.fields):
        raise Invalid(N_("This button is no longer valid. Please use the latest question."))
    return form.fields[int(arg)].name


async def _toggle(update: Update, context: BotContext, form: Form, snapshot: DialogueSnapshot,
                  ctx: FormContext, arg: str) -> None:
    """Multi-choice: tick or untick one option in place; nothing moves on until Done."""
    query, store = update.callback_query, context.services.store
    try:
        state = engine.toggle(form, snapshot.state,
                              _option(engine.current_field(form, snapshot.state), arg, ctx, snapshot.state["answers"]), ctx)
        saved = store.dialogues.save(snapshot, state, update_id=update.update_id)
    except Invalid as problem:
        await query.answer(context.t.plain(problem.message, **problem.params), show_alert=True)
        return
    except StaleDialogue:
        await _stale(update, context)
        return
    await query.answer()
    _, keyboard = dialogue_view.question(
        context.services.renderer, context.t, form, saved, ctx, prompt_params=PROMPT_PARAMS[form.name](saved.state["step"])
    )
    await query.edit_message_reply_markup(reply_markup=keyboard)


async def _confirm(update: Update, context: BotContext, form: Form, snapshot: DialogueSnapshot, ctx: FormContext) -> None:
    query, t, store = update.callback_query, context.t, context.services.store
    if snapshot.state["step"] != engine.SUMMARY:
        await _stale(update, context)
        return
    try:
        reply = _completers()[form.name](context, snapshot, ctx)
    except (NotAllowed, CaseClosed) as refused:
        store.dialogues.discard(context.staff.id)
        await query.answer()
        await _close_prompt(update, context, snapshot)
        await update.effective_chat.send_message(t.gettext(
            N_("This case is closed; reopen it first.") if isinstance(refused, CaseClosed) else
            N_("You can no longer change this case.")))
        return
    except DuplicatePerson as duplicate:
        await query.answer()
        await _close_prompt(update, context, snapshot)
        await _send_step(update, context, form, snapshot, ctx, error=t.plain(N_(
            "This person is already a case: {code}. Correct name or date of birth, or cancel."), code=duplicate.code))
        return
    except StaleDialogue:
        await _stale(update, context)
        return
    await query.answer()
    await _close_prompt(update, context, snapshot)
    await update.effective_chat.send_message(reply.text, reply_markup=reply.keyboard)


async def cancel(update: Update, context: BotContext) -> None:
    """/cancel or the ✖ button: drop the draft (and its key) and say that nothing was kept."""
    store, t = context.services.store, context.t
    snapshot = store.dialogues.load(context.staff.id)
    if update.callback_query:
        await update.callback_query.answer()
    if snapshot is None:
        await update.effective_chat.send_message(t.gettext(N_("Nothing to cancel.")))
        return
    store.dialogues.discard(context.staff.id)
    await _close_prompt(update, context, snapshot)
    await update.effective_chat.send_message(t.gettext(N_("Cancelled. Nothing of this dialogue was stored.")))


async def on_other_content(update: Update, context: BotContext) -> None:
    """Photos, stickers, voice, files: not accepted as answers, and never stored."""
    await update.effective_message.reply_text(
        context.t.gettext(N_("I can only take text and button presses here; photos, files and stickers are not stored."))
    )
    await show_current(update, context)


async def on_unknown_button(update: Update, context: BotContext) -> None:
    """A button whose data none of ours produces (forged, or from an older bot version)."""
    await _stale(update, context)


async def on_unknown_command(update: Update, context: BotContext) -> None:
    await update.effective_message.reply_text(
        context.t.gettext(N_("I do not know that command. /help shows what I can do.")))


async def on_edited(update: Update, context: BotContext) -> None:
    """Editing a sent answer changes nothing stored; say how to correct it instead."""
    await update.effective_chat.send_message(context.t.gettext(
        N_("Edited messages are not taken over. Use « Back, or correct the answer in the summary.")))

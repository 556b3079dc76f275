"""Drives any declared form through the chat: questions, answers, buttons, summary, save.

Every answered step is committed to the database before the next question is sent, so a
restart (or another instance) continues where the dialogue stood.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import date
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest
from telegram.ext import CallbackQueryHandler, MessageHandler, filters

from bot import dialogue_view
from bot.buttons import FORM, RESUME
from bot.confirm.common import save
from bot.forms import engine
from bot.forms.engine import Form, FormContext, Invalid, Kind, Stopped
from bot.forms.registry import FORMS
from bot.hygiene import forget_typed
from bot.i18n import N_
from bot.routes import NEW_MESSAGES, StaleButton, command, press, refuse_press
from bot.services import BotContext
from storage.types import CaseClosed, CryptoError, DialogueSnapshot, DuplicatePerson, NotAllowed, StaleDialogue

State = dict[str, Any]
# the dialogue version at which the current question was first shown: its buttons stay good for
# ticks of a multiple choice, however many ticks (each a version) came in between
STEP_VERSION = "step_version"


async def begin(update: Update, context: BotContext, form_name: str, *, replace: bool = False, **about: object) -> None:
    """Open a new dialogue with the form and ask its first question. `about` says what it is
    about (case=code, referral=id) and stays in the dialogue's state. An unfinished dialogue
    with answers is not thrown away unasked: the user may continue it or discard it."""
    services, staff, form = context.services, context.staff, FORMS[form_name]
    if not replace and await _offer_resume(update, context, form_name, about):
        return

    def start() -> tuple[DialogueSnapshot, FormContext]:  # in a worker thread: reads and a write
        ctx = services.form_context(staff, form, {"context": about, "answers": {}})
        state = {**engine.new_state(form, ctx, about), STEP_VERSION: 0}
        return services.store.dialogues.start(user_id=staff.id, form=form_name, state=state,
                                              update_id=update.update_id), ctx

    snapshot, ctx = await services.store.run(start)
    await _send_step(update, context, form, snapshot, ctx)


def _unfinished(services, staff):  # noqa: ANN001, ANN202 - in a worker thread
    """The open dialogue if it holds answers the user gave, with its form and position."""
    try:
        snapshot, form, ctx = _open(services, staff)
    except CryptoError:
        return None  # unreadable: nothing to continue, the new dialogue replaces it
    if snapshot is None or not snapshot.state["history"]:
        return None
    return snapshot, form, engine.position(form, snapshot.state, ctx)


async def _offer_resume(update: Update, context: BotContext, form_name: str, about: dict) -> bool:
    """Whether an unfinished dialogue was found (and continue / discard offered)."""
    found = await context.services.store.run(_unfinished, context.services, context.staff)
    if found is None:
        return False
    snapshot, form, (number, total) = found
    t = context.t
    # the new dialogue can be started from the button when what it is about fits into one
    again = (form_name, about.get("case", ""), about.get("domain", "")) if set(about) <= {"case", "domain"} else None
    keyboard = InlineKeyboardMarkup([[
        InlineKeyboardButton(t.plain(N_("▶ Continue")), callback_data=RESUME.data("c", snapshot.nonce, "", "", "")),
        InlineKeyboardButton(t.plain(N_("🗑 Discard")), callback_data=RESUME.data("n", snapshot.nonce, *(again or ("", "", "")))),
    ]])
    if update.callback_query:
        await update.callback_query.answer()
    await update.effective_chat.send_message(t.gettext(
        N_("An unfinished {form} is open (question {number} of {total}). Continue it, or discard its answers?"),
        form=t.plain(form.title), number=number, total=total), reply_markup=keyboard)
    return True


async def on_resume(update: Update, context: BotContext, choice: str, nonce: str, form_name: str, code: str,
                    domain: str) -> None:
    """Continue the unfinished dialogue, or discard it and start what was asked for."""
    query, store = update.callback_query, context.services.store
    snapshot = await store.run(lambda: _unfinished(context.services, context.staff))
    if snapshot is None or snapshot[0].nonce != nonce or (form_name and form_name not in FORMS):
        raise StaleButton
    await query.answer()
    if choice == "c":
        await query.edit_message_reply_markup(reply_markup=None)
        await show_current(update, context)
        return
    await store.aio.dialogues.close(context.staff.id)
    await _strip_keyboard(context, update.effective_chat.id, snapshot[0].prompt_message_id)
    await query.edit_message_text(context.t.gettext(N_("Discarded. Nothing of it was stored.")))
    if form_name:
        about = {k: v for k, v in (("case", code), ("domain", domain)) if v}
        await begin(update, context, form_name, replace=True, **about)


def _open(services, staff) -> tuple[DialogueSnapshot | None, Form | None, FormContext | None]:  # noqa: ANN001
    """The user's open dialogue, its form and what its checks may look at (in a worker thread)."""
    snapshot = services.store.dialogues.load(staff.id)
    if snapshot is None:
        return None, None, None
    form = FORMS[snapshot.form]
    return snapshot, form, services.form_context(staff, form, snapshot.state)


async def show_current(update: Update, context: BotContext, *, error: str | None = None) -> bool:
    """Ask the current question again (after an interruption); False when no dialogue is open."""
    snapshot, form, ctx = await context.services.store.run(_open, context.services, context.staff)
    if snapshot is None:
        return False
    await _strip_keyboard(context, update.effective_chat.id, snapshot.prompt_message_id)
    await _send_step(update, context, form, snapshot, ctx, error=error)
    return True


# how to answer a question, by the kind of its field (/help inside a dialogue)
_HOW_TO_ANSWER = {
    Kind.TEXT: N_("Type the answer as a message."),
    Kind.DATE: N_("Type the date as DD.MM.YYYY (e.g. 24.11.1990), or press one of the date buttons."),
    Kind.CHOICE: N_("Press the button that fits; typing its label works too."),
    Kind.MULTI: N_("Tick every option that fits (press again to untick), then press Done."),
    Kind.YESNO: N_("Press Yes or No."),
    Kind.NUMBER: N_("Press a number, or type a larger one."),
    Kind.PHONE: N_("Type the phone number, e.g. +49 214 406 0000."),
    Kind.TIME: N_("Type the time as HH:MM, e.g. 14:30."),
}


async def explain_current(update: Update, context: BotContext) -> bool:
    """/help inside a dialogue: how to answer the current question, then the question again.
    False when no dialogue is open."""
    snapshot, form, ctx = await context.services.store.run(_open, context.services, context.staff)
    if snapshot is None:
        return False
    t, fld = context.t, engine.current_field(form, snapshot.state)
    lines = [t.gettext(N_("<b>Help: {form}</b>"), form=t.plain(form.title))]
    if fld is None:
        lines.append(t.gettext(N_("This is the summary. ✎ and a number correct that answer; Save stores it all.")))
    else:
        lines.append(t.gettext(_HOW_TO_ANSWER[fld.kind]))
        if fld.optional:
            lines.append(t.gettext(N_("Not known now? Skip » leaves it open; it can be added later.")))
    lines.append(t.gettext(N_("« Back returns to the previous question. ✖ Cancel discards the dialogue (it asks "
                              "first). /cancel does the same at once.")))
    await update.effective_message.reply_text("\n".join(lines))
    await show_current(update, context)
    return True


async def _send_step(
    update: Update, context: BotContext, form: Form, snapshot: DialogueSnapshot, ctx: FormContext,
    *, notices: list[str] = (), error: str | None = None, confirmation: list[tuple[str, str]] = (),
    in_place: bool = False,
) -> None:
    """Show the dialogue's current step. `in_place`: the user pressed a button of the current
    question, so that message becomes the next step (a tidy chat, one Bot API call fewer)."""
    t, renderer = context.t, context.services.renderer
    if snapshot.state["step"] == engine.SUMMARY:
        text, keyboard = dialogue_view.summary(renderer, t, form, snapshot, ctx, notices=notices, error=error)
    else:
        text, keyboard = dialogue_view.question(renderer, t, form, snapshot, ctx, notices=notices, error=error,
                                                confirmation=confirmation)
    if in_place:
        try:
            await update.callback_query.edit_message_text(text, reply_markup=keyboard)
            return
        except BadRequest:
            pass  # too old to edit: send it as a new message
    message = await update.effective_chat.send_message(text, reply_markup=keyboard)
    await context.services.store.aio.dialogues.set_prompt_message(snapshot, message.message_id)


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
    snapshot, form, ctx = await services.store.run(_open, services, context.staff)
    if snapshot is None:
        await update.effective_message.reply_text(t.gettext(N_("No dialogue is open. /new records a new client, /help shows what I can do.")))
        return
    if snapshot.already_applied(update.update_id):
        return  # a repeated delivery (webhook retry, second instance): the first one answered
    fld = engine.current_field(form, snapshot.state)
    text = update.effective_message.text or ""
    parts = engine.split_answer(fld, text) if fld is not None else None
    if parts:  # one message answers this question and the next ones ("Haddad, Amina, 01.02.1995")
        problems: list[Invalid] = []

        def answer_all(s: State) -> State:
            state, problem = engine.answer_many(form, s, parts, ctx)
            problems.extend([problem] if problem else [])
            return state

        await asyncio.gather(_commit(update, context, form, snapshot, ctx, answer_all, answered=fld.name, problems=problems),
                             forget_typed(update, context))
        return
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
        await asyncio.gather(show_current(update, context, error=t.plain(problem.message, **problem.params)),
                             forget_typed(update, context))
        return
    await asyncio.gather(
        _commit(update, context, form, snapshot, ctx, lambda s: engine.answer(form, s, value, ctx), answered=fld.name),
        forget_typed(update, context))


async def _commit(
    update: Update, context: BotContext, form: Form, snapshot: DialogueSnapshot, ctx: FormContext,
    step: Callable[[State], State], *, answered: str | None = None, problems: list[Invalid] = (),
) -> None:
    """Apply one step, store it, then show what comes next (with a problem the step found in
    a later answer of the same message: `problems`, filled by the step)."""
    t, store, query = context.t, context.services.store, update.callback_query

    def apply() -> tuple[DialogueSnapshot, list, list[str]]:  # in a worker thread: checks may read, the step writes
        state = step(snapshot.state)
        if state["step"] != snapshot.state["step"] or state.get("editing") != snapshot.state.get("editing"):
            state = {**state, STEP_VERSION: snapshot.version + 1}
        saved = store.dialogues.save(snapshot, state, update_id=update.update_id)
        # one message or button may have answered several questions ("2 + 1")
        before = snapshot.state["history"]
        names = (state["history"][len(before):] if state["history"][: len(before)] == before else []) or \
            ([answered] if answered else [])
        if not (answered and form.notices):
            return saved, [], names
        return saved, [notice for name in names for notice in form.notices(name, state["answers"], ctx)], names

    try:
        saved, said, names = await store.run(apply)
    except Invalid as problem:
        message = t.plain(problem.message, **problem.params)
        if query:
            await query.answer(message, show_alert=True)
        else:
            await show_current(update, context, error=message)
        return
    except Stopped as stop:
        await store.aio.dialogues.discard(context.staff.id)
        await _close_prompt(update, context, snapshot)
        await update.effective_chat.send_message(t.gettext(stop.message))
        return
    except StaleDialogue:
        await _stale(update, context, conflict=True)
        return
    state = saved.state
    notices = [t.plain(msg, **params) for msg, params in said]
    in_place = bool(query and query.message and query.message.message_id == snapshot.prompt_message_id)
    confirmation = []
    if query and answered:  # what the press recorded, each question it answered
        confirmation = [(dialogue_view.field_label(t, form.field(name)),
                         dialogue_view.display_value(t, form.field(name), state["answers"].get(name), ctx))
                        for name in names if name in state["answers"]]
    # The step is stored; these calls do not depend on each other, so the user waits for one
    # round trip to Telegram instead of two.
    await asyncio.gather(
        *([query.answer()] if query else []),
        *([] if in_place else [_close_prompt(update, context, snapshot)]),
        _send_step(update, context, form, saved, ctx, notices=notices, confirmation=confirmation, in_place=in_place,
                   error=t.plain(problems[0].message, **problems[0].params) if problems else None),
    )


async def _close_prompt(update: Update, context: BotContext, snapshot: DialogueSnapshot | None) -> None:
    query = update.callback_query
    message_id = query.message.message_id if query and query.message else snapshot.prompt_message_id if snapshot else None
    await _strip_keyboard(context, update.effective_chat.id, message_id)


async def _stale(update: Update, context: BotContext, *, conflict: bool = False) -> None:
    """A press on a question no longer current; `conflict`: the step was computed from a version
    another step replaced meanwhile (counted for the operator)."""
    if conflict:
        context.services.metrics.dialogue_conflicts.inc()
    notice = context.t.plain(FORM.refusal)
    if update.callback_query:
        await update.callback_query.answer(notice, show_alert=True)
    else:
        await update.effective_message.reply_text(notice)


def _current(snapshot: DialogueSnapshot, nonce: str, version: int, action: str) -> bool:
    """Whether a button was drawn for the question the dialogue is at. Any button of the latest
    drawing is; a tick or "Done" of a multiple choice also from an earlier drawing of the same
    question, since every tick moves the version on and a second quick tap on a slow connection
    comes from the keyboard the first has not yet replaced."""
    if nonce != snapshot.nonce:
        return False
    if version == snapshot.version:
        return True
    shown_since = snapshot.state.get(STEP_VERSION)
    return action in ("t", "d") and shown_since is not None and shown_since <= version < snapshot.version


async def on_button(update: Update, context: BotContext, nonce: str, version: int, action: str, arg: str) -> None:
    """A button of a form: a choice, a tick, back, skip, edit, save or cancel."""
    query, services = update.callback_query, context.services
    snapshot, form, ctx = await services.store.run(_open, services, context.staff)
    if snapshot is not None and snapshot.already_applied(update.update_id):
        await query.answer()
        return
    if snapshot is None or not _current(snapshot, nonce, version, action):
        raise StaleButton
    fld = engine.current_field(form, snapshot.state)
    if action == "x":
        await _cancel_press(update, context, form, snapshot, ctx, arg)
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
        "d": lambda s: engine.finish_multi_with(form, s, arg, ctx),
        "o": lambda s: engine.pick_only(form, s, _option(fld, arg, ctx, s["answers"]), ctx),
        "p": lambda s: engine.answer(form, s, engine.parse_text(fld, engine.suggestion(fld, arg, s["answers"], ctx)), ctx),
        "c": lambda s: engine.answer(form, s, _option(fld, arg, ctx, s["answers"]), ctx),
        "e": lambda s: engine.edit(form, s, _field_name(form, arg), ctx),
        "q": lambda s: engine.answer(form, s, engine.quick_date(fld, arg, s["answers"], ctx), ctx),
        "n": lambda s: engine.answer_many(form, s, engine.quick_number(fld, arg), ctx)[0],
    }
    answered = fld.name if fld is not None and action in ("c", "d", "s", "q", "n", "o", "p") else None
    await _commit(update, context, form, snapshot, ctx, steps[action], answered=answered)


def _option(fld: engine.Field | None, arg: str, ctx: FormContext, answers: dict) -> str:
    options = fld.options(ctx, answers) if fld else ()
    if not arg.isdigit() or int(arg) >= len(options):
        raise StaleButton
    return options[int(arg)].value


def _field_name(form: Form, arg: str) -> str:
    if not arg.isdigit() or int(arg) >= len(form.fields):
        raise StaleButton
    return form.fields[int(arg)].name


async def _toggle(update: Update, context: BotContext, form: Form, snapshot: DialogueSnapshot,
                  ctx: FormContext, arg: str) -> None:
    """Multi-choice: tick or untick one option in place; nothing moves on until Done."""
    query, store = update.callback_query, context.services.store

    def tick() -> DialogueSnapshot:  # in a worker thread
        state = engine.toggle(form, snapshot.state,
                              _option(engine.current_field(form, snapshot.state), arg, ctx, snapshot.state["answers"]), ctx)
        return store.dialogues.save(snapshot, state, update_id=update.update_id)

    try:
        saved = await store.run(tick)
    except Invalid as problem:
        await query.answer(context.t.plain(problem.message, **problem.params), show_alert=True)
        return
    except StaleDialogue:
        await _stale(update, context, conflict=True)
        return
    await query.answer()
    _, keyboard = dialogue_view.question(context.services.renderer, context.t, form, saved, ctx)
    await query.edit_message_reply_markup(reply_markup=keyboard)


async def _confirm(update: Update, context: BotContext, form: Form, snapshot: DialogueSnapshot, ctx: FormContext) -> None:
    query, t, store = update.callback_query, context.t, context.services.store
    if snapshot.state["step"] != engine.SUMMARY:
        await _stale(update, context)
        return
    try:
        reply = await store.run(save, context, form, snapshot, ctx)  # one unit of work, in a worker thread
    except (NotAllowed, CaseClosed) as refused:
        await store.aio.dialogues.discard(context.staff.id)
        await query.answer()
        await _close_prompt(update, context, snapshot)
        await update.effective_chat.send_message(t.gettext(
            N_("This case is closed; reopen it first.") if isinstance(refused, CaseClosed) else
            N_("You can no longer change this case.")))
        return
    except DuplicatePerson as duplicate:
        # a save that lost the race to a concurrent one carries no code: it was rolled back,
        # so the form's own duplicate check can now see the winner
        code = duplicate.code or await store.run(_duplicate_of, form, snapshot, ctx)
        if not code:
            raise
        await query.answer()
        await _close_prompt(update, context, snapshot)
        await _send_step(update, context, form, snapshot, ctx, error=t.plain(N_(
            "This person is already a case: {code}. Correct name or date of birth, or cancel."), code=t.isolate(code)))
        return
    except StaleDialogue:
        await _stale(update, context, conflict=True)
        return
    await query.answer()
    # the summary listed every answer: once saved, it says only that it was saved
    await asyncio.gather(_saved_note(update, context, form),
                         update.effective_chat.send_message(reply.text, reply_markup=reply.keyboard))


async def _saved_note(update: Update, context: BotContext, form: Form) -> None:
    t = context.t
    try:
        await update.callback_query.edit_message_text(
            t.gettext(N_("{form}: saved. The answers are in the case file and no longer shown here."),
                      form=t.plain(form.title)))
    except BadRequest:
        await _close_prompt(update, context, None)


def _duplicate_of(form: Form, snapshot: DialogueSnapshot, ctx: FormContext) -> str | None:
    answers, check = snapshot.state["answers"], ctx.services.get("duplicate_code")
    if check is None or not {"given_name", "family_name", "birth_date"} <= answers.keys():
        return None
    return check(answers["given_name"], answers["family_name"], date.fromisoformat(answers["birth_date"]))


async def _cancel_press(update: Update, context: BotContext, form: Form, snapshot: DialogueSnapshot,
                        ctx: FormContext, arg: str) -> None:
    """✖ next to « Back: one slip of the thumb must not throw answers away, so it asks first
    ("y" confirms, "n" returns to the question); with nothing answered yet it just cancels."""
    query, t = update.callback_query, context.t
    answered = len(snapshot.state["history"])
    if arg == "y" or answered == 0:
        await cancel(update, context)
        return
    if arg == "n":
        await query.answer()
        await _send_step(update, context, form, snapshot, ctx, in_place=True)
        return
    await query.answer()
    await query.edit_message_reply_markup(reply_markup=InlineKeyboardMarkup([
        [dialogue_view.button(t, t.plain(N_("🗑 Yes, discard {count} answers"), count=answered), snapshot, "x", "y")],
        [dialogue_view.button(t, t.plain(N_("↩ No, continue")), snapshot, "x", "n")],
    ]))


async def cancel(update: Update, context: BotContext) -> None:
    """/cancel or the ✖ button: drop the draft (and its key) and say that nothing was kept."""
    store, t, query = context.services.store, context.t, update.callback_query
    existed, prompt_message_id = await store.aio.dialogues.close(context.staff.id)  # nothing decrypted: a damaged one goes too
    if query:
        await query.answer()
    if not existed:
        await update.effective_chat.send_message(t.gettext(N_("Nothing to cancel.")))
        return
    note = t.gettext(N_("Cancelled. Nothing of this dialogue was stored."))
    message_id = query.message.message_id if query and query.message else prompt_message_id
    try:  # the question (or summary) showed answers: it says only that it was cancelled now
        if message_id is not None:
            await context.bot.edit_message_text(note, chat_id=update.effective_chat.id, message_id=message_id)
    except BadRequest:
        await _strip_keyboard(context, update.effective_chat.id, message_id)
    await update.effective_chat.send_message(note)


async def on_other_content(update: Update, context: BotContext) -> None:
    """Photos, stickers, voice, files: not accepted as answers, and never stored."""
    await update.effective_message.reply_text(
        context.t.gettext(N_("I can only take text and button presses here; photos, files and stickers are not stored."))
    )
    await show_current(update, context)


async def on_unknown_button(update: Update, context: BotContext) -> None:
    """A button whose data none of ours produces (forged, or from an older bot version)."""
    await refuse_press(update, context)


async def on_unknown_command(update: Update, context: BotContext) -> None:
    await update.effective_message.reply_text(
        context.t.gettext(N_("I do not know that command. /help shows what I can do.")))


async def on_edited(update: Update, context: BotContext) -> None:
    """Editing a sent answer changes nothing stored; say how to correct it instead."""
    await update.effective_chat.send_message(context.t.gettext(
        N_("Edited messages are not taken over. Use « Back, or correct the answer in the summary.")))


ROUTES = (command("cancel", cancel), press(FORM, on_button), press(RESUME, on_resume))
# after every other handler has had its chance: answers, and whatever nobody else takes
ANSWER_ROUTES = (
    CallbackQueryHandler(on_unknown_button),
    MessageHandler(NEW_MESSAGES & filters.TEXT & ~filters.COMMAND, on_text),
    MessageHandler(NEW_MESSAGES & filters.COMMAND, on_unknown_command),
    MessageHandler(filters.UpdateType.EDITED_MESSAGE, on_edited),
)
LAST_ROUTES = (MessageHandler(NEW_MESSAGES, on_other_content),)

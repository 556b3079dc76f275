"""/cases and /case: the user's caseload by pseudonymous code; names only on request."""

from __future__ import annotations

import re
from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.callbacks import pack, unpack
from bot.dialogue_view import display_value
from bot.forms import FORMS
from bot.i18n import N_
from bot.services import BotContext
from storage.crypto import CryptoError

PREFIX = "c"
PAGE_SIZE = 10
_CODE = re.compile(r"^[A-Za-z]{1,8}-\d{4}-\d{4,6}$")
STATUS_NAMES = {"open": N_("open"), "closed": N_("closed")}
PHASE_NAMES = {"intake": N_("intake done, assessment next")}


async def list_cases(update: Update, context: BotContext, offset: int = 0) -> None:
    """/cases: the user's own cases (a coordinator's: the organisation's), soonest due first."""
    services, t, staff = context.services, context.t, context.staff
    total = services.store.cases.count_for(staff)
    cases = services.store.cases.list_for(staff, offset=offset, limit=PAGE_SIZE)
    statuses = {key: t.plain(name) for key, name in STATUS_NAMES.items()}
    text = services.renderer.render("cases.j2", t, cases=cases, total=total, statuses=statuses)
    rows = [[InlineKeyboardButton(c.code, callback_data=pack(PREFIX, "o", c.code)) for c in cases[i : i + 2]]
            for i in range(0, len(cases), 2)]
    paging = []
    if offset > 0:
        paging.append(InlineKeyboardButton(t.plain("« Back"), callback_data=pack(PREFIX, "p", max(0, offset - PAGE_SIZE))))
    if offset + PAGE_SIZE < total:
        paging.append(InlineKeyboardButton(t.plain("More »"), callback_data=pack(PREFIX, "p", offset + PAGE_SIZE)))
    if paging:
        rows.append(paging)
    markup = InlineKeyboardMarkup(rows) if rows else None
    if update.callback_query:
        await update.callback_query.edit_message_text(text, reply_markup=markup)
    else:
        await update.effective_message.reply_text(text, reply_markup=markup)


async def list_command(update: Update, context: BotContext) -> None:
    await list_cases(update, context)


async def show_case(update: Update, context: BotContext) -> None:
    """/case <code>: one case at a glance, without names."""
    t = context.t
    code = context.args[0] if context.args else ""
    if not _CODE.match(code):
        await update.effective_message.reply_text(t.gettext(N_("Please give a case code, for example /case LEV-2026-0001.")))
        return
    await _send_case(update, context, code, reveal=False)


async def _send_case(update: Update, context: BotContext, code: str, *, reveal: bool) -> None:
    services, t, staff = context.services, context.t, context.staff
    cases = services.store.cases
    try:
        detail = cases.reveal(staff, code) if reveal else None
    except CryptoError:
        # erased (key destroyed) or tampered with: say so, never show half-decrypted data
        await _reply(update, t.plain(N_("The details of this case cannot be read: they were erased or damaged.")))
        return
    summary = detail.summary if detail else (None if reveal else cases.get_for(staff, code))
    if summary is None:
        await _reply(update, t.plain(N_("No case {code} among the cases you may see."), code=code.upper()))
        return
    rows = []
    if detail is not None:
        form, ctx = FORMS["intake"], services.form_context(staff)
        intake = detail.records.get("intake", {})
        rows = [(t.plain(f.label), display_value(t, f, intake[f.name], ctx)) for f in form.fields if f.name in intake]
    text = services.renderer.render(
        "case.j2", t, case=summary, rows=rows,
        status=t.plain(STATUS_NAMES.get(summary.status, summary.status)),
        phase=t.plain(PHASE_NAMES.get(summary.phase, summary.phase)),
    )
    if reveal:
        button = InlineKeyboardButton(t.plain("🙈 Hide names and details"), callback_data=pack(PREFIX, "h", summary.code))
    else:
        button = InlineKeyboardButton(t.plain("👁 Show names and details"), callback_data=pack(PREFIX, "r", summary.code))
    markup = InlineKeyboardMarkup([[button]])
    if update.callback_query and update.callback_query.data.startswith(f"{PREFIX}|{'r' if reveal else 'h'}|"):
        await update.callback_query.answer()
        await update.callback_query.edit_message_text(text, reply_markup=markup)
    else:
        if update.callback_query:
            await update.callback_query.answer()
        await update.effective_chat.send_message(text, reply_markup=markup)


async def _reply(update: Update, text: str) -> None:
    """A short answer: a toast to a button press, a message to a command."""
    if update.callback_query:
        await update.callback_query.answer(text, show_alert=True)
    else:
        await update.effective_message.reply_text(escape(text))


async def on_button(update: Update, context: BotContext) -> None:
    """Open, reveal, hide, page. Rights are checked again on every press (buttons can be forged)."""
    query = update.callback_query
    parts = unpack(query.data, PREFIX, 2)
    if parts is None:
        await query.answer(context.t.plain(N_("This button is no longer valid.")), show_alert=True)
        return
    action, arg = parts
    if action == "p" and arg.isdigit():
        await query.answer()
        await list_cases(update, context, offset=int(arg))
    elif action in ("o", "r", "h") and _CODE.match(arg):
        await _send_case(update, context, arg, reveal=action == "r")
    else:
        await query.answer(context.t.plain(N_("This button is no longer valid.")), show_alert=True)

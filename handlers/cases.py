"""/cases and /case: the caseload by pseudonymous code, filters, and one case at a glance."""

from __future__ import annotations

import re
from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.callbacks import pack, unpack
from bot.dialogue_view import display_value
from bot.domains import CLOSE_REASONS, LIFE_DOMAINS, NEED_LEVELS, REFERRAL_STATUSES, label_of
from bot.forms.registry import FORMS
from bot.forms.intake import STATUSES
from bot.i18n import N_
from bot.services import BotContext
from storage.crypto import CryptoError
from storage.types import CaseGlance, Role, StaffUser

PREFIX = "c"
PAGE_SIZE = 10
CODE = re.compile(r"^[A-Za-z]{1,8}-\d{4}-\d{4,6}$")
STATUS_NAMES = {"open": N_("open"), "closed": N_("closed")}
PHASE_NAMES = {"intake": N_("intake done, assessment next"), "planning": N_("planning"),
               "monitoring": N_("monitoring")}
# /cases filters: (key, button label); district filters are added for coordinators
FILTERS = (("all", N_("All")), ("open", N_("Open")), ("due", N_("Due")), ("closed", N_("Closed")))


async def list_cases(update: Update, context: BotContext, offset: int = 0, filter_key: str = "open") -> None:
    """The user's cases (a coordinator's: the organisation's), soonest due first, with filters."""
    services, t, staff = context.services, context.t, context.staff
    today = services.local_now().date()
    status, due_by, district = _filter(filter_key, today, services, staff)
    cases = services.store.cases
    total = cases.count_for(staff, status=status, due_by=due_by, district_id=district)
    page = cases.list_for(staff, offset=offset, limit=PAGE_SIZE, status=status, due_by=due_by, district_id=district)
    text = services.renderer.render("cases.j2", t, cases=page, total=total, today=today,
                                    statuses={key: t.plain(name) for key, name in STATUS_NAMES.items()})
    rows = [[InlineKeyboardButton(c.code, callback_data=pack(PREFIX, "o", c.code)) for c in page[i : i + 2]]
            for i in range(0, len(page), 2)]
    paging = []
    if offset > 0:
        paging.append(InlineKeyboardButton(t.plain("« Back"), callback_data=pack(PREFIX, f"p{filter_key}", max(0, offset - PAGE_SIZE))))
    if offset + PAGE_SIZE < total:
        paging.append(InlineKeyboardButton(t.plain("More »"), callback_data=pack(PREFIX, f"p{filter_key}", offset + PAGE_SIZE)))
    if paging:
        rows.append(paging)
    choices = [(key, t.plain(label)) for key, label in FILTERS]
    if staff.role is Role.COORDINATOR:
        choices += [(f"d{d.id}", d.name) for d in services.store.staff.districts(staff.org_id)]
    rows.append([InlineKeyboardButton(("• " if key == filter_key else "") + label, callback_data=pack(PREFIX, f"p{key}", 0))
                 for key, label in choices][:8])
    markup = InlineKeyboardMarkup(rows)
    if update.callback_query:
        await update.callback_query.edit_message_text(text, reply_markup=markup)
    else:
        await update.effective_message.reply_text(text, reply_markup=markup)


def _filter(key: str, today, services, staff: StaffUser):  # noqa: ANN001, ANN202
    """(status, due by, district id) of a filter key; unknown keys (forged) mean "open"."""
    if key == "all":
        return None, None, None
    if key == "closed":
        return "closed", None, None
    if key == "due":
        return "open", today, None
    if key.startswith("d") and key[1:].isdigit() and staff.role is Role.COORDINATOR:
        if any(d.id == int(key[1:]) for d in services.store.staff.districts(staff.org_id)):
            return "open", None, int(key[1:])
    return "open", None, None


async def list_command(update: Update, context: BotContext) -> None:
    await list_cases(update, context)


async def show_case(update: Update, context: BotContext) -> None:
    """/case <code>: one case at a glance, without names."""
    code = context.args[0] if context.args else ""
    if not CODE.match(code):
        await update.effective_message.reply_text(
            context.t.gettext(N_("Please give a case code, for example /case LEV-2026-0001.")))
        return
    await send_case(update, context, code, reveal=False)


async def send_case(update: Update, context: BotContext, code: str, *, reveal: bool, edit: bool = False) -> None:
    services, t, staff = context.services, context.t, context.staff
    try:
        detail = services.store.cases.reveal(staff, code) if reveal else None
        glance = services.store.casework.glance(staff, code, audited=detail is None)
    except CryptoError:
        # erased (key destroyed) or tampered with: say so, never show half-decrypted data
        await reply(update, t.plain(N_("The details of this case cannot be read: they were erased or damaged.")))
        return
    if glance is None:
        await reply(update, t.plain(N_("No case {code} among the cases you may see."), code=code.upper()))
        return
    rows = []
    if detail is not None:
        form, ctx = FORMS["intake"], services.form_context(staff)
        intake = detail.records.get("intake", {})
        rows = [(t.plain(f.label), display_value(t, f, intake[f.name], ctx)) for f in form.fields if f.name in intake]
    text = services.renderer.render("case.j2", t, **_glance_view(t, glance, services.local_now().date()), rows=rows)
    markup = InlineKeyboardMarkup(_actions(t, staff, glance, reveal))
    if update.callback_query:
        await update.callback_query.answer()
    if update.callback_query and edit:
        await update.callback_query.edit_message_text(text, reply_markup=markup)
    else:
        await update.effective_chat.send_message(text, reply_markup=markup)


def _glance_view(t, glance: CaseGlance, today) -> dict:  # noqa: ANN001
    case = glance.summary
    domains = {c.value: t.plain(c.label) for c in LIFE_DOMAINS}
    return {
        "case": case, "glance": glance,
        "status": t.plain(STATUS_NAMES.get(case.status, case.status)),
        "phase": t.plain(PHASE_NAMES.get(case.phase, case.phase)),
        "close_reason": t.plain(label_of(CLOSE_REASONS, glance.close_reason or "")),
        "residence_status": t.plain(label_of(STATUSES, glance.residence_status or "")),
        "overdue": bool(case.next_due_on and case.next_due_on < today and not glance.closed),
        "needs": [(domains[d], t.plain(label_of(NEED_LEVELS, level))) for d, level in glance.needs.items()
                  if level != "none"],
        "goals": [(domains.get(g.domain, g.domain), g.due_on, g.due_on < today) for g in glance.goals],
        "referrals": [(r.service_name, t.plain(label_of(REFERRAL_STATUSES, r.status)), r.consent)
                      for r in glance.referrals],
    }


def _actions(t, staff: StaffUser, glance: CaseGlance, revealed: bool) -> list[list[InlineKeyboardButton]]:  # noqa: ANN001
    code = glance.summary.code

    def act(label: str, action: str) -> InlineKeyboardButton:
        return InlineKeyboardButton(t.plain(label), callback_data=pack("k", action, code))

    rows = []
    if glance.closed:
        rows.append([act(N_("↩ Reopen"), "reopen")])
    else:
        rows += [
            [act(N_("📝 Assessment"), "assess"), act(N_("🎯 Goal"), "goal"), act(N_("↪ Referral"), "refer")],
            [act(N_("☎ Contact"), "note"), act(N_("🎯 Goals"), "goals"), act(N_("↪ Referrals"), "referrals")],
            [act(N_("🗓 Fallkonferenz"), "conference"), act(N_("🔀 Handover"), "handover"), act(N_("🔒 Close"), "close")]
            + ([act(N_("👥 Reassign"), "reassign")] if staff.role is Role.COORDINATOR else []),
        ]
    if revealed:
        rows.append([InlineKeyboardButton(t.plain("🙈 Hide names and details"), callback_data=pack(PREFIX, "h", code))])
    else:
        rows.append([InlineKeyboardButton(t.plain("👁 Show names and details"), callback_data=pack(PREFIX, "r", code))])
    return rows


async def reply(update: Update, text: str) -> None:
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
    if action.startswith("p") and arg.isdigit():
        await query.answer()
        await list_cases(update, context, offset=int(arg), filter_key=action[1:] or "open")
    elif action in ("o", "r", "h") and CODE.match(arg):
        await send_case(update, context, arg, reveal=action == "r", edit=action in ("r", "h"))
    else:
        await query.answer(context.t.plain(N_("This button is no longer valid.")), show_alert=True)



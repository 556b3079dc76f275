"""/cases and /case: the caseload by pseudonymous code, filters, and one case at a glance."""

from __future__ import annotations

from datetime import date, timedelta

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.buttons import CASE_ACTION, CASE_CODE, CASE_NUMBER, CASES, TRANSFER, typed_code
from bot.choices import label_of
from bot.dialogue_view import display_value
from bot.forms.registry import FORMS
from bot.hygiene import hide_later, remember, shown_again
from bot.i18n import N_
from bot.routes import StaleButton, command, press, reply
from bot.services import BotContext
from domain import roles
from domain.roles import Role
from domain.vocabulary import Benefits, CasePhase, CaseStatus, CloseReason, LifeDomain, NeedLevel, ReferralStatus, ResidenceStatus
from storage.types import CaseGlance, CryptoError, StaffUser

PAGE_SIZE = 10
CODE = CASE_CODE
# /cases filters: (key, button label); district filters are added for coordinators
FILTERS = (("all", N_("All")), ("open", N_("Open")), ("due", N_("Due")), ("closed", N_("Closed")))


async def list_cases(update: Update, context: BotContext, offset: int = 0, filter_key: str = "open") -> None:
    """The user's cases (a coordinator's: the organisation's), soonest due first, with filters."""
    services, t, staff = context.services, context.t, context.staff
    today = services.local_now().date()
    window = _window(services.settings, today)
    total, page, districts, reasons = await services.store.run(_listing, services.store, staff, filter_key, window, offset)
    text = services.renderer.render("cases.j2", t, total=total, today=today,
                                    cases=[(c, reasons.get(c.id, ())) for c in page],
                                    reason_labels={key: t.plain(label) for key, label in DUE_REASONS.items()},
                                    statuses={s.value: t.plain(s.label) for s in CaseStatus})
    rows = [[InlineKeyboardButton(c.code, callback_data=CASES.data("o", c.code)) for c in page[i : i + 2]]
            for i in range(0, len(page), 2)]
    paging = []
    if offset > 0:
        paging.append(InlineKeyboardButton(t.plain("« Back"), callback_data=CASES.data(f"p{filter_key}", max(0, offset - PAGE_SIZE))))
    if offset + PAGE_SIZE < total:
        paging.append(InlineKeyboardButton(t.plain("More »"), callback_data=CASES.data(f"p{filter_key}", offset + PAGE_SIZE)))
    if paging:
        rows.append(paging)
    choices = [(key, t.plain(label)) for key, label in FILTERS]
    if staff.may(roles.sees_all_cases):
        choices += [(f"d{d.id}", d.name) for d in districts]
    rows.append([InlineKeyboardButton(("• " if key == filter_key else "") + label, callback_data=CASES.data(f"p{key}", 0))
                 for key, label in choices][:8])
    markup = InlineKeyboardMarkup(rows)
    if update.callback_query:
        await update.callback_query.edit_message_text(text, reply_markup=markup)
    else:
        await update.effective_message.reply_text(text, reply_markup=markup)


# why a case is due (storage: CaseRepository.due_reasons), as the list names it
DUE_REASONS = {
    "assessment": N_("📝 assessment"), "reassessment": N_("📝 re-assessment"), "goal": N_("🎯 goal"),
    "follow-up": N_("↪ follow-up"), "silent": N_("☎ no contact since"),
}


def _window(settings, today: date) -> tuple[date, date]:  # noqa: ANN001
    """(due by, silent before): "due" means within the reminder window, as the reminders count."""
    return today + timedelta(days=settings.reminder_days_before), today - timedelta(days=settings.silent_case_days)


def _listing(store, staff: StaffUser, filter_key: str, window: tuple[date, date], offset: int):  # noqa: ANN001, ANN202
    """(total, this page, the districts to filter by, why each is due), read in one go (in a
    worker thread)."""
    districts = store.staff.districts(staff.org_id) if staff.may(roles.sees_all_cases) else []
    status, due, district = _filter(filter_key, staff, districts)
    due_by, silent_before = window if due else (None, None)
    total = store.cases.count_for(staff, status=status, due_by=due_by, district_id=district, silent_before=silent_before)
    page = store.cases.list_for(staff, offset=offset, limit=PAGE_SIZE, status=status, due_by=due_by,
                                district_id=district, silent_before=silent_before)
    reasons = store.cases.due_reasons([c.id for c in page if c.status == CaseStatus.OPEN],
                                      due_by=window[0], silent_before=window[1])
    return total, page, districts, reasons


def _filter(key: str, staff: StaffUser, districts):  # noqa: ANN001, ANN202
    """(status, whether only what is due, district id) of a filter key; unknown keys (forged)
    mean "open"."""
    if key == "all":
        return None, False, None
    if key == "closed":
        return CaseStatus.CLOSED, False, None
    if key == "due":
        return CaseStatus.OPEN, True, None
    if key.startswith("d") and key[1:].isdigit() and staff.may(roles.sees_all_cases):
        if any(d.id == int(key[1:]) for d in districts):
            return CaseStatus.OPEN, False, int(key[1:])
    return CaseStatus.OPEN, False, None


async def list_command(update: Update, context: BotContext) -> None:
    await list_cases(update, context)


async def case_from_args(update: Update, context: BotContext, command: str, action: str | None = None) -> str | None:
    """The case a command names: by its code (pasted out of right-to-left text too) or by its
    number alone ("/case 37"). None when it named none or several; the user was told which
    (several: a button each, opening the case or, with `action`, doing that to it)."""
    t = context.t
    text = typed_code(" ".join(context.args or ()))
    if CODE.match(text):
        return text
    number = CASE_NUMBER.match(text)
    if number is None:
        await update.effective_message.reply_text(t.gettext(
            N_("Please give a case code or its number, for example /{command} LEV-2026-0001 or /{command} 1."),
            command=command))
        return None
    codes = await context.services.store.aio.cases.codes_numbered(
        context.staff, int(number["number"]), int(number["year"]) if number["year"] else None)
    if len(codes) == 1:
        return codes[0]
    if not codes:
        await update.effective_message.reply_text(t.gettext(
            N_("No case with the number {number} among the cases you may see."), number=t.isolate(text)))
        return None
    buttons = [InlineKeyboardButton(code, callback_data=CASE_ACTION.data(action, code) if action else CASES.data("o", code))
               for code in codes]
    await update.effective_message.reply_text(t.gettext(N_("Several cases have this number. Which one?")),
                                              reply_markup=InlineKeyboardMarkup([[b] for b in buttons]))
    return None


async def show_case(update: Update, context: BotContext) -> None:
    """/case <code or number>: one case at a glance, without names."""
    code = await case_from_args(update, context, "case")
    if code is not None:
        await send_case(update, context, code, reveal=False)


async def send_case(update: Update, context: BotContext, code: str, *, reveal: bool, edit: bool = False) -> None:
    services, t, staff = context.services, context.t, context.staff
    try:
        detail = await services.store.aio.cases.reveal(staff, code) if reveal else None
        glance = await services.store.aio.casework.glance(staff, code, audited=detail is None)
    except CryptoError:
        # erased (key destroyed) or tampered with: say so, never show half-decrypted data
        await reply(update, t.plain(N_("The details of this case cannot be read: they were erased or damaged.")))
        return
    if glance is None:
        await reply(update, t.plain(N_("No case {code} among the cases you may see."), code=t.isolate(code.upper())))
        return
    rows = []
    if detail is not None:
        form, ctx = FORMS["intake"], await services.store.run(services.form_context, staff)
        intake = detail.records.get("intake", {})
        rows = [(t.plain(f.label), display_value(t, f, intake[f.name], ctx)) for f in form.fields if f.name in intake]
    text = services.renderer.render("case.j2", t, **_glance_view(t, glance, services.local_now().date()), rows=rows)
    elsewhere = await services.store.aio.organisations.others_exist(staff.org_id)
    markup = InlineKeyboardMarkup(_actions(t, staff, glance, reveal, elsewhere=elsewhere))
    if update.callback_query:
        await update.callback_query.answer()
    if update.callback_query and edit:
        await update.callback_query.edit_message_text(text, reply_markup=markup)
        message_id = update.callback_query.message.message_id
    else:
        message_id = (await update.effective_chat.send_message(text, reply_markup=markup)).message_id
    if not edit:
        await remember(context, glance.summary.code, message_id)
    if reveal:  # names and details on screen: hidden again after a while (bot/hygiene.py)
        await hide_later(context, message_id, glance.summary.code)
    elif edit:
        await shown_again(context, message_id)


def _glance_view(t, glance: CaseGlance, today) -> dict:  # noqa: ANN001
    case = glance.summary
    return {
        "case": case, "glance": glance,
        "status": t.plain(label_of(CaseStatus, case.status)),
        "phase": t.plain(label_of(CasePhase, case.phase)),
        "close_reason": t.plain(label_of(CloseReason, glance.close_reason)),
        "residence_status": t.plain(label_of(ResidenceStatus, glance.residence_status)),
        "benefits": t.plain(label_of(Benefits, glance.benefits)) if glance.benefits else None,
        "overdue": bool(case.next_due_on and case.next_due_on < today and not glance.closed),
        # in the fixed order of the life domains, so two cases read alike
        "needs": [(t.plain(label_of(LifeDomain, d.value)), t.plain(label_of(NeedLevel, glance.needs[d.value])))
                  for d in LifeDomain if glance.needs.get(d.value, NeedLevel.NONE) != NeedLevel.NONE],
        "goals": [(t.plain(label_of(LifeDomain, g.domain)), g.due_on, g.due_on < today) for g in glance.goals],
        "referrals": [(r.service_name, t.plain(label_of(ReferralStatus, r.status)), r.consent)
                      for r in glance.referrals],
    }


def _actions(t, staff: StaffUser, glance: CaseGlance, revealed: bool, *,  # noqa: ANN001
             elsewhere: bool = False) -> list[list[InlineKeyboardButton]]:
    code = glance.summary.code

    def act(label: str, action: str) -> InlineKeyboardButton:
        return InlineKeyboardButton(t.plain(label), callback_data=CASE_ACTION.data(action, code))

    rows = []
    if glance.erased_at is not None:
        return [[act(N_("🕓 Case file"), "file")]]
    if glance.closed:
        rows.append([act(N_("↩ Reopen"), "reopen"), act(N_("🕓 Case file"), "file"), act(N_("📄 Documents"), "documents")])
    else:
        rows += [
            [act(N_("📝 Assessment"), "assess"), act(N_("➕ New goal"), "goal"), act(N_("➕ New referral"), "refer")],
            [act(N_("☎ Record contact"), "note"), act(N_("🎯 Goals"), "goals"), act(N_("↪ Referrals"), "referrals")],
            [act(N_("🗓 Fallkonferenz"), "conference"), act(N_("🔀 Handover"), "handover"), act(N_("🔒 Close"), "close")]
            + ([act(N_("👥 Reassign"), "reassign")] if staff.may(roles.reassigns_cases) else []),
            [act(N_("🕓 Case file"), "file"), act(N_("✏ Change intake"), "change"), act(N_("📄 Documents"), "documents")],
        ]
        if elsewhere:  # another municipality on this installation: the client moved there
            rows.append([InlineKeyboardButton(t.plain(N_("🏙 Moved away: hand over")),
                                              callback_data=TRANSFER.data(code, "menu", ""))])
    if staff.role is Role.COORDINATOR:
        rows.append([act(N_("📦 Copy (Art. 15)"), "export"), act(N_("🗑 Erase"), "erase"),
                     act(N_("⚖ Release hold"), "release") if glance.held else act(N_("⚖ Legal hold"), "hold")])
    if revealed:
        rows.append([InlineKeyboardButton(t.plain("🙈 Hide names and details"), callback_data=CASES.data("h", code))])
    else:
        rows.append([InlineKeyboardButton(t.plain("👁 Show names and details"), callback_data=CASES.data("r", code))])
    return rows


async def on_button(update: Update, context: BotContext, action: str, arg: str | int) -> None:
    """Open, reveal, hide, page. Rights are checked again on every press (buttons can be forged)."""
    if action.startswith("p") and isinstance(arg, int):
        await update.callback_query.answer()
        await list_cases(update, context, offset=arg, filter_key=action[1:] or "open")
    elif action in ("o", "r", "h") and isinstance(arg, str):
        await send_case(update, context, arg, reveal=action == "r", edit=action in ("r", "h"))
    else:
        raise StaleButton


ROUTES = (
    command("cases", list_command),
    command("case", show_case),
    press(CASES, on_button),
)

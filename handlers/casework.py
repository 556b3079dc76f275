"""Working on a case: the case view's actions, goal and referral status, handovers, reassignment,
and the commands /assess /goal /refer /note /handover /close /reopen /find."""

from __future__ import annotations

from datetime import date

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.buttons import CASE_ACTION, GOAL, HANDOVER, NEXT_STEP, REASSIGN, REFERRAL
from bot.choices import label_of
from bot.confirm.cycle import found_reply
from bot.forms import engine
from bot.forms.registry import FORMS
from bot.hygiene import forget_typed
from bot.i18n import N_, UNREADABLE, Translator
from bot.routes import StaleButton, command, press, reply
from bot.services import BotContext
from domain import roles
from domain.calendar import FOLLOW_UP_AGAIN_DAYS, referral_follow_up
from domain.vocabulary import GOAL_OUTCOMES, REFERRAL_STEPS, RESULT_STATUSES, GoalStatus, LifeDomain, ReferralStatus, Responsible
from handlers import documents, erasure
from handlers.casefile import show_timeline
from handlers.cases import case_from_args, send_case
from handlers.dialogue import begin
from storage.types import CaseClosed, NoConsent, NotAllowed

# action of the case view -> the form it opens
FORM_ACTIONS = {"assess": "assessment", "goal": "goal", "refer": "referral", "note": "contact",
                "handover": "handover", "close": "closure", "conference": "conference", "change": "change"}
# commands that act on a case given by its code: /assess LEV-2026-0001 ...
COMMANDS = ("assess", "goal", "refer", "note", "handover", "close", "reopen", "conference")
# Translators: a button: describe a gap in the system (no offer, waiting list) for the steering group
GAP_BUTTON = N_("🕳 Describe the gap")


def _refusal(t: Translator, problem: Exception, code: str) -> str:
    if isinstance(problem, CaseClosed):
        return t.plain(N_("Case {code} is closed; reopen it first."), code=t.isolate(code))
    if isinstance(problem, NoConsent):
        return t.plain(N_("No consent to pass data to this service. Record the client's consent first."))
    return t.plain(N_("No case {code} among the cases you may change."), code=t.isolate(code))


async def _refuse(update: Update, context: BotContext, problem: Exception, code: str) -> None:
    """A refused press on a goal or referral: named by its case only to whom may see the case;
    to anyone else (a forged id) it is just an invalid button, revealing nothing."""
    if not code or not await context.services.store.aio.cases.may_see(context.staff, code):
        raise StaleButton
    await reply(update, _refusal(context.t, problem, code))


async def act(update: Update, context: BotContext, action: str, code: str, **preset: str) -> None:
    """One action on a case, from a button or a command; rights are checked here, every time.
    `preset`: answers a next-step button gives in advance (the life domain of a goal)."""
    store, staff, t = context.services.store, context.staff, context.t
    code = code.upper()
    try:
        if action in FORM_ACTIONS:
            await store.aio.casework.subject_of(staff, code)  # may they change it at all? (raises)
            if action != "close" and (await store.aio.casework.glance(staff, code)).closed:
                raise CaseClosed()
            if update.callback_query:
                await update.callback_query.answer()
            await begin(update, context, FORM_ACTIONS[action], case=code, **preset)
        elif action == "reopen":
            await store.aio.casework.reopen(staff, code)
            await send_case(update, context, code, reveal=False)
        elif action == "file":
            await show_timeline(update, context, code)
        elif action == "erase":
            await erasure.ask_reason(update, context, code)
        elif action == "export":
            await erasure.export_case(update, context, code)
        elif action in ("hold", "release"):
            await erasure.legal_hold(update, context, code, place=action == "hold")
        elif action == "goals":
            await _goals(update, context, code)
        elif action == "referrals":
            await _referrals(update, context, code)
        elif action == "reassign":
            await _reassign_menu(update, context, code)
        elif action == "documents":
            await documents.show_menu(update, context, code)
        else:
            raise StaleButton
    except (NotAllowed, CaseClosed, NoConsent) as problem:
        await reply(update, _refusal(t, problem, code))


async def on_action(update: Update, context: BotContext, action: str, code: str) -> None:
    """A button of the case view (or of a reminder, or after a save)."""
    await act(update, context, action, code)


async def on_next_step(update: Update, context: BotContext, action: str, code: str, domain: str) -> None:
    """A next step offered after a save: a goal or referral in one life domain."""
    await act(update, context, action, code, domain=domain)


def case_command(action: str):  # noqa: ANN201
    """/assess LEV-2026-0001 and its siblings."""

    async def handle(update: Update, context: BotContext) -> None:
        code = await case_from_args(update, context, action, action)
        if code is not None:
            await act(update, context, action, code)

    handle.__doc__ = f"/{action} <code>"
    return handle


async def find(update: Update, context: BotContext) -> None:
    """/find: a person by name and date of birth, asked for one at a time, or in one line
    (/find Olena Kovalenko 14.02.1986)."""
    t = context.t
    if not context.staff.may(roles.sees_case_content):
        await update.effective_message.reply_text(t.gettext(N_("Admins do not see case content.")))
        return
    if not context.args:
        await begin(update, context, "find")
        return
    await forget_typed(update, context)  # the line holds a name and a date of birth
    *words, born = context.args
    try:
        birth_date = engine.parse_text(FORMS["find"].field("birth_date"), born)
        engine.check_name(" ".join(words), {}, None)  # no name at all, or only digits: refused
    except engine.Invalid as problem:
        await update.effective_chat.send_message(
            t.gettext(N_("Send /find alone to be asked step by step, or /find, the name and the date of birth "
                         "in one line, e.g. /find Olena Kovalenko 14.02.1986.")) + "\n" + t.plain(problem.message))
        return
    # the duplicate key does not tell given from family names (storage/crypto.py: normalise_name)
    reply = await context.services.store.run(found_reply, context, " ".join(words), "", date.fromisoformat(birth_date))
    await update.effective_chat.send_message(reply.text, reply_markup=reply.keyboard)


# goals ---------------------------------------------------------------------------------------
async def _goals(update: Update, context: BotContext, code: str) -> None:
    t = context.t
    goals = await context.services.store.aio.casework.goals(context.staff, code, with_wording=True)
    if update.callback_query:
        await update.callback_query.answer()
    if not goals:
        await update.effective_chat.send_message(t.gettext(N_("No goals yet for {code}."), code=t.isolate(code)))
        return
    lines, rows = [t.gettext(N_("<b>Goals of {code}</b>"), code=t.isolate(code))], []
    for n, goal in enumerate(goals, start=1):
        lines.append(t.gettext(N_("{n}. {domain}: {wording} · {responsible} · due {date} · {status}"), n=n,
                               domain=t.plain(label_of(LifeDomain, goal.domain)),
                               wording=goal.wording if goal.wording is not None else t.plain(UNREADABLE),
                               responsible=t.plain(label_of(Responsible, goal.responsible)), date=t.date(goal.due_on),
                               status=t.plain(label_of(GoalStatus, goal.status))))
        if goal.status == GoalStatus.OPEN:
            rows.append([InlineKeyboardButton(f"{n}. " + t.plain(s.label), callback_data=GOAL.data(goal.id, s))
                         for s in GOAL_OUTCOMES])
    await update.effective_chat.send_message("\n".join(lines), reply_markup=InlineKeyboardMarkup(rows) if rows else None)


async def on_goal(update: Update, context: BotContext, goal_id: int, status: str) -> None:
    """Achieved, changed or dropped: a goal's outcome."""
    t, casework = context.t, context.services.store.aio.casework
    try:
        code = await casework.set_goal_status(context.staff, goal_id, GoalStatus(status))
    except (NotAllowed, CaseClosed) as problem:
        await _refuse(update, context, problem, await casework.goal_case_code(goal_id))
        return
    await update.callback_query.answer(t.plain(N_("Goal set to: {status}"), status=t.plain(GoalStatus(status).label)))
    await update.callback_query.edit_message_reply_markup(reply_markup=None)
    await _goals(update, context, code)


# referrals -----------------------------------------------------------------------------------
async def _referrals(update: Update, context: BotContext, code: str) -> None:
    t = context.t
    referrals = await context.services.store.aio.referrals.for_case(context.staff, code)
    if update.callback_query:
        await update.callback_query.answer()
    if not referrals:
        await update.effective_chat.send_message(t.gettext(N_("No referrals yet for {code}."), code=t.isolate(code)))
        return
    for referral in referrals:
        consent = (t.plain(N_("consent given")) if referral.consent else
                   t.plain(N_("consent withdrawn")) if referral.withdrawn else t.plain(N_("no consent")))
        text = t.gettext(N_("<b>{service}</b> ({code}): {status} · {consent}"), service=referral.service_name,
                         code=t.isolate(code), status=t.plain(label_of(ReferralStatus, referral.status)),
                         consent=consent)
        buttons = [InlineKeyboardButton(t.plain(s.label), callback_data=REFERRAL.data(referral.id, s))
                   for s in REFERRAL_STEPS if s != referral.status]
        rows = [buttons[i : i + 3] for i in range(0, len(buttons), 3)]
        rows.append([InlineKeyboardButton(t.plain("✋ Withdraw consent") if referral.consent else t.plain("✍ Record consent"),
                                          callback_data=REFERRAL.data(referral.id, "withdraw" if referral.consent else "consent"))])
        if referral.consent and referral.status in RESULT_STATUSES:
            rows.append([InlineKeyboardButton(t.plain(N_("📝 Result reported back")),
                                              callback_data=REFERRAL.data(referral.id, "result"))])
        if ReferralStatus(referral.status).is_gap:
            rows.append([InlineKeyboardButton(t.plain(GAP_BUTTON), callback_data=REFERRAL.data(referral.id, "gap"))])
        await update.effective_chat.send_message(text, reply_markup=InlineKeyboardMarkup(rows))


async def on_referral(update: Update, context: BotContext, referral_id: int, action: str) -> None:
    """Status buttons, the follow-up question's answers, consent given or withdrawn."""
    query, t, services = update.callback_query, context.t, context.services
    store, hours = services.store, services.working_hours
    code = await store.aio.referrals.case_code(referral_id)  # whatever the referral's status
    try:
        if action == "consent":
            await store.aio.casework.subject_of(context.staff, code)
            await query.answer()
            await begin(update, context, "consent", case=code, referral=referral_id)
            return
        if action == "result":
            await store.aio.casefile.result_allowed(context.staff, referral_id)
            await query.answer()
            await begin(update, context, "referral_result", case=code, referral=referral_id)
            return
        if action == "gap":
            await store.aio.casework.subject_of(context.staff, code)
            await query.answer()
            await begin(update, context, "gap_note", case=code, referral=referral_id)
            return
        if action == "withdraw":
            await store.aio.referrals.set_consent(context.staff, referral_id, given=False)
            await query.answer(t.plain(N_("Consent withdrawn: nothing more is shared with this service.")), show_alert=True)
        elif action == "later":
            subject = await store.aio.referrals.follow_up_subject(referral_id)
            if subject is None:  # answered or closed meanwhile: nothing to ask again
                raise NotAllowed()
            due, at = referral_follow_up(store.clock.now(), FOLLOW_UP_AGAIN_DAYS, hours)
            await store.aio.referrals.set_status(context.staff, referral_id, subject[1].status, follow_up_on=due, follow_up_at=at)
            await query.answer(t.plain(N_("I will ask again on {date}."), date=t.date(due)))
        else:
            status = ReferralStatus(action)
            due, at = referral_follow_up(store.clock.now(), services.settings.referral_follow_up_days, hours)
            follow_up = {"follow_up_on": due, "follow_up_at": at} if status is ReferralStatus.SENT else {}
            info = await store.aio.referrals.set_status(context.staff, referral_id, status, **follow_up)
            note = (t.plain(N_(" I will ask how it went on {date}."), date=t.date(due)) if follow_up else
                    t.plain(N_(" Recorded as a gap in the system.")) if status.is_gap else "")
            await query.answer(t.plain(N_("{service}: {status}."), service=info.service_name, status=t.plain(status.label))
                               + note, show_alert=True)
    except (NotAllowed, CaseClosed, NoConsent) as problem:
        await _refuse(update, context, problem, code)
        return
    await query.edit_message_reply_markup(reply_markup=None)
    if action in ("no-offer", "waiting-list"):  # a gap: what is missing, for the steering group (optional)
        await update.effective_chat.send_message(t.gettext(N_(
            "Describe what is missing, for the steering group's report? About the offer, never the client.")),
            reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton(t.plain(GAP_BUTTON),
                                                                     callback_data=REFERRAL.data(referral_id, "gap"))]]))


# handovers and reassignment ---------------------------------------------------------------------
async def on_handover(update: Update, context: BotContext, handover_id: int, decision: str) -> None:
    """The receiving case manager accepts or declines a handover."""
    query, t, services = update.callback_query, context.t, context.services
    store, accepted = services.store, decision == "a"
    try:
        code, handed_by = await store.aio.referrals.decide_handover(context.staff, handover_id, accept=accepted)
    except NotAllowed:
        await reply(update, t.plain(N_("This handover is no longer open.")))
        return
    await query.answer()
    await query.edit_message_reply_markup(reply_markup=None)
    await update.effective_chat.send_message(t.gettext(
        N_("Case {code} is now yours.") if accepted else N_("Handover of {code} declined; the case stays where it was."),
        code=t.isolate(code)))
    sender = await store.aio.staff.user_by_id(handed_by)
    if sender is not None:
        ts = services.translator(sender)
        await context.bot.send_message(sender.telegram_id, ts.gettext(
            N_("The handover of {code} was accepted.") if accepted else
            N_("The handover of {code} was declined; the case stays with you."), code=ts.isolate(code)))


async def _reassign_menu(update: Update, context: BotContext, code: str) -> None:
    t, store = context.t, context.services.store
    if not context.staff.may(roles.reassigns_cases):
        raise NotAllowed()
    await store.aio.casework.subject_of(context.staff, code)
    holder = (await store.aio.casework.glance(context.staff, code, audited=False)).summary.assigned_to
    managers = [(user, load) for user, load in await store.aio.staff.case_managers(context.staff.org_id)
                if user.id != holder]  # giving it to whom has it already is no choice
    rows = [[InlineKeyboardButton(t.plain(N_("{name} · district {district} · {count} open"), name=user.label,
                                          district=user.district_code or "–", count=load),
                                  callback_data=REASSIGN.data(code, user.id))] for user, load in managers]
    if update.callback_query:
        await update.callback_query.answer()
    await update.effective_chat.send_message(t.gettext(N_("Reassign {code} to:"), code=t.isolate(code)),
                                             reply_markup=InlineKeyboardMarkup(rows))


async def on_reassign(update: Update, context: BotContext, code: str, to_user: int) -> None:
    """A coordinator gives the case to this case manager."""
    query, t = update.callback_query, context.t
    try:
        await context.services.store.aio.referrals.reassign(context.staff, code, to_user=to_user)
    except (NotAllowed, CaseClosed) as problem:
        await reply(update, _refusal(t, problem, code))
        return
    await query.answer()
    context.services.dispatcher.kick()  # both case managers are told
    await query.edit_message_text(t.gettext(N_("Case {code} reassigned. Both case managers are told."),
                                            code=t.isolate(code)))


ROUTES = (
    *(command(name, case_command(name)) for name in COMMANDS),
    command("find", find),
    press(CASE_ACTION, on_action),
    press(NEXT_STEP, on_next_step),
    press(GOAL, on_goal),
    press(REFERRAL, on_referral),
    press(HANDOVER, on_handover),
    press(REASSIGN, on_reassign),
)

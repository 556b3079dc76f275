"""Working on a case: the case view's actions, goal and referral status, handovers, reassignment,
and the commands /assess /goal /refer /note /handover /close /reopen /find."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.callbacks import pack, unpack
from bot.domains import GOAL_STATUSES, LIFE_DOMAINS, REFERRAL_STATUSES, RESPONSIBLE, label_of
from bot.i18n import N_
from bot.services import BotContext
from handlers.cases import CODE, reply, send_case
from handlers.dialogue import begin
from storage.types import CaseClosed, NoConsent, NotAllowed, Role

# action of the case view -> the form it opens
FORM_ACTIONS = {"assess": "assessment", "goal": "goal", "refer": "referral", "note": "contact",
                "handover": "handover", "close": "closure", "conference": "conference"}
COMMANDS = {"assess": "assess", "goal": "goal", "refer": "refer", "note": "note", "handover": "handover",
            "close": "close", "reopen": "reopen", "conference": "conference"}
REFERRAL_NEXT = ("sent", "accepted", "completed", "declined", "no-show", "no-offer", "waiting-list")
FOLLOW_UP_HOUR = time(9, 0)  # follow-up questions arrive at nine in the morning, local time
INVALID = N_("This button is no longer valid.")


def _refusal(t, problem: Exception, code: str) -> str:  # noqa: ANN001
    if isinstance(problem, CaseClosed):
        return t.plain(N_("Case {code} is closed; reopen it first."), code=code)
    if isinstance(problem, NoConsent):
        return t.plain(N_("No consent to pass data to this service. Record the client's consent first."))
    return t.plain(N_("No case {code} among the cases you may change."), code=code)


async def act(update: Update, context: BotContext, action: str, code: str) -> None:
    """One action on a case, from a button or a command; rights are checked here, every time."""
    store, staff, t = context.services.store, context.staff, context.t
    code = code.upper()
    try:
        if action in FORM_ACTIONS:
            store.casework.subject_of(staff, code)  # may they change it at all? (raises)
            if action != "close" and store.casework.glance(staff, code).closed:
                raise CaseClosed()
            if update.callback_query:
                await update.callback_query.answer()
            await begin(update, context, FORM_ACTIONS[action], case=code)
        elif action == "reopen":
            store.casework.reopen(staff, code)
            await send_case(update, context, code, reveal=False)
        elif action == "goals":
            await _goals(update, context, code)
        elif action == "referrals":
            await _referrals(update, context, code)
        elif action == "reassign":
            await _reassign_menu(update, context, code)
        else:
            await reply(update, t.plain(INVALID))
    except (NotAllowed, CaseClosed, NoConsent) as problem:
        await reply(update, _refusal(t, problem, code))


async def on_action(update: Update, context: BotContext) -> None:
    parts = unpack(update.callback_query.data, "k", 2)
    if parts is None or not CODE.match(parts[1]):
        await reply(update, context.t.plain(INVALID))
        return
    await act(update, context, parts[0], parts[1])


def command(action: str):  # noqa: ANN201
    """/assess LEV-2026-0001 and its siblings."""

    async def handle(update: Update, context: BotContext) -> None:
        code = context.args[0] if context.args else ""
        if not CODE.match(code):
            await update.effective_message.reply_text(context.t.gettext(
                N_("Please give a case code, for example /{command} LEV-2026-0001."), command=action))
            return
        await act(update, context, action, code)

    handle.__doc__ = f"/{action} <code>"
    return handle


async def find(update: Update, context: BotContext) -> None:
    """/find: a person by name and date of birth."""
    if context.staff.role is Role.ADMIN:
        await update.effective_message.reply_text(context.t.gettext(N_("Admins do not see case content.")))
        return
    await begin(update, context, "find")


# goals ---------------------------------------------------------------------------------------
async def _goals(update: Update, context: BotContext, code: str) -> None:
    t = context.t
    goals = context.services.store.casework.goals(context.staff, code, with_wording=True)
    domains = {c.value: t.plain(c.label) for c in LIFE_DOMAINS}
    if update.callback_query:
        await update.callback_query.answer()
    if not goals:
        await update.effective_chat.send_message(t.gettext(N_("No goals yet for {code}."), code=t.isolate(code)))
        return
    lines, rows = [t.gettext(N_("<b>Goals of {code}</b>"), code=t.isolate(code))], []
    for n, goal in enumerate(goals, start=1):
        lines.append(t.gettext(N_("{n}. {domain}: {wording} · {responsible} · due {date} · {status}"), n=n,
                               domain=domains.get(goal.domain, goal.domain), wording=goal.wording,
                               responsible=t.plain(label_of(RESPONSIBLE, goal.responsible)), date=t.date(goal.due_on),
                               status=t.plain(label_of(GOAL_STATUSES, goal.status))))
        if goal.status == "open":
            rows.append([InlineKeyboardButton(f"{n}. " + t.plain(label_of(GOAL_STATUSES, s)),
                                              callback_data=pack("g", goal.id, s)) for s in ("achieved", "changed", "dropped")])
    await update.effective_chat.send_message("\n".join(lines), reply_markup=InlineKeyboardMarkup(rows) if rows else None)


async def on_goal(update: Update, context: BotContext) -> None:
    parts = unpack(update.callback_query.data, "g", 2)
    t = context.t
    if parts is None or not parts[0].isdigit() or parts[1] not in {c.value for c in GOAL_STATUSES}:
        await reply(update, t.plain(INVALID))
        return
    try:
        code = context.services.store.casework.set_goal_status(context.staff, int(parts[0]), parts[1])
    except (NotAllowed, CaseClosed) as problem:
        await reply(update, _refusal(t, problem, context.services.store.casework.goal_case_code(int(parts[0]))))
        return
    await update.callback_query.answer(t.plain(N_("Goal set to: {status}"), status=t.plain(label_of(GOAL_STATUSES, parts[1]))))
    await update.callback_query.edit_message_reply_markup(reply_markup=None)
    await _goals(update, context, code)


# referrals -----------------------------------------------------------------------------------
async def _referrals(update: Update, context: BotContext, code: str) -> None:
    t = context.t
    referrals = context.services.store.referrals.for_case(context.staff, code)
    if update.callback_query:
        await update.callback_query.answer()
    if not referrals:
        await update.effective_chat.send_message(t.gettext(N_("No referrals yet for {code}."), code=t.isolate(code)))
        return
    statuses = {c.value: t.plain(c.label) for c in REFERRAL_STATUSES}
    for referral in referrals:
        consent = (t.plain(N_("consent given")) if referral.consent else
                   t.plain(N_("consent withdrawn")) if referral.withdrawn else t.plain(N_("no consent")))
        text = t.gettext(N_("<b>{service}</b> ({code}): {status} · {consent}"), service=referral.service_name,
                         code=t.isolate(code), status=statuses.get(referral.status, referral.status), consent=consent)
        buttons = [InlineKeyboardButton(statuses[s], callback_data=pack("r", referral.id, s))
                   for s in REFERRAL_NEXT if s != referral.status]
        rows = [buttons[i : i + 3] for i in range(0, len(buttons), 3)]
        rows.append([InlineKeyboardButton(t.plain("✋ Withdraw consent") if referral.consent else t.plain("✍ Record consent"),
                                          callback_data=pack("r", referral.id, "withdraw" if referral.consent else "consent"))])
        await update.effective_chat.send_message(text, reply_markup=InlineKeyboardMarkup(rows))


async def on_referral(update: Update, context: BotContext) -> None:
    """Status buttons, the follow-up question's answers, consent given or withdrawn."""
    query, t, services = update.callback_query, context.t, context.services
    parts = unpack(query.data, "r", 2)
    statuses = {c.value for c in REFERRAL_STATUSES}
    if parts is None or not parts[0].isdigit() or parts[1] not in statuses | {"later", "consent", "withdraw"}:
        await reply(update, t.plain(INVALID))
        return
    referral_id, action = int(parts[0]), parts[1]
    store = services.store
    code = store.referrals.case_code(referral_id)  # whatever the referral's status
    try:
        if action == "consent":
            store.casework.subject_of(context.staff, code)
            await query.answer()
            await begin(update, context, "consent", case=code, referral=referral_id)
            return
        if action == "withdraw":
            store.referrals.set_consent(context.staff, referral_id, given=False)
            await query.answer(t.plain(N_("Consent withdrawn: nothing more is shared with this service.")), show_alert=True)
        elif action == "later":
            subject = store.referrals.follow_up_subject(referral_id)
            if subject is None:  # answered or closed meanwhile: nothing to ask again
                raise NotAllowed()
            due = services.local_now().date() + timedelta(days=7)
            store.referrals.set_status(context.staff, referral_id, subject[1].status, **_follow_up(services, due))
            await query.answer(t.plain(N_("I will ask again on {date}."), date=t.date(due)))
        else:
            due = services.local_now().date() + timedelta(days=services.settings.referral_follow_up_days)
            info = store.referrals.set_status(context.staff, referral_id, action,
                                              **(_follow_up(services, due) if action == "sent" else {}))
            label = t.plain(label_of(REFERRAL_STATUSES, action))
            note = (t.plain(N_(" I will ask how it went on {date}."), date=t.date(due)) if action == "sent" else
                    t.plain(N_(" Recorded as a gap in the system.")) if action in ("no-offer", "waiting-list") else "")
            await query.answer(t.plain(N_("{service}: {status}."), service=info.service_name, status=label) + note,
                               show_alert=True)
    except (NotAllowed, CaseClosed, NoConsent) as problem:
        await reply(update, _refusal(t, problem, code))
        return
    await query.edit_message_reply_markup(reply_markup=None)


def _follow_up(services, due):  # noqa: ANN001, ANN202
    """The follow-up question's date and moment (nine o'clock local time, stored in UTC)."""
    moment = datetime.combine(due, FOLLOW_UP_HOUR, tzinfo=services.settings.tz)
    return {"follow_up_on": due, "follow_up_at": moment}


# handovers and reassignment ---------------------------------------------------------------------
async def on_handover(update: Update, context: BotContext) -> None:
    query, t, store = update.callback_query, context.t, context.services.store
    parts = unpack(query.data, "h", 2)
    if parts is None or not parts[0].isdigit() or parts[1] not in ("a", "d"):
        await reply(update, t.plain(INVALID))
        return
    try:
        code, handed_by = store.referrals.decide_handover(context.staff, int(parts[0]), accept=parts[1] == "a")
    except NotAllowed:
        await reply(update, t.plain(N_("This handover is no longer open.")))
        return
    accepted = parts[1] == "a"
    await query.answer()
    await query.edit_message_reply_markup(reply_markup=None)
    await update.effective_chat.send_message(t.gettext(
        N_("Case {code} is now yours.") if accepted else N_("Handover of {code} declined; the case stays where it was."),
        code=t.isolate(code)))
    sender = store.staff.user_by_id(handed_by)
    if sender is not None:
        ts = context.services.catalogs.get(sender.language or context.services.settings.default_language)
        await context.bot.send_message(sender.telegram_id, ts.gettext(
            N_("The handover of {code} was accepted.") if accepted else
            N_("The handover of {code} was declined; the case stays with you."), code=ts.isolate(code)))


async def _reassign_menu(update: Update, context: BotContext, code: str) -> None:
    t, store = context.t, context.services.store
    if context.staff.role is not Role.COORDINATOR:
        raise NotAllowed()
    store.casework.subject_of(context.staff, code)
    managers = store.staff.case_managers(context.staff.org_id)
    rows = [[InlineKeyboardButton(t.plain(N_("{name} · district {district} · {count} open"), name=user.label,
                                          district=user.district_code or "–", count=load),
                                  callback_data=pack("x", code, user.id))] for user, load in managers]
    if update.callback_query:
        await update.callback_query.answer()
    await update.effective_chat.send_message(t.gettext(N_("Reassign {code} to:"), code=t.isolate(code)),
                                             reply_markup=InlineKeyboardMarkup(rows))


async def on_reassign(update: Update, context: BotContext) -> None:
    query, t, store = update.callback_query, context.t, context.services.store
    parts = unpack(query.data, "x", 2)
    if parts is None or not CODE.match(parts[0]) or not parts[1].isdigit():
        await reply(update, t.plain(INVALID))
        return
    try:
        store.referrals.reassign(context.staff, parts[0], to_user=int(parts[1]))
    except (NotAllowed, CaseClosed) as problem:
        await reply(update, _refusal(t, problem, parts[0]))
        return
    await query.answer()
    await query.edit_message_text(t.gettext(N_("Case {code} reassigned."), code=t.isolate(parts[0])))

"""Saving the dialogues of the cycle: assessments, goals, referrals, contacts, handovers, closure."""

from __future__ import annotations

from datetime import date

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.callbacks import pack
from bot.completion import Reply
from bot.domains import CLOSE_REASONS, LIFE_DOMAINS, NEED_LEVELS, label_of
from bot.forms import cycle, engine
from bot.i18n import N_
from bot.services import BotContext
from storage.types import DialogueSnapshot, NotAllowed

NEED_ORDER = {c.value: n for n, c in enumerate(NEED_LEVELS)}


def add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return day.replace(year=year, month=month, day=min(day.day, last))
        except ValueError:
            continue
    raise ValueError("no such month")


def _about(snapshot: DialogueSnapshot) -> dict:
    return snapshot.state.get("context", {})


def _finish(context: BotContext, snapshot: DialogueSnapshot) -> None:
    """Forms of the cycle write through their own repositories; the draft goes afterwards,
    only if it is still at this version (a second confirmation finds it gone: stale)."""
    with context.services.store.transaction() as s:
        context.services.store.dialogues.consume(s, user_id=context.staff.id, version=snapshot.version)


def button(text: str, *parts: object) -> InlineKeyboardButton:
    return InlineKeyboardButton(text, callback_data=pack(*parts))


def assessment(context: BotContext, snapshot: DialogueSnapshot, ctx: engine.FormContext) -> Reply:
    t, services, code = context.t, context.services, _about(snapshot)["case"]
    values = engine.final_answers(cycle.ASSESSMENT, snapshot.state, ctx)
    due = add_months(ctx.today, services.settings.reassessment_months)
    _finish(context, snapshot)
    number, previous = services.store.casework.add_assessment(context.staff, code, values, next_due_on=due)
    lines = [t.gettext(N_("Assessment {number} of {code} saved. Next re-assessment: {date}."),
                       number=number, code=t.isolate(code), date=t.date(due))]
    if previous:
        changes = [
            t.gettext(N_("{domain}: {before} → {after}"), domain=t.plain(d.label),
                      before=t.plain(label_of(NEED_LEVELS, previous.get(f"need_{d.value}", "none"))),
                      after=t.plain(label_of(NEED_LEVELS, values[f"need_{d.value}"])))
            for d in LIFE_DOMAINS if previous.get(f"need_{d.value}") != values[f"need_{d.value}"]
        ]
        lines.append(t.gettext(N_("Changed since the last assessment:")) + "\n" + "\n".join(changes)
                     if changes else t.gettext(N_("No need changed since the last assessment.")))
    keyboard = None
    if any(g.status == "open" for g in services.store.casework.goals(context.staff, code)):
        lines.append(t.gettext(N_("Please review the open goals.")))
        keyboard = InlineKeyboardMarkup([[button(t.plain("🎯 Goals"), "k", "goals", code)]])
    return Reply("\n\n".join(lines), keyboard)


def goal(context: BotContext, snapshot: DialogueSnapshot, ctx: engine.FormContext) -> Reply:
    t, code = context.t, _about(snapshot)["case"]
    a = engine.final_answers(cycle.GOAL, snapshot.state, ctx)
    _finish(context, snapshot)
    context.services.store.casework.add_goal(context.staff, code, domain=a["domain"], wording=a["wording"],
                                             responsible=a["responsible"], due_on=date.fromisoformat(a["due_on"]))
    return Reply(t.gettext(N_("Goal saved for {code}, due {date}."), code=t.isolate(code),
                           date=t.date(a["due_on"])))


def referral(context: BotContext, snapshot: DialogueSnapshot, ctx: engine.FormContext) -> Reply:
    t, store, code = context.t, context.services.store, _about(snapshot)["case"]
    a = engine.final_answers(cycle.REFERRAL, snapshot.state, ctx)
    consent = a["consent"] == "given"
    _finish(context, snapshot)
    referral_id = store.referrals.add(context.staff, code, service_id=int(a["service"]), domain=a["domain"],
                                      purpose=a["purpose"], consent=consent,
                                      shared_domains=tuple(a.get("shared_domains") or ()))
    name = store.catalogue.service(context.staff.org_id, int(a["service"])).name
    if consent:
        return Reply(t.gettext(N_("Referral of {code} to {service} recorded. Mark it as sent once it went out."),
                               code=t.isolate(code), service=name),
                     InlineKeyboardMarkup([[button(t.plain("📤 Mark as sent"), "r", referral_id, "sent")]]))
    return Reply(t.gettext(N_("Referral of {code} to {service} recorded as a suggestion. Without consent nothing is "
                              "passed on; the client can contact the service directly."), code=t.isolate(code),
                           service=name))


def consent(context: BotContext, snapshot: DialogueSnapshot, ctx: engine.FormContext) -> Reply:
    t, about = context.t, _about(snapshot)
    a = engine.final_answers(cycle.CONSENT, snapshot.state, ctx)
    _finish(context, snapshot)
    context.services.store.referrals.set_consent(context.staff, int(about["referral"]), given=True,
                                                 shared_domains=tuple(a["shared_domains"]))
    return Reply(t.gettext(N_("Consent recorded for the referral of {code}."), code=t.isolate(about["case"])))


def contact(context: BotContext, snapshot: DialogueSnapshot, ctx: engine.FormContext) -> Reply:
    t, code = context.t, _about(snapshot)["case"]
    a = engine.final_answers(cycle.CONTACT, snapshot.state, ctx)
    _finish(context, snapshot)
    context.services.store.casework.add_contact(context.staff, code, happened_on=date.fromisoformat(a["happened_on"]),
                                                kind=a["kind"], note=a["note"])
    return Reply(t.gettext(N_("Contact of {date} recorded for {code}."), date=t.date(a["happened_on"]),
                           code=t.isolate(code)))


def handover(context: BotContext, snapshot: DialogueSnapshot, ctx: engine.FormContext) -> Reply:
    t, services, code = context.t, context.services, _about(snapshot)["case"]
    a = engine.final_answers(cycle.HANDOVER, snapshot.state, ctx)
    district = next(d for d in ctx.districts if str(d.id) == a["district"])
    _finish(context, snapshot)
    try:
        services.store.referrals.request_handover(context.staff, code, district_id=district.id, note=a["note"])
    except NotAllowed:
        return Reply(t.gettext(N_("No other case manager serves district {district}. Please ask a coordinator to "
                                  "reassign the case."), district=t.isolate(district.code)))
    services.dispatcher.kick()
    return Reply(t.gettext(N_("Handover of {code} offered to the case manager of district {district}. The case stays "
                              "with you until they accept."), code=t.isolate(code), district=t.isolate(district.code)))


def closure(context: BotContext, snapshot: DialogueSnapshot, ctx: engine.FormContext) -> Reply:
    t, code = context.t, _about(snapshot)["case"]
    a = engine.final_answers(cycle.CLOSURE, snapshot.state, ctx)
    _finish(context, snapshot)
    context.services.store.casework.close(context.staff, code, reason=a["reason"])
    return Reply(t.gettext(N_("Case {code} closed ({reason}). It can be reopened from the case view."),
                           code=t.isolate(code), reason=t.plain(label_of(CLOSE_REASONS, a["reason"]))),
                 InlineKeyboardMarkup([[button(t.plain("↩ Reopen"), "k", "reopen", code)]]))


def find(context: BotContext, snapshot: DialogueSnapshot, ctx: engine.FormContext) -> Reply:
    t = context.t
    a = engine.final_answers(cycle.FIND, snapshot.state, ctx)
    _finish(context, snapshot)
    found = context.services.store.casework.find(context.staff, given_name=a["given_name"],
                                                 family_name=a["family_name"], birth_date=date.fromisoformat(a["birth_date"]))
    if found is None:
        return Reply(t.gettext(N_("No case with this name and date of birth.")))
    code, visible = found
    if not visible:
        return Reply(t.gettext(N_("This person is a case ({code}) of another case manager."), code=t.isolate(code)))
    return Reply(t.gettext(N_("Found: case {code}."), code=t.isolate(code)),
                 InlineKeyboardMarkup([[button(code, "c", "o", code)]]))


COMPLETERS = {"assessment": assessment, "goal": goal, "referral": referral, "consent": consent, "contact": contact,
              "handover": handover, "closure": closure, "find": find}

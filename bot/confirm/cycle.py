"""Saving the dialogues of the cycle: assessments, goals, referrals, consent, contacts, handovers,
closure, and finding a person."""

from __future__ import annotations

from datetime import date

from telegram import InlineKeyboardMarkup

from bot.buttons import CASE_ACTION, CASES, REFERRAL
from bot.choices import label_of
from bot.confirm.common import Reply, about, button, case_action, in_domain, next_steps, open_case
from bot.forms.engine import Answers, FormContext
from bot.i18n import N_
from bot.services import BotContext
from domain.calendar import reassessment_due
from domain.vocabulary import CloseReason, GoalStatus, LifeDomain, NeedLevel, ReferralStatus
from storage.types import DialogueSnapshot, NotAllowed


def assessment(context: BotContext, snapshot: DialogueSnapshot, a: Answers, ctx: FormContext) -> Reply:
    t, services, code = context.t, context.services, about(snapshot)["case"]
    due = reassessment_due(ctx.today, services.settings.reassessment_months)
    number, previous = services.store.casework.add_assessment(context.staff, code, a, next_due_on=due)
    lines = [t.gettext(N_("Assessment {number} of {code} saved. Next re-assessment: {date}."),
                       number=number, code=t.isolate(code), date=t.date(due))]
    if previous:
        changes = [
            t.gettext(N_("{domain}: {before} → {after}"), domain=t.plain(d.label),
                      before=t.plain(label_of(NeedLevel, previous.get(f"need_{d.value}", NeedLevel.NONE))),
                      after=t.plain(label_of(NeedLevel, a[f"need_{d.value}"])))
            for d in LifeDomain if previous.get(f"need_{d.value}") != a[f"need_{d.value}"]
        ]
        lines.append(t.gettext(N_("Changed since the last assessment:")) + "\n" + "\n".join(changes)
                     if changes else t.gettext(N_("No need changed since the last assessment.")))
    open_goals = [g for g in services.store.casework.goals(context.staff, code) if g.status == GoalStatus.OPEN]
    if open_goals:
        lines.append(t.gettext(N_("Please review the open goals.")))
    # a goal for each domain with a high need that has none yet, then a medium one (at most three)
    covered = {g.domain for g in open_goals}
    wanted = [d.value for level in (NeedLevel.HIGH, NeedLevel.MEDIUM) for d in LifeDomain
              if a.get(f"need_{d.value}") == level and d.value not in covered][:3]
    return Reply("\n\n".join(lines), next_steps(
        *(in_domain(t, "goal", code, domain) for domain in wanted),
        case_action(t, N_("🎯 Review goals"), "goals", code) if open_goals else None, open_case(t, code)))


def goal(context: BotContext, snapshot: DialogueSnapshot, a: Answers, ctx: FormContext) -> Reply:
    t, code = context.t, about(snapshot)["case"]
    context.services.store.casework.add_goal(context.staff, code, domain=a["domain"], wording=a["wording"],
                                             responsible=a["responsible"], due_on=date.fromisoformat(a["due_on"]))
    return Reply(t.gettext(N_("Goal saved for {code}, due {date}."), code=t.isolate(code), date=t.date(a["due_on"])),
                 next_steps(case_action(t, N_("➕ Another goal"), "goal", code), in_domain(t, "refer", code, a["domain"]),
                            open_case(t, code)))


def referral(context: BotContext, snapshot: DialogueSnapshot, a: Answers, ctx: FormContext) -> Reply:
    t, store, code = context.t, context.services.store, about(snapshot)["case"]
    consent = a["consent"] == "given"
    referral_id = store.referrals.add(context.staff, code, service_id=int(a["service"]), domain=a["domain"],
                                      purpose=a["purpose"], consent=consent,
                                      shared_domains=tuple(a.get("shared_domains") or ()))
    name = store.catalogue.service(context.staff.org_id, int(a["service"])).name
    if consent:
        return Reply(t.gettext(N_("Referral of {code} to {service} recorded. Mark it as sent once it went out."),
                               code=t.isolate(code), service=name),
                     next_steps(button(t.plain("📤 Mark as sent"), REFERRAL.data(referral_id, ReferralStatus.SENT)),
                                case_action(t, N_("➕ Another referral"), "refer", code), open_case(t, code)))
    return Reply(t.gettext(N_("Referral of {code} to {service} recorded as a suggestion. Without consent nothing is "
                              "passed on; the client can contact the service directly."), code=t.isolate(code),
                           service=name),
                 next_steps(case_action(t, N_("➕ Another referral"), "refer", code), open_case(t, code)))


def consent(context: BotContext, snapshot: DialogueSnapshot, a: Answers, ctx: FormContext) -> Reply:
    t, subject = context.t, about(snapshot)
    context.services.store.referrals.set_consent(context.staff, int(subject["referral"]), given=True,
                                                 shared_domains=tuple(a["shared_domains"]))
    code = subject["case"]
    return Reply(t.gettext(N_("Consent recorded for the referral of {code}."), code=t.isolate(code)),
                 next_steps(case_action(t, N_("↪ Referrals"), "referrals", code), open_case(t, code)))


def contact(context: BotContext, snapshot: DialogueSnapshot, a: Answers, ctx: FormContext) -> Reply:
    t, code = context.t, about(snapshot)["case"]
    context.services.store.casework.add_contact(context.staff, code, happened_on=date.fromisoformat(a["happened_on"]),
                                                kind=a["kind"], note=a["note"])
    return Reply(t.gettext(N_("Contact of {date} recorded for {code}."), date=t.date(a["happened_on"]),
                           code=t.isolate(code)), next_steps(open_case(t, code)))


def handover(context: BotContext, snapshot: DialogueSnapshot, a: Answers, ctx: FormContext) -> Reply:
    t, services, code = context.t, context.services, about(snapshot)["case"]
    district = next(d for d in ctx.districts if str(d.id) == a["district"])
    try:
        services.store.referrals.request_handover(context.staff, code, district_id=district.id, note=a["note"])
    except NotAllowed:
        # nothing was written: the draft is consumed all the same (there is nobody to hand over to)
        return Reply(t.gettext(N_("No other case manager serves district {district}. Please ask a coordinator to "
                                  "reassign the case."), district=t.isolate(district.code)))
    services.dispatcher.kick()
    return Reply(t.gettext(N_("Handover of {code} offered to the case manager of district {district}. The case stays "
                              "with you until they accept."), code=t.isolate(code), district=t.isolate(district.code)))


def closure(context: BotContext, snapshot: DialogueSnapshot, a: Answers, ctx: FormContext) -> Reply:
    t, code = context.t, about(snapshot)["case"]
    context.services.store.casework.close(context.staff, code, reason=a["reason"])
    return Reply(t.gettext(N_("Case {code} closed ({reason}). It can be reopened from the case view."),
                           code=t.isolate(code), reason=t.plain(label_of(CloseReason, a["reason"]))),
                 InlineKeyboardMarkup([[button(t.plain("↩ Reopen"), CASE_ACTION.data("reopen", code))]]))


def find(context: BotContext, snapshot: DialogueSnapshot, a: Answers, ctx: FormContext) -> Reply:
    return found_reply(context, a["given_name"], a["family_name"], date.fromisoformat(a["birth_date"]))


def found_reply(context: BotContext, given_name: str, family_name: str, birth_date: date) -> Reply:
    """Whether the person is a case, and which, as far as the user may know."""
    t = context.t
    found = context.services.store.casework.find(context.staff, given_name=given_name, family_name=family_name,
                                                 birth_date=birth_date)
    if found is None:
        return Reply(t.gettext(N_("No case with this name and date of birth.")))
    code, visible = found
    if not visible:
        return Reply(t.gettext(N_("This person is a case ({code}) of another case manager."), code=t.isolate(code)))
    return Reply(t.gettext(N_("Found: case {code}."), code=t.isolate(code)),
                 InlineKeyboardMarkup([[button(code, CASES.data("o", code))]]))

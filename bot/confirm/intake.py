"""Saving the intake: the case, with the duplicate check, its code and its first record."""

from __future__ import annotations

from datetime import date, datetime

from bot.confirm.common import Reply, about, case_action, next_steps, open_case
from bot.forms.eligibility import eligibility
from bot.forms.engine import Answers, FormContext
from bot.i18n import N_
from bot.services import BotContext
from domain.calendar import assessment_due
from domain.consent import CONSENT_VERSION
from storage.types import DialogueSnapshot

# Translators: {code} is a pseudonymous case code like LEV-2026-0042; /case is a command, keep it
SAVED_FOR_YOU = N_("Saved as case {code}. Next step: the assessment, due {date}.")


def save_intake(context: BotContext, snapshot: DialogueSnapshot, answers: Answers, ctx: FormContext) -> Reply:
    """Create the case and say where it went (to the user, or to the district's case manager)."""
    services, staff, t = context.services, context.staff, context.t
    store = services.store
    district_id = int(answers["district"])
    born = date.fromisoformat(answers["birth_date"])
    result = eligibility(answers, ctx)
    values = {k: v for k, v in answers.items() if k != "consent"}
    values["in_target_group"] = result.in_group
    assignment = store.staff.assignment(org_id=staff.org_id, district_id=district_id, quarter=answers.get("quarter"),
                                        preferred=staff)
    case = store.cases.create(
        user=staff,
        district_id=district_id,
        assigned_to=assignment.user_id,
        waiting=assignment.waiting,
        person_index=store.cases.person_index(org_id=staff.org_id, given_name=answers["given_name"],
                                              family_name=answers["family_name"], birth_date=born),
        consent_version=CONSENT_VERSION,
        consent_at=datetime.fromisoformat(snapshot.state["times"]["consent"]),
        next_due_on=assessment_due(ctx.today, services.settings.assessment_due_days),
        record="intake",
        values=values,
    )
    if about(snapshot).get("request"):  # the Meldebogen became this case (its sender sees "taken on")
        with store.transaction() as s:
            store.requests.taken_on(s, staff, int(about(snapshot)["request"]), case.id)
    if assignment.waiting:
        return Reply(t.gettext(N_("Saved as case {code}. Every case manager who could take it is at capacity, so it is "
                                  "on the waiting list; the coordinator assigns it (/waiting)."), code=t.isolate(case.code)),
                     next_steps(open_case(t, case.code)))
    if case.assigned_to == staff.id:
        return Reply(t.gettext(SAVED_FOR_YOU, code=t.isolate(case.code), date=t.date(case.next_due_on)),
                     next_steps(case_action(t, N_("📝 Assessment now"), "assess", case.code), open_case(t, case.code)))
    return Reply(t.gettext(N_("Saved as case {code} and handed to the case manager of district {district}."),
                           code=t.isolate(case.code), district=t.isolate(case.district_code)))

"""What happens when a form is saved: turning confirmed answers into records."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from telegram import InlineKeyboardMarkup

from bot.forms import engine
from bot.forms.intake import CONSENT_VERSION, INTAKE, eligibility, next_assessment_due
from bot.i18n import N_
from bot.services import BotContext
from storage.types import DialogueSnapshot


@dataclass(frozen=True)
class Reply:
    text: str
    keyboard: InlineKeyboardMarkup | None = None


def complete_intake(context: BotContext, snapshot: DialogueSnapshot, ctx: engine.FormContext) -> Reply:
    """Create the case (with the duplicate check and the draft's removal in one transaction)
    and return the confirmation message."""
    services, staff, t = context.services, context.staff, context.t
    answers = engine.final_answers(INTAKE, snapshot.state, ctx)
    store = services.store
    district_id = int(answers["district"])
    result = eligibility(answers, ctx)
    values = {k: v for k, v in answers.items() if k != "consent"}
    values["in_target_group"] = bool(result and result.in_group)
    case = store.cases.create(
        user=staff,
        district_id=district_id,
        assigned_to=store.staff.case_manager_for_district(org_id=staff.org_id, district_id=district_id, preferred=staff),
        person_index=store.cases.person_index(
            org_id=staff.org_id, given_name=answers["given_name"], family_name=answers["family_name"],
            birth_date=date.fromisoformat(answers["birth_date"]),
        ),
        consent_version=CONSENT_VERSION,
        consent_at=datetime.fromisoformat(snapshot.state["times"]["consent"]),
        next_due_on=next_assessment_due(ctx.today, services.settings.assessment_due_days),
        record="intake",
        values=values,
        finish_dialogue=(staff.id, snapshot.version),
    )
    if case.assigned_to == staff.id:
        return Reply(t.gettext(N_("Saved as case {code}. Next step: the assessment, due {date}. /case {code} shows it."),
                               code=t.isolate(case.code), date=t.date(case.next_due_on)))
    return Reply(t.gettext(N_("Saved as case {code} and handed to the case manager of district {district}."),
                           code=t.isolate(case.code), district=t.isolate(case.district_code)))


def _completers() -> dict[str, Callable[[BotContext, DialogueSnapshot, engine.FormContext], Reply]]:
    from bot import cycle_completion, meeting_completion

    return {"intake": complete_intake, **cycle_completion.COMPLETERS, **meeting_completion.COMPLETERS}

"""Saving the meeting dialogues: Fallkonferenz scheduled, moved, its outcome; the Jour fixe."""

from __future__ import annotations

from datetime import date, time

from bot.buttons import CASE_ACTION
from bot.confirm.common import Reply, about, button, next_steps, open_case
from bot.forms.engine import Answers, FormContext
from bot.i18n import N_
from bot.services import BotContext
from domain import roles
from storage.types import DialogueSnapshot


def consented(ctx: FormContext) -> set[str]:
    """The services (ids) the client consented to share data with."""
    return {str(i) for i in ctx.subject.get("case", {}).get("consented_services", ())}


def without_consent(answers: Answers, ctx: FormContext) -> list[str]:
    """The chosen agencies the client has not consented to share data with (their ids)."""
    given = consented(ctx)
    return [i for i in answers.get("agencies") or () if i not in given]


def conference(context: BotContext, snapshot: DialogueSnapshot, a: Answers, ctx: FormContext) -> Reply:
    t, services, code = context.t, context.services, about(snapshot)["case"]
    hours = services.working_hours
    starts_at = hours.local(date.fromisoformat(a["day"]), time.fromisoformat(a["time"]))
    participants = [int(i) for i in a.get("participants") or []]
    # an agency without the client's consent is invited only once the consent is recorded
    missing = set(without_consent(a, ctx))
    agencies = [i for i in a.get("agencies") or [] if i not in missing or a.get("agency_consent") == "given"]
    services.store.conferences.schedule(
        context.staff, code, starts_at=starts_at, minutes=int(a["minutes"]), place=a["place"], agenda=a["agenda"],
        participant_ids=participants, service_ids=[int(i) for i in agencies], hours=hours,
        consent_now=[int(i) for i in agencies if i in missing])
    services.dispatcher.kick()
    return Reply(t.gettext(N_("Fallkonferenz on {code} scheduled for {when}. Invitations with a calendar file go to "
                              "{count} people; reminders follow a day and an hour before."),
                           code=t.isolate(code), when=t.datetime(starts_at), count=len(participants) + 1),
                 next_steps(open_case(t, code)))


def reschedule(context: BotContext, snapshot: DialogueSnapshot, a: Answers, ctx: FormContext) -> Reply:
    t, services = context.t, context.services
    starts_at = services.working_hours.local(date.fromisoformat(a["day"]), time.fromisoformat(a["time"]))
    services.store.conferences.reschedule(context.staff, int(about(snapshot)["conference"]), starts_at=starts_at,
                                          hours=services.working_hours)
    services.dispatcher.kick()
    return Reply(t.gettext(N_("Fallkonferenz moved to {when}. Everyone is told, with an updated calendar file."),
                           when=t.datetime(starts_at)))


def outcome(context: BotContext, snapshot: DialogueSnapshot, a: Answers, ctx: FormContext) -> Reply:
    t, services = context.t, context.services
    code = services.store.conferences.record_outcome(context.staff, int(about(snapshot)["conference"]),
                                                     attended=[int(i) for i in a.get("attended") or []],
                                                     decisions=a["decisions"])
    return Reply(t.gettext(N_("Outcome of the Fallkonferenz on {code} recorded. Follow-up tasks become goals with an "
                              "owner and a due date, and are reminded of like every goal."), code=t.isolate(code)),
                 next_steps(button(t.plain("🎯 Follow-up task"), CASE_ACTION.data("goal", code)), open_case(t, code)))


def agenda_item(context: BotContext, snapshot: DialogueSnapshot, a: Answers, ctx: FormContext) -> Reply:
    t, services = context.t, context.services
    meeting_on = date.fromisoformat(about(snapshot)["meeting"])
    services.store.jourfixe.add_item(org_id=context.staff.org_id, user_id=context.staff.id, meeting_on=meeting_on,
                                     text=a["text"])
    return Reply(t.gettext(N_("Added to the agenda of the Jour fixe on {date}."), date=t.date(meeting_on)))


def jour_fixe(context: BotContext, snapshot: DialogueSnapshot, a: Answers, ctx: FormContext) -> Reply:
    t, services = context.t, context.services
    if not context.staff.may(roles.runs_jour_fixe):
        return Reply(t.gettext(N_("Only coordinators set up the Jour fixe.")))
    services.store.jourfixe.setup(org_id=context.staff.org_id, user_id=context.staff.id,
                                  first_on=date.fromisoformat(a["first_on"]), at=a["at"], place=a["place"])
    return Reply(t.gettext(N_("Jour fixe every 14 days from {date}, at {time}. The agenda goes out on the morning of "
                              "each meeting."), date=t.date(a["first_on"]), time=t.isolate(a["at"])))

"""Saving the meeting dialogues: Fallkonferenz scheduled, moved, its outcome; the Jour fixe."""

from __future__ import annotations

from datetime import date, time

from telegram import InlineKeyboardMarkup

from bot.completion import Reply
from bot.cycle_completion import _about, _finish, button
from bot.forms import engine, meetings
from bot.i18n import N_
from bot.services import BotContext
from storage.types import DialogueSnapshot, Role


def conference(context: BotContext, snapshot: DialogueSnapshot, ctx: engine.FormContext) -> Reply:
    t, services, code = context.t, context.services, _about(snapshot)["case"]
    a = engine.final_answers(meetings.CONFERENCE, snapshot.state, ctx)
    hours = services.working_hours
    starts_at = hours.local(date.fromisoformat(a["day"]), time.fromisoformat(a["time"]))
    participants = [int(i) for i in a.get("participants") or []]
    _finish(context, snapshot)
    services.store.conferences.schedule(
        context.staff, code, starts_at=starts_at, minutes=int(a["minutes"]), place=a["place"], agenda=a["agenda"],
        participant_ids=participants, service_ids=[int(i) for i in a.get("agencies") or []], hours=hours)
    services.dispatcher.kick()
    return Reply(t.gettext(N_("Fallkonferenz on {code} scheduled for {when}. Invitations with a calendar file go to "
                              "{count} people; reminders follow a day and an hour before."),
                           code=t.isolate(code), when=t.datetime(starts_at), count=len(participants) + 1))


def reschedule(context: BotContext, snapshot: DialogueSnapshot, ctx: engine.FormContext) -> Reply:
    t, services, about = context.t, context.services, _about(snapshot)
    a = engine.final_answers(meetings.RESCHEDULE, snapshot.state, ctx)
    starts_at = services.working_hours.local(date.fromisoformat(a["day"]), time.fromisoformat(a["time"]))
    _finish(context, snapshot)
    services.store.conferences.reschedule(context.staff, int(about["conference"]), starts_at=starts_at,
                                          hours=services.working_hours)
    services.dispatcher.kick()
    return Reply(t.gettext(N_("Fallkonferenz moved to {when}. Everyone is told, with an updated calendar file."),
                           when=t.datetime(starts_at)))


def outcome(context: BotContext, snapshot: DialogueSnapshot, ctx: engine.FormContext) -> Reply:
    t, services, about = context.t, context.services, _about(snapshot)
    a = engine.final_answers(meetings.OUTCOME, snapshot.state, ctx)
    _finish(context, snapshot)
    code = services.store.conferences.record_outcome(context.staff, int(about["conference"]),
                                                     attended=[int(i) for i in a.get("attended") or []],
                                                     decisions=a["decisions"])
    return Reply(t.gettext(N_("Outcome of the Fallkonferenz on {code} recorded. Follow-up tasks become goals with an "
                              "owner and a due date, and are reminded of like every goal."), code=t.isolate(code)),
                 InlineKeyboardMarkup([[button(t.plain("🎯 Follow-up task"), "k", "goal", code)]]))


def agenda_item(context: BotContext, snapshot: DialogueSnapshot, ctx: engine.FormContext) -> Reply:
    t, services = context.t, context.services
    a = engine.final_answers(meetings.AGENDA_ITEM, snapshot.state, ctx)
    meeting_on = date.fromisoformat(_about(snapshot)["meeting"])
    _finish(context, snapshot)
    services.store.jourfixe.add_item(org_id=context.staff.org_id, user_id=context.staff.id, meeting_on=meeting_on,
                                     text=a["text"])
    return Reply(t.gettext(N_("Added to the agenda of the Jour fixe on {date}."), date=t.date(meeting_on)))


def jour_fixe(context: BotContext, snapshot: DialogueSnapshot, ctx: engine.FormContext) -> Reply:
    t, services = context.t, context.services
    a = engine.final_answers(meetings.JOUR_FIXE, snapshot.state, ctx)
    _finish(context, snapshot)
    if context.staff.role is not Role.COORDINATOR:
        return Reply(t.gettext(N_("Only coordinators set up the Jour fixe.")))
    services.store.jourfixe.setup(org_id=context.staff.org_id, user_id=context.staff.id,
                                  first_on=date.fromisoformat(a["first_on"]), at=a["at"], place=a["place"])
    return Reply(t.gettext(N_("Jour fixe every 14 days from {date}, at {time}. The agenda goes out on the morning of "
                              "each meeting."), date=t.date(a["first_on"]), time=t.isolate(a["at"])))


COMPLETERS = {"conference": conference, "reschedule": reschedule, "outcome": outcome, "agenda-item": agenda_item,
              "jour-fixe": jour_fixe}

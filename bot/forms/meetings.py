"""The dialogues of time: Fallkonferenz (schedule, reschedule, outcome) and the Jour fixe."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from bot.confirm import meetings as saving
from bot.confirm.meetings import consented as _consented
from bot.confirm.meetings import without_consent
from bot.forms.engine import Answers, Choice, Field, Form, FormContext, Invalid, Kind, LabelKind
from bot.i18n import N_


def _future_day(value: str, answers: Answers, ctx: FormContext) -> None:
    day = date.fromisoformat(value)
    if day < ctx.today:
        raise Invalid("The date lies in the past. Please choose a later date.")
    if day > ctx.today + timedelta(days=365):
        raise Invalid("Please choose a date within the next twelve months.")


def _future_time(value: str, answers: Answers, ctx: FormContext) -> None:
    """Today's meetings cannot begin in the past (the context knows the local time)."""
    moment = datetime.combine(date.fromisoformat(answers["day"]), time.fromisoformat(value))
    if moment <= ctx.local_now:
        raise Invalid("That time has already passed today. Please choose a later one.")


def _staff(ctx: FormContext, answers: Answers | None) -> tuple[Choice, ...]:
    return tuple(Choice(str(i), name, LabelKind.LITERAL) for i, name in ctx.subject.get("staff", []))


def _agencies(ctx: FormContext, answers: Answers | None) -> tuple[Choice, ...]:
    """The catalogue's services; ✓ marks those the client consented to share data with."""
    consented = _consented(ctx)
    return tuple(Choice(str(r.id), ("✓ " if str(r.id) in consented else "") + r.name, LabelKind.LITERAL)
                 for r in ctx.subject.get("services", []))


def _notices(name: str, answers: Answers, ctx: FormContext) -> list[tuple[str, dict[str, object]]]:
    missing = without_consent(answers, ctx) if name == "agencies" else []
    if not missing:
        return []
    names = {str(r.id): r.name for r in ctx.subject.get("services", [])}
    return [(N_("No consent to share data with: {agencies}. Without it they learn nothing about the client; record "
                "the client's consent now, or leave them out."), {"agencies": ", ".join(names[i] for i in missing)})]


def _participants(ctx: FormContext, answers: Answers | None) -> tuple[Choice, ...]:
    return tuple(Choice(str(i), name, LabelKind.LITERAL) for i, name in ctx.subject.get("participants", []))


DAY = Field("day", Kind.DATE, N_("Date"), N_("On which day? (DD.MM.YYYY)"), check=_future_day)
TIME = Field("time", Kind.TIME, N_("Time"), N_("At what time? (HH:MM)"), check=_future_time)

CONFERENCE = Form(
    name="conference", title=N_("Fallkonferenz"), confirm=saving.conference, needs_case=True, loads=frozenset({"staff"}),
    notices=_notices,
    fields=(
        DAY, TIME,
        Field("minutes", Kind.CHOICE, N_("Duration"), N_("How long?"),
              choices=(Choice("30", N_("30 min")), Choice("60", N_("60 min")), Choice("90", N_("90 min")),
                       Choice("120", N_("120 min")))),
        Field("place", Kind.TEXT, N_("Place"), N_("Where, or which video link?"), max_length=300),
        Field("participants", Kind.MULTI, N_("Participants"),
              N_("Which colleagues take part? (They get an invitation.) Choose, then Done."),
              dynamic_choices=_staff, optional=True),
        Field("agencies", Kind.MULTI, N_("Agencies"),
              N_("Which agencies take part? ✓: the client consented to share data with them. Choose, then Done."),
              dynamic_choices=_agencies, optional=True),
        Field("agency_consent", Kind.CHOICE, N_("Consent for the agencies"),
              N_("The client's consent to share data with the agencies marked above?"),
              choices=(Choice("given", N_("The client consents now (record it)")),
                       Choice("leave-out", N_("Leave them out"))),
              when=lambda answers, ctx: bool(without_consent(answers, ctx))),
        Field("agenda", Kind.TEXT, N_("Agenda"), N_("The agenda?"), max_length=1500, multiline=True),
    ),
)

RESCHEDULE = Form(name="reschedule", title=N_("Fallkonferenz"), confirm=saving.reschedule, needs_case=True,
                  fields=(DAY, TIME))

OUTCOME = Form(
    name="outcome", title=N_("Outcome of the Fallkonferenz"), confirm=saving.outcome, needs_case=True, loads=frozenset({"conference"}),
    fields=(
        Field("attended", Kind.MULTI, N_("Attended"), N_("Who attended? Choose, then Done."),
              dynamic_choices=_participants, optional=True),
        Field("decisions", Kind.TEXT, N_("Decisions"), N_("What was decided?"), max_length=3000, multiline=True),
    ),
)

AGENDA_ITEM = Form(
    name="agenda-item", title=N_("Jour fixe"), confirm=saving.agenda_item,
    fields=(Field("text", Kind.TEXT, N_("Agenda item"),
                  N_("Your item for the next Jour fixe? Please name cases by code only, never by name."),
                  max_length=500, multiline=True),),
)

JOUR_FIXE = Form(
    name="jour-fixe", title=N_("Jour fixe"), confirm=saving.jour_fixe,
    fields=(
        Field("first_on", Kind.DATE, N_("First meeting"), N_("When is the next meeting? (DD.MM.YYYY)"), check=_future_day),
        Field("at", Kind.TIME, N_("Time"), N_("At what time? (HH:MM)")),
        Field("place", Kind.TEXT, N_("Place"), N_("Where, or which video link?"), max_length=200),
    ),
)

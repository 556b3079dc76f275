"""The dialogues of the cycle after the intake, declared for the form engine."""

from __future__ import annotations

from datetime import date, timedelta

from bot.choices import CLOSE_REASONS, CONTACT_KINDS, LIFE_DOMAINS, NEED_LEVELS, RESPONSIBLE
from bot.confirm import cycle as saving
from bot.forms.engine import DUE_IN, PAST_DAYS, Answers, Choice, Field, Form, FormContext, Invalid, Kind, LabelKind, check_name
from bot.forms.intake import check_birth_date
from bot.i18n import N_
from domain.services import offer


def _not_none(name: str):  # noqa: ANN202
    return lambda answers, ctx: answers.get(name) not in (None, "none")


ASSESSMENT = Form(
    name="assessment", title=N_("Assessment"), confirm=saving.assessment, needs_case=True,
    fields=tuple(
        field
        for domain in LIFE_DOMAINS
        for field in (
            # labelled by its life domain alone: "Health: no need", not "Health: need: no need"
            Field(f"need_{domain.value}", Kind.CHOICE, "", N_("{subject}: how big is the need?"),
                  choices=NEED_LEVELS, subject=domain.label),
            Field(f"note_{domain.value}", Kind.TEXT, N_("note"), N_("{subject}: a short note?"), optional=True,
                  max_length=500, multiline=True, subject=domain.label, when=_not_none(f"need_{domain.value}")),
        )
    ) + (
        Field("priorities", Kind.MULTI, N_("Client's priorities"),
              N_("Which life domains matter most to the client? Choose, then Done."), choices=LIFE_DOMAINS),
        # "Die Entfaltung der Potenziale der Menschen steht im Mittelpunkt, nicht Hindernisse":
        # strengths and resources beside the needs, a note for each domain chosen
        Field("strengths", Kind.MULTI, N_("Strengths"),
              N_("In which life domains does the client bring strengths or resources? Choose, then Done "
                 "(Done alone: none)."), choices=LIFE_DOMAINS, optional=True),
    ) + tuple(
        Field(f"strength_{domain.value}", Kind.TEXT, N_("strength"), N_("{subject}: which strengths or resources?"),
              max_length=500, multiline=True, subject=domain.label,
              when=lambda answers, ctx, d=domain.value: d in (answers.get("strengths") or []))
        for domain in LIFE_DOMAINS
    ),
)


def _future_due(value: str, answers: Answers, ctx: FormContext) -> None:
    due = date.fromisoformat(value)
    if due < ctx.today:
        raise Invalid("The due date lies in the past. Please choose a later date.")
    if due > ctx.today + timedelta(days=3 * 365):
        raise Invalid("Please choose a due date within the next three years.")


GOAL = Form(
    name="goal", title=N_("Goal agreement"), confirm=saving.goal, needs_case=True, presets=("domain",),
    fields=(
        Field("domain", Kind.CHOICE, N_("Life domain"), N_("For which life domain is the goal?"), choices=LIFE_DOMAINS),
        Field("wording", Kind.TEXT, N_("Goal"), N_("The goal, as agreed with the client?"), max_length=500,
              multiline=True),
        Field("responsible", Kind.CHOICE, N_("Responsible"), N_("Who is responsible?"), choices=RESPONSIBLE),
        Field("due_on", Kind.DATE, N_("Due"), N_("By when? (DD.MM.YYYY)"), check=_future_due, quick_dates=DUE_IN),
    ),
)


def _services(ctx: FormContext, answers: Answers | None) -> tuple[Choice, ...]:
    """The services for the chosen domain that fit the client's age and status (★, the most
    specific first), then the rest for that domain, so a case manager can always refer where
    they judge right."""
    case, rules = ctx.subject.get("case", {}), ctx.subject.get("services", [])
    if answers is None:  # naming a stored answer: any service of the catalogue
        return tuple(Choice(str(r.id), r.name, LabelKind.LITERAL) for r in rules)
    suggested, others = offer(rules, age=case.get("age"), status=case.get("status"), domain=answers.get("domain"),
                              benefits=case.get("benefits"))
    return tuple(Choice(str(r.id), f"★ {r.name}", LabelKind.LITERAL) for r in suggested) + \
        tuple(Choice(str(r.id), r.name, LabelKind.LITERAL) for r in others)


REFERRAL = Form(
    name="referral", title=N_("Referral"), confirm=saving.referral, needs_case=True, presets=("domain",),
    fields=(
        Field("domain", Kind.CHOICE, N_("Life domain"), N_("In which life domain is the referral?"), choices=LIFE_DOMAINS),
        Field("service", Kind.CHOICE, N_("Service"), N_("To which service? ★ fits the client's age and status."),
              dynamic_choices=_services),
        Field("purpose", Kind.TEXT, N_("Purpose"), N_("What for? (The purpose the consent is bound to.)"),
              max_length=500, multiline=True),
        Field("consent", Kind.CHOICE, N_("Consent to share data"), N_(
            "Has the client consented that data are passed to this service for this purpose?"),
            choices=(Choice("given", N_("Consent given")), Choice("none", N_("No consent: nothing is shared")))),
        Field("shared_domains", Kind.MULTI, N_("Shared life domains"),
              N_("Which life domains may be shared with the service? Choose, then Done."),
              choices=LIFE_DOMAINS, when=lambda answers, ctx: answers.get("consent") == "given"),
    ),
)

CONSENT = Form(
    name="consent", title=N_("Consent to share data"), confirm=saving.consent, needs_case=True,
    fields=(
        Field("shared_domains", Kind.MULTI, N_("Shared life domains"),
              N_("The client consents now. Which life domains may be shared? Choose, then Done."),
              choices=LIFE_DOMAINS),
    ),
)


def _recent_past(value: str, answers: Answers, ctx: FormContext) -> None:
    happened = date.fromisoformat(value)
    if happened > ctx.today:
        raise Invalid("A contact cannot lie in the future.")
    if happened < ctx.today - timedelta(days=365):
        raise Invalid("Please record contacts of the last twelve months.")


CONTACT = Form(
    name="contact", title=N_("Contact"), confirm=saving.contact, needs_case=True,
    fields=(
        Field("happened_on", Kind.DATE, N_("Date"), N_("When was the contact? (DD.MM.YYYY)"), check=_recent_past,
              quick_dates=PAST_DAYS),
        Field("kind", Kind.CHOICE, N_("Kind"), N_("What kind of contact?"), choices=CONTACT_KINDS),
        Field("note", Kind.TEXT, N_("Note"), N_("A short note?"), max_length=2000, multiline=True),
    ),
)


def _other_districts(ctx: FormContext, answers: Answers | None) -> tuple[Choice, ...]:
    current = ctx.subject.get("case", {}).get("district_id")
    return tuple(Choice(str(d.id), d.name, LabelKind.LITERAL) for d in ctx.districts if d.id != current)


HANDOVER = Form(
    name="handover", title=N_("Handover"), confirm=saving.handover, needs_case=True,
    fields=(
        Field("district", Kind.CHOICE, N_("New district"), N_("To which district does the client move?"),
              dynamic_choices=_other_districts),
        Field("note", Kind.TEXT, N_("Handover note"), N_("A handover note for the new case manager?"),
              max_length=2000, multiline=True),
    ),
)

CLOSURE = Form(
    name="closure", title=N_("Closure"), confirm=saving.closure, needs_case=True,
    fields=(Field("reason", Kind.CHOICE, N_("Reason"), N_("Why is the case closed?"), choices=CLOSE_REASONS),),
)

FIND = Form(
    name="find", title=N_("Find a person"), confirm=saving.find, save_label=N_("🔍 Search"),
    fields=(
        Field("given_name", Kind.TEXT, N_("Given name(s)"), N_("Given name(s)?"), max_length=100, check=check_name),
        Field("family_name", Kind.TEXT, N_("Family name"), N_("Family name?"), max_length=100, check=check_name),
        Field("birth_date", Kind.DATE, N_("Date of birth"), N_("Date of birth? (DD.MM.YYYY)"), check=check_birth_date),
    ),
)

"""Changing the intake later: choose a field, say whether it is a correction or an update,
answer (the question shows what is recorded now), confirm. The fields are the intake's own,
with their checks, so a value is held to the same rules as when it was first recorded."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from bot.choices import CHANGE_NATURES
from bot.confirm.change import save_change, save_gap_note, save_hold, save_referral_result
from bot.forms.engine import PAST_DAYS, Answers, Choice, Field, Form, FormContext, Invalid, Kind
from bot.forms.intake import INTAKE
from bot.i18n import N_
from domain.vocabulary import EXPIRING_STATUSES, ChangeNature

# what can change, in the order offered; names and date of birth only ever need a correction
CHANGEABLE = ("address", "quarter", "district", "phone", "adults", "children", "languages", "interpreter",
              "residence_status", "residence_valid_until", "residence_since", "benefits", "other_case_management",
              "note", "given_name", "family_name", "birth_date", "arrived_germany", "arrived_municipality", "source")
ALWAYS_CORRECTIONS = frozenset({"given_name", "family_name", "birth_date", "arrived_germany", "arrived_municipality",
                                "source"})


def _fields(ctx: FormContext, answers: Answers | None) -> tuple[Choice, ...]:
    return tuple(Choice(name, INTAKE.field(name).label) for name in CHANGEABLE)


def _chosen(*names: str):  # noqa: ANN202
    return lambda answers, ctx: answers.get("field") in names


def _asks(name: str):  # noqa: ANN202
    """A value field applies when it is the chosen one, or goes with it (a new status's dates,
    the other languages)."""
    def applies(answers: Answers, ctx: FormContext) -> bool:
        chosen = answers.get("field")
        if name == chosen:
            return True
        if name == "residence_valid_until" and chosen == "residence_status":
            return answers.get("residence_status") in EXPIRING_STATUSES
        if name == "languages_other" and chosen == "languages":
            return "other" in (answers.get("languages") or [])
        return False
    return applies


def _is_update(answers: Answers, ctx: FormContext) -> bool:
    return answers.get("nature") == ChangeNature.UPDATE and answers.get("field") not in ALWAYS_CORRECTIONS


def _check_effective(value: str, answers: Answers, ctx: FormContext) -> None:
    day = date.fromisoformat(value)
    if day > ctx.today:
        raise Invalid("That date lies in the future. Please check it.")
    if day < ctx.today - timedelta(days=10 * 365):
        raise Invalid("Please give a date of the last ten years.")


def _prefill(ctx: FormContext) -> Answers:
    """The recorded values: each question shows what is recorded now."""
    return {k: v for k, v in ctx.subject.get("intake", {}).items() if v is not None and k != "in_target_group"}


VALUE_FIELDS = tuple(
    replace(INTAKE.field(name), when=_asks(name))
    for name in (*CHANGEABLE[:CHANGEABLE.index("languages") + 1], "languages_other", *CHANGEABLE[CHANGEABLE.index("languages") + 1:])
)

CHANGE = Form(
    name="change", title=N_("Change the intake"), confirm=save_change, needs_case=True,
    loads=frozenset({"intake", "target_group", "quarters"}), prefill=_prefill,
    fields=(
        Field("field", Kind.CHOICE, N_("What changes"), N_("What is to be changed?"), dynamic_choices=_fields),
        Field("nature", Kind.CHOICE, N_("Kind of change"), N_("Was it recorded wrongly, or has it changed?"),
              choices=CHANGE_NATURES, when=lambda answers, ctx: answers.get("field") not in ALWAYS_CORRECTIONS),
        *VALUE_FIELDS,
        Field("effective_on", Kind.DATE, N_("Since"), N_("Since when does it apply? (DD.MM.YYYY)"),
              when=_is_update, check=_check_effective, quick_dates=PAST_DAYS),
    ),
)

REFERRAL_RESULT = Form(
    name="referral_result", title=N_("Referral result"), confirm=save_referral_result, needs_case=True,
    fields=(
        Field("result", Kind.TEXT, N_("Result"), N_("What did the service report back? (Only what the client agreed "
              "may be shared.)"), max_length=2000, multiline=True),
    ),
)

GAP_NOTE = Form(
    name="gap_note", title=N_("Gap in the system"), confirm=save_gap_note, needs_case=True,
    fields=(
        # Translators: asked after a referral found no suitable offer or a waiting list
        Field("note", Kind.TEXT, N_("What is missing"), N_(
            "What is missing, for the steering group? About the offer (places, waiting time, language, age limits), "
            "never about the client: no name, no detail."), max_length=300, multiline=True),
    ),
)

LEGAL_HOLD = Form(
    name="legal_hold", title=N_("Legal hold"), confirm=save_hold, needs_case=True,
    fields=(
        Field("reason", Kind.TEXT, N_("Reason"), N_("Why must the case be kept past its retention period (a court "
              "case, an inquiry)?"), max_length=500, multiline=True),
    ),
)

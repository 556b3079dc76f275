"""The organisation's structure as an admin keeps it in the chat: a district's name, its quarters,
which of them are border quarters and the districts those border."""

from __future__ import annotations

import re

from bot.confirm import organisation as saving
from bot.forms.engine import Answers, Choice, Field, Form, FormContext, Invalid, Kind, LabelKind
from bot.i18n import N_
from domain.organisation import MAX_QUARTER_LENGTH, MAX_QUARTERS, parse_quarters

DISTRICT_CODE = re.compile(r"[A-Za-zÄÖÜäöüß0-9-]{1,16}")


def _is_new(answers: Answers, ctx: FormContext) -> bool:
    return not ctx.subject.get("district")


def _check_code(value: str, answers: Answers, ctx: FormContext) -> None:
    if not DISTRICT_CODE.fullmatch(value):
        raise Invalid("A district's code has 1 to 16 letters, digits or hyphens, e.g. IV or Nord.")
    if any(d.code.casefold() == value.casefold() for d in ctx.districts):
        raise Invalid("There is a district with this code already.")


def _check_quarters(value: str, answers: Answers, ctx: FormContext) -> None:
    try:
        parse_quarters(value)
    except ValueError:
        raise Invalid("At most {most} quarters, separated by commas, each up to {longest} characters.",
                      most=MAX_QUARTERS, longest=MAX_QUARTER_LENGTH) from None


def quarters_of(answers: Answers) -> tuple[str, ...]:
    return parse_quarters(answers.get("quarters") or "")


def _quarters(ctx: FormContext, answers: Answers | None) -> tuple[Choice, ...]:
    """The district's quarters as just answered (by their place: names may be longer than a button's data)."""
    return tuple(Choice(str(n), name, LabelKind.LITERAL) for n, name in enumerate(quarters_of(answers or {})))


def _neighbours(ctx: FormContext, answers: Answers | None) -> tuple[Choice, ...]:
    own = (ctx.subject.get("district") or {}).get("code") or (answers or {}).get("code")
    return tuple(Choice(d.code, f"{d.code} · {d.name}" if d.name != d.code else d.code, LabelKind.LITERAL)
                 for d in ctx.districts if d.code != own)


def _prefill(ctx: FormContext) -> Answers:
    district = ctx.subject.get("district")
    if not district:
        return {}
    quarters = list(district["quarters"])
    return {"name": district["name"], "quarters": ", ".join(quarters) or None,
            "border": [str(quarters.index(q)) for q in district["border"] if q in quarters] or None,
            "neighbours": list(district["neighbours"]) or None}


DISTRICT = Form(
    name="district", title=N_("District"), confirm=saving.save_district, loads=frozenset({"district"}),
    prefill=_prefill,
    fields=(
        Field("code", Kind.TEXT, N_("Code"), N_("The new district's short code (e.g. IV, Nord)?"), max_length=16,
              when=_is_new, check=_check_code),
        Field("name", Kind.TEXT, N_("Name"), N_("The district's name (e.g. Opladen)?"), max_length=100),
        Field("quarters", Kind.TEXT, N_("Quarters"),
              N_("Its quarters (Stadtteile), separated by commas? They are offered as buttons at every intake."),
              max_length=MAX_QUARTERS * (MAX_QUARTER_LENGTH + 2), optional=True, check=_check_quarters),
        Field("border", Kind.MULTI, N_("Border quarters"),
              N_("Which of them are border quarters, whose clients may go to a case manager of a neighbouring "
                 "district with room? Choose, then Done."),
              dynamic_choices=_quarters, optional=True, when=lambda answers, ctx: bool(quarters_of(answers))),
        Field("neighbours", Kind.MULTI, N_("Neighbouring districts"),
              N_("Which districts do the border quarters border? Choose, then Done."),
              dynamic_choices=_neighbours, when=lambda answers, ctx: bool(answers.get("border"))),
    ),
)

"""The intake (Erstberatung / Meldebogen): the first record of a case, declared as data."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from bot.choices import BENEFITS, OTHER_CASE_MANAGEMENT, RESIDENCE_STATUSES, SOURCES
from bot.confirm.intake import save_intake
from bot.forms.eligibility import eligibility, rules_of
from bot.forms.engine import SAME_AS, Answers, Choice, Field, Form, FormContext, Invalid, Kind, LabelKind, check_name
from bot.i18n import N_
from domain.consent import CONSENT_VERSION
from domain.eligibility import MAX_AGE, age_on
from domain.vocabulary import EXPIRING_STATUSES, TOLERATED_STATUSES

# Languages most often spoken by people arriving in NRW; names come from CLDR in the reader's language.
LANGUAGES = tuple(
    Choice(code, code, LabelKind.LANGUAGE)
    for code in ("de", "ar", "fa", "prs", "ps", "ku", "ckb", "tr", "uk", "ru", "ti", "so", "sq", "ro", "bg", "en", "fr")
) + (Choice("other", N_("Other language")),)


def _date(answers: Answers, name: str) -> date | None:
    value = answers.get(name)
    return date.fromisoformat(value) if value else None


# "Haddad, Amina, 01.02.1995" or "Haddad, Amina 01.02.1995": family name, given name(s), and the
# date of birth if it follows (the comma tells family from given names, as on German forms)
_FULL_NAME = re.compile(r"^(?P<family>[^,]+),(?P<given>[^,]+?)(?:[,\s]+(?P<born>\d{1,2}[./-]\d{1,2}[./-]\d{4}))?$")


def name_and_birth_date(text: str) -> list[tuple[str, str]] | None:
    """The given-name question answered with family name, given name(s) and date of birth."""
    match = _FULL_NAME.match(" ".join(text.split()))
    if match is None:
        return None
    parts = [("given_name", match["given"].strip()), ("family_name", match["family"].strip())]
    return parts + ([("birth_date", match["born"])] if match["born"] else [])


def check_birth_date(value: str, answers: Answers, ctx: FormContext) -> None:
    born = date.fromisoformat(value)
    if born > ctx.today:
        raise Invalid("The date of birth lies in the future. Please check it.")
    if age_on(born, ctx.today) > MAX_AGE:
        raise Invalid("That would make the client older than {limit} years. Please check the year.", limit=MAX_AGE)


def _check_arrival_germany(value: str, answers: Answers, ctx: FormContext) -> None:
    arrived = date.fromisoformat(value)
    if arrived > ctx.today:
        raise Invalid("The date of arrival lies in the future. Please check it.")
    born = _date(answers, "birth_date")
    if born and arrived < born:
        raise Invalid("The date of arrival is before the date of birth. Please check it.")


def _check_arrival_municipality(value: str, answers: Answers, ctx: FormContext) -> None:
    arrived = date.fromisoformat(value)
    if arrived > ctx.today:
        raise Invalid("The date of arrival lies in the future. Please check it.")
    in_germany = _date(answers, "arrived_germany")
    if in_germany and arrived < in_germany:
        raise Invalid("The client cannot have come to the municipality before arriving in Germany.")


def _check_valid_until(value: str, answers: Answers, ctx: FormContext) -> None:
    until = date.fromisoformat(value)
    if not ctx.today.replace(year=ctx.today.year - 5) <= until <= ctx.today.replace(year=ctx.today.year + 15):
        raise Invalid("Please check the date: a residence document is valid for at most 15 years.")


def _check_status_since(value: str, answers: Answers, ctx: FormContext) -> None:
    since = date.fromisoformat(value)
    if since > ctx.today:
        raise Invalid("That date lies in the future. Please check it.")
    born = _date(answers, "birth_date")
    if born and since < born:
        raise Invalid("That date is before the date of birth. Please check it.")


def _arrival_field(ctx: FormContext) -> str:
    """The question after which the arrival rule can be judged."""
    return "arrived_municipality" if rules_of(ctx).arrival_basis == "municipality" else "arrived_germany"


def _outside_group(answers: Answers, ctx: FormContext) -> bool:
    result = eligibility(answers, ctx)
    return result is not None and "other_case_management" in answers and not result.in_group


def _expiring(answers: Answers, ctx: FormContext) -> bool:
    return answers.get("residence_status") in EXPIRING_STATUSES


def _tolerated(answers: Answers, ctx: FormContext) -> bool:
    return answers.get("residence_status") in TOLERATED_STATUSES


def _districts(ctx: FormContext, answers: Answers | None) -> tuple[Choice, ...]:
    return tuple(Choice(str(d.id), d.name, LabelKind.LITERAL) for d in ctx.districts)


def _quarters(ctx: FormContext, answers: Answers) -> tuple[str, ...]:
    """The chosen district's quarters, as the organisation lists them (`casebot settings set
    quarters.<district> "A, B, C"`)."""
    district = next((d for d in ctx.districts if str(d.id) == str(answers.get("district"))), None)
    return ctx.subject.get("quarters", {}).get(district.code, ()) if district else ()


def _notices(name: str, answers: Answers, ctx: FormContext) -> list[tuple[str, dict[str, object]]]:
    """Said as the answers come: the target group, the service to refer to, a known person."""
    notices: list[tuple[str, dict[str, object]]] = []
    result = eligibility(answers, ctx)
    if name == "birth_date" and result is not None:
        if "minor" in result.reasons:
            notices.append((N_("Under 18: the KIM target group is adults. You can continue, giving a reason."), {}))
        find_duplicate, find_similar = ctx.services.get("duplicate_code"), ctx.services.get("similar_code")
        person = (answers["given_name"], answers["family_name"], date.fromisoformat(answers["birth_date"]))
        code = find_duplicate(*person) if find_duplicate is not None else None
        if code:
            notices.append((N_("This person is already a case: {code}. The intake cannot be saved twice; "
                               "correct name or date of birth, or /cancel."), {"code": code}))
        elif find_similar is not None and (similar := find_similar(*person)):
            notices.append((N_("Possibly the same person as case {code}: the same date of birth, the name written "
                               "differently. Please check with the client; you decide."), {"code": similar}))
    if name == "residence_status" and result is not None and result.teilhabe:
        notices.append((N_("Duldung or Gestattung, aged 18 to 27: refer to Teilhabemanagement "
                           "(“Gemeinsam klappt's” / “Durchstarten”)."), {}))
    if name == _arrival_field(ctx) and result is not None and "arrival" in result.reasons:
        notices.append((N_("Outside the KIM target group: arrived more than {years} years ago, "
                           "without Gestattung or Duldung."), {"years": rules_of(ctx).recent_years}))
    if name == "other_case_management" and result is not None and "other-cm" in result.reasons:
        notices.append((N_("The client already has a case management: refer them there (Verweisberatung). "
                           "Take the case on only with a reason."), {}))
    return notices


def prompt_params(field_name: str) -> dict[str, Any]:
    return {"version": CONSENT_VERSION} if field_name == "consent" else {}


INTAKE = Form(
    name="intake",
    title=N_("Intake"),
    confirm=save_intake,
    loads=frozenset({"target_group", "quarters", "request"}),
    # started from a Meldebogen: its answers (names, date of birth, phone, where it came from)
    prefill=lambda ctx: dict(ctx.subject.get("request") or {}), ask_prefilled=False,
    prompt_params=prompt_params,
    notices=_notices,
    fields=(
        Field("consent", Kind.CHOICE, N_("Consent"), N_(
            "Consent first: has the client agreed, after hearing the consent text (version {version}), "
            "that their data are documented in the case file?"),
            choices=(Choice("given", N_("Consent given")), Choice("refused", N_("No consent"))),
            required_value="given", timestamped=True,
            refusal=N_("Without consent nothing is documented. The intake was ended; nothing was stored.")),
        Field("source", Kind.CHOICE, N_("Came through"), N_("How did the client come to us?"), choices=SOURCES),
        Field("given_name", Kind.TEXT, N_("Given name(s)"), N_(
            "Given name(s) of the client? Faster: family name, given name(s) and date of birth in one message, "
            "e.g. Mustermann, Erika, 12.08.1964"), max_length=100, check=check_name, expands=name_and_birth_date),
        Field("family_name", Kind.TEXT, N_("Family name"), N_("Family name of the client?"), max_length=100,
              check=check_name),
        Field("birth_date", Kind.DATE, N_("Date of birth"), N_("Date of birth? (DD.MM.YYYY)"), check=check_birth_date),
        Field("district", Kind.CHOICE, N_("District"), N_("In which district does the client live?"), dynamic_choices=_districts),
        Field("address", Kind.TEXT, N_("Address"), N_("Address (street and number)?"), optional=True, max_length=200),
        Field("quarter", Kind.TEXT, N_("Quarter"), N_("Quarter (Stadtteil)?"), optional=True, max_length=100,
              suggestions=_quarters),
        Field("residence_status", Kind.CHOICE, N_("Residence status"), N_("Residence status?"), choices=RESIDENCE_STATUSES),
        Field("residence_other", Kind.TEXT, N_("Which status"), N_("Which residence status?"), max_length=200,
              when=lambda answers, ctx: answers.get("residence_status") == "other"),
        Field("residence_valid_until", Kind.DATE, N_("Valid until"),
              N_("Until when is the residence document valid? (DD.MM.YYYY)"), optional=True, when=_expiring,
              check=_check_valid_until),
        Field("residence_since", Kind.DATE, N_("Status since"), N_("Since when has the client held this status? "
              "(DD.MM.YYYY)"), optional=True, when=_tolerated, check=_check_status_since),
        Field("arrived_germany", Kind.DATE, N_("Arrived in Germany"), N_(
            "Date of arrival in Germany? (DD.MM.YYYY; the arrival in the municipality may follow as a second date)"),
              check=_check_arrival_germany, with_next="arrived_municipality"),
        Field("arrived_municipality", Kind.DATE, N_("Arrived in the municipality"), N_("Date of arrival in the municipality? (DD.MM.YYYY)"),
              check=_check_arrival_municipality, quick_dates=(SAME_AS,), same_as="arrived_germany"),
        Field("benefits", Kind.CHOICE, N_("Benefits"), N_("Which benefits does the client receive?"), choices=BENEFITS),
        Field("other_case_management", Kind.MULTI, N_("Other case management"),
              N_("Is the client already in another case management? Choose all, then Done."),
              choices=OTHER_CASE_MANAGEMENT),
        Field("eligibility_reason", Kind.TEXT, N_("Reason for taking the case on"), N_(
            "The client is outside the KIM target group. Why is the case taken on all the same?"),
            when=_outside_group, max_length=500, multiline=True),
        Field("languages", Kind.MULTI, N_("Languages"), N_("Which languages does the client speak? Choose all, then "
              "Done: with or without an interpreter."), choices=LANGUAGES,
              done_answers=("interpreter", (Choice("yes", N_("✔ Done · interpreter needed")),
                                            Choice("no", N_("✔ Done · no interpreter"))))),
        Field("languages_other", Kind.TEXT, N_("Other languages"), N_("Which other languages?"), max_length=200,
              when=lambda answers, ctx: "other" in (answers.get("languages") or [])),
        Field("interpreter", Kind.YESNO, N_("Interpreter needed"), N_("Is an interpreter needed?")),
        Field("adults", Kind.NUMBER, N_("Adults in household"), N_(
            "How many adults live in the household (including the client)? “2 + 1”: two adults and one child."),
              minimum=1, maximum=30, with_next="children"),
        Field("children", Kind.NUMBER, N_("Children in household"), N_("How many children live in the household?"), minimum=0, maximum=30),
        Field("phone", Kind.PHONE, N_("Phone"), N_("Phone number of the client?"), optional=True),
        Field("note", Kind.TEXT, N_("Note"), N_("A note for the case file?"), optional=True, max_length=2000, multiline=True),
    ),
)

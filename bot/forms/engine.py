"""The form engine: a form is a declared sequence of typed fields; this module walks it.

It knows nothing about Telegram or storage. The state it works on is plain JSON (stored
encrypted by storage): the current step, the answers, the path taken (for "back") and whether
the user is correcting one field from the summary.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from domain.calendar import add_months
from domain.messages import N_
from domain.organisation import DistrictInfo

SUMMARY = "@summary"
Answers = dict[str, Any]


class Kind(StrEnum):
    TEXT = "text"
    DATE = "date"
    CHOICE = "choice"
    MULTI = "multi"
    YESNO = "yesno"
    NUMBER = "number"
    PHONE = "phone"
    TIME = "time"  # a local clock time, "14:30"


class LabelKind(StrEnum):
    MSGID = "msgid"  # translated through the catalog
    LITERAL = "literal"  # organisation data, shown as it is (district names)
    LANGUAGE = "language"  # an ISO language code, named by CLDR in the reader's language


@dataclass(frozen=True)
class Choice:
    value: str
    label: str
    label_kind: LabelKind = LabelKind.MSGID
    # of a multiple choice: chosen alone, it is the whole answer ("None"), no "Done" needed
    exclusive: bool = False


YES_NO = (Choice("yes", N_("Yes")), Choice("no", N_("No")))

# date shortcuts (the argument of the button; "0" and "1" are those of earlier versions' buttons)
PAST_DAYS = ("0", "1")  # today, yesterday
DUE_IN = ("w2", "m1", "m3")  # in two weeks, in a month, in three months
SAME_AS = "="
# a number field offers buttons up to this number; larger ones are typed
QUICK_NUMBER_MAX = 5


class Invalid(Exception):
    """An answer the field does not accept; `message` is a msgid with `params`."""

    def __init__(self, message: str, **params: object) -> None:
        super().__init__(message)
        self.message = message
        self.params = params


class Stopped(Exception):
    """The answer ends the dialogue (e.g. consent refused); `message` explains it."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class FormContext:
    """What validation and conditions may look at besides the answers."""

    today: date
    now: datetime
    local_now: datetime | None = None  # naive local wall-clock time, for "later today" checks
    districts: tuple[DistrictInfo, ...] = ()
    # what the dialogue is about (a case's age, status, district ...), for forms that need it
    subject: dict[str, Any] = field(default_factory=dict)
    # hooks into the rest of the bot, e.g. the duplicate check of the intake
    services: dict[str, Callable[..., Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class Field:
    name: str
    kind: Kind
    # a short noun for the summary ("Date of birth"); the prompt is the question
    label: str
    prompt: str
    hint: str | None = None
    optional: bool = False
    choices: tuple[Choice, ...] = ()
    # (ctx, answers so far; None when only naming a stored value) -> the options
    dynamic_choices: Callable[[FormContext, Answers | None], tuple[Choice, ...]] | None = None
    when: Callable[[Answers, FormContext], bool] | None = None
    check: Callable[[Any, Answers, FormContext], None] | None = None
    max_length: int = 200
    multiline: bool = False
    minimum: int | None = None
    maximum: int | None = None
    # the only answer that lets the dialogue go on (consent); any other ends it with this message
    required_value: str | None = None
    refusal: str | None = None
    # keep the moment of the answer (consent date)
    timestamped: bool = False
    # for fields repeated per life domain: the domain's label, shown with label and prompt
    subject: str | None = None
    # dates: shortcuts offered as buttons besides typing (PAST_DAYS, DUE_IN, SAME_AS below)
    quick_dates: tuple[str, ...] = ()
    # SAME_AS: the date field whose answer is offered again (arrival in the municipality = in Germany)
    same_as: str | None = None
    # fewer steps for the same answers (each still checked by its own field):
    # the field right after this one, of the same kind, answered in the same message ("2 1":
    # two adults, one child; two dates) or, for numbers, by one button ("2 + 1")
    with_next: str | None = None
    # the answer may carry the next answers in a form of its own: text -> [(field, text), ...]
    # beginning with this field ("Haddad, Amina, 01.02.1995"), or None for an ordinary answer
    expands: Callable[[str], list[tuple[str, str]] | None] | None = None
    # a text field's frequent answers, offered as buttons ("p"; typing still works): (ctx, answers)
    suggestions: Callable[[FormContext, Answers], tuple[str, ...]] | None = None
    # a multiple choice whose "Done" also answers the yes/no field after it: (that field,
    # its choices, each a Done button of its own: "Done · interpreter needed")
    done_answers: tuple[str, tuple[Choice, ...]] | None = None

    def options(self, ctx: FormContext, answers: Answers | None = None) -> tuple[Choice, ...]:
        if self.kind is Kind.YESNO:
            return YES_NO
        return self.dynamic_choices(ctx, answers) if self.dynamic_choices else self.choices

    def applies(self, answers: Answers, ctx: FormContext) -> bool:
        return self.when is None or bool(self.when(answers, ctx))

    @property
    def uses_buttons(self) -> bool:
        return self.kind in (Kind.CHOICE, Kind.MULTI, Kind.YESNO)


Notices = Callable[[str, Answers, FormContext], list[tuple[str, dict[str, object]]]]
# what saving the form does: (the bot's context, the dialogue, the final answers, ctx) -> a reply.
# Called inside the unit of work that consumes the draft (bot/confirm/common.py).
Confirm = Callable[[Any, Any, Answers, FormContext], Any]


@dataclass(frozen=True)
class Form:
    name: str
    title: str
    fields: tuple[Field, ...]
    # the use case that saves the form's answers
    confirm: Confirm
    notices: Notices | None = None
    # the form works on an existing case: FormContext.subject holds that case's overview
    needs_case: bool = False
    # further data its choices need in FormContext.subject: "staff", "services", "conference"
    loads: frozenset[str] = frozenset()
    # placeholders the form fills into a field's prompt, by field name
    prompt_params: Callable[[str], dict[str, Any]] = lambda field_name: {}
    # answers the dialogue starts with (a change of the intake starts from the recorded values,
    # so each question shows what is recorded now)
    prefill: Callable[[FormContext], Answers] | None = None
    # whether prefilled fields are asked all the same (a change shows what is recorded in each
    # question); False: they are skipped and stand in the summary to correct (an intake from a Meldebogen)
    ask_prefilled: bool = True
    # leading fields a button may answer in advance ("🎯 Goal: Housing" after an assessment):
    # taken from what the dialogue is about, checked like a pressed choice, and "« Back" returns
    # to them
    presets: tuple[str, ...] = ()
    # the summary's last button: what confirming does ("✔ Save"; "🔍 Search" for /find)
    save_label: str = N_("✔ Save")

    def field(self, name: str) -> Field:
        return next(f for f in self.fields if f.name == name)

    def index(self, name: str) -> int:
        return next(i for i, f in enumerate(self.fields) if f.name == name)


# --- parsing -----------------------------------------------------------------------------

_DATE_PATTERNS = (
    re.compile(r"^(?P<d>\d{1,2})[./-](?P<m>\d{1,2})[./-](?P<y>\d{4})$"),
    re.compile(r"^(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})$"),
)
_PHONE = re.compile(r"^\+?[0-9 ()/\-]{6,25}$")
# control characters (but not newline/tab) never belong in a stored answer, nor do the bidi
# embeddings, overrides and isolates that would turn the text around it (U+202E in a name
# reverses whatever follows it on the line); marks (LRM, RLM) are harmless and stay
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u202a-\u202e\u2066-\u2069]")


def parse_text(fld: Field, raw: str) -> Any:
    """Turn typed text into the field's value, or raise Invalid with a user-facing reason."""
    text = _CONTROL.sub("", raw).strip()
    if not fld.multiline:
        text = " ".join(text.split())
    if not text:
        raise Invalid("Please type an answer.")
    if fld.kind is Kind.TEXT:
        if len(text) > fld.max_length:
            raise Invalid("That is too long: at most {limit} characters, please shorten it.", limit=fld.max_length)
        return text
    if fld.kind is Kind.DATE:
        return _parse_date(text).isoformat()
    if fld.kind is Kind.NUMBER:
        if not re.fullmatch(r"\d{1,4}", text):
            raise Invalid("Please send a whole number, for example 2.")
        number = int(text)
        if (fld.minimum is not None and number < fld.minimum) or (fld.maximum is not None and number > fld.maximum):
            raise Invalid("Please send a number from {low} to {high}.", low=fld.minimum, high=fld.maximum)
        return number
    if fld.kind is Kind.TIME:
        match = re.fullmatch(r"([01]?\d|2[0-3])(?:[:.h]([0-5]\d))?", text)
        if not match:
            raise Invalid("Please write the time as HH:MM, for example 14:30.")
        return f"{int(match[1]):02d}:{match[2] or '00'}"
    if fld.kind is Kind.PHONE:
        digits = sum(ch.isdigit() for ch in text)
        if not _PHONE.match(text) or not 6 <= digits <= 15:
            raise Invalid("That does not look like a phone number. Example: +49 214 406 0000")
        return text
    raise Invalid("Please use the buttons below.")


def check_name(value: str, answers: Answers, ctx: FormContext) -> None:
    """A name has letters: a date or a number typed into a name question is a slip."""
    if not any(ch.isalpha() for ch in value):
        raise Invalid("A name needs letters. Please type the name (the date of birth comes next).")


def _parse_date(text: str) -> date:
    for pattern in _DATE_PATTERNS:
        match = pattern.match(text)
        if match:
            try:
                return date(int(match["y"]), int(match["m"]), int(match["d"]))
            except ValueError:
                raise Invalid("There is no such day: {text}. Please check day and month.", text=text) from None
    raise Invalid("Please write the date as DD.MM.YYYY, for example 24.11.1990.")


# --- walking the form --------------------------------------------------------------------


def new_state(form: Form, ctx: FormContext, context: dict[str, Any] | None = None) -> dict[str, Any]:
    """A fresh dialogue; `context` says what it is about (e.g. {"case": "LEV-2026-0001"})."""
    state: dict[str, Any] = {"step": SUMMARY, "answers": form.prefill(ctx) if form.prefill else {}, "history": [],
                             "editing": False, "times": {}, "context": context or {}}
    if not form.ask_prefilled and state["answers"]:
        state["given"] = sorted(state["answers"])
    state["step"] = _next_from(form, state, -1, ctx)
    for name in form.presets:
        value = state["context"].get(name)
        if value is None or state["step"] != name:
            break
        state = answer(form, state, value, ctx)
    return state


def _next_from(form: Form, state: dict[str, Any], index: int, ctx: FormContext) -> str:
    answers = state["answers"]
    for fld in form.fields[index + 1 :]:
        if not fld.applies(answers, ctx):
            continue
        if state["editing"] and fld.name in answers:
            continue  # correcting one field: keep the rest, ask only what became necessary
        if fld.name in state.get("given", ()) and fld.name in answers:
            continue  # given at the start (a Meldebogen's answers): in the summary, not asked again
        return fld.name
    return SUMMARY


def current_field(form: Form, state: dict[str, Any]) -> Field | None:
    return None if state["step"] == SUMMARY else form.field(state["step"])


def applicable_fields(form: Form, answers: Answers, ctx: FormContext) -> list[Field]:
    return [f for f in form.fields if f.applies(answers, ctx)]


def _advance(form: Form, state: dict[str, Any], fld: Field, value: Any, ctx: FormContext) -> dict[str, Any]:
    new = {**state, "answers": {**state["answers"], fld.name: value}, "history": [*state["history"], fld.name]}
    if fld.timestamped:
        new["times"] = {**state.get("times", {}), fld.name: ctx.now.isoformat()}
    new.pop("picked", None)
    new["step"] = _next_from(form, new, form.index(fld.name), ctx)
    if new["step"] == SUMMARY:
        new["editing"] = False
    return new


def answer(form: Form, state: dict[str, Any], value: Any, ctx: FormContext) -> dict[str, Any]:
    """Record `value` (already parsed, or a choice value) for the current field and move on."""
    fld = current_field(form, state)
    if fld is None:
        raise Invalid("Please use the buttons below.")
    if fld.uses_buttons and fld.kind is not Kind.MULTI:
        if value not in {c.value for c in fld.options(ctx, state["answers"])}:
            raise Invalid("Please use the buttons below.")
        if fld.required_value is not None and value != fld.required_value:
            raise Stopped(fld.refusal or "The dialogue was ended.")
    if fld.check is not None:
        fld.check(value, state["answers"], ctx)
    return _advance(form, state, fld, value, ctx)


def toggle(form: Form, state: dict[str, Any], value: str, ctx: FormContext) -> dict[str, Any]:
    """Select or deselect one option of the current multi-choice field."""
    fld = current_field(form, state)
    if fld is None or fld.kind is not Kind.MULTI or value not in {c.value for c in fld.options(ctx, state["answers"])}:
        raise Invalid("Please use the buttons below.")
    picked = list(state.get("picked", state["answers"].get(fld.name) or []))
    picked = [v for v in picked if v != value] if value in picked else [*picked, value]
    return {**state, "picked": picked}


def finish_multi(form: Form, state: dict[str, Any], ctx: FormContext) -> dict[str, Any]:
    fld = current_field(form, state)
    if fld is None or fld.kind is not Kind.MULTI:
        raise Invalid("Please use the buttons below.")
    picked = state.get("picked", state["answers"].get(fld.name) or [])
    if not picked and not fld.optional:
        raise Invalid("Please choose at least one, then press Done.")
    order = [c.value for c in fld.options(ctx, state["answers"])]
    return _advance(form, state, fld, sorted(picked, key=order.index) or None, ctx)


def skip(form: Form, state: dict[str, Any], ctx: FormContext) -> dict[str, Any]:
    fld = current_field(form, state)
    if fld is None or not fld.optional:
        raise Invalid("This question cannot be skipped.")
    return _advance(form, state, fld, None, ctx)


def back(form: Form, state: dict[str, Any], ctx: FormContext) -> dict[str, Any]:
    if not state["history"]:
        raise Invalid("This is the first question.")
    history = list(state["history"])
    previous = history.pop()
    new = {**state, "history": history, "step": previous, "editing": False}
    new.pop("picked", None)
    return new


def edit(form: Form, state: dict[str, Any], name: str, ctx: FormContext) -> dict[str, Any]:
    """From the summary, go to one field; after it the summary comes back."""
    if state["step"] != SUMMARY or name not in {f.name for f in applicable_fields(form, state["answers"], ctx)}:
        raise Invalid("Please use the buttons below.")
    return {**state, "step": name, "editing": True, "history": [*state["history"], SUMMARY]}


def quick_date(fld: Field | None, key: str, answers: Answers, ctx: FormContext) -> str:
    """The day a date shortcut stands for (ISO), or Invalid when the field offers no such one."""
    if fld is None or fld.kind is not Kind.DATE or key not in fld.quick_dates:
        raise Invalid("Please use the buttons below.")
    if key == SAME_AS:
        if not (fld.same_as and answers.get(fld.same_as)):
            raise Invalid("Please use the buttons below.")
        return answers[fld.same_as]
    if key in PAST_DAYS:
        return (ctx.today - timedelta(days=int(key))).isoformat()
    unit, count = key[0], int(key[1:])
    if unit == "w":
        return (ctx.today + timedelta(weeks=count)).isoformat()
    return add_months(ctx.today, count).isoformat()


def suggestion(fld: Field | None, key: str, answers: Answers, ctx: FormContext) -> str:
    """The text a suggestion button stands for, or Invalid when the field offers no such one."""
    offered = fld.suggestions(ctx, answers) if fld is not None and fld.suggestions else ()
    if not key.isdigit() or int(key) >= len(offered):
        raise Invalid("Please use the buttons below.")
    return offered[int(key)]


def quick_number(fld: Field | None, key: str) -> list[tuple[str, str]]:
    """The answers a number button stands for ("2", or "2+1" for this field and the next), or
    Invalid when the field offers no such button."""
    if fld is None or fld.kind is not Kind.NUMBER:
        raise Invalid("Please use the buttons below.")
    if key.isdigit() and int(key) in quick_numbers(fld):
        return [(fld.name, key)]
    if fld.with_next and key in {f"{a}+{b}" for a, b in QUICK_PAIRS}:
        first, second = key.split("+")
        return [(fld.name, first), (fld.with_next, second)]
    raise Invalid("Please use the buttons below.")


# the households offered as one button where a number field answers the next one too (adults + children)
QUICK_PAIRS = tuple((a, b) for a in (1, 2) for b in (0, 1, 2, 3))
_NUMBER_PAIR = re.compile(r"^(\d{1,4})\s*[+/,;\s]\s*(\d{1,4})$")
_DATE_PAIR = re.compile(r"^(\S+?)\s*[,;\s]\s*(\S+)$")


def split_answer(fld: Field, text: str) -> list[tuple[str, str]] | None:
    """A typed message that answers this field and the next ones: [(field, text), ...], or
    None when it is an ordinary answer to this field alone."""
    if fld.expands is not None:
        return fld.expands(text)
    if fld.with_next is None:
        return None
    plain = " ".join(text.split())
    pattern = _NUMBER_PAIR if fld.kind is Kind.NUMBER else _DATE_PAIR if fld.kind is Kind.DATE else None
    match = pattern.match(plain) if pattern else None
    return [(fld.name, match[1]), (fld.with_next, match[2])] if match else None


def answer_many(form: Form, state: dict[str, Any], parts: list[tuple[str, str]], ctx: FormContext
                ) -> tuple[dict[str, Any], Invalid | None]:
    """Answer the current field and, from the same message or button, the fields right after
    it, each parsed and checked as if typed on its own. The first answer must hold (Invalid
    otherwise); a later one that does not stops there: that question comes next, with the
    problem (returned) said."""
    first_name, first_text = parts[0]
    fld = current_field(form, state)
    if fld is None or fld.name != first_name:
        raise Invalid("Please use the buttons below.")
    correcting = state["editing"]
    state = answer(form, state, parse_text(fld, first_text), ctx)
    for name, text in parts[1:]:
        nxt = form.field(name)
        try:
            if state["step"] == name:
                state = answer(form, state, parse_text(nxt, text), ctx)
            elif correcting and nxt.applies(state["answers"], ctx):
                # corrected from the summary ("2 + 1" for adults): the next answer changes too,
                # checked as if asked, and the summary comes back
                value = parse_text(nxt, text)
                if nxt.check is not None:
                    nxt.check(value, state["answers"], ctx)
                state = {**state, "answers": {**state["answers"], name: value}}
            else:
                break  # the form went elsewhere (a condition): that field is asked in its turn
        except Invalid as problem:
            return state, problem
    return state, None


def pick_only(form: Form, state: dict[str, Any], value: str, ctx: FormContext) -> dict[str, Any]:
    """A multiple choice's exclusive option ("None"): the whole answer, at once."""
    fld = current_field(form, state)
    if fld is None or fld.kind is not Kind.MULTI or not any(
            c.value == value and c.exclusive for c in fld.options(ctx, state["answers"])):
        raise Invalid("Please use the buttons below.")
    return _advance(form, state, fld, [value], ctx)


def finish_multi_with(form: Form, state: dict[str, Any], then: str, ctx: FormContext) -> dict[str, Any]:
    """"Done" that also answers the yes/no field after the multiple choice (done_answers)."""
    fld = current_field(form, state)
    state = finish_multi(form, state, ctx)
    if then:
        if fld.done_answers is None or then not in {c.value for c in fld.done_answers[1]}:
            raise Invalid("Please use the buttons below.")
        if state["step"] == fld.done_answers[0]:
            state = answer(form, state, then, ctx)
    return state


def quick_numbers(fld: Field) -> range:
    """The numbers a number field offers as buttons."""
    low = fld.minimum or 0
    return range(low, min(QUICK_NUMBER_MAX, fld.maximum if fld.maximum is not None else QUICK_NUMBER_MAX) + 1)


def final_answers(form: Form, state: dict[str, Any], ctx: FormContext) -> Answers:
    """The answers of the fields that apply, in form order (dropping those that no longer do)."""
    answers = state["answers"]
    return {f.name: answers.get(f.name) for f in applicable_fields(form, answers, ctx)}


def position(form: Form, state: dict[str, Any], ctx: FormContext) -> tuple[int, int]:
    """(number of the current question, number of questions), counting only those that apply."""
    fields = applicable_fields(form, state["answers"], ctx)
    names = [f.name for f in fields]
    current = names.index(state["step"]) + 1 if state["step"] in names else len(names)
    return current, len(names)

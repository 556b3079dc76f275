"""How a form step looks in the chat: the question or the summary, and its buttons."""

from __future__ import annotations

import re
from collections.abc import Callable
from html import unescape
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.buttons import FORM
from bot.forms import engine
from bot.forms.engine import Choice, Field, Form, FormContext, Kind, LabelKind
from bot.i18n import N_, Translator
from bot.render import Renderer
from storage.types import DialogueSnapshot

MESSAGE_LIMIT = 4000  # Telegram allows 4096 characters; the rest is room for the notices' escaping
_TAGS = re.compile(r"<[^>]+>")


def choice_label(t: Translator, choice: Choice) -> str:
    if choice.label_kind is LabelKind.LANGUAGE:
        return t.language_name(choice.value)
    if choice.label_kind is LabelKind.LITERAL:
        return choice.label
    return t.plain(choice.label)


def field_label(t: Translator, fld: Field) -> str:
    """A field's short label, with its life domain where it is one of a series."""
    if fld.subject:
        return f"{t.plain(fld.subject)}: {t.plain(fld.label)}" if fld.label else t.plain(fld.subject)
    return t.plain(fld.label)


def display_value(t: Translator, fld: Field, value: Any, ctx: FormContext) -> str:
    """An answer as the user reads it (plain text; the template escapes it)."""
    if value is None:
        return t.plain("(skipped)")
    if fld.kind is Kind.DATE:
        return t.date(value)
    if fld.uses_buttons:
        labels = {c.value: choice_label(t, c) for c in fld.options(ctx)}
        values = value if isinstance(value, list) else [value]
        return t.join(labels.get(v, v) for v in values)
    # names keep their own direction inside right-to-left text; phone numbers and numbers are
    # always left to right (they have no letter that would say so)
    if fld.kind in (Kind.PHONE, Kind.NUMBER):
        return t.isolate_ltr(value)
    return t.isolate(value)


def plain_text(html: str) -> str:
    """The text a reader sees of Telegram HTML: without tags, entities decoded."""
    return unescape(_TAGS.sub("", html))


def visible_length(html: str) -> int:
    """What Telegram counts against its limit."""
    return len(plain_text(html))


def pages(lines: list[str]) -> list[str]:
    """Lines as messages Telegram takes (a list of districts or Meldebögen can grow past one):
    whole lines, as many to a message as fit, in order."""
    found, page = [], []
    for line in lines:
        if page and visible_length("\n".join([*page, line])) > MESSAGE_LIMIT:
            found.append("\n".join(page))
            page = []
        page.append(line)
    return [*found, "\n".join(page)] if page else found


def fit(render: Callable[[list[tuple[str, str]]], str], rows: list[tuple[str, str]]) -> str:
    """The rendered rows, each long value shortened (with "…") as far as needed to stay under
    Telegram's limit, so the message and its Save button always arrive. Nothing stored changes:
    "✎" on a row shows that answer whole."""
    text = render(rows)
    for limit in (400, 200, 100, 50, 20):
        if visible_length(text) <= MESSAGE_LIMIT:
            break
        text = render([(label, value if len(value) <= limit else value[: limit - 1] + "…") for label, value in rows])
    return text


def button(t: Translator, label: str, snapshot: DialogueSnapshot, action: str, arg: object = "") -> InlineKeyboardButton:
    # nonce and version make every button of an older step (or dialogue) recognisably stale
    return InlineKeyboardButton(label, callback_data=FORM.data(snapshot.nonce, snapshot.version, action, arg))


_SHORTCUTS = {"0": N_("today"), "1": N_("yesterday"), "w2": N_("in 2 weeks"), "m1": N_("in 1 month"),
              "m3": N_("in 3 months")}


def _shortcut_label(t: Translator, fld: Field, key: str, answers: dict) -> str:
    if key == engine.SAME_AS:  # "same day: 10.03.2024", the date it repeats
        return t.plain(N_("same day: {date}"), date=t.date(answers[fld.same_as]))
    return t.plain(_SHORTCUTS[key])


def _question_keyboard(t: Translator, fld: Field, snapshot: DialogueSnapshot, ctx: FormContext) -> InlineKeyboardMarkup:
    rows: list[list[InlineKeyboardButton]] = []
    options = fld.options(ctx, snapshot.state["answers"])
    if fld.kind is Kind.MULTI:
        picked = snapshot.state.get("picked", snapshot.state["answers"].get(fld.name) or [])
        # an exclusive option ("None") answers at once ("o"); the others are ticked ("t")
        cells = [button(t, ("✓ " if c.value in picked else "") + choice_label(t, c), snapshot, "o" if c.exclusive else "t", i)
                 for i, c in enumerate(options)]
        rows += [cells[i : i + 2] for i in range(0, len(cells), 2)]
        if fld.done_answers:  # "Done" and the yes/no question after it in one press
            rows += [[button(t, t.plain(c.label), snapshot, "d", c.value)] for c in fld.done_answers[1]]
        else:
            rows.append([button(t, t.plain("Done"), snapshot, "d")])
    elif options:
        cells = [button(t, choice_label(t, c), snapshot, "c", i) for i, c in enumerate(options)]
        width = 2 if max(len(b.text) for b in cells) <= 18 else 1
        rows += [cells[i : i + width] for i in range(0, len(cells), width)]
    if fld.suggestions:  # frequent answers of a text question (the chosen district's quarters)
        offered = [button(t, text, snapshot, "p", i) for i, text in enumerate(fld.suggestions(ctx, snapshot.state["answers"]))]
        rows += [offered[i : i + 3] for i in range(0, len(offered), 3)]
    if fld.kind is Kind.NUMBER:
        rows.append([button(t, t.isolate_ltr(n), snapshot, "n", n) for n in engine.quick_numbers(fld)])
        if fld.with_next:  # "2 + 1": this answer and the next in one press (adults + children)
            pairs = [button(t, t.isolate_ltr(f"{a} + {b}"), snapshot, "n", f"{a}+{b}") for a, b in engine.QUICK_PAIRS]
            rows += [pairs[i : i + 4] for i in range(0, len(pairs), 4)]
    if fld.quick_dates:
        rows.append([button(t, _shortcut_label(t, fld, key, snapshot.state["answers"]), snapshot, "q", key)
                     for key in fld.quick_dates if key != engine.SAME_AS or snapshot.state["answers"].get(fld.same_as)])
    nav = []
    if snapshot.state["history"]:
        nav.append(button(t, t.plain("« Back"), snapshot, "b"))
    if fld.optional:
        nav.append(button(t, t.plain("Skip »"), snapshot, "s"))
    nav.append(button(t, t.plain("✖ Cancel"), snapshot, "x"))
    rows.append(nav)
    return InlineKeyboardMarkup(rows)


def question(
    renderer: Renderer, t: Translator, form: Form, snapshot: DialogueSnapshot, ctx: FormContext, *,
    notices: list[str] = (), error: str | None = None,
    confirmation: list[tuple[str, str]] = (),
) -> tuple[str, InlineKeyboardMarkup]:
    fld = engine.current_field(form, snapshot.state)
    number, total = engine.position(form, snapshot.state, ctx)
    current = snapshot.state["answers"].get(fld.name)
    text = renderer.render(
        "question.j2", t, title=t.plain(form.title), number=number, total=total,
        prompt=t.plain(fld.prompt, **form.prompt_params(fld.name), **({"subject": t.plain(fld.subject)} if fld.subject else {})),
        notices=notices, error=error, confirmation=confirmation,
        current=display_value(t, fld, current, ctx) if fld.name in snapshot.state["answers"] else None,
        buttons=fld.uses_buttons, optional=fld.optional,
    )
    return text, _question_keyboard(t, fld, snapshot, ctx)


def summary(
    renderer: Renderer, t: Translator, form: Form, snapshot: DialogueSnapshot, ctx: FormContext, *,
    notices: list[str] = (), error: str | None = None,
) -> tuple[str, InlineKeyboardMarkup]:
    answers = snapshot.state["answers"]
    fields = engine.applicable_fields(form, answers, ctx)
    rows = [(field_label(t, f), display_value(t, f, answers.get(f.name), ctx)) for f in fields]

    def render(shown: list[tuple[str, str]]) -> str:
        return renderer.render("summary.j2", t, title=t.plain(form.title), rows=shown, notices=notices, error=error)

    text = fit(render, rows)
    edit_buttons = [button(t, f"✎ {i + 1}", snapshot, "e", form.index(f.name)) for i, f in enumerate(fields)]
    keyboard = [edit_buttons[i : i + 6] for i in range(0, len(edit_buttons), 6)]
    keyboard.append([button(t, t.plain("« Back"), snapshot, "b"), button(t, t.plain("✖ Cancel"), snapshot, "x")])
    keyboard.append([button(t, t.plain(form.save_label), snapshot, "k")])
    return text, InlineKeyboardMarkup(keyboard)

"""The form engine on a small form of its own: no Telegram, no storage."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from bot.forms import engine
from bot.forms.engine import SUMMARY, Choice, Field, Form, FormContext, Invalid, Kind, Stopped

CTX = FormContext(today=date(2026, 11, 24), now=datetime(2026, 11, 24, 9, tzinfo=UTC))
FORM = Form(
    name="toy", title="Toy", confirm=lambda *args: None,
    fields=(
        Field("consent", Kind.CHOICE, "Consent", "Consent?", choices=(Choice("yes", "Yes"), Choice("no", "No")),
              required_value="yes", refusal="Ended."),
        Field("name", Kind.TEXT, "Name", "Name?", max_length=10),
        Field("pets", Kind.MULTI, "Pets", "Pets?", choices=(Choice("cat", "Cat"), Choice("dog", "Dog"))),
        Field("dog_name", Kind.TEXT, "Dog", "Dog's name?", optional=True,
              when=lambda answers, ctx: "dog" in (answers.get("pets") or [])),
        Field("born", Kind.DATE, "Born", "Born?"),
    ),
)


def walk(*steps):  # noqa: ANN001, ANN202
    state = engine.new_state(FORM, CTX)
    for step in steps:
        state = step(state)
    return state


def test_a_walk_through_with_a_condition_and_a_skip():
    state = walk(lambda s: engine.answer(FORM, s, "yes", CTX), lambda s: engine.answer(FORM, s, "Ana", CTX),
                 lambda s: engine.toggle(FORM, s, "dog", CTX), lambda s: engine.toggle(FORM, s, "cat", CTX),
                 lambda s: engine.finish_multi(FORM, s, CTX))
    assert state["answers"]["pets"] == ["cat", "dog"]  # in the offered order, not the ticked one
    assert state["step"] == "dog_name"
    state = engine.skip(FORM, state, CTX)
    state = engine.answer(FORM, state, engine.parse_text(FORM.field("born"), "01.02.1995"), CTX)
    assert state["step"] == SUMMARY
    assert engine.final_answers(FORM, state, CTX) == {"consent": "yes", "name": "Ana", "pets": ["cat", "dog"],
                                                      "dog_name": None, "born": "1995-02-01"}


def test_back_edit_and_a_field_that_stops_applying():
    state = walk(lambda s: engine.answer(FORM, s, "yes", CTX), lambda s: engine.answer(FORM, s, "Ana", CTX),
                 lambda s: engine.toggle(FORM, s, "dog", CTX), lambda s: engine.finish_multi(FORM, s, CTX),
                 lambda s: engine.answer(FORM, s, "Rex", CTX), lambda s: engine.answer(FORM, s, "1995-02-01", CTX))
    state = engine.edit(FORM, state, "pets", CTX)
    state = engine.toggle(FORM, engine.toggle(FORM, state, "dog", CTX), "cat", CTX)
    state = engine.finish_multi(FORM, state, CTX)
    assert state["step"] == SUMMARY  # only what became necessary is asked again: nothing here
    assert "dog_name" not in engine.final_answers(FORM, state, CTX)  # no dog, no dog's name
    assert engine.back(FORM, state, CTX)["step"] == "pets"


def test_what_the_engine_refuses():
    state = engine.new_state(FORM, CTX)
    with pytest.raises(Stopped):
        engine.answer(FORM, state, "no", CTX)
    with pytest.raises(Invalid):
        engine.answer(FORM, state, "maybe", CTX)
    with pytest.raises(Invalid):
        engine.back(FORM, state, CTX)
    with pytest.raises(Invalid):
        engine.parse_text(FORM.field("name"), "A very long name indeed")
    with pytest.raises(Invalid):
        engine.parse_text(FORM.field("born"), "31.02.2000")
    assert engine.parse_text(FORM.field("name"), "  Ana\x00  ") == "Ana"  # control characters go
    state = walk(lambda s: engine.answer(FORM, s, "yes", CTX), lambda s: engine.answer(FORM, s, "Ana", CTX))
    with pytest.raises(Invalid):
        engine.finish_multi(FORM, state, CTX)  # nothing ticked, not optional
    with pytest.raises(Invalid):
        engine.skip(FORM, state, CTX)

"""The parts every completion shares: its reply, what the dialogue is about, saving."""

from __future__ import annotations

from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.buttons import CASE_ACTION, CASES, NEXT_STEP
from bot.choices import label_of
from bot.forms import engine
from bot.i18n import N_, Translator
from bot.services import BotContext
from domain.vocabulary import LifeDomain
from storage.types import DialogueSnapshot


@dataclass(frozen=True)
class Reply:
    text: str
    keyboard: InlineKeyboardMarkup | None = None


def about(snapshot: DialogueSnapshot) -> dict:
    """What the dialogue is about: {"case": code, "referral": id, ...}."""
    return snapshot.state.get("context", {})


def button(text: str, callback_data: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(text, callback_data=callback_data)


def next_steps(*buttons: InlineKeyboardButton | None) -> InlineKeyboardMarkup | None:
    """What a save offers next, two buttons a row (they stay readable at phone width)."""
    shown = [b for b in buttons if b is not None]
    return InlineKeyboardMarkup([shown[i:i + 2] for i in range(0, len(shown), 2)]) if shown else None


def open_case(t: Translator, code: str) -> InlineKeyboardButton:
    return button(t.plain(N_("📂 Open case")), CASES.data("o", code))


def case_action(t: Translator, label: str, action: str, code: str) -> InlineKeyboardButton:
    return button(t.plain(label), CASE_ACTION.data(action, code))


def in_domain(t: Translator, step: str, code: str, domain: str) -> InlineKeyboardButton:
    """A goal or referral for one life domain, its first question already answered."""
    label = N_("🎯 Goal: {domain}") if step == "goal" else N_("↪ Referral: {domain}")
    return button(t.plain(label, domain=t.plain(label_of(LifeDomain, domain))), NEXT_STEP.data(step, code, domain))


def save(context: BotContext, form: engine.Form, snapshot: DialogueSnapshot, ctx: engine.FormContext) -> Reply:
    """Consume the draft and write what it becomes, in one unit of work. Raises StaleDialogue
    when the draft moved on (a second confirmation), and whatever the form's use case raises."""
    store = context.services.store
    answers = engine.final_answers(form, snapshot.state, ctx)
    with store.unit_of_work():
        store.dialogues.consume(user_id=context.staff.id, version=snapshot.version)
        return form.confirm(context, snapshot, answers, ctx)

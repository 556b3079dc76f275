"""The parts every completion shares: its reply, what the dialogue is about, saving."""

from __future__ import annotations

from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.forms import engine
from bot.services import BotContext
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


def save(context: BotContext, form: engine.Form, snapshot: DialogueSnapshot, ctx: engine.FormContext) -> Reply:
    """Consume the draft and write what it becomes, in one unit of work. Raises StaleDialogue
    when the draft moved on (a second confirmation), and whatever the form's use case raises."""
    store = context.services.store
    answers = engine.final_answers(form, snapshot.state, ctx)
    with store.unit_of_work():
        store.dialogues.consume(user_id=context.staff.id, version=snapshot.version)
        return form.confirm(context, snapshot, answers, ctx)

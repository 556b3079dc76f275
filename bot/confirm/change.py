"""Saving a change of the intake, and a referral's result."""

from __future__ import annotations

from datetime import date

from telegram import InlineKeyboardMarkup

from bot.buttons import CASE_ACTION, ENTRY
from bot.confirm.common import Reply, about, button, open_case
from bot.dialogue_view import display_value
from bot.forms.engine import Answers, FormContext
from bot.i18n import N_
from bot.services import BotContext
from domain.vocabulary import TOLERATED_STATUSES, ChangeNature
from storage.types import DialogueSnapshot


def changes_of(a: Answers) -> dict:
    """The chosen field's new value, and the values that go with it."""
    field = a["field"]
    changes = {field: a.get(field)}
    if field == "residence_status":
        changes["residence_valid_until"] = a.get("residence_valid_until")
        tolerated = a.get(field) in TOLERATED_STATUSES
        # the day a new Duldung or Gestattung began is the day the update took effect
        changes["residence_since"] = a.get("effective_on") if tolerated and a.get("nature") == ChangeNature.UPDATE else (
            a.get("residence_since") if tolerated else None)
    if field == "languages":
        changes["languages_other"] = a.get("languages_other") if "other" in (a.get(field) or []) else None
    return changes


def save_change(context: BotContext, snapshot: DialogueSnapshot, a: Answers, ctx: FormContext) -> Reply:
    from bot.forms.intake import INTAKE

    t, store, code = context.t, context.services.store, about(snapshot)["case"]
    field = a["field"]
    nature = ChangeNature.parse(a.get("nature")) or ChangeNature.CORRECTION
    effective = date.fromisoformat(a["effective_on"]) if a.get("effective_on") else None
    amended = store.casefile.amend(context.staff, code, changes=changes_of(a), nature=nature, effective_on=effective)
    fld = INTAKE.field(field)
    text = t.gettext(N_("{field} of {code}: {old} → {new}. Recorded as: {nature}."), field=t.plain(fld.label),
                     code=t.isolate(code), old=display_value(t, fld, amended.old, ctx),
                     new=display_value(t, fld, amended.new, ctx), nature=t.plain(nature.label))
    rows = [[button(t.plain("🕓 Show in the case file"), ENTRY.data(amended.entry_id)), open_case(t, code)]]
    if amended.rechtskreis:
        text += "\n\n" + t.gettext(N_("A new Rechtskreis: other services are responsible now. The referral suggests "
                                      "them first (★)."))
        rows.insert(0, [button(t.plain("↪ Referral"), CASE_ACTION.data("refer", code))])
    if field == "district" and amended.old != amended.new:
        text += "\n\n" + t.gettext(N_("The client lives in another district now: hand the case over to its case manager?"))
        rows.insert(0, [button(t.plain("🔀 Handover"), CASE_ACTION.data("handover", code))])
    return Reply(text, InlineKeyboardMarkup(rows))


def save_referral_result(context: BotContext, snapshot: DialogueSnapshot, a: Answers, ctx: FormContext) -> Reply:
    t, subject = context.t, about(snapshot)
    code = context.services.store.casefile.record_result(context.staff, int(subject["referral"]), a["result"])
    return Reply(t.gettext(N_("The result is recorded in the case file of {code}."), code=t.isolate(code)),
                 InlineKeyboardMarkup([[button(t.plain("🕓 Case file"), CASE_ACTION.data("file", code)),
                                        open_case(t, code)]]))


def save_gap_note(context: BotContext, snapshot: DialogueSnapshot, a: Answers, ctx: FormContext) -> Reply:
    t, subject = context.t, about(snapshot)
    code = context.services.store.casefile.record_gap(context.staff, int(subject["referral"]), a["note"])
    return Reply(t.gettext(N_("The gap is recorded for the steering group's report ({code})."), code=t.isolate(code)),
                 InlineKeyboardMarkup([[open_case(t, code)]]))


def save_hold(context: BotContext, snapshot: DialogueSnapshot, a: Answers, ctx: FormContext) -> Reply:
    t, code = context.t, about(snapshot)["case"]
    context.services.store.erasure.hold(context.staff, code, a["reason"])
    return Reply(t.gettext(N_("Legal hold placed on {code}: it is not erased when its retention period ends."),
                           code=t.isolate(code)))

"""Saving the organisation's structure (an admin's district form)."""

from __future__ import annotations

from bot.confirm.common import Reply
from bot.forms.engine import Answers, FormContext
from bot.i18n import N_
from bot.services import BotContext
from domain.organisation import parse_quarters
from storage.types import DialogueSnapshot


def save_district(context: BotContext, snapshot: DialogueSnapshot, answers: Answers, ctx: FormContext) -> Reply:
    t, staff = context.t, context.staff
    district = ctx.subject.get("district") or {}
    quarters = parse_quarters(answers.get("quarters") or "")
    border = tuple(quarters[int(i)] for i in answers.get("border") or () if int(i) < len(quarters))
    saved = context.services.store.staff.save_district(
        staff, code=district.get("code") or answers["code"], name=answers["name"], quarters=quarters, border=border,
        neighbours=tuple(answers.get("neighbours") or ()) if border else (), new=not district)
    return Reply(t.gettext(N_("District {code} · {name} saved: {count} quarters, {border} of them border quarters."),
                           code=t.isolate(saved.code), name=t.isolate(saved.name), count=len(quarters), border=len(border)))

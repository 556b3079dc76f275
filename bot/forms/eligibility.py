"""The target group as the intake's answers show it, under the organisation's rules."""

from __future__ import annotations

from datetime import date

from bot.forms.engine import Answers, FormContext
from domain.eligibility import DEFAULT_RULES, Eligibility, TargetGroupRules, assess


def _date(answers: Answers, name: str) -> date | None:
    value = answers.get(name)
    return date.fromisoformat(value) if value else None


def rules_of(ctx: FormContext) -> TargetGroupRules:
    """The organisation's target group (bot/services.py loads it for the forms that ask)."""
    return ctx.subject.get("target_group", DEFAULT_RULES)


def eligibility(answers: Answers, ctx: FormContext) -> Eligibility | None:
    born = _date(answers, "birth_date")
    if born is None:
        return None
    return assess(
        birth_date=born, arrived_germany=_date(answers, "arrived_germany"),
        arrived_municipality=_date(answers, "arrived_municipality"),
        other_case_management=answers.get("other_case_management") or (),
        status=answers.get("residence_status"), today=ctx.today, rules=rules_of(ctx),
    )



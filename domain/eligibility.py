"""The KIM target group (Handlungskonzept KIM): adults who arrived within the last five
years, and people with a Gestattung or Duldung, who have no access to other case management."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from domain.vocabulary import TOLERATED_STATUSES

ADULT_AGE = 18
RECENT_YEARS = 5
TEILHABE_AGES = range(18, 28)  # Teilhabemanagement: Duldung or Gestattung, 18 to 27
MAX_AGE = 120


def age_on(born: date, today: date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def years_before(today: date, years: int) -> date:
    try:
        return today.replace(year=today.year - years)
    except ValueError:  # 29 February
        return today.replace(year=today.year - years, day=28)


@dataclass(frozen=True)
class Eligibility:
    in_group: bool
    # why not: "minor", "arrival" (arrived more than five years ago without Gestattung/Duldung)
    reasons: tuple[str, ...]
    teilhabe: bool


def assess(*, birth_date: date, arrived_germany: date | None, status: str | None, today: date) -> Eligibility:
    age = age_on(birth_date, today)
    tolerated = status in TOLERATED_STATUSES
    reasons = []
    if age < ADULT_AGE:
        reasons.append("minor")
    if arrived_germany is not None and not tolerated and arrived_germany < years_before(today, RECENT_YEARS):
        reasons.append("arrival")
    return Eligibility(in_group=not reasons, reasons=tuple(reasons), teilhabe=tolerated and age in TEILHABE_AGES)

"""The KIM target group (Handlungskonzept KIM): adults who arrived recently, and people with a
Gestattung or Duldung, who have no access to other case management.

The figures are the organisation's settings (TargetGroupRules), not code: the concept expects
municipalities to start with a small group and widen it ("Es hat sich gezeigt, dass es zu Beginn
der Arbeit sinnvoll ist, sich auf eine kleinere Zielgruppe zu fokussieren ... Sukzessive
können die Erfahrungen auf andere Zielgruppen übertragen werden").
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date

from domain.configurable import Configurable, number_setting
from domain.vocabulary import TOLERATED_STATUSES, ResidenceStatus

ADULT_AGE = 18
RECENT_YEARS = 5
TEILHABE_AGES = range(18, 28)  # Teilhabemanagement: Duldung or Gestattung, 18 to 27
MAX_AGE = 120
ARRIVAL_BASES = ("municipality", "germany")


def age_on(born: date, today: date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def years_before(today: date, years: int) -> date:
    try:
        return today.replace(year=today.year - years)
    except ValueError:  # 29 February
        return today.replace(year=today.year - years, day=28)


def years_after(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


@dataclass(frozen=True)
class TargetGroupRules(Configurable):
    """Who is in the organisation's target group. Stored as the organisation's settings
    (`casebot target-group`); these defaults follow the Handlungskonzept."""

    adult_age: int = ADULT_AGE
    # arrived within this many years ...
    recent_years: int = RECENT_YEARS
    # ... in the municipality ("Geflüchtete in einer Kommune") or in Germany
    arrival_basis: str = "municipality"
    # in the group however long ago they arrived (no access to other case management)
    open_statuses: frozenset[str] = TOLERATED_STATUSES
    # someone already in JMD, MBE, Teilhabemanagement or the Jobcenter's case management is
    # referred there ("Verweisberatung"), not taken on twice
    excludes_other_case_management: bool = True

    def with_setting(self, name: str, text: str) -> TargetGroupRules:
        """These rules with one setting changed; ValueError names what is wrong."""
        if name in ("adult_age", "recent_years"):
            return replace(self, **{name: number_setting(name, text, 0, 99)})
        if name == "arrival_basis":
            if text not in ARRIVAL_BASES:
                raise ValueError(f"arrival_basis must be one of {', '.join(ARRIVAL_BASES)}")
            return replace(self, arrival_basis=text)
        if name == "open_statuses":
            statuses = frozenset(s.strip() for s in text.split(",") if s.strip())
            unknown = statuses - {s.value for s in ResidenceStatus}
            if unknown:
                raise ValueError(f"unknown residence statuses: {', '.join(sorted(unknown))}")
            return replace(self, open_statuses=statuses)
        if name == "excludes_other_case_management":
            if text not in ("yes", "no"):
                raise ValueError(f"{name} must be yes or no")
            return replace(self, excludes_other_case_management=text == "yes")
        raise ValueError(f"no such setting: {name}")


DEFAULT_RULES = TargetGroupRules()


@dataclass(frozen=True)
class Eligibility:
    in_group: bool
    # why not: "minor"; "arrival" (arrived longer ago than the rules allow, without an open
    # status); "other-cm" (already in another case management)
    reasons: tuple[str, ...]
    teilhabe: bool


def arrival_of(rules: TargetGroupRules, *, arrived_germany: date | None, arrived_municipality: date | None) -> date | None:
    """The arrival the rules count (the municipality's, where known, when they say so)."""
    if rules.arrival_basis == "municipality" and arrived_municipality is not None:
        return arrived_municipality
    return arrived_germany


def assess(*, birth_date: date, arrived_germany: date | None, status: str | None, today: date,
           arrived_municipality: date | None = None, other_case_management: Iterable[str] = (),
           rules: TargetGroupRules = DEFAULT_RULES) -> Eligibility:
    age = age_on(birth_date, today)
    open_status = status in rules.open_statuses
    arrived = arrival_of(rules, arrived_germany=arrived_germany, arrived_municipality=arrived_municipality)
    reasons = []
    if age < rules.adult_age:
        reasons.append("minor")
    if arrived is not None and not open_status and arrived < years_before(today, rules.recent_years):
        reasons.append("arrival")
    if rules.excludes_other_case_management and any(c != "none" for c in other_case_management):
        reasons.append("other-cm")
    tolerated = status in TOLERATED_STATUSES
    return Eligibility(in_group=not reasons, reasons=tuple(reasons), teilhabe=tolerated and age in TEILHABE_AGES)

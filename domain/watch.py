"""The status watcher: the dates in a client's situation that deserve a case manager's look
before they pass (a permit or Duldung expiring, an 18th or 27th birthday, the points at which
§25a or §25b AufenthG may become worth examining).

A hint for the case manager to check, never a legal decision. The figures are one table
(WATCH_FIGURES, each with its legal source), and an organisation's legal staff can correct them
(`casebot settings set watch.<name> <value>`) without a release.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from enum import StrEnum

from domain.calendar import add_months
from domain.configurable import Configurable, number_setting
from domain.eligibility import years_after
from domain.vocabulary import EXPIRING_STATUSES, ResidenceStatus


class Watch(StrEnum):
    """What a watch date is about (stored in case_watch.kind: values never change)."""

    EXPIRY = "expiry"
    AGE_18 = "age-18"
    AGE_27 = "age-27"
    CHECK_25A = "check-25a"
    CHECK_25B = "check-25b"


@dataclass(frozen=True)
class Figure:
    value: int
    source: str  # the legal source, for the organisation's legal staff
    meaning: str


# name -> (default, source, what it means). Checked against the law as of 2024-06 (after the
# Chancen-Aufenthaltsrecht of 31.12.2022); the law changes, so these are settings.
WATCH_FIGURES: dict[str, Figure] = {
    "expiry_weeks": Figure(8, "§81 Abs. 4 AufenthG (extension applied for before expiry keeps the permit valid)",
                           "weeks before a Gestattung, Duldung or Aufenthaltserlaubnis expires"),
    "adult_age": Figure(18, "§2 BGB; §7 SGB VIII (youth services); Handlungskonzept KIM (target group: adults)",
                        "birthday after which youth services end and the KIM target group begins"),
    "young_age_limit": Figure(27, "JMD (Kinder- und Jugendplan des Bundes, 12 to 27); Teilhabemanagement (18 to 27); "
                              "MBE (from 27); §25a Abs. 1 Nr. 4 AufenthG (application before the 27th birthday)",
                              "birthday at which JMD, Teilhabemanagement and §25a end and the MBE begins"),
    "p25a_years": Figure(3, "§25a Abs. 1 Satz 1 Nr. 2 AufenthG (three years' uninterrupted stay, permitted, tolerated "
                         "or with a Gestattung)", "years since arrival for §25a"),
    "p25a_duldung_months": Figure(12, "§25a Abs. 1 Satz 1 Nr. 1 AufenthG (a Duldung held for at least twelve months)",
                                  "months with Duldung for §25a"),
    "p25b_years": Figure(6, "§25b Abs. 1 Satz 2 Nr. 1 AufenthG (six years' stay)", "years since arrival for §25b"),
    "p25b_years_with_children": Figure(4, "§25b Abs. 1 Satz 2 Nr. 1 AufenthG (four years, living with a minor child)",
                                       "years since arrival for §25b with children in the household"),
    "p25b_duldung_months": Figure(12, "§25b Abs. 1 Satz 1 AufenthG (a Duldung held for at least twelve months)",
                                  "months with Duldung for §25b"),
}


@dataclass(frozen=True)
class WatchRules(Configurable):
    expiry_weeks: int = WATCH_FIGURES["expiry_weeks"].value
    adult_age: int = WATCH_FIGURES["adult_age"].value
    young_age_limit: int = WATCH_FIGURES["young_age_limit"].value
    p25a_years: int = WATCH_FIGURES["p25a_years"].value
    p25a_duldung_months: int = WATCH_FIGURES["p25a_duldung_months"].value
    p25b_years: int = WATCH_FIGURES["p25b_years"].value
    p25b_years_with_children: int = WATCH_FIGURES["p25b_years_with_children"].value
    p25b_duldung_months: int = WATCH_FIGURES["p25b_duldung_months"].value

    def with_setting(self, name: str, text: str) -> WatchRules:
        if name not in WATCH_FIGURES:
            raise ValueError(f"no such setting: {name}")
        return replace(self, **{name: number_setting(name, text, 0, 120)})


@dataclass(frozen=True)
class Facts:
    """What the watcher looks at (decrypted from the case by storage, never kept in the clear)."""

    birth_date: date | None
    status: str | None
    status_since: date | None = None
    valid_until: date | None = None
    arrived_germany: date | None = None
    children: int | None = None


def first_of_month(day: date) -> date:
    """Birthdays are watched from the first of their month: the watch date in the clear then
    tells the month of birth, not the day."""
    return day.replace(day=1)


def watch_dates(facts: Facts, today: date, rules: WatchRules) -> dict[Watch, date]:
    """The dates on which each watch falls due. A date already past still falls due (once):
    an expired Duldung or a §25a point already reached is worth a look now; a birthday that
    has passed is not watched any more."""
    dates: dict[Watch, date] = {}
    if facts.status in EXPIRING_STATUSES and facts.valid_until is not None:
        dates[Watch.EXPIRY] = facts.valid_until - timedelta(weeks=rules.expiry_weeks)
    born = facts.birth_date
    if born is not None:
        for kind, age in ((Watch.AGE_18, rules.adult_age), (Watch.AGE_27, rules.young_age_limit)):
            birthday = years_after(born, age)
            if birthday > today:
                dates[kind] = first_of_month(birthday)
    if facts.status == ResidenceStatus.DULDUNG and facts.arrived_germany is not None:
        since = facts.status_since
        p25a = years_after(facts.arrived_germany, rules.p25a_years)
        if since is not None:
            p25a = max(p25a, add_months(since, rules.p25a_duldung_months))
        if born is None or p25a < years_after(born, rules.young_age_limit):
            dates[Watch.CHECK_25A] = p25a
        years = rules.p25b_years_with_children if (facts.children or 0) > 0 else rules.p25b_years
        p25b = years_after(facts.arrived_germany, years)
        if since is not None:
            p25b = max(p25b, add_months(since, rules.p25b_duldung_months))
        dates[Watch.CHECK_25B] = p25b
    return dates


# a change of Rechtskreis: the client's services are others now (offer the matching referrals)
def new_rechtskreis(field: str, old: object, new: object) -> bool:
    if field == "benefits":
        return old == "asylblg" and new in ("sgb2", "sgb12", "sgb3")
    if field == "residence_status":
        return old in ("gestattung", "duldung") and new in ("aufenthaltserlaubnis", "niederlassungserlaubnis")
    return False

"""The organisation's own structure, as the rules see it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DistrictInfo:
    """A district (Stadtbezirk): clients are assigned to a case manager by the district they live in."""

    id: int
    code: str
    name: str


MAX_QUARTERS = 24  # buttons a phone shows without scrolling far
MAX_QUARTER_LENGTH = 60


def parse_quarters(value: str) -> tuple[str, ...]:
    """A district's quarters (Stadtteile) as the organisation lists them, comma-separated:
    offered as buttons in the intake. ValueError (with a reason) if the list is not one."""
    quarters = tuple(dict.fromkeys(" ".join(q.split()) for q in value.split(",") if q.strip()))
    if len(quarters) > MAX_QUARTERS:
        raise ValueError(f"at most {MAX_QUARTERS} quarters per district")
    if any(len(q) > MAX_QUARTER_LENGTH for q in quarters):
        raise ValueError(f"a quarter's name has at most {MAX_QUARTER_LENGTH} characters")
    return quarters


MAX_EMPLOYERS = 20
MAX_EMPLOYER_LENGTH = 60


def parse_employers(value: str) -> tuple[str, ...]:
    """The employers (Träger) the organisation's case managers work for, comma-separated ("Stadt
    Leverkusen (KI), Caritas, AWO, Diakonie"): an admin picks one per member of staff, and
    reports count cases by it. ValueError (with a reason) if the list is not one."""
    employers = tuple(dict.fromkeys(" ".join(e.split()) for e in value.split(",") if e.strip()))
    if len(employers) > MAX_EMPLOYERS:
        raise ValueError(f"at most {MAX_EMPLOYERS} employers")
    if any(len(e) > MAX_EMPLOYER_LENGTH for e in employers):
        raise ValueError(f"an employer's name has at most {MAX_EMPLOYER_LENGTH} characters")
    return employers

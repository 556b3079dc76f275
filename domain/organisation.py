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
    return _names(value, most=MAX_QUARTERS, longest=MAX_QUARTER_LENGTH, what="quarters per district",
                  one="a quarter's name")


def _names(value: str, *, most: int, longest: int, what: str, one: str) -> tuple[str, ...]:
    """A comma-separated list of names, tidied (spaces folded, each once, in the order given)."""
    names = tuple(dict.fromkeys(" ".join(n.split()) for n in value.split(",") if n.strip()))
    if len(names) > most:
        raise ValueError(f"at most {most} {what}")
    if any(len(n) > longest for n in names):
        raise ValueError(f"{one} has at most {longest} characters")
    return names


MAX_EMPLOYERS = 20
MAX_EMPLOYER_LENGTH = 60


def parse_employers(value: str) -> tuple[str, ...]:
    """The employers (Träger) the organisation's case managers work for, comma-separated ("Stadt
    Leverkusen (KI), Caritas, AWO, Diakonie"): an admin picks one per member of staff, and
    reports count cases by it. ValueError (with a reason) if the list is not one."""
    return _names(value, most=MAX_EMPLOYERS, longest=MAX_EMPLOYER_LENGTH, what="employers", one="an employer's name")

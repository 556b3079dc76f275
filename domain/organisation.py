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

"""The organisation's own structure, as the rules see it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DistrictInfo:
    """A district (Stadtbezirk): clients are assigned to a case manager by the district they live in."""

    id: int
    code: str
    name: str

"""How long a case is kept, and what erasure means (Art. 17 GDPR, §84 SGB X).

Closed cases are erased a set time after closure (the organisation decides; 3 years by default,
the usual period for case files of social services), unless a legal hold stands. A client's
request for erasure, or the withdrawal of consent to documentation, is carried out on the
confirmation of a second person (four eyes).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from domain.configurable import Configurable
from domain.messages import N_
from domain.vocabulary import Term


class ErasureReason(Term):
    # Translators: why a case's data are erased
    REQUEST = "request", N_("the client's request (Art. 17 GDPR)")
    CONSENT_WITHDRAWN = "consent-withdrawn", N_("consent to documentation withdrawn")
    RETENTION = "retention", N_("retention period over")


@dataclass(frozen=True)
class RetentionRules(Configurable):
    # years after closure until a closed case is erased
    closed_years: int = 3

    def with_setting(self, name: str, text: str) -> RetentionRules:
        if name != "closed_years":
            raise ValueError(f"no such setting: {name}")
        number = int(text) if text.isdigit() else -1
        if not 1 <= number <= 30:
            raise ValueError("closed_years must be a number from 1 to 30")
        return replace(self, closed_years=number)

    def erase_before(self, now: datetime) -> datetime:
        """Cases closed before this moment are due for erasure."""
        return now - timedelta(days=365 * self.closed_years)


# what an erased case keeps: nothing about the person, enough for the statistics
KEPT_AFTER_ERASURE = ("code", "district", "opened", "closed", "entry kinds and dates")

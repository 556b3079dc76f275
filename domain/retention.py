"""How long a case is kept, and what erasure means (Art. 17 GDPR, §84 SGB X).

Closed cases are erased a set time after closure (the organisation decides; 3 years by default,
the usual period for case files of social services), unless a legal hold stands. A client's
request for erasure, or the withdrawal of consent to documentation, is carried out on the
confirmation of a second person (four eyes).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from domain.configurable import Configurable, number_setting
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
    # days a file is still kept after the client withdrew consent to documentation, where a law
    # requires it (0: erased as soon as a second person confirms)
    withdrawal_days: int = 0

    def with_setting(self, name: str, text: str) -> RetentionRules:
        limits = {"closed_years": (1, 30), "withdrawal_days": (0, 3650)}
        if name not in limits:
            raise ValueError(f"no such setting: {name}")
        return replace(self, **{name: number_setting(name, text, *limits[name])})

    def erase_before(self, now: datetime) -> datetime:
        """Cases closed before this moment are due for erasure."""
        return now - timedelta(days=365 * self.closed_years)


# what an erased case keeps: nothing about the person, enough for the statistics
KEPT_AFTER_ERASURE = ("code", "district", "opened", "closed", "entry kinds and dates")

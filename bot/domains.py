"""The vocabulary of the case-management cycle: life domains, need levels, statuses, reasons."""

from __future__ import annotations

from bot.forms.engine import Choice
from bot.i18n import N_

# Handlungsfelder (domain.md); health and residence are special-category data (GDPR Art. 9)
LIFE_DOMAINS = (
    Choice("language", N_("Language")),
    Choice("education", N_("Education and childcare")),
    Choice("work", N_("Qualification, training and work")),
    Choice("housing", N_("Housing")),
    Choice("health", N_("Health")),
    Choice("residence", N_("Residence and legal status")),
    Choice("family", N_("Family")),
    Choice("money", N_("Money and benefits")),
    Choice("participation", N_("Social participation")),
)
DOMAIN_KEYS = tuple(c.value for c in LIFE_DOMAINS)
NEED_LEVELS = (Choice("none", N_("no need")), Choice("low", N_("low")), Choice("medium", N_("medium")),
               Choice("high", N_("high")))
RESPONSIBLE = (Choice("client", N_("the client")), Choice("case-manager", N_("the case manager")),
               Choice("agency", N_("an agency")))
GOAL_STATUSES = (Choice("open", N_("open")), Choice("achieved", N_("achieved")), Choice("changed", N_("changed")),
                 Choice("dropped", N_("dropped")))
REFERRAL_STATUSES = (
    Choice("suggested", N_("suggested")), Choice("sent", N_("sent")), Choice("accepted", N_("accepted")),
    Choice("completed", N_("completed")), Choice("declined", N_("declined")), Choice("no-show", N_("no-show")),
    Choice("no-offer", N_("no suitable offer")), Choice("waiting-list", N_("waiting list")),
)
# outcomes that show a gap in the system (Lücke), for the steering group
GAP_STATUSES = frozenset({"no-offer", "waiting-list"})
CONTACT_KINDS = (Choice("meeting", N_("meeting")), Choice("phone", N_("phone call")),
                 Choice("home-visit", N_("home visit")), Choice("office-hours", N_("office hours in the shelter")))
CLOSE_REASONS = (
    Choice("goals-achieved", N_("goals achieved")), Choice("moved-away", N_("moved away")),
    Choice("not-eligible", N_("no longer eligible")), Choice("no-contact", N_("no contact")),
    Choice("declined", N_("client declined")), Choice("other", N_("other reason")),
)


def label_of(choices: tuple[Choice, ...], value: str) -> str:
    """The msgid of a value's label (untranslated; the caller translates)."""
    return next((c.label for c in choices if c.value == value), value)

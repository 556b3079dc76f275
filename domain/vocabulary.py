"""The vocabulary of the case-management cycle: closed sets of values, stored as strings.

Each term carries the msgid of its label (translated where it is shown). The order of the
members is the order users are offered them.
"""

from __future__ import annotations

from enum import StrEnum

from domain.messages import N_, NC_


class Term(StrEnum):
    """A stored value with the msgid of its label: `Term("x", N_("label"))`."""

    label: str

    def __new__(cls, value: str, label: str = "") -> Term:
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label or value
        return member

    @classmethod
    def parse(cls, value: object) -> Term | None:
        """The member for a stored or received value; None for anything else (forged, stale)."""
        try:
            return cls(value)
        except ValueError:
            return None


class LifeDomain(Term):
    """Handlungsfelder (domain.md). Health and residence are special-category data (Art. 9 GDPR)."""

    # Translators: the nine life domains (Handlungsfelder) of KIM; shown on buttons, two to a row
    LANGUAGE = "language", N_("Language")
    EDUCATION = "education", N_("Education and childcare")
    WORK = "work", N_("Qualification, training and work")
    HOUSING = "housing", N_("Housing")
    HEALTH = "health", N_("Health")
    RESIDENCE = "residence", N_("Residence and legal status")
    FAMILY = "family", N_("Family")
    MONEY = "money", N_("Money and benefits")
    PARTICIPATION = "participation", N_("Social participation")


SPECIAL_CATEGORY_DOMAINS = frozenset({LifeDomain.HEALTH, LifeDomain.RESIDENCE})


class NeedLevel(Term):
    # Translators: how big a client's need is in one life domain; short, shown on buttons
    NONE = "none", NC_("need level", "no need")
    LOW = "low", NC_("need level", "low")
    MEDIUM = "medium", NC_("need level", "medium")
    HIGH = "high", NC_("need level", "high")

    @property
    def rank(self) -> int:
        return list(NeedLevel).index(self)


class Responsible(Term):
    CLIENT = "client", N_("the client")
    CASE_MANAGER = "case-manager", N_("the case manager")
    AGENCY = "agency", N_("an agency")


class GoalStatus(Term):
    # Translators: the state of a goal agreed with the client (not of a case)
    OPEN = "open", NC_("goal status", "open")
    ACHIEVED = "achieved", NC_("goal status", "achieved")
    CHANGED = "changed", NC_("goal status", "changed")
    DROPPED = "dropped", NC_("goal status", "dropped")


# what a case manager may set an open goal to
GOAL_OUTCOMES = (GoalStatus.ACHIEVED, GoalStatus.CHANGED, GoalStatus.DROPPED)


class ReferralStatus(Term):
    # Translators: the state of a referral to another agency; "declined" means the agency declined
    SUGGESTED = "suggested", NC_("referral status", "suggested")
    SENT = "sent", NC_("referral status", "sent")
    ACCEPTED = "accepted", NC_("referral status", "accepted")
    COMPLETED = "completed", NC_("referral status", "completed")
    DECLINED = "declined", NC_("referral status", "declined")
    NO_SHOW = "no-show", NC_("referral status", "no-show")
    NO_OFFER = "no-offer", NC_("referral status", "no suitable offer")
    WAITING_LIST = "waiting-list", NC_("referral status", "waiting list")

    @property
    def is_gap(self) -> bool:
        """A gap in the system (Lücke): no suitable offer, or a full waiting list. Coordinators
        collect these for the steering group."""
        return self in GAP_STATUSES

    @property
    def is_final(self) -> bool:
        """Nothing more to follow up: the referral has its result."""
        return self in FINAL_STATUSES


GAP_STATUSES = frozenset({ReferralStatus.NO_OFFER, ReferralStatus.WAITING_LIST})
FINAL_STATUSES = frozenset({ReferralStatus.COMPLETED, ReferralStatus.DECLINED, ReferralStatus.NO_SHOW,
                            ReferralStatus.NO_OFFER})
# waiting for a result: the digest shows how long these have been open
OPEN_REFERRAL_STATUSES = frozenset({ReferralStatus.SUGGESTED, ReferralStatus.SENT, ReferralStatus.ACCEPTED})
# the statuses a case manager moves a referral to (everything after the suggestion)
REFERRAL_STEPS = tuple(s for s in ReferralStatus if s is not ReferralStatus.SUGGESTED)
# the answers to "how did the referral go?"
FOLLOW_UP_ANSWERS = tuple(s for s in REFERRAL_STEPS if s is not ReferralStatus.SENT)


class ContactKind(Term):
    MEETING = "meeting", N_("meeting")
    PHONE = "phone", N_("phone call")
    HOME_VISIT = "home-visit", N_("home visit")
    OFFICE_HOURS = "office-hours", N_("office hours in the shelter")


class CloseReason(Term):
    GOALS_ACHIEVED = "goals-achieved", N_("goals achieved")
    MOVED_AWAY = "moved-away", N_("moved away")
    NOT_ELIGIBLE = "not-eligible", N_("no longer eligible")
    NO_CONTACT = "no-contact", N_("no contact")
    # Translators: a reason for closing a case: the client did not want case management any more
    DECLINED = "declined", N_("client declined")
    OTHER = "other", N_("other reason")


class CaseStatus(Term):
    # Translators: the state of a case as a whole (not of a goal)
    OPEN = "open", NC_("case status", "open")
    CLOSED = "closed", NC_("case status", "closed")


class CasePhase(Term):
    INTAKE = "intake", N_("intake done, assessment next")
    PLANNING = "planning", N_("planning")
    MONITORING = "monitoring", N_("monitoring")


class ResidenceStatus(Term):
    # Translators: German residence titles; keep the German term, explain it in brackets
    GESTATTUNG = "gestattung", N_("Aufenthaltsgestattung (asylum procedure)")
    DULDUNG = "duldung", N_("Duldung (tolerated stay)")
    AUFENTHALTSERLAUBNIS = "aufenthaltserlaubnis", N_("Aufenthaltserlaubnis (residence permit)")
    NIEDERLASSUNGSERLAUBNIS = "niederlassungserlaubnis", N_("Niederlassungserlaubnis (settlement permit)")
    EU = "eu", N_("EU citizen")
    OTHER = "other", N_("Other status")


TOLERATED_STATUSES = frozenset({ResidenceStatus.GESTATTUNG, ResidenceStatus.DULDUNG})


class Source(Term):
    """How a client came to the case management (Zugang / Zusteuerung)."""

    # Translators: who referred the client; FB 50 and FB 33 are departments of the city administration
    FB50 = "fb50", N_("FB 50 (social department)")
    FB33 = "fb33", N_("FB 33 / Ausländerbehörde")
    KI = "ki", N_("KI (Kommunales Integrationszentrum)")
    TRAEGER = "traeger", N_("A Träger (welfare organisation)")
    AGENCY = "agency", N_("Another agency")
    SELF = "self", N_("Self-referral")


class HandoverStatus(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"


class ConferenceStatus(StrEnum):
    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"
    HELD = "held"


class OutboxState(StrEnum):
    DUE = "due"
    CLAIMED = "claimed"
    SENT = "sent"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"

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
# a referral with a result the receiving service can report back (with the client's consent)
RESULT_STATUSES = frozenset({ReferralStatus.COMPLETED, ReferralStatus.DECLINED})
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
    ACCOMPANIMENT = "accompaniment", N_("accompaniment (Begleitung)")
    EMAIL = "email", N_("e-mail")
    VIDEO = "video", N_("video call")


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
    TEMPORARY_PROTECTION = "paragraph-24", N_("§24 AufenthG (temporary protection, e.g. from Ukraine)")
    FIKTION = "fiktion", N_("Fiktionsbescheinigung (while a permit is decided)")
    EU = "eu", N_("EU citizen")
    NATURALISED = "german", N_("German citizen (naturalised)")
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


class RequestStatus(Term):
    """What became of a Meldebogen, as its sender sees it."""

    # Translators: the state of a referral form (Meldebogen) sent to the case management
    RECEIVED = "received", N_("received")
    WAITING = "waiting", N_("received, on the waiting list")
    ASSIGNED = "assigned", N_("assigned to a case manager")
    TAKEN_ON = "taken-on", N_("taken on")
    DECLINED = "declined", N_("declined")


OPEN_REQUESTS = (RequestStatus.RECEIVED, RequestStatus.WAITING)


class Benefits(Term):
    """The benefit system (Rechtskreis) the client is in: it decides which services are theirs."""

    # Translators: German benefit systems; keep the law's abbreviation, explain it in brackets
    ASYLBLG = "asylblg", N_("AsylbLG (asylum seekers' benefits)")
    SGB2 = "sgb2", N_("SGB II (Bürgergeld, Jobcenter)")
    SGB12 = "sgb12", N_("SGB XII (social assistance)")
    SGB3 = "sgb3", N_("SGB III (unemployment benefit)")
    NONE = "none", NC_("benefits", "none")
    UNKNOWN = "unknown", N_("not known")


# the legal areas of the catalogue (Service.legal_area) that serve each benefit system: the
# Sozialamt administers both SGB XII and AsylbLG
BENEFIT_LEGAL_AREAS = {
    Benefits.ASYLBLG: frozenset({"AsylbLG"}),
    Benefits.SGB2: frozenset({"SGB II"}),
    Benefits.SGB12: frozenset({"SGB XII", "AsylbLG"}),
    Benefits.SGB3: frozenset({"SGB III"}),
}
BENEFIT_BOUND_AREAS = frozenset().union(*BENEFIT_LEGAL_AREAS.values())


class OtherCaseManagement(Term):
    """Case management the client already has elsewhere (the KIM target group is those without)."""

    # Translators: other programmes of case management a client may already be in
    JMD = "jmd", N_("Jugendmigrationsdienst (JMD)")
    MBE = "mbe", N_("Migrationsberatung (MBE)")
    TEILHABE = "teilhabe", N_("Teilhabemanagement")
    JOBCENTER = "jobcenter", N_("Jobcenter case management")
    NONE = "none", N_("None")


# a residence document that expires: its valid-until date is asked for and watched
EXPIRING_STATUSES = frozenset({ResidenceStatus.GESTATTUNG, ResidenceStatus.DULDUNG, ResidenceStatus.AUFENTHALTSERLAUBNIS,
                               ResidenceStatus.TEMPORARY_PROTECTION, ResidenceStatus.FIKTION})


class ChangeNature(Term):
    """Why a recorded value changes: a typo fixed, or the client's life moved on."""

    # Translators: a correction fixes a mistake; an update records a real change (a move, a new permit)
    CORRECTION = "correction", N_("Correction (it was recorded wrongly)")
    UPDATE = "update", N_("Update (it has changed)")


class EntryKind(Term):
    """What an entry of a case's timeline is. Stored in case_entry.kind: values never change."""

    # Translators: kinds of entries in a case file's timeline; short, shown in lists and on buttons
    INTAKE = "intake", N_("Intake")
    ASSESSMENT = "assessment", N_("Assessment")
    GOAL = "goal", N_("Goal")
    GOAL_STATUS = "goal-status", N_("Goal outcome")
    REFERRAL = "referral", N_("Referral")
    REFERRAL_STATUS = "referral-status", N_("Referral status")
    REFERRAL_RESULT = "referral-result", N_("Referral result")
    CONSENT = "consent", N_("Consent to share")
    CONTACT = "contact", N_("Contact")
    CONFERENCE = "conference", N_("Fallkonferenz")
    CONFERENCE_OUTCOME = "conference-outcome", N_("Fallkonferenz outcome")
    HANDOVER = "handover", N_("Handover")
    UPDATE = "update", N_("Update")
    CORRECTION = "correction", N_("Correction")
    STATUS = "status", N_("Status change")
    CLOSURE = "closure", N_("Closure")
    REOPENED = "reopened", N_("Reopened")
    SIGNED = "signed", N_("Signed form")


# the timeline's filters by kind: a filter shows the kinds of its group
ENTRY_GROUPS = {
    "contacts": frozenset({EntryKind.CONTACT}),
    "plans": frozenset({EntryKind.ASSESSMENT, EntryKind.GOAL, EntryKind.GOAL_STATUS}),
    "referrals": frozenset({EntryKind.REFERRAL, EntryKind.REFERRAL_STATUS, EntryKind.REFERRAL_RESULT,
                            EntryKind.CONSENT}),
    "conferences": frozenset({EntryKind.CONFERENCE, EntryKind.CONFERENCE_OUTCOME}),
    "changes": frozenset({EntryKind.INTAKE, EntryKind.UPDATE, EntryKind.STATUS, EntryKind.HANDOVER,
                          EntryKind.CLOSURE, EntryKind.REOPENED, EntryKind.SIGNED}),
    "corrections": frozenset({EntryKind.CORRECTION}),
}
# a correction fixes a typo, it is not something that happened to the client: the timeline shows
# it only when asked for (filter "corrections", and under the entry it corrected)
HIDDEN_BY_DEFAULT = frozenset({EntryKind.CORRECTION})


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

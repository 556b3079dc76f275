"""The reminder plan: what kinds of scheduled message there are, and when each is due.

The kinds are stored in outbox rows (`outbox.kind`), so their values never change; a new kind
is a new member. What a message says is the bot's business (bot/notices.py).
"""

from __future__ import annotations

from datetime import date, timedelta
from enum import StrEnum


class ReminderKind(StrEnum):
    REASSESS_SOON = "reassess-soon"
    REASSESS_OVERDUE = "reassess-overdue"
    GOAL_DUE = "goal-due"
    GOAL_OVERDUE = "goal-overdue"
    SILENT_CASE = "silent-case"
    REFERRAL_FOLLOW_UP = "referral-follow-up"
    HANDOVER_REQUEST = "handover-request"
    DELIVERY_FAILED = "delivery-failed"
    CONFERENCE_INVITE = "conference-invite"
    CONFERENCE_UPDATE = "conference-update"
    CONFERENCE_CANCEL = "conference-cancel"
    CONFERENCE_REMINDER_DAY = "conference-reminder-day"
    CONFERENCE_REMINDER_HOUR = "conference-reminder-hour"
    CONFERENCE_OUTCOME = "conference-outcome"
    JOUR_FIXE_AGENDA = "jourfixe-agenda"
    DIGEST = "digest"
    # the status watcher (domain/watch.py): about a case, planned from its watch dates
    STATUS_EXPIRY = "status-expiry"
    AGE_18 = "age-18"
    AGE_27 = "age-27"
    CHECK_25A = "check-25a"
    CHECK_25B = "check-25b"
    # a change of benefit system or status recorded: offer the referrals of the new Rechtskreis
    RECHTSKREIS = "rechtskreis"
    # chat hygiene: a message with names or details shown is hidden again after a while; a typed
    # answer whose deletion failed is tried again (ref_id: the message's id in the user's chat)
    REVEAL_EXPIRY = "reveal-expiry"
    # a coordinator asked for a case's erasure: a second person confirms or declines (ref: the request)
    ERASURE_REQUEST = "erasure-request"
    DELETE_MESSAGE = "delete-message"
    # a coordinator gave a case to another case manager: both are told (ref: the case)
    CASE_REASSIGNED = "case-reassigned"
    # a Meldebogen came in (to each coordinator), or a coordinator gave one to a case manager (ref: the request)
    MELDEBOGEN_RECEIVED = "meldebogen-received"
    MELDEBOGEN_ASSIGNED = "meldebogen-assigned"
    # a case handed over to another organisation: its coordinators asked; whom asked told (ref: the transfer)
    TRANSFER_REQUEST = "transfer-request"
    TRANSFER_DECIDED = "transfer-decided"

    @property
    def about_goal(self) -> bool:
        return self in (ReminderKind.GOAL_DUE, ReminderKind.GOAL_OVERDUE)

    @property
    def about_reassessment(self) -> bool:
        return self in (ReminderKind.REASSESS_SOON, ReminderKind.REASSESS_OVERDUE)

    @property
    def about_watch(self) -> bool:
        return self in WATCH_REMINDERS.values()

    @property
    def about_case(self) -> bool:
        """A reminder about a case's own dates (re-assessment, goal, silence)."""
        return self.about_goal or self.about_reassessment or self is ReminderKind.SILENT_CASE


# the reminder of each watch of domain/watch.py (by its stored value)
WATCH_REMINDERS = {"expiry": ReminderKind.STATUS_EXPIRY, "age-18": ReminderKind.AGE_18, "age-27": ReminderKind.AGE_27,
                   "check-25a": ReminderKind.CHECK_25A, "check-25b": ReminderKind.CHECK_25B}
CASE_REMINDERS = frozenset(k for k in ReminderKind if k.about_case)


def reassessment_reminder(due: date, today: date) -> ReminderKind:
    return ReminderKind.REASSESS_SOON if due >= today else ReminderKind.REASSESS_OVERDUE


def goal_reminder(due: date, today: date) -> ReminderKind:
    return ReminderKind.GOAL_DUE if due >= today else ReminderKind.GOAL_OVERDUE


def remind_from(today: date, days_before: int) -> date:
    """Dates due on or before this day are reminded of today (`days_before` ahead)."""
    return today + timedelta(days=days_before)


def silent_cutoff(today: date, silent_days: int) -> date:
    """A case without a contact since this day is silent ("niemand soll durchs Netz fallen")."""
    return today - timedelta(days=silent_days)


def dedupe_key(kind: ReminderKind, ref: object, moment: object, user_id: int) -> str:
    """The unique key of a planned message: one per thing, date and person, however often and on
    however many instances the planner runs. The date in it lets a reminder see that its
    subject moved on (a done assessment moves the due date)."""
    return f"{kind}:{ref}:{moment}:{user_id}"


# what stays overdue is reminded of again after this many days, until it is done
REMIND_AGAIN_DAYS = 7


def weekly_key(key: str, overdue_since: date, today: date) -> str:
    """The key of an overdue reminder this week: a new one every REMIND_AGAIN_DAYS while the
    thing stays overdue, so neither "done" pressed too early nor a missed message silences it for
    good. The first week keeps the key earlier versions gave (no second reminder on upgrade)."""
    rounds = max(0, (today - overdue_since).days) // REMIND_AGAIN_DAYS
    return key if rounds == 0 else f"{key}:again{rounds}"

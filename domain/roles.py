"""Who may do what. Every permission check of the bot is one of these, so a rule is changed in
one place and read in one place (handlers and storage both ask here)."""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum

from domain.messages import N_


class Role(StrEnum):
    CASE_MANAGER = "case-manager"
    COORDINATOR = "coordinator"
    ADMIN = "admin"
    TRANSLATOR = "translator"  # manages languages, nothing else
    # staff of FB 50, FB 33, the KI or a Träger: send a Meldebogen, see what became of it, never a case
    REFERRER = "referrer"

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]


ROLE_LABELS = {
    # Translators: the roles of staff; gender-neutral where the language has a convention for it
    Role.CASE_MANAGER: N_("case manager"),
    Role.COORDINATOR: N_("coordinator"),
    Role.ADMIN: N_("admin"),
    Role.TRANSLATOR: N_("translator"),
    Role.REFERRER: N_("referrer"),
}
# the people who work on cases (and so receive reminders, and can be invited to a Fallkonferenz)
CASE_WORKERS = frozenset({Role.CASE_MANAGER, Role.COORDINATOR})


def holding(permission: Callable[[Role], bool]) -> tuple[Role, ...]:
    """The roles a permission is granted to: `holding(receives_cases)`."""
    return tuple(role for role in Role if permission(role))


def records_cases(role: Role) -> bool:
    """Starts intakes, finds people, works on cases."""
    return role in CASE_WORKERS


def sees_case_content(role: Role) -> bool:
    """Admins manage users and catalogues, translators languages; neither reads case content."""
    return role in CASE_WORKERS


def sees_all_cases(role: Role) -> bool:
    """Coordinators (Fachaufsicht) see every case of the organisation; case managers their own."""
    return role is Role.COORDINATOR


def may_change_any_case(role: Role) -> bool:
    return role is Role.COORDINATOR


def reassigns_cases(role: Role) -> bool:
    return role is Role.COORDINATOR


def receives_cases(role: Role) -> bool:
    """Whom a case can be assigned, reassigned or handed over to."""
    return role is Role.CASE_MANAGER


def reads_digest(role: Role) -> bool:
    return role is Role.COORDINATOR


def runs_jour_fixe(role: Role) -> bool:
    """Sets up the Jour fixe series (every 14 days)."""
    return role is Role.COORDINATOR


def takes_part_in_jour_fixe(role: Role) -> bool:
    return role in CASE_WORKERS


def manages_users(role: Role) -> bool:
    """Invites colleagues."""
    return role is Role.ADMIN


def manages_catalogue(role: Role) -> bool:
    return role is Role.ADMIN


def manages_languages(role: Role) -> bool:
    return role in (Role.ADMIN, Role.TRANSLATOR)


def sends_meldebogen(role: Role) -> bool:
    """Refers a client to the case management with a Meldebogen (FB 50, FB 33, the KI, a Träger)."""
    return role is Role.REFERRER


def reviews_meldebogen(role: Role) -> bool:
    """The coordinator is the entry point: reads each Meldebogen, assigns, declines or waits it."""
    return role is Role.COORDINATOR


def needs_district(role: Role) -> bool:
    """A case manager serves one district; the others work across the organisation."""
    return role is Role.CASE_MANAGER

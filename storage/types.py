"""What storage hands to the rest of the bot: plain values, never ciphertext or keys."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from domain.documents import DocumentKind
from domain.roles import Role

# what the staff lookup's memory answers when it does not remember a sender
NOT_REMEMBERED = object()


def staff_label(display_name: str | None, user_id: int) -> str:
    """How colleagues see a member of staff in lists: their name, else their number."""
    return display_name or f"#{user_id}"


@dataclass(frozen=True)
class StaffUser:
    id: int
    org_id: int
    telegram_id: int
    role: Role
    district_id: int | None
    district_code: str | None
    language: str | None
    display_name: str = ""
    pin_locked: bool = False  # too many wrong PINs: nothing but /help until an admin lifts it
    org_disabled: bool = False  # their organisation is switched off: refused at the door

    @property
    def label(self) -> str:
        return staff_label(self.display_name, self.id)

    def may(self, permission: Callable[[Role], bool]) -> bool:
        """`staff.may(roles.reads_digest)`: every permission is a rule of domain/roles.py."""
        return permission(self.role)


@dataclass(frozen=True)
class CaseSummary:
    id: int
    code: str
    status: str
    phase: str
    district_code: str
    assigned_to: int
    next_due_on: date | None
    created_at: datetime
    consent_at: datetime
    consent_version: str


@dataclass(frozen=True)
class CaseDetail:
    summary: CaseSummary
    records: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class DialogueSnapshot:
    """An open dialogue as the form engine sees it: decrypted state plus concurrency token."""

    user_id: int
    form: str
    nonce: str
    version: int
    state: dict[str, Any]
    prompt_message_id: int | None
    last_update_id: int = 0
    # the draft's unwrapped data key, kept so a step is saved with one UPDATE; storage-only
    data_key: Any = field(default=None, repr=False, compare=False)

    def already_applied(self, update_id: int) -> bool:
        # Equality, not "<=": Telegram picks update ids at random after a week without updates,
        # so only a repeat of the very update that made the last step is known to be one.
        return update_id != 0 and update_id == self.last_update_id


class StaleDialogue(Exception):
    """The dialogue moved on (another instance, or an older button) since this step was read."""


class DuplicatePerson(Exception):
    """The organisation already has a case for this person; carries only the case code."""

    def __init__(self, code: str) -> None:
        super().__init__("duplicate person")
        self.code = code


class InvitationProblem(Exception):
    """An invitation code could not be redeemed; `reason` is unknown, expired or used;
    `org_id`: the organisation whose invitation it was (None for an unknown code)."""

    def __init__(self, reason: str, org_id: int | None = None) -> None:
        super().__init__(reason)
        self.reason, self.org_id = reason, org_id


class NotAllowed(Exception):
    """The user may not do this to this case (or it is not among the cases they may see)."""


class BackupFailed(Exception):
    """A backup or restore could not be made (the reason, never a password or data)."""


class ArchiveError(Exception):
    """An organisation's archive cannot be written or read here (the reason, never its content)."""


class CaseClosed(Exception):
    """The case is closed: reopen it first."""


class CaseUnreadable(Exception):
    """The case's key is destroyed or damaged: what it holds cannot be read, so it cannot be
    handed on either."""


class NoConsent(Exception):
    """Data may not go to the service: no consent for it, or consent withdrawn."""


@dataclass(frozen=True)
class GoalInfo:
    id: int
    domain: str
    responsible: str
    due_on: date
    status: str
    wording: str | None = None


@dataclass(frozen=True)
class ReferralInfo:
    id: int
    service_id: int
    service_name: str
    domain: str
    status: str
    consent: bool
    withdrawn: bool
    shared_domains: tuple[str, ...]
    follow_up_on: date | None


@dataclass(frozen=True)
class CaseGlance:
    """A case at a glance: no names, the plan and its dates."""

    summary: CaseSummary
    age: int | None
    residence_status: str | None
    needs: dict[str, str]
    goals: list[GoalInfo]
    referrals: list[ReferralInfo]
    last_contact_on: date | None
    assessments: int
    closed: bool
    close_reason: str | None
    pending_handover: bool
    residence_valid_until: date | None = None
    benefits: str | None = None
    erased_at: datetime | None = None
    held: bool = False  # a legal hold keeps it past its retention period
    responsible: str = ""  # the display name of the case manager the case is assigned to


@dataclass(frozen=True)
class Member:
    """A member of staff as the admin's list shows them (storage/lifecycle.py)."""

    id: int
    label: str
    role: Role
    district_code: str | None
    active: bool
    open_cases: int
    pin_locked: bool = False
    employer: str = ""  # the Träger, as reports count it
    capacity: int | None = None  # a case manager's most open cases (None: no limit)


@dataclass(frozen=True)
class NewEntry:
    """A timeline entry to write with a change (CaseworkRepository.touch). `payload` holds the
    entry's own details and is encrypted under the case key; the rest is in the clear."""

    kind: str
    happened_on: date | None = None  # None: today
    domain: str | None = None
    ref_id: int | None = None
    payload: dict[str, Any] | None = None


@dataclass(frozen=True)
class EntryLine:
    """One line of the timeline: what, when, by whom (role), where, and a short gist (a
    service's name, a field's name, a status: nothing written about the client)."""

    id: int
    kind: str
    happened_on: date
    author_role: str
    domain: str | None
    ref_id: int | None
    gist: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TimelinePage:
    code: str
    entries: list[EntryLine]
    has_older: bool
    has_newer: bool
    total: int


@dataclass(frozen=True)
class EntryDetail:
    """An entry opened in full: its line and what it is about, decrypted (`data`, by kind)."""

    code: str
    line: EntryLine
    at: datetime
    data: dict[str, Any]


class CryptoError(Exception):
    """Decryption or key handling failed (damaged, or the key destroyed: erased). The message
    never contains data or keys."""


class CatalogueProblem(Exception):
    """An import that cannot be taken; `problems` lists (row number, what is wrong)."""

    def __init__(self, problems: list[tuple[int, str]]) -> None:
        super().__init__("catalogue import refused")
        self.problems = problems


@dataclass(frozen=True)
class ScheduledMessage:
    """An outbox row as the dispatcher and the reminder buttons see it."""

    id: int
    org_id: int
    user_id: int
    kind: str
    ref_id: int | None
    dedupe_key: str | None
    state: str
    attempts: int


@dataclass(frozen=True)
class Planned:
    """A scheduled message the planner wants: added once per `key`, however often it runs."""

    org_id: int
    user_id: int
    kind: str
    ref_id: int | None
    due_at: datetime
    key: str


@dataclass(frozen=True)
class CodeList:
    """The first few case codes of a set, and how many there are: a digest never loads them all."""

    codes: list[str] = field(default_factory=list)
    count: int = 0


@dataclass
class DigestFigures:
    """A digest's figures: counts and case codes, never personal data."""

    since: datetime
    new_cases: int = 0
    new_by_district: dict[str, int] = field(default_factory=dict)
    open_by_district: dict[str, int] = field(default_factory=dict)
    caseload: list[tuple[str, int]] = field(default_factory=list)  # (case manager, open cases)
    overdue_reassessments: CodeList = field(default_factory=lambda: CodeList())
    overdue_goals: CodeList = field(default_factory=lambda: CodeList())
    referral_ages: dict[str, int] = field(default_factory=dict)  # "<14", "14-30", ">30" days open
    outcomes: dict[str, int] = field(default_factory=dict)  # referral results in the period
    gaps: dict[tuple[str, str], int] = field(default_factory=dict)  # (life domain, service) -> count
    silent: CodeList = field(default_factory=lambda: CodeList())
    conferences: list[tuple[str, datetime]] = field(default_factory=list)
    needs: dict[str, int] = field(default_factory=dict)  # life domain -> open cases with medium or high need


@dataclass(frozen=True)
class Received:
    """An update as it arrives: its id, who sent it (the lane is derived from that), its JSON;
    the sender's staff id when the receiving instance knows it (their open dialogue is then
    read in the transaction that takes the update: storage/inbox.py)."""

    update_id: int
    sender: int
    body: str
    user_id: int | None = None


@dataclass(frozen=True)
class Taken:
    update_id: int
    body: str | None  # None: it could not be decrypted (finished at once, counted, never shown)


# documents on paper (storage/documents.py) -------------------------------------------------
class NoConsentToShare(Exception):
    """A referral letter asked for where the client has not (or no longer) consented to share."""


class NotSignable(Exception):
    """A scan sent in reply to a document nobody signs (a handout, a referral letter)."""


@dataclass(frozen=True)
class ServiceAddress:
    name: str
    contact: str = ""
    address: str = ""
    hours: str = ""


@dataclass(frozen=True)
class SharedDomain:
    """What a referral letter says about one life domain the client agreed to share."""

    domain: str
    need: str | None
    note: str
    strength: str
    goals: tuple[GoalInfo, ...]


@dataclass(frozen=True)
class Client:
    given_name: str
    family_name: str
    birth_date: date | None


@dataclass(frozen=True)
class DocumentSubject:
    """Everything one document shows, decrypted: only what its kind may carry."""

    code: str
    kind: DocumentKind
    ref_id: int | None
    organisation: str
    district: str
    case_manager: str
    contact: str
    consent_version: str
    consent_on: date
    client: Client | None = None
    goals: tuple[GoalInfo, ...] = ()
    service: ServiceAddress | None = None
    purpose: str = ""
    referral_domain: str = ""
    shared: tuple[str, ...] = ()
    shared_content: tuple[SharedDomain, ...] = ()
    referred: tuple[ServiceAddress, ...] = ()
    next_assessment: date | None = None
    conferences: tuple[tuple[datetime, str], ...] = ()


@dataclass(frozen=True)
class DocumentMenu:
    """What the documents menu of a case offers."""

    code: str
    referrals: tuple[tuple[int, str, bool], ...]  # (referral id, service, consent to share given)
    attachments: int
    consent_signed_on: date | None


@dataclass(frozen=True)
class AttachmentInfo:
    id: int
    kind: str
    language: str
    signed_on: date | None
    media_type: str
    size: int
    created_at: datetime
    service: str = ""


@dataclass(frozen=True)
class Attached:
    code: str
    kind: DocumentKind
    signed_on: date
    attachment_id: int
    again: bool = False  # the same file was kept with this document before: nothing stored twice

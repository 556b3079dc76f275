"""Tables. Times are timezone-aware UTC (SQLModel's UTCDateTime); shown in the org's zone.

Personal data lives only in ciphertext columns (`*_enc`, `ciphertext`, `wrapped`); every
plaintext column here is either an identifier, a pseudonymous code, a date the workflow needs
(due dates, consent date) or a category that carries no personal detail.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Column, Index, LargeBinary, Text, UniqueConstraint, false
from sqlmodel import Field, SQLModel


class Organisation(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    code_prefix: str = Field(max_length=8, unique=True)
    default_language: str = Field(default="de", max_length=8)
    created_at: datetime
    # the organisation's own key, wrapped by a master key (`key_kid`): every case key of the
    # organisation is wrapped by it (case_key.kid "org:<id>"), so destroying it erases the
    # organisation's case data as a whole. None before its first case (made then) and once erased.
    key_kid: str | None = Field(default=None, max_length=16)
    key_wrapped: bytes | None = Field(default=None, sa_column=Column(LargeBinary))
    # switched off by the operator: its staff are refused and nothing is sent to them
    disabled_at: datetime | None = None
    # erased as a whole (`casebot org erase`): its key destroyed, its cases erased, its staff removed
    erased_at: datetime | None = None


class District(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("org_id", "code"),)
    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organisation.id", index=True)
    code: str = Field(max_length=16)
    name: str = Field(max_length=100)


class AppUser(SQLModel, table=True):
    """A registered member of staff. Clients never are users."""

    __tablename__ = "app_user"
    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organisation.id", index=True)
    telegram_id: int = Field(sa_column=Column(BigInteger, unique=True, nullable=False))
    role: str = Field(max_length=20)
    district_id: int | None = Field(default=None, foreign_key="district.id")
    language: str | None = Field(default=None, max_length=8)
    # the staff member's name as Telegram gave it at registration (colleagues pick each other by it)
    display_name: str = Field(default="", max_length=128, sa_column_kwargs={"server_default": ""})
    active: bool = True
    # coordinators' digest: daily, weekly (Mondays) or off, at this local hour
    digest_frequency: str = Field(default="weekly", max_length=10, sa_column_kwargs={"server_default": "weekly"})
    digest_hour: int = Field(default=8, sa_column_kwargs={"server_default": "8"})
    created_at: datetime
    # the PIN on top of Telegram (storage/pin.py): its Argon2id hash, wrong tries in a row, a lock
    # after too many (an admin lifts it), and until when the last PIN entry counts
    pin_hash: str | None = Field(default=None, max_length=200)
    pin_failures: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    pin_locked: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    pin_until: datetime | None = None
    # the case manager's employer (the Träger: the city's KI, Caritas, AWO, Diakonie ...), for reports
    employer: str = Field(default="", max_length=60, sa_column_kwargs={"server_default": ""})
    # how clients reach this member of staff (phone, e-mail, office hours), printed on the
    # documents they hand out; encrypted with a system key (`contact_kid`) like the Jour fixe agenda
    contact_kid: str | None = Field(default=None, max_length=16)
    contact_enc: bytes | None = Field(default=None, sa_column=Column(LargeBinary))
    # a case manager's capacity: the most open cases they take (None: no limit); new cases go
    # to colleagues with room, and wait for the coordinator when nobody has any
    capacity: int | None = None


class Invitation(SQLModel, table=True):
    """Only the SHA-256 of the code is stored: a copy of the database yields no usable code."""

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organisation.id", index=True)
    code_hash: str = Field(max_length=64, unique=True)
    role: str = Field(max_length=20)
    district_id: int | None = Field(default=None, foreign_key="district.id")
    created_by: int | None = Field(default=None, foreign_key="app_user.id")
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None = None
    used_by: int | None = Field(default=None, foreign_key="app_user.id")


# the person_index of the closed stub a case leaves in the organisation it moved away from,
# followed by the moved case's id (storage/transfers.py): how the sender's trail still names it
MOVED_STUB = "moved/"


class ClientCase(SQLModel, table=True):
    __tablename__ = "client_case"
    __table_args__ = (UniqueConstraint("org_id", "person_index"),)
    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organisation.id", index=True)
    code: str = Field(max_length=32, unique=True)
    district_id: int = Field(foreign_key="district.id")
    assigned_to: int = Field(foreign_key="app_user.id", index=True)
    created_by: int = Field(foreign_key="app_user.id")
    status: str = Field(default="open", max_length=20)
    phase: str = Field(default="intake", max_length=20)
    # blind index of normalised name and date of birth (HMAC, not reversible)
    person_index: str = Field(max_length=64)
    # a second blind index on the transliteration-folded name (domain/names.py): "possibly the
    # same person", never a refusal; index_rev: the rules both were computed with (0: computed before the rules of migration 0014)
    person_fold: str | None = Field(default=None, max_length=64, index=True)
    index_rev: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    consent_version: str = Field(max_length=20)
    consent_at: datetime
    # the day the consent form (of consent_version) came back signed on paper (storage/documents.py)
    consent_signed_on: date | None = None
    next_due_on: date | None = None  # the next re-assessment
    last_contact_on: date | None = None
    assessments: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    closed_at: datetime | None = None
    close_reason: str | None = Field(default=None, max_length=30)
    created_at: datetime
    updated_at: datetime
    # the version of the status watcher's rules its watch dates were computed with (0: never):
    # `casebot migrate` computes them for cases older than the watcher
    watch_rev: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    # erased (Art. 17, withdrawal, retention): the key is destroyed and only statistics remain
    erased_at: datetime | None = None
    # consent to documentation withdrawn where the law keeps the file a while: erased then
    erase_after: datetime | None = None
    # a legal hold keeps a closed case past its retention period; the reason is encrypted
    hold_reason_enc: bytes | None = Field(default=None, sa_column=Column(LargeBinary))
    # on the waiting list since (every case manager who could take it was at capacity): the
    # recording user holds it until a coordinator assigns it
    waiting_since: datetime | None = None


class CaseKey(SQLModel, table=True):
    """The case's data key, wrapped by its organisation's key (kid "org:<org id>") or, written
    before organisations had keys of their own, by a master key (kid: the master key's id;
    `casebot migrate` moves those under the organisation's key). Deleting this row shreds the case."""

    __tablename__ = "case_key"
    case_id: int = Field(foreign_key="client_case.id", primary_key=True)
    kid: str = Field(max_length=16)
    wrapped: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class CaseValue(SQLModel, table=True):
    """One encrypted field of one record of a case (record: "intake", later "assessment/3")."""

    __tablename__ = "case_value"
    __table_args__ = (UniqueConstraint("case_id", "record", "field"),)
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="client_case.id", index=True)
    record: str = Field(max_length=40)
    field: str = Field(max_length=40)
    ciphertext: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class CaseEntry(SQLModel, table=True):
    """One entry of a case's timeline: what happened (kind), when, by which role, in which life
    domain, and the row it is about. Nothing else in the clear: an entry's own details (an old
    and a new value, a status it moved to) are encrypted case values of record "entry/<id>"."""

    __tablename__ = "case_entry"
    __table_args__ = (Index("ix_case_entry_timeline", "case_id", "happened_on", "id"),)
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="client_case.id")
    kind: str = Field(max_length=24)
    happened_on: date
    at: datetime
    author_role: str = Field(default="", max_length=20)
    domain: str | None = Field(default=None, max_length=20)
    # the goal, referral, contact, conference or handover the entry is about; an assessment's number
    ref_id: int | None = None


class CaseWatch(SQLModel, table=True):
    """A date the status watcher reminds of (domain/watch.py): a date the workflow needs, like a
    due date. Birthdays are kept as the first of their month, so no date of birth is in the clear."""

    __tablename__ = "case_watch"
    case_id: int = Field(foreign_key="client_case.id", primary_key=True)
    kind: str = Field(max_length=20, primary_key=True)
    due_on: date = Field(index=True)


class CaseProfile(SQLModel, table=True):
    """What reports count about a client, coarse (an age band, categories, need levels; never a
    name, a date of birth or a note), kept in step with the intake and the assessments and
    encrypted with the case's key: reports decrypt it in batches inside storage, and an erasure
    (the key destroyed, the row deleted) leaves nothing of it."""

    __tablename__ = "case_profile"
    case_id: int = Field(foreign_key="client_case.id", primary_key=True)
    body_enc: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class OrgSetting(SQLModel, table=True):
    """An organisation's setting ("target_group.recent_years" = "5"): the rules a municipality
    decides, changed without a release (`casebot settings`)."""

    __tablename__ = "org_setting"
    org_id: int = Field(foreign_key="organisation.id", primary_key=True)
    name: str = Field(max_length=60, primary_key=True)
    value: str = Field(max_length=200)


class CaseMessage(SQLModel, table=True):
    """A message the bot sent about a case (its view, its case file): an erasure deletes what
    Telegram still lets the bot delete (48 hours), so these are kept that long, no longer."""

    __tablename__ = "case_message"
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="client_case.id", index=True)
    user_id: int = Field(foreign_key="app_user.id")
    message_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    sent_at: datetime = Field(index=True)


class ErasureRequest(SQLModel, table=True):
    """An erasure asked for by one person and carried out only on a second person's
    confirmation (four eyes). The reason is a category, never free text."""

    __tablename__ = "erasure_request"
    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organisation.id", index=True)
    case_id: int = Field(foreign_key="client_case.id", index=True)
    reason: str = Field(max_length=30)
    requested_by: int = Field(foreign_key="app_user.id")
    requested_at: datetime
    state: str = Field(default="pending", max_length=12)  # pending, done, declined
    decided_by: int | None = Field(default=None, foreign_key="app_user.id")
    decided_at: datetime | None = None


class CaseSequence(SQLModel, table=True):
    __tablename__ = "case_sequence"
    org_id: int = Field(foreign_key="organisation.id", primary_key=True)
    year: int = Field(primary_key=True)
    last: int = 0


class Dialogue(SQLModel, table=True):
    """The one open dialogue of a user. `version` grows by one with every committed step;
    a step is written only if the version it was computed from is still current."""

    user_id: int = Field(foreign_key="app_user.id", primary_key=True)
    form: str = Field(max_length=40)
    # short random id, part of every button of this dialogue: buttons of older dialogues are stale
    nonce: str = Field(max_length=16)
    version: int = 0
    # the Telegram update that made the last step: a repeated delivery of it is not applied again
    last_update_id: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, server_default="0"))
    kid: str = Field(max_length=16)
    wrapped_key: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    state_enc: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    prompt_message_id: int | None = Field(default=None, sa_column=Column(BigInteger))
    created_at: datetime
    updated_at: datetime


class SeenUpdate(SQLModel, table=True):
    """A Telegram update this installation took on, kept a few days: Telegram delivers at least
    once (a webhook retried, a second instance), and a repeat must have no second effect."""

    __tablename__ = "seen_update"
    update_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    seen_at: datetime = Field(index=True)


class InboxUpdate(SQLModel, table=True):
    """An update received and not yet handled: Telegram is told "received" (HTTP 200, or the next
    getUpdates offset) only once it is here, so a crash loses nothing. Encrypted (it holds what a
    case manager typed) and deleted once handled. `lane` is a keyed hash of the sender: one
    lane's updates are handled one at a time, oldest first, by whichever instance takes them."""

    __tablename__ = "inbox_update"
    __table_args__ = (Index("ix_inbox_update_lane", "lane", "update_id"),)
    update_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    lane: int = Field(sa_column=Column(BigInteger, nullable=False))
    kid: str = Field(max_length=16)
    body_enc: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    received_at: datetime
    taken_by: str | None = Field(default=None, max_length=64)
    taken_until: datetime | None = None
    attempts: int = 0
    handled: bool = False


class AuditEvent(SQLModel, table=True):
    """Who did what to which case, when. `detail` holds field names or codes, never values."""

    __tablename__ = "audit_event"
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(index=True)
    org_id: int = Field(foreign_key="organisation.id")
    user_id: int | None = Field(default=None, foreign_key="app_user.id")
    action: str = Field(max_length=40)
    case_id: int | None = Field(default=None, foreign_key="client_case.id", index=True)
    detail: str = Field(default="", max_length=400)
    # the hash chain (storage/audit.py): the entry's place in it, given when it is sealed, and a
    # keyed hash over the previous entry's and this one's content
    seq: int | None = Field(default=None, sa_column=Column(BigInteger, unique=True))
    chain: str | None = Field(default=None, max_length=64)


class Service(SQLModel, table=True):
    """An entry of the organisation's catalogue of services (not personal data)."""

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organisation.id", index=True)
    key: str = Field(max_length=40)  # stable identifier for import/export ("jobcenter")
    name: str = Field(max_length=200)
    legal_area: str = Field(default="", max_length=40)  # SGB II, SGB III, SGB VIII, SGB XII, AsylbLG, AufenthG
    programme: str = Field(default="", max_length=60)  # JMD, MBE, Teilhabemanagement ...
    domains: str = Field(default="", max_length=200)  # comma-separated life domains
    min_age: int | None = None
    max_age: int | None = None
    statuses: str = Field(default="", max_length=200)  # comma-separated residence statuses; empty: any
    contact: str = Field(default="", max_length=300)
    # printed on the client's handout: where the service is, and when it is open
    address: str = Field(default="", max_length=200, sa_column_kwargs={"server_default": ""})
    hours: str = Field(default="", max_length=200, sa_column_kwargs={"server_default": ""})
    active: bool = True
    __table_args__ = (UniqueConstraint("org_id", "key"),)


class Goal(SQLModel, table=True):
    """A goal of the goal agreement. Its wording is encrypted under the case key."""

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="client_case.id", index=True)
    domain: str = Field(max_length=20)
    responsible: str = Field(max_length=20)  # client, case-manager, agency
    due_on: date
    status: str = Field(default="open", max_length=20)  # open, achieved, changed, dropped
    wording_enc: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: datetime
    updated_at: datetime


class Referral(SQLModel, table=True):
    """A referral to a service, with the client's purpose-bound consent to share data."""

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="client_case.id", index=True)
    service_id: int = Field(foreign_key="service.id", index=True)
    domain: str = Field(max_length=20)
    status: str = Field(default="suggested", max_length=20)
    shared_domains: str = Field(default="", max_length=200)  # what the consent allows to share
    consent_at: datetime | None = None
    consent_withdrawn_at: datetime | None = None
    consent_signed_on: date | None = None  # the consent-to-share form came back signed on paper
    purpose_enc: bytes | None = Field(default=None, sa_column=Column(LargeBinary))
    result_enc: bytes | None = Field(default=None, sa_column=Column(LargeBinary))
    # a gap in the system (no suitable offer, waiting list) as the case manager describes it for
    # the steering group: about the offer, never the client (encrypted all the same: it is typed)
    gap_enc: bytes | None = Field(default=None, sa_column=Column(LargeBinary))
    follow_up_on: date | None = None
    created_at: datetime
    updated_at: datetime


class IssuedDocument(SQLModel, table=True):
    """A document the bot made for a case (domain/documents.py) and sent into a chat. The PDF is
    not kept: this row says what it was, so a signed scan sent in reply to that chat message
    finds the consent or agreement it belongs to."""

    __tablename__ = "case_document"
    __table_args__ = (Index("ix_case_document_message", "user_id", "message_id"),)
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="client_case.id", index=True)
    kind: str = Field(max_length=20)
    ref_id: int | None = None  # the referral of a consent to share or a referral letter
    language: str = Field(max_length=8)  # the language beside German
    version: str = Field(default="", max_length=20)  # the consent text's version it printed
    user_id: int = Field(foreign_key="app_user.id")
    message_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    issued_at: datetime
    signed_on: date | None = None


class Attachment(SQLModel, table=True):
    """A signed form photographed or scanned, encrypted with the case's key (bound to this row)."""

    __tablename__ = "case_attachment"
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="client_case.id", index=True)
    document_id: int = Field(foreign_key="case_document.id")
    media_type: str = Field(max_length=40)
    size: int
    created_by: int = Field(foreign_key="app_user.id")
    created_at: datetime
    content_enc: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class Contact(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="client_case.id", index=True)
    happened_on: date
    kind: str = Field(max_length=20)  # meeting, phone, home-visit, office-hours
    note_enc: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_by: int = Field(foreign_key="app_user.id")
    created_at: datetime


class Handover(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="client_case.id", index=True)
    from_user: int = Field(foreign_key="app_user.id")
    to_user: int = Field(foreign_key="app_user.id", index=True)
    to_district_id: int = Field(foreign_key="district.id")
    note_enc: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    status: str = Field(default="pending", max_length=20)  # pending, accepted, declined
    created_at: datetime
    decided_at: datetime | None = None


class IntakeRequest(SQLModel, table=True):
    """A Meldebogen: a referrer's request that the case management take a client on. Who the
    client is, how to reach them and why is one ciphertext under the organisation's key; the
    coordinator assigns it (the case manager's intake starts from it), declines it with a
    reason (which its sender reads), or puts it on the waiting list."""

    __tablename__ = "intake_request"
    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organisation.id", index=True)
    sent_by: int = Field(foreign_key="app_user.id", index=True)
    source: str = Field(max_length=20)  # fb50, fb33, ki, traeger, agency (domain.vocabulary.Source)
    status: str = Field(default="received", max_length=12)
    created_at: datetime
    decided_by: int | None = Field(default=None, foreign_key="app_user.id")
    decided_at: datetime | None = None
    assigned_to: int | None = Field(default=None, foreign_key="app_user.id")
    case_id: int | None = Field(default=None, foreign_key="client_case.id")
    body_enc: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    reason_enc: bytes | None = Field(default=None, sa_column=Column(LargeBinary))


class OrgTransfer(SQLModel, table=True):
    """A case handed over to another organisation on the installation (the client moved there
    and agreed): pending until the receiving coordinator accepts (the case moves; the sender
    keeps a closed, erased stub, `stub_case_id`) or declines."""

    __tablename__ = "org_transfer"
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="client_case.id", index=True)
    from_org: int = Field(foreign_key="organisation.id")
    to_org: int = Field(foreign_key="organisation.id")
    requested_by: int = Field(foreign_key="app_user.id")
    requested_at: datetime
    consent_at: datetime  # the client's consent to the handover, confirmed by whom asked for it
    status: str = Field(default="pending", max_length=10)  # pending, accepted, declined
    decided_by: int | None = Field(default=None, foreign_key="app_user.id")
    decided_at: datetime | None = None
    stub_case_id: int | None = Field(default=None, foreign_key="client_case.id")


class Outbox(SQLModel, table=True):
    """Time-driven work as rows: a message to a user, due at a time. A dispatcher claims due rows
    (with a lease, so a crashed sender's rows come back), sends them and marks them sent."""

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organisation.id")
    user_id: int = Field(foreign_key="app_user.id", index=True)
    kind: str = Field(max_length=40)  # referral-follow-up, handover-request ...
    ref_id: int | None = None  # the referral, handover ... it is about
    due_at: datetime = Field(index=True)
    state: str = Field(default="due", max_length=12)  # due, claimed, sent, failed, cancelled
    lease_until: datetime | None = None
    attempts: int = 0
    sent_at: datetime | None = None
    # what makes a planned reminder unique ("reassess-soon:42:2027-02-24"): planned once, sent once
    dedupe_key: str | None = Field(default=None, max_length=120, sa_column_kwargs={"unique": True})


class Conference(SQLModel, table=True):
    """A Fallkonferenz on one case. Place and agenda are encrypted under the case key."""

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organisation.id", index=True)
    case_id: int = Field(foreign_key="client_case.id", index=True)
    organiser_id: int = Field(foreign_key="app_user.id")
    starts_at: datetime = Field(index=True)
    minutes: int = 60
    place_enc: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    agenda_enc: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    external_services: str = Field(default="", max_length=300)  # comma-separated service ids
    status: str = Field(default="scheduled", max_length=20)  # scheduled, cancelled, held
    sequence: int = 0  # iCalendar SEQUENCE: grows with every change
    outcome_enc: bytes | None = Field(default=None, sa_column=Column(LargeBinary))
    created_at: datetime
    updated_at: datetime


class ConferenceParticipant(SQLModel, table=True):
    __tablename__ = "conference_participant"
    conference_id: int = Field(foreign_key="conference.id", primary_key=True)
    user_id: int = Field(foreign_key="app_user.id", primary_key=True)
    attended: bool | None = None


class JourFixe(SQLModel, table=True):
    """The KIM working group's meeting series (every 14 days by default)."""

    __tablename__ = "jour_fixe"
    org_id: int = Field(foreign_key="organisation.id", primary_key=True)
    first_on: date
    at: str = Field(max_length=5)  # local "HH:MM"
    interval_days: int = 14
    place: str = Field(default="", max_length=200)


class AgendaItem(SQLModel, table=True):
    """A point for a Jour fixe. Staff text, not case data (the prompt asks for case codes only),
    encrypted all the same."""

    __tablename__ = "agenda_item"
    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organisation.id", index=True)
    meeting_on: date = Field(index=True)
    user_id: int = Field(foreign_key="app_user.id")
    # empty since the text is encrypted (text_enc, with a key derived from master key `kid`): a
    # point can name a client even though it should not. Plaintext rows of earlier versions are
    # encrypted by `casebot migrate` (and the planner's first pass)
    text: str = Field(max_length=500)
    kid: str | None = Field(default=None, max_length=16)
    text_enc: bytes | None = Field(default=None, sa_column=Column(LargeBinary))
    created_at: datetime


class NeedTally(SQLModel, table=True):
    """How many open cases have which need level per life domain: kept up to date when an
    assessment is saved, so digests count needs without decrypting anybody's assessment."""

    __tablename__ = "need_tally"
    org_id: int = Field(foreign_key="organisation.id", primary_key=True)
    domain: str = Field(max_length=20, primary_key=True)
    level: str = Field(max_length=10, primary_key=True)
    cases: int = 0


class LocaleCatalog(SQLModel, table=True):
    """A language's catalog uploaded by an admin or translator: pending until confirmed, then
    live (the newest live one per language wins); older live versions stay for rollback."""

    __tablename__ = "locale_catalog"
    id: int | None = Field(default=None, primary_key=True)
    # the organisation whose admin uploaded it: a language one organisation adds is its own
    org_id: int | None = Field(default=None, foreign_key="organisation.id", index=True)
    language: str = Field(max_length=16, index=True)
    po: str = Field(sa_column=Column(Text, nullable=False))
    state: str = Field(default="pending", max_length=10)  # pending, live, retired
    created_by: int | None = Field(default=None, foreign_key="app_user.id")
    created_at: datetime


class LocaleSetting(SQLModel, table=True):
    """Which languages users may choose (a shipped language is enabled unless switched off)."""

    __tablename__ = "locale_setting"
    org_id: int = Field(foreign_key="organisation.id", primary_key=True)
    language: str = Field(max_length=16, primary_key=True)
    enabled: bool = True


class LocaleRevision(SQLModel, table=True):
    """One number that grows with every change of catalogs or settings: each running instance
    compares it with the one it loaded, and reloads when it moved (no restart needed)."""

    __tablename__ = "locale_revision"
    id: int = Field(default=1, primary_key=True)
    revision: int = 0

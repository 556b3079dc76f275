"""Documents on paper: what a document about a case may show (decrypted here, for the bot to
render and send at once), which documents were issued into which chat message, and the signed
scans that come back, encrypted with the case's key. No PDF is ever kept."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from sqlmodel import Session, select

from domain.documents import DocumentKind, shareable
from domain.vocabulary import ConferenceStatus, EntryKind, GoalStatus, LifeDomain, ReferralStatus
from storage import audit
from storage.cases import value_aad
from storage.casework import row_aad
from storage.crypto import CryptoError, DataKey
from storage.models import (
    AppUser,
    Attachment,
    CaseValue,
    ClientCase,
    Conference,
    District,
    Goal,
    IssuedDocument,
    Organisation,
    Referral,
    Service,
)
from storage.types import (
    Attached,
    AttachmentInfo,
    Client,
    DocumentMenu,
    DocumentSubject,
    GoalInfo,
    NewEntry,
    NoConsentToShare,
    NotAllowed,
    NotSignable,
    ServiceAddress,
    SharedDomain,
    StaffUser,
)

if TYPE_CHECKING:
    from storage.store import Store

CONTACT_KEY = "staff-contact"
# referrals whose service the client may still go to: the handout lists these
ACTIVE_REFERRALS = (ReferralStatus.SUGGESTED, ReferralStatus.SENT, ReferralStatus.ACCEPTED, ReferralStatus.WAITING_LIST)


def attachment_aad(case_id: int, attachment_id: int) -> str:
    return row_aad(case_id, "attachment", attachment_id, "content")


class DocumentRepository:
    def __init__(self, store: Store) -> None:
        self._store = store

    def _case(self, s: Session, user: StaffUser, code: str) -> ClientCase:
        return self._store.casework._visible_case(s, user, code)

    def _today(self) -> date:
        return self._store.clock.now().astimezone(self._store.tz).date()

    # the menu ------------------------------------------------------------------------------
    def menu(self, user: StaffUser, code: str) -> DocumentMenu:
        """What can be printed for the case (nothing decrypted; CryptoError when its key is gone)."""
        with self._store.transaction() as s:
            case = self._case(s, user, code)
            self._store.cases.data_key(s, case.id)  # an erased or damaged case makes no documents
            referrals = s.exec(select(Referral.id, Service.name, Referral.consent_at, Referral.consent_withdrawn_at)
                               .join(Service, Service.id == Referral.service_id)
                               .where(Referral.case_id == case.id).order_by(Referral.id)).all()
            attachments = len(s.exec(select(Attachment.id).where(Attachment.case_id == case.id)).all())
            return DocumentMenu(case.code, tuple((r[0], r[1], r[2] is not None and r[3] is None) for r in referrals),
                                attachments, case.consent_signed_on)

    def spoken(self, user: StaffUser, code: str) -> tuple[str, tuple[str, ...]]:
        """(the case's code, the languages the intake recorded): the one value decrypted to
        propose the language of a document."""
        with self._store.transaction() as s:
            case = self._case(s, user, code)
            key = self._store.cases.data_key(s, case.id)
            blob = s.exec(select(CaseValue.ciphertext).where(CaseValue.case_id == case.id, CaseValue.record == "intake",
                                                             CaseValue.field == "languages")).first()
            return case.code, tuple(json.loads(key.decrypt(blob, aad=value_aad(case.id, "intake", "languages")))
                                    if blob else ())

    # what a document shows ----------------------------------------------------------------
    def subject(self, user: StaffUser, code: str, kind: DocumentKind, ref_id: int | None = None) -> DocumentSubject:
        """The content of one document, decrypted (strictly: a value that does not decrypt makes
        no document, rather than one with a gap). Audited as a read of the case.
        Raises NotAllowed, NoConsentToShare, CryptoError."""
        with self._store.transaction() as s:
            case = self._case(s, user, code)
            key = self._store.cases.data_key(s, case.id)
            casework = self._store.casework
            manager = s.get(AppUser, case.assigned_to)
            audit.record(s, at=self._store.clock.now(), org_id=user.org_id, user_id=user.id, action="document.make",
                         case_id=case.id, detail=f"kind={kind}" + (f" referral={ref_id}" if ref_id else ""))
            common = {
                "code": case.code, "kind": kind, "ref_id": ref_id,
                "organisation": s.get(Organisation, case.org_id).name,
                "district": s.get(District, case.district_id).name,
                "case_manager": manager.display_name if manager else "",
                "contact": self._contact_of(manager),
                "consent_version": case.consent_version,
                "consent_on": case.consent_at.astimezone(self._store.tz).date(),
            }
            if kind.names_client:  # only then is the intake read at all
                intake = casework._record(s, case.id, key, "intake")
                birth = intake.get("birth_date")
                common["client"] = Client(intake.get("given_name", ""), intake.get("family_name", ""),
                                          date.fromisoformat(birth) if birth else None)
            if kind is DocumentKind.AGREEMENT:
                return DocumentSubject(**common, goals=self._open_goals(s, case.id, key))
            if kind is DocumentKind.HANDOUT:
                return DocumentSubject(**common, next_assessment=case.next_due_on,
                                       referred=self._referred(s, case.id), conferences=self._meetings(s, case, key))
            if not kind.per_referral:
                return DocumentSubject(**common)
            referral = s.get(Referral, ref_id or 0)
            if referral is None or referral.case_id != case.id:
                raise NotAllowed()
            service = s.get(Service, referral.service_id)
            purpose = key.decrypt(referral.purpose_enc, aad=row_aad(case.id, "referral", referral.id, "purpose")) \
                if referral.purpose_enc else ""
            consented = referral.consent_at is not None and referral.consent_withdrawn_at is None
            shared = tuple(d for d in referral.shared_domains.split(",") if d)
            if kind is DocumentKind.LETTER and not (consented and shared):
                raise NoConsentToShare()
            extra = {"service": _address(service), "purpose": purpose, "referral_domain": referral.domain,
                     # a consent form not yet signed proposes the referral's own life domain
                     "shared": shared if consented and shared else (referral.domain,)}
            if kind is DocumentKind.LETTER:
                goals = self._open_goals(s, case.id, key)
                latest = casework._record(s, case.id, key, f"assessment/{case.assessments}") if case.assessments else {}
                order = [d.value for d in LifeDomain]
                extra["shared_content"] = tuple(
                    SharedDomain(domain, latest.get(f"need_{domain}"), latest.get(f"note_{domain}") or "",
                                 latest.get(f"strength_{domain}") or "", tuple(g for g in goals if g.domain == domain))
                    for domain in shareable(order, shared))
            return DocumentSubject(**common, **extra)

    def _open_goals(self, s: Session, case_id: int, key) -> tuple[GoalInfo, ...]:  # noqa: ANN001
        """The open goals with their wording, soonest due first (what a goal agreement lists)."""
        return tuple(GoalInfo(g.id, g.domain, g.responsible, g.due_on, g.status,
                              key.decrypt(g.wording_enc, aad=row_aad(case_id, "goal", g.id, "wording")))
                     for g in s.exec(select(Goal).where(Goal.case_id == case_id, Goal.status == GoalStatus.OPEN)
                                     .order_by(Goal.due_on, Goal.id)).all())

    def _referred(self, s: Session, case_id: int) -> tuple[ServiceAddress, ...]:
        rows = s.exec(select(Service).join(Referral, Referral.service_id == Service.id)
                      .where(Referral.case_id == case_id, Referral.status.in_(ACTIVE_REFERRALS))
                      .order_by(Referral.id)).all()
        seen: dict[str, ServiceAddress] = {}
        for service in rows:
            seen.setdefault(service.key, _address(service))
        return tuple(seen.values())

    def _meetings(self, s: Session, case: ClientCase, key) -> tuple[tuple[datetime, str], ...]:  # noqa: ANN001
        now = self._store.clock.now()
        rows = s.exec(select(Conference).where(Conference.case_id == case.id,
                                               Conference.status == ConferenceStatus.SCHEDULED,
                                               Conference.starts_at >= now - timedelta(hours=1))
                      .order_by(Conference.starts_at)).all()
        return tuple((c.starts_at, key.decrypt(c.place_enc, aad=row_aad(case.id, "conference", c.id, "place")))
                     for c in rows)

    # issued documents and the signed scans that come back ---------------------------------------
    def issued(self, user: StaffUser, code: str, kind: DocumentKind, ref_id: int | None, *, language: str,
               version: str, message_id: int) -> int:
        """Remember the chat message a document was sent in, so a scan sent in reply finds it."""
        with self._store.transaction() as s:
            case = self._case(s, user, code)
            row = IssuedDocument(case_id=case.id, kind=kind, ref_id=ref_id, language=language, version=version,
                                 user_id=user.id, message_id=message_id, issued_at=self._store.clock.now())
            s.add(row)
            s.flush()
            audit.record(s, at=row.issued_at, org_id=user.org_id, user_id=user.id, action="document.issue",
                         case_id=case.id, detail=f"document={row.id} kind={kind} language={language}")
            return row.id

    def issued_since(self, user: StaffUser, code: str, kind: DocumentKind, ref_id: int | None, language: str,
                     since: datetime) -> bool:
        """Whether this user was sent this very document (case, kind, referral, language) since
        `since`: the second press of a double tap finds it sent a moment ago."""
        with self._store.transaction() as s:
            case = self._case(s, user, code)
            same_ref = IssuedDocument.ref_id.is_(None) if ref_id is None else IssuedDocument.ref_id == ref_id
            return s.exec(select(IssuedDocument.id).where(
                IssuedDocument.case_id == case.id, IssuedDocument.user_id == user.id, IssuedDocument.kind == kind,
                same_ref, IssuedDocument.language == language, IssuedDocument.issued_at >= since)).first() is not None

    def signable(self, user: StaffUser, message_id: int) -> DocumentKind | None:
        """The kind of the document this user was sent in that message (None: none of ours)."""
        with self._store.reading() as connection:
            kind = connection.execute(select(IssuedDocument.kind).where(
                IssuedDocument.user_id == user.id, IssuedDocument.message_id == message_id)).scalar()
        return DocumentKind(kind) if kind else None

    def attach(self, user: StaffUser, message_id: int, content: bytes, media_type: str) -> Attached:
        """Store a signed scan of the document sent in `message_id`, encrypted with the case's
        key, and mark what was signed as signed on paper today. One transaction.
        Raises NotAllowed (no such document of this user's, or the case is no longer theirs),
        NotSignable, CryptoError (the case was erased)."""
        today, now = self._today(), self._store.clock.now()
        with self._store.transaction() as s:
            document = s.exec(select(IssuedDocument).where(IssuedDocument.user_id == user.id,
                                                           IssuedDocument.message_id == message_id)).first()
            if document is None:
                raise NotAllowed()
            case = s.get(ClientCase, document.case_id)
            self._case(s, user, case.code)  # still visible to this user
            kind = DocumentKind(document.kind)
            if not kind.signed:
                raise NotSignable()
            key = self._store.cases.data_key(s, case.id)
            kept = self._kept_before(s, key, case.id, document.id, content)
            if kept is not None:  # sent twice, or "Keep this scan" pressed twice: one is enough
                return Attached(case.code, kind, document.signed_on or today, kept, again=True)
            row = Attachment(case_id=case.id, document_id=document.id, media_type=media_type, size=len(content),
                             created_by=user.id, created_at=now, content_enc=b"")
            s.add(row)
            s.flush()
            row.content_enc = key.encrypt_bytes(content, aad=attachment_aad(case.id, row.id))
            document.signed_on = today
            s.add(document)
            if kind is DocumentKind.CONSENT and document.version == case.consent_version:
                case.consent_signed_on = today
            elif kind is DocumentKind.SHARE and document.ref_id:
                referral = s.get(Referral, document.ref_id)
                if referral is not None and referral.case_id == case.id:
                    referral.consent_signed_on = today
                    s.add(referral)
            self._store.casework.touch(s, case, user, "attachment.add", f"attachment={row.id} document={document.id}",
                                       entry=NewEntry(EntryKind.SIGNED, ref_id=row.id, payload={"document": kind.value}),
                                       key=key)
            return Attached(case.code, kind, today, row.id)

    @staticmethod
    def _kept_before(s: Session, key: DataKey, case_id: int, document_id: int, content: bytes) -> int | None:
        """The attachment of this document that holds exactly `content`, if there is one. Only
        those of the same size are decrypted (a document has a scan or two)."""
        same_size = s.exec(select(Attachment.id, Attachment.content_enc).where(
            Attachment.document_id == document_id, Attachment.size == len(content))).all()
        for attachment_id, blob in same_size:
            try:
                if key.decrypt_bytes(blob, aad=attachment_aad(case_id, attachment_id)) == content:
                    return attachment_id
            except CryptoError:
                continue  # a damaged one is no copy of this
        return None

    def attachments(self, user: StaffUser, code: str) -> list[AttachmentInfo]:
        with self._store.transaction() as s:
            case = self._case(s, user, code)
            rows = s.exec(select(Attachment, IssuedDocument).join(IssuedDocument, IssuedDocument.id == Attachment.document_id)
                          .where(Attachment.case_id == case.id).order_by(Attachment.id)).all()
            services = dict(s.exec(select(Referral.id, Service.name).join(Service, Service.id == Referral.service_id)
                                   .where(Referral.case_id == case.id)).all())
            return [AttachmentInfo(a.id, d.kind, d.language, d.signed_on, a.media_type, a.size, a.created_at,
                                   services.get(d.ref_id, "") if d.ref_id else "") for a, d in rows]

    def attachment(self, user: StaffUser, attachment_id: int) -> tuple[str, AttachmentInfo, int, bytes]:
        """(case code, what it is, its number among the case's scans as listed, its bytes),
        decrypted; audited. Raises NotAllowed, CryptoError."""
        with self._store.transaction() as s:
            row = s.get(Attachment, attachment_id)
            if row is None:
                raise NotAllowed()
            case = self._case(s, user, s.get(ClientCase, row.case_id).code)
            document = s.get(IssuedDocument, row.document_id)
            key = self._store.cases.data_key(s, case.id)
            content = key.decrypt_bytes(row.content_enc, aad=attachment_aad(case.id, row.id))
            audit.record(s, at=self._store.clock.now(), org_id=user.org_id, user_id=user.id, action="attachment.read",
                         case_id=case.id, detail=f"attachment={row.id}")
            number = len(s.exec(select(Attachment.id).where(Attachment.case_id == case.id, Attachment.id <= row.id)).all())
            return case.code, AttachmentInfo(row.id, document.kind, document.language, document.signed_on,
                                             row.media_type, row.size, row.created_at), number, content

    # how clients reach a member of staff ---------------------------------------------------
    def set_contact(self, user: StaffUser, text: str) -> None:
        kid, key = self._store.keyring.system_key(CONTACT_KEY)
        with self._store.transaction() as s:
            row = s.get(AppUser, user.id)
            row.contact_kid = kid if text else None
            row.contact_enc = key.encrypt(text, aad=contact_aad(user.id)) if text else None
            s.add(row)
            audit.record(s, at=self._store.clock.now(), org_id=user.org_id, user_id=user.id, action="staff.contact",
                         detail="set" if text else "cleared")

    def contact(self, user: StaffUser) -> str:
        with self._store.transaction() as s:
            return self._contact_of(s.get(AppUser, user.id))

    def _contact_of(self, person: AppUser | None) -> str:
        if person is None or person.contact_enc is None or person.contact_kid is None:
            return ""
        try:
            _, key = self._store.keyring.system_key(CONTACT_KEY, person.contact_kid)
            return key.decrypt(person.contact_enc, aad=contact_aad(person.id))
        except CryptoError:
            return ""  # a contact that does not decrypt is left off the document, not the document


def contact_aad(user_id: int) -> str:
    return f"staff/{user_id}/contact"


def _address(service: Service) -> ServiceAddress:
    return ServiceAddress(service.name, service.contact, service.address, service.hours)

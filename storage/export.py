"""The data subject's access (Art. 15 GDPR): everything stored about one client, decrypted, with
to whom data was passed and on which consent. Coordinators only; every export audited."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlmodel import select

from domain.roles import Role
from storage import audit
from storage.casework import row_aad
from storage.crypto import readable
from storage.models import (
    Attachment,
    CaseEntry,
    ClientCase,
    Conference,
    Contact,
    District,
    Goal,
    Handover,
    IssuedDocument,
    Referral,
    Service,
)
from storage.types import NotAllowed, StaffUser

if TYPE_CHECKING:
    from storage.store import Store


class SubjectAccess:
    def __init__(self, store: Store) -> None:
        self._store = store

    def export(self, user: StaffUser, code: str) -> dict[str, Any]:
        if user.role is not Role.COORDINATOR:
            raise NotAllowed()
        casework, timeline = self._store.casework, self._store.timeline
        with self._store.transaction() as s:
            row = s.exec(self._store.cases.visible(user).where(ClientCase.code == code.upper())).first()
            if row is None:
                raise NotAllowed()
            case, district = row
            key = self._store.cases.data_key_or_none(s, case.id)

            def text(blob: bytes | None, table: str, row_id: int, field: str) -> str | None:
                return readable(key, blob, aad=row_aad(case.id, table, row_id, field)) if blob else None

            entries = s.exec(select(CaseEntry).where(CaseEntry.case_id == case.id).order_by(CaseEntry.happened_on,
                                                                                             CaseEntry.id)).all()
            payloads = timeline.payloads(s, case.id, key, [e.id for e in entries])
            services = dict(s.exec(select(Service.id, Service.name)).all())
            districts = dict(s.exec(select(District.id, District.code)).all())
            attachments: dict[int, list[Attachment]] = {}
            for attachment in s.exec(select(Attachment).where(Attachment.case_id == case.id).order_by(Attachment.id)).all():
                attachments.setdefault(attachment.document_id, []).append(attachment)
            result = {
                "case": {"code": case.code, "status": case.status, "district": district.code,
                         "opened": case.created_at.isoformat(), "closed": case.closed_at.isoformat() if case.closed_at else None,
                         "consent_to_documentation": {
                             "version": case.consent_version, "given": case.consent_at.isoformat(),
                             "signed_on_paper": case.consent_signed_on.isoformat() if case.consent_signed_on else None}},
                "intake": casework.record_or_empty(s, case.id, key, "intake") if key else {},
                "assessments": [{"number": n, **casework.record_or_empty(s, case.id, key, f"assessment/{n}")}
                                for n in range(1, case.assessments + 1)] if key else [],
                "goals": [{"domain": g.domain, "goal": text(g.wording_enc, "goal", g.id, "wording"),
                           "responsible": g.responsible, "due": g.due_on.isoformat(), "status": g.status}
                          for g in s.exec(select(Goal).where(Goal.case_id == case.id).order_by(Goal.id)).all()],
                # to whom data was passed, for which purpose, on which consent
                "referrals": [{"service": services.get(r.service_id), "domain": r.domain, "status": r.status,
                               "purpose": text(r.purpose_enc, "referral", r.id, "purpose"),
                               "consent_given": r.consent_at.isoformat() if r.consent_at else None,
                               "consent_withdrawn": r.consent_withdrawn_at.isoformat() if r.consent_withdrawn_at else None,
                               "shared_life_domains": [d for d in r.shared_domains.split(",") if d],
                               "consent_signed_on_paper": r.consent_signed_on.isoformat() if r.consent_signed_on else None,
                               "result_reported_back": text(r.result_enc, "referral", r.id, "result")}
                              for r in s.exec(select(Referral).where(Referral.case_id == case.id).order_by(Referral.id)).all()],
                "contacts": [{"date": c.happened_on.isoformat(), "kind": c.kind, "note": text(c.note_enc, "contact", c.id, "note")}
                             for c in s.exec(select(Contact).where(Contact.case_id == case.id).order_by(Contact.id)).all()],
                "conferences": [{"when": c.starts_at.isoformat(), "status": c.status,
                                 "place": text(c.place_enc, "conference", c.id, "place"),
                                 "agenda": text(c.agenda_enc, "conference", c.id, "agenda"),
                                 "decisions": text(c.outcome_enc, "conference", c.id, "outcome"),
                                 "agencies": [services.get(int(i)) for i in c.external_services.split(",") if i]}
                                for c in s.exec(select(Conference).where(Conference.case_id == case.id)).all()],
                "handovers": [{"date": h.created_at.isoformat(), "to_district": districts.get(h.to_district_id),
                               "status": h.status, "note": text(h.note_enc, "handover", h.id, "note")}
                              for h in s.exec(select(Handover).where(Handover.case_id == case.id)).all()],
                # documents made for the client, and the signed forms kept (the scans themselves:
                # 📎 Signed forms, or `documents.attachment`)
                "documents": [{"kind": d.kind, "language": d.language, "made": d.issued_at.isoformat(),
                               "signed_on_paper": d.signed_on.isoformat() if d.signed_on else None,
                               "signed_forms_kept": [{"type": a.media_type, "bytes": a.size, "received": a.created_at.isoformat()}
                                                     for a in attachments.get(d.id, [])]}
                              for d in s.exec(select(IssuedDocument).where(IssuedDocument.case_id == case.id)
                                              .order_by(IssuedDocument.id)).all()],
                "case_file": [{"date": e.happened_on.isoformat(), "kind": e.kind, "by_role": e.author_role,
                               "life_domain": e.domain, **({"details": payloads[e.id]} if e.id in payloads else {})}
                              for e in entries],
            }
            audit.record(s, at=self._store.clock.now(), org_id=user.org_id, user_id=user.id or None, action="case.export",
                         case_id=case.id)
            return result


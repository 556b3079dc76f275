"""The case file's timeline: one entry per thing that happened, newest first, paged by a cursor.

An entry in the clear says only what kind of thing happened, when, by which role and in which
life domain; its own details are encrypted case values (record "entry/<id>"). A page decrypts
only its own entries' details (a case with 1,000 entries costs no more to open than one with
ten), and opening an entry decrypts what that entry is about.
"""

from __future__ import annotations

import json
from datetime import date
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, func, or_
from sqlmodel import Session, select

from domain.vocabulary import ENTRY_GROUPS, HIDDEN_BY_DEFAULT, EntryKind, LifeDomain
from storage import audit
from storage.cases import value_aad
from storage.casework import row_aad
from storage.crypto import DataKey, readable
from storage.models import (
    CaseEntry,
    CaseValue,
    ClientCase,
    Conference,
    Contact,
    District,
    Goal,
    Handover,
    Referral,
    Service,
)
from storage.types import EntryDetail, EntryLine, NewEntry, NotAllowed, StaffUser, TimelinePage

if TYPE_CHECKING:
    from storage.store import Store

PAGE_SIZE = 8
# the details of an entry that say what it is about without saying anything about the client
# (a field's name, a status): shown in the timeline's lines
GIST_FIELDS = ("field", "status", "reason", "nature", "document")
REFERRAL_KINDS = frozenset({EntryKind.REFERRAL, EntryKind.REFERRAL_STATUS, EntryKind.REFERRAL_RESULT, EntryKind.CONSENT})
CONFERENCE_KINDS = frozenset({EntryKind.CONFERENCE, EntryKind.CONFERENCE_OUTCOME})
CHANGE_KINDS = frozenset({EntryKind.UPDATE, EntryKind.CORRECTION, EntryKind.STATUS})


def entry_record(entry_id: int) -> str:
    return f"entry/{entry_id}"


class Cursor:
    """Where a page starts: older than (or newer than) one entry, "o2026-03-12.41" / "n...".
    Read from a button, so anything malformed is None (the first page)."""

    def __init__(self, direction: str, on: date, entry_id: int) -> None:
        self.direction, self.on, self.entry_id = direction, on, entry_id

    def __str__(self) -> str:
        return f"{self.direction}{self.on.isoformat()}.{self.entry_id}"

    @classmethod
    def parse(cls, text: str) -> Cursor | None:
        try:
            day, entry_id = text[1:].split(".")
            return cls(text[0], date.fromisoformat(day), int(entry_id)) if text[0] in "on" else None
        except (ValueError, IndexError):
            return None


class TimelineRepository:
    def __init__(self, store: Store) -> None:
        self._store = store

    # writing ------------------------------------------------------------------------------
    def add(self, s: Session, case: ClientCase, user: StaffUser | None, entry: NewEntry, key: DataKey | None = None) -> int:
        """Add an entry in the caller's transaction (with the change it records)."""
        now = self._store.clock.now()
        row = CaseEntry(case_id=case.id, kind=entry.kind, at=now, author_role=user.role if user else "",
                        happened_on=entry.happened_on or now.astimezone(self._store.tz).date(),
                        domain=entry.domain, ref_id=entry.ref_id)
        s.add(row)
        s.flush()
        if entry.payload:
            key = key or self._store.cases.data_key(s, case.id)
            self._store.cases.write_values(s, case.id, key, entry_record(row.id), entry.payload)
        return row.id

    # reading ------------------------------------------------------------------------------
    def page(self, user: StaffUser, code: str, *, group: str | None = None, domain: str | None = None,
             cursor: str = "", size: int = PAGE_SIZE) -> TimelinePage:
        """One page of the case's timeline, newest first, from `cursor` (a button's "o..." or
        "n...", anything else: the newest); none of the case's content is read beyond this
        page. Raises NotAllowed for a case the user may not see."""
        cursor = Cursor.parse(cursor)
        with self._store.transaction() as s:
            case = self._case(s, user, code)
            query = select(CaseEntry).where(CaseEntry.case_id == case.id)
            kinds = ENTRY_GROUPS.get(group or "")
            if kinds is not None:
                query = query.where(CaseEntry.kind.in_(kinds))
            else:
                query = query.where(CaseEntry.kind.not_in(HIDDEN_BY_DEFAULT))
            if LifeDomain.parse(domain) is not None:
                query = query.where(CaseEntry.domain == domain)
            total = s.exec(select(func.count()).select_from(query.subquery())).one()
            newer = cursor is not None and cursor.direction == "n"
            if cursor is not None:
                position = (CaseEntry.happened_on, CaseEntry.id)
                after = or_(position[0] > cursor.on, and_(position[0] == cursor.on, position[1] > cursor.entry_id))
                before = or_(position[0] < cursor.on, and_(position[0] == cursor.on, position[1] < cursor.entry_id))
                query = query.where(after if newer else before)
            order = (CaseEntry.happened_on, CaseEntry.id) if newer else (CaseEntry.happened_on.desc(), CaseEntry.id.desc())
            rows = list(s.exec(query.order_by(*order).limit(size + 1)).all())
            more = len(rows) > size
            rows = rows[:size]
            if newer:
                rows.reverse()
            lines = self._lines(s, case, rows)
            audit.record(s, at=self._store.clock.now(), org_id=user.org_id, user_id=user.id, action="case.timeline",
                         case_id=case.id, detail=f"entries={len(lines)}")
            has_older = more if not newer else cursor is not None
            has_newer = more if newer else cursor is not None
            return TimelinePage(code=case.code, entries=lines, has_older=has_older and bool(lines),
                                has_newer=has_newer and bool(lines), total=total)

    def entry(self, user: StaffUser, entry_id: int) -> EntryDetail:
        """One entry in full. Raises NotAllowed unless the user may see its case."""
        with self._store.transaction() as s:
            row = s.get(CaseEntry, entry_id)
            code = s.get(ClientCase, row.case_id).code if row else ""
            case = self._case(s, user, code)
            key = self._store.cases.data_key_or_none(s, case.id)
            line = self._lines(s, case, [row], key)[0]
            data = self._details(s, case, row, key)
            audit.record(s, at=self._store.clock.now(), org_id=user.org_id, user_id=user.id, action="case.entry",
                         case_id=case.id, detail=f"entry={row.id};kind={row.kind}")
            return EntryDetail(code=case.code, line=line, at=row.at, data=data)

    def _case(self, s: Session, user: StaffUser, code: str) -> ClientCase:
        row = s.exec(self._store.cases.visible(user).where(ClientCase.code == code.upper())).first() if code else None
        if row is None:
            raise NotAllowed()
        return row[0]

    def payloads(self, s: Session, case_id: int, key: DataKey | None, entry_ids: list[int],
                 names: tuple[str, ...] | None = None) -> dict[int, dict[str, Any]]:
        """The decrypted details of these entries (only the named fields, when given)."""
        if not entry_ids:
            return {}
        query = select(CaseValue).where(CaseValue.case_id == case_id,
                                        CaseValue.record.in_([entry_record(i) for i in entry_ids]))
        if names is not None:
            query = query.where(CaseValue.field.in_(names))
        found: dict[int, dict[str, Any]] = {}
        for value in s.exec(query).all():
            plain = readable(key, value.ciphertext, aad=value_aad(case_id, value.record, value.field))
            if plain is not None:
                found.setdefault(int(value.record.split("/")[1]), {})[value.field] = json.loads(plain)
        return found

    def _lines(self, s: Session, case: ClientCase, rows: list[CaseEntry], key: DataKey | None = None) -> list[EntryLine]:
        """The page's lines with their gists: a few batched look-ups, whatever the page holds."""
        if not rows:
            return []
        if key is None:
            key = self._store.cases.data_key_or_none(s, case.id)
        gists = self.payloads(s, case.id, key, [r.id for r in rows], GIST_FIELDS)
        refs = lambda kinds: [r.ref_id for r in rows if r.kind in kinds and r.ref_id]  # noqa: E731
        services = dict(s.exec(select(Referral.id, Service.name).join(Service, Referral.service_id == Service.id)
                               .where(Referral.id.in_(refs(REFERRAL_KINDS)))).all())
        contacts = dict(s.exec(select(Contact.id, Contact.kind).where(Contact.id.in_(refs({EntryKind.CONTACT})))).all())
        goals = dict(s.exec(select(Goal.id, Goal.status).where(Goal.id.in_(refs({EntryKind.GOAL_STATUS})))).all())
        meetings = dict(s.exec(select(Conference.id, Conference.starts_at)
                               .where(Conference.id.in_(refs(CONFERENCE_KINDS)))).all())
        districts = dict(s.exec(select(Handover.id, District.code).join(District, Handover.to_district_id == District.id)
                                .where(Handover.id.in_(refs({EntryKind.HANDOVER})))).all())
        lines = []
        for row in rows:
            gist = dict(gists.get(row.id, {}))
            if row.kind in REFERRAL_KINDS:
                gist["service"] = services.get(row.ref_id, "")
            elif row.kind == EntryKind.CONTACT:
                gist["contact_kind"] = contacts.get(row.ref_id)
            elif row.kind == EntryKind.GOAL_STATUS:
                gist.setdefault("status", goals.get(row.ref_id))
            elif row.kind in CONFERENCE_KINDS:
                gist["starts_at"] = meetings.get(row.ref_id)
            elif row.kind == EntryKind.HANDOVER:
                gist["district"] = districts.get(row.ref_id)
            elif row.kind == EntryKind.CLOSURE:
                gist.setdefault("reason", case.close_reason)
            lines.append(EntryLine(id=row.id, kind=row.kind, happened_on=row.happened_on, author_role=row.author_role,
                                   domain=row.domain, ref_id=row.ref_id, gist=gist))
        return lines

    def _details(self, s: Session, case: ClientCase, row: CaseEntry, key: DataKey | None) -> dict[str, Any]:
        """What the entry is about, decrypted; a value that does not decrypt is None (shown as
        unreadable), the rest still shows."""
        own = self.payloads(s, case.id, key, [row.id]).get(row.id, {})
        kind, ref = row.kind, row.ref_id
        record = self._store.casework.record_or_empty
        if kind == EntryKind.INTAKE:
            changes = s.exec(select(CaseEntry).where(CaseEntry.case_id == case.id, CaseEntry.kind.in_(CHANGE_KINDS))
                             .order_by(CaseEntry.id)).all()
            payloads = self.payloads(s, case.id, key, [c.id for c in changes])
            return {"values": record(s, case.id, key, "intake"),
                    "changes": [{"kind": c.kind, "at": c.at, "happened_on": c.happened_on, "role": c.author_role,
                                 **payloads.get(c.id, {})} for c in changes]}
        if kind == EntryKind.ASSESSMENT:
            return {"number": ref, "values": record(s, case.id, key, f"assessment/{ref}") if ref else {}}
        if kind in (EntryKind.GOAL, EntryKind.GOAL_STATUS):
            goal = s.get(Goal, ref) if ref else None
            if goal is None:
                return own
            return {**own, "goal_status": goal.status, "due_on": goal.due_on, "responsible": goal.responsible,
                    "wording": readable(key, goal.wording_enc, aad=row_aad(case.id, "goal", goal.id, "wording"))}
        if kind in REFERRAL_KINDS:
            return {**self._referral(s, case, ref, key), **own}
        if kind == EntryKind.CONTACT:
            contact = s.get(Contact, ref) if ref else None
            if contact is None:
                return own
            return {"contact_kind": contact.kind, "happened_on": contact.happened_on,
                    "note": readable(key, contact.note_enc, aad=row_aad(case.id, "contact", contact.id, "note"))}
        if kind in CONFERENCE_KINDS:
            return {**own, **self._conference(s, case, ref, key)}
        if kind == EntryKind.HANDOVER:
            handover = s.get(Handover, ref) if ref else None
            if handover is None:
                return own
            district = s.get(District, handover.to_district_id)  # None: a district of the organisation it came from
            return {"district": district.code if district else "–", "handover_status": handover.status,
                    "note": readable(key, handover.note_enc, aad=row_aad(case.id, "handover", handover.id, "note"))}
        if kind == EntryKind.CLOSURE:
            return {"reason": own.get("reason", case.close_reason)}
        return own

    def _referral(self, s: Session, case: ClientCase, ref: int | None, key: DataKey | None) -> dict[str, Any]:
        referral = s.get(Referral, ref) if ref else None
        if referral is None:
            return {}
        history = s.exec(select(CaseEntry).where(CaseEntry.case_id == case.id, CaseEntry.ref_id == referral.id,
                                                 CaseEntry.kind.in_(REFERRAL_KINDS)).order_by(CaseEntry.id)).all()
        payloads = self.payloads(s, case.id, key, [h.id for h in history], ("status",))
        aad = lambda name: row_aad(case.id, "referral", referral.id, name)  # noqa: E731
        return {
            "service": s.get(Service, referral.service_id).name, "referral_status": referral.status,
            "purpose": readable(key, referral.purpose_enc, aad=aad("purpose")) if referral.purpose_enc else None,
            "result": readable(key, referral.result_enc, aad=aad("result")) if referral.result_enc else None,
            "gap": readable(key, referral.gap_enc, aad=aad("gap")) if referral.gap_enc else None,
            "consent_at": referral.consent_at, "withdrawn_at": referral.consent_withdrawn_at,
            "shared_domains": [d for d in referral.shared_domains.split(",") if d],
            "history": [(h.happened_on, h.kind, payloads.get(h.id, {}).get("status"), h.author_role) for h in history],
        }

    def _conference(self, s: Session, case: ClientCase, ref: int | None, key: DataKey | None) -> dict[str, Any]:
        conference = s.get(Conference, ref) if ref else None
        if conference is None:
            return {}
        aad = lambda name: row_aad(case.id, "conference", conference.id, name)  # noqa: E731
        return {
            "starts_at": conference.starts_at, "minutes": conference.minutes, "conference_status": conference.status,
            "place": readable(key, conference.place_enc, aad=aad("place")),
            "agenda": readable(key, conference.agenda_enc, aad=aad("agenda")),
            "decisions": readable(key, conference.outcome_enc, aad=aad("outcome")) if conference.outcome_enc else None,
        }

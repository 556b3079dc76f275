"""Changing what was recorded: an intake value corrected or updated (the old value kept,
encrypted, with who and when), and what a receiving service reported about a referral."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from domain.reminders import ReminderKind
from domain.reports import GAP_STATUSES
from domain.vocabulary import RESULT_STATUSES, CaseStatus, ChangeNature, EntryKind, LifeDomain
from domain.watch import new_rechtskreis
from storage import outbox
from storage.cases import NAME_RULES
from storage.casework import row_aad
from storage.models import CaseEntry, CaseValue, ClientCase, Referral
from storage.types import DuplicatePerson, NewEntry, NoConsent, NotAllowed, StaffUser

if TYPE_CHECKING:
    from storage.store import Store

# the life domain an intake field belongs to (the timeline's filter by domain finds its changes)
FIELD_DOMAINS = {
    "residence_status": LifeDomain.RESIDENCE, "residence_valid_until": LifeDomain.RESIDENCE,
    "residence_since": LifeDomain.RESIDENCE, "benefits": LifeDomain.MONEY,
    "district": LifeDomain.HOUSING, "quarter": LifeDomain.HOUSING, "address": LifeDomain.HOUSING,
    "languages": LifeDomain.LANGUAGE, "languages_other": LifeDomain.LANGUAGE, "interpreter": LifeDomain.LANGUAGE,
    "adults": LifeDomain.FAMILY, "children": LifeDomain.FAMILY,
}
# a change of these is a change of the client's status (its own kind in the timeline)
STATUS_FIELDS = frozenset({"residence_status", "residence_valid_until", "benefits"})
IDENTITY_FIELDS = frozenset({"given_name", "family_name", "birth_date"})


@dataclass(frozen=True)
class Amended:
    entry_id: int
    old: Any
    new: Any
    # a new Rechtskreis: the case manager is reminded to offer its referrals
    rechtskreis: bool


class CaseFileRepository:
    def __init__(self, store: Store) -> None:
        self._store = store

    def amend(self, user: StaffUser, code: str, *, changes: dict[str, Any], nature: str,
              effective_on: date | None = None) -> Amended:
        """Change intake values of the case. `changes` holds the chosen field first, then the
        values that go with it (a new status's valid-until date). The old values go into the
        entry, encrypted; a changed name or date of birth moves the person's blind index (and
        is refused when it would make the person a duplicate)."""
        nature = ChangeNature(nature)
        field = next(iter(changes))
        try:
            with self._store.transaction() as s:
                case, key = self._store.casework.case_for_change(s, user, code)
                intake = self._store.casework.record_or_empty(s, case.id, key, "intake")
                old = {name: intake.get(name) for name in changes}
                merged = {**intake, **changes}
                if IDENTITY_FIELDS & changes.keys():
                    self._reindex(s, case, user, merged)
                s.exec(delete(CaseValue).where(CaseValue.case_id == case.id, CaseValue.record == "intake",
                                               CaseValue.field.in_(list(changes))))
                s.flush()
                self._store.cases.write_values(s, case.id, key, "intake", changes)
                kind = (EntryKind.CORRECTION if nature is ChangeNature.CORRECTION else
                        EntryKind.STATUS if field in STATUS_FIELDS else EntryKind.UPDATE)
                payload = {"field": field, "nature": str(nature), "old": old, "new": changes}
                entry_id = self._store.casework.touch(
                    s, case, user, f"case.{nature}", f"field={field}", key=key,
                    entry=NewEntry(kind, happened_on=effective_on, domain=FIELD_DOMAINS.get(field), payload=payload))
                self._store.watch.refresh(s, case, merged)
                self._store.profiles.refresh(s, case, key, intake=merged)
                rechtskreis = nature is ChangeNature.UPDATE and new_rechtskreis(field, old[field], changes[field])
                if rechtskreis:
                    outbox.schedule(s, org_id=case.org_id, user_id=case.assigned_to, kind=ReminderKind.RECHTSKREIS,
                                    ref_id=entry_id, due_at=self._store.clock.now())
                return Amended(entry_id, old[field], changes[field], rechtskreis)
        except IntegrityError:
            raise DuplicatePerson("") from None

    def _reindex(self, s, case: ClientCase, user: StaffUser, values: dict[str, Any]) -> None:  # noqa: ANN001
        exact, folded = self._store.cases.indexes(case.org_id, values)
        other = s.exec(select(ClientCase.code).where(ClientCase.org_id == case.org_id, ClientCase.person_index == exact,
                                                     ClientCase.id != case.id)).first()
        if other:
            raise DuplicatePerson(other)
        case.person_index, case.person_fold, case.index_rev = exact, folded, NAME_RULES

    def intake(self, user: StaffUser, code: str) -> dict[str, Any]:
        """The intake's current values, for the change dialogue (not audited: the change is)."""
        with self._store.transaction() as s:
            case, key = self._store.casework.case_for_change(s, user, code)
            return self._store.casework.record_or_empty(s, case.id, key, "intake")

    def rechtskreis_subject(self, entry_id: int, user_id: int) -> dict[str, Any] | None:
        """What a Rechtskreis reminder is about, if it still holds: (code, field, old, new)."""
        with self._store.transaction() as s:
            entry = s.get(CaseEntry, entry_id)
            case = s.get(ClientCase, entry.case_id) if entry else None
            if case is None or case.status != CaseStatus.OPEN or case.assigned_to != user_id:
                return None
            key = self._store.cases.data_key_or_none(s, case.id)
            payload = self._store.timeline.payloads(s, case.id, key, [entry.id]).get(entry.id)
            if not payload:
                return None
            field = payload["field"]
            return {"code": case.code, "field": field, "old": payload["old"].get(field), "new": payload["new"].get(field)}

    # referral results ---------------------------------------------------------------------
    def record_result(self, user: StaffUser, referral_id: int, result: str) -> str:
        """What the receiving service reported, for a completed or declined referral: only with
        the client's consent to share with that service (the concept: results are brought
        together with the case manager "insofern der/die Klient/in zustimmt"). Returns the code."""
        with self._store.transaction() as s:
            referral, case, key = self._result_target(s, user, referral_id)
            referral.result_enc = key.encrypt(result, aad=row_aad(case.id, "referral", referral.id, "result"))
            s.add(referral)
            self._store.casework.touch(s, case, user, "referral.result", f"referral={referral.id}", key=key,
                                       entry=NewEntry(EntryKind.REFERRAL_RESULT, domain=referral.domain,
                                                      ref_id=referral.id, payload={"result": result}))
            return case.code

    def record_gap(self, user: StaffUser, referral_id: int, note: str) -> str:
        """The case manager's description of a gap (no suitable offer, waiting list) for the
        steering group. Returns the case code; NotAllowed unless the referral is a gap now."""
        with self._store.transaction() as s:
            referral = s.get(Referral, referral_id)
            code = s.get(ClientCase, referral.case_id).code if referral else ""
            case, key = self._store.casework.case_for_change(s, user, code, allow_closed=True)
            if referral.status not in GAP_STATUSES:
                raise NotAllowed()
            referral.gap_enc = key.encrypt(note, aad=row_aad(case.id, "referral", referral.id, "gap"))
            s.add(referral)
            self._store.casework.touch(s, case, user, "referral.gap", f"referral={referral.id}")
            return case.code

    def result_allowed(self, user: StaffUser, referral_id: int) -> str:
        """The case code if a result may be written for this referral now (raises otherwise)."""
        with self._store.transaction() as s:
            return self._result_target(s, user, referral_id)[1].code

    def _result_target(self, s, user: StaffUser, referral_id: int):  # noqa: ANN001, ANN202
        """(referral, case, key) if a result may be written for the referral (raises otherwise)."""
        referral = s.get(Referral, referral_id)
        code = s.get(ClientCase, referral.case_id).code if referral else ""
        case, key = self._store.casework.case_for_change(s, user, code, allow_closed=True)
        if referral.status not in RESULT_STATUSES:
            raise NotAllowed()
        if referral.consent_at is None or referral.consent_withdrawn_at is not None:
            raise NoConsent()
        return referral, case, key


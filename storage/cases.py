"""Cases: pseudonymous codes in the clear, everything personal encrypted under the case's key."""

from __future__ import annotations

import json
import secrets
from datetime import date, datetime, time
from time import monotonic
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, insert, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, select

from domain import roles
from domain.names import folded_key
from domain.vocabulary import FINAL_STATUSES, CaseStatus, EntryKind, GoalStatus
from storage import audit
from storage.crypto import CryptoError, DataKey, normalise_name
from storage.db import upsert_insert
from storage.models import CaseKey, CaseSequence, CaseValue, ClientCase, District, Goal, Organisation, Referral
from storage.types import CaseDetail, CaseSummary, DuplicatePerson, NewEntry, StaffUser

if TYPE_CHECKING:
    from storage.store import Store


def key_aad(case_id: int) -> str:
    return f"case-key/{case_id}"


def value_aad(case_id: int, record: str, field: str) -> str:
    """Associated data of a case's encrypted value: which case, record (or table/row) and field."""
    return f"case/{case_id}/{record}/{field}"


def silent_since(cutoff: date, tz):  # noqa: ANN201 - a SQL condition
    """Cases without a contact since `cutoff` (never contacted: opened by the end of that day in
    the organisation's zone). Two indexed conditions rather than a date conversion, which SQLite
    and PostgreSQL spell differently. Reminders and digests both use this one definition."""
    end_of_cutoff = datetime.combine(cutoff, time(23, 59, 59), tzinfo=tz)
    return (ClientCase.last_contact_on <= cutoff) | (
        ClientCase.last_contact_on.is_(None) & (ClientCase.created_at <= end_of_cutoff))


# next_code and the case's UPDATE in one statement (the number as next_code writes it: 0001, 10000)
_NUMBER = text("""
WITH bumped AS (
    INSERT INTO case_sequence (org_id, year, last) VALUES (:org, :year, 1)
    ON CONFLICT (org_id, year) DO UPDATE SET last = case_sequence.last + 1 RETURNING last)
UPDATE client_case SET code = :prefix || '-' || CAST(:year AS text) || '-'
    || CASE WHEN bumped.last < 10000 THEN lpad(CAST(bumped.last AS text), 4, '0') ELSE CAST(bumped.last AS text) END
FROM bumped WHERE client_case.id = :case RETURNING client_case.code""")


def _provisional_code() -> str:
    """A new case's code until it is numbered, at the end of its transaction (never committed)."""
    return "~" + secrets.token_hex(12)


def _summary(case: ClientCase, district: District) -> CaseSummary:
    return CaseSummary(
        id=case.id, code=case.code, status=case.status, phase=case.phase, district_code=district.code,
        assigned_to=case.assigned_to, next_due_on=case.next_due_on, created_at=case.created_at,
        consent_at=case.consent_at, consent_version=case.consent_version,
    )


# the revision of the name rules (domain/names.py) the blind indexes are computed with
NAME_RULES = 1


_INSERT_VALUES = insert(CaseValue.__table__)

class CaseRepository:
    def __init__(self, store: Store) -> None:
        self._store = store

    # identity -----------------------------------------------------------------------------
    def person_index(self, *, org_id: int, given_name: str, family_name: str, birth_date: date) -> str:
        return self._store.keyring.blind_index(
            f"org/{org_id}/person", normalise_name(given_name, family_name), birth_date.isoformat()
        )

    def person_fold(self, *, org_id: int, given_name: str, family_name: str, birth_date: date) -> str:
        """The second blind index: the transliteration-folded name (a warning, not a refusal)."""
        return self._store.keyring.blind_index(
            f"org/{org_id}/person-fold", folded_key(given_name, family_name), birth_date.isoformat()
        )

    def code_of_person(self, *, org_id: int, person_index: str) -> str | None:
        with self._store.transaction() as s:
            return s.exec(
                select(ClientCase.code).where(ClientCase.org_id == org_id, ClientCase.person_index == person_index)
            ).first()

    def code_of_similar(self, *, org_id: int, person_fold: str, other_than: str | None = None) -> str | None:
        """A case whose person may be the same, written differently (the folded index)."""
        with self._store.transaction() as s:
            query = select(ClientCase.code).where(ClientCase.org_id == org_id, ClientCase.person_fold == person_fold)
            if other_than:
                query = query.where(ClientCase.code != other_than)
            return s.exec(query.order_by(ClientCase.id)).first()

    def indexes(self, org_id: int, values: dict[str, Any]) -> tuple[str, str] | None:
        """(exact, folded) blind index of an intake's names and date of birth; None without a date."""
        born = values.get("birth_date")
        if not born:
            return None
        born = date.fromisoformat(born) if isinstance(born, str) else born
        given, family = values.get("given_name") or "", values.get("family_name") or ""
        return (self.person_index(org_id=org_id, given_name=given, family_name=family, birth_date=born),
                self.person_fold(org_id=org_id, given_name=given, family_name=family, birth_date=born))

    def reindex(self, *, batch: int = 200, until: float | None = None) -> tuple[int, list[str]]:
        """Compute both blind indexes again where they were computed with older name rules
        (before migration 0014 "Al-Hassan" was one part, and there was no folded index). Returns (cases
        done, the codes of those left with their old exact index because another case already
        holds the new one: possibly one person recorded twice, for a coordinator to look at; the
        folded index warns about them). Erased cases have nothing left. `until`
        (time.monotonic()): stop after the batch that passes it; the rest waits for the next call."""
        done, kept = 0, []
        while True:
            with self._store.transaction() as s:
                cases = s.exec(select(ClientCase).where(ClientCase.index_rev < NAME_RULES)
                               .order_by(ClientCase.id).limit(batch)).all()
                taken = set()
                for case in cases:
                    key = self.data_key_or_none(s, case.id) if case.erased_at is None else None
                    intake = self._store.casework.record_or_empty(s, case.id, key, "intake") if key else {}
                    indexes = self.indexes(case.org_id, intake)
                    if indexes is not None:  # (erased or unreadable: nothing to index)
                        exact, case.person_fold = indexes
                        with s.no_autoflush:  # the check reads before this case's change is written
                            clash = exact != case.person_index and (exact in taken or s.exec(
                                select(ClientCase.id).where(ClientCase.org_id == case.org_id, ClientCase.id != case.id,
                                                            ClientCase.person_index == exact)).first() is not None)
                        if clash:
                            kept.append(case.code)
                        else:
                            case.person_index = exact
                        taken.add(case.person_index)
                    case.index_rev = NAME_RULES
                    s.add(case)
                    s.flush()
                done += len(cases)
            if len(cases) < batch:
                return done, kept
            if until is not None and monotonic() >= until:
                return done, kept

    # writing ------------------------------------------------------------------------------
    def create(
        self, *, user: StaffUser, district_id: int, assigned_to: int, person_index: str,
        consent_version: str, consent_at: datetime, next_due_on: date | None,
        record: str, values: dict[str, Any], waiting: bool = False,
    ) -> CaseSummary:
        """Create a case with its first record, in the caller's unit of work (with the draft's
        removal, so the same confirmation arriving twice, or at two instances, creates one case).
        Raises DuplicatePerson; its code is empty when a concurrent save won the race (the
        transaction is spoilt then, so the caller looks the code up after the rollback)."""
        now = self._store.clock.now()
        try:
            with self._store.transaction() as s:
                duplicate = s.exec(
                    select(ClientCase.code).where(ClientCase.org_id == user.org_id, ClientCase.person_index == person_index)
                ).first()
                if duplicate:
                    raise DuplicatePerson(duplicate)
                case = ClientCase(
                    org_id=user.org_id, code=_provisional_code(), district_id=district_id,
                    assigned_to=assigned_to, created_by=user.id, person_index=person_index,
                    consent_version=consent_version, consent_at=consent_at, next_due_on=next_due_on,
                    created_at=now, updated_at=now, index_rev=NAME_RULES, waiting_since=now if waiting else None,
                )
                indexes = self.indexes(user.org_id, values)
                case.person_fold = indexes[1] if indexes else None
                s.add(case)
                s.flush()
                data_key = DataKey.generate()
                kid, wrapped = self._store.organisations.wrap_case_key(user.org_id, data_key, key_aad(case.id))
                s.add(CaseKey(case_id=case.id, kid=kid, wrapped=wrapped))
                self.write_values(s, case.id, data_key, record, values)
                audit.record(s, at=now, org_id=user.org_id, user_id=user.id, action="case.create", case_id=case.id,
                             detail=f"record={record};fields={len(values)}")
                self._store.timeline.add(s, case, user, NewEntry(EntryKind.INTAKE))
                self._store.watch.refresh(s, case, values)
                self._store.profiles.refresh(s, case, data_key, intake=values if record == "intake" else None, new_case=True)
                district = s.get(District, district_id)
                # numbered last: the year's counter stays locked from its bump to the commit, and
                # every save of the organisation waits for it (a database 5 ms away: the whole
                # save, some 15 round trips, when it came first; now the code's UPDATE and COMMIT)
                self._store.settle_now(s)
                self._number(s, case, now)
                return _summary(case, district)
        except IntegrityError:
            # the unique blind index caught a duplicate created concurrently
            raise DuplicatePerson("") from None

    def _number(self, s: Session, case: ClientCase, now: datetime) -> None:
        """Give a new case its code: on PostgreSQL the counter's bump and the case's UPDATE are
        one statement, so the commit follows at once (the counter is locked in between)."""
        if s.get_bind().dialect.name != "postgresql":
            case.code = self.next_code(s, case.org_id, now)
            return
        prefix = s.get(Organisation, case.org_id).code_prefix
        s.flush()  # (nothing of the unit's left to write after the counter is locked)
        code = s.connection().execute(_NUMBER, {"org": case.org_id, "year": now.astimezone(self._store.tz).year,
                                                "prefix": prefix, "case": case.id}).scalar_one()
        set_committed_value(case, "code", code)

    def next_code(self, s: Session, org_id: int, now: datetime) -> str:
        """The organisation's next case code; the year's counter stays locked until `s` commits."""
        year = now.astimezone(self._store.tz).year
        prefix = s.get(Organisation, org_id).code_prefix  # (read before the counter is locked)
        # one statement that creates the year's counter or bumps it, taking the row lock on
        # PostgreSQL and the write lock on SQLite: two instances never hand out the same number,
        # also not the year's first (an UPDATE, then an INSERT when it found nothing, made the
        # loser of that race fail its save)
        number = s.exec(
            upsert_insert(s.get_bind().dialect.name)(CaseSequence).values(org_id=org_id, year=year, last=1)
            .on_conflict_do_update(index_elements=["org_id", "year"], set_={"last": CaseSequence.last + 1})
            .returning(CaseSequence.last)
        ).one()[0]
        return f"{prefix}-{year}-{number:04d}"

    def write_values(self, s: Session, case_id: int, key: DataKey, record: str, values: dict[str, Any]) -> None:
        """The record's answers, each sealed to its case, record and field: one INSERT for all
        (as ORM objects they were one INSERT each, for ids nothing here reads)."""
        rows = [{"case_id": case_id, "record": record, "field": field,
                 "ciphertext": key.encrypt(json.dumps(value, ensure_ascii=False), aad=value_aad(case_id, record, field))}
                for field, value in values.items() if value is not None]
        if rows:
            s.connection().execute(_INSERT_VALUES, rows)

    def data_key_or_none(self, s: Session, case_id: int) -> DataKey | None:
        """The case's key, or None when it is destroyed (erased) or does not unwrap (damaged)."""
        try:
            return self.data_key(s, case_id)
        except CryptoError:
            return None

    def data_key(self, s: Session, case_id: int) -> DataKey:
        row = s.get(CaseKey, case_id)
        if row is None:
            raise CryptoError("the case's data key was destroyed")
        return self.unwrap(case_id, row.kid, row.wrapped)

    def unwrap(self, case_id: int, kid: str, wrapped: bytes) -> DataKey:
        """A case's key from its case_key row's values (for batches that read the rows joined):
        wrapped by its organisation's key, or (written before those) by a master key."""
        return self._store.organisations.unwrap_case_key(kid, wrapped, key_aad(case_id))

    def shred(self, *, user: StaffUser, code: str) -> None:
        """Destroy the case's data key: every encrypted value of it becomes unreadable."""
        now = self._store.clock.now()
        with self._store.transaction() as s:
            case = s.exec(select(ClientCase).where(ClientCase.code == code, ClientCase.org_id == user.org_id)).one()
            key = s.get(CaseKey, case.id)
            if key is not None:
                s.delete(key)
            audit.record(s, at=now, org_id=user.org_id, user_id=user.id, action="case.shred", case_id=case.id)

    # reading ------------------------------------------------------------------------------
    def visible(self, user: StaffUser):  # noqa: ANN202
        query = (
            select(ClientCase, District)
            .join(District, ClientCase.district_id == District.id)
            .where(ClientCase.org_id == user.org_id)
        )
        if not user.may(roles.sees_case_content):
            return query.where(False)  # admins manage users and catalogues, not case content
        if user.may(roles.sees_all_cases):
            return query
        return query.where(ClientCase.assigned_to == user.id)

    def codes_numbered(self, user: StaffUser, number: int, year: int | None = None, limit: int = 5) -> list[str]:
        """The codes of the cases the user may see that carry this number ("/case 37"), newest
        first; a code's number has at least four digits (LEV-2026-0037)."""
        suffix = f"-{year}-{number:04d}" if year else f"-{number:04d}"
        with self._store.transaction() as s:
            rows = s.exec(self.visible(user).where(ClientCase.code.endswith(suffix))
                          .order_by(ClientCase.id.desc()).limit(limit)).all()
        return [case.code for case, _ in rows]

    def due_reasons(self, case_ids: list[int], *, due_by: date, silent_before: date) -> dict[int, list[tuple[str, date]]]:
        """Why each of these cases is due, soonest first: ("assessment" | "reassessment" |
        "goal" | "follow-up" | "silent", the date): its next assessment, and whatever else falls
        due by `due_by`. For one page of a list: three small indexed queries, nothing decrypted."""
        reasons: dict[int, list[tuple[str, date]]] = {i: [] for i in case_ids}
        if not case_ids:
            return reasons
        with self._store.transaction() as s:
            for case in s.exec(select(ClientCase).where(ClientCase.id.in_(case_ids))).all():
                if case.next_due_on:  # always: every open case has its next assessment
                    reasons[case.id].append(("reassessment" if case.assessments else "assessment", case.next_due_on))
                last = case.last_contact_on or case.created_at.astimezone(self._store.tz).date()
                if last <= silent_before:
                    reasons[case.id].append(("silent", last))
            for case_id, due in s.exec(select(Goal.case_id, func.min(Goal.due_on)).where(
                    Goal.case_id.in_(case_ids), Goal.status == GoalStatus.OPEN, Goal.due_on <= due_by)
                    .group_by(Goal.case_id)).all():
                reasons[case_id].append(("goal", due))
            for case_id, due in s.exec(select(Referral.case_id, func.min(Referral.follow_up_on)).where(
                    Referral.case_id.in_(case_ids), Referral.follow_up_on <= due_by,
                    Referral.status.not_in(FINAL_STATUSES)).group_by(Referral.case_id)).all():
                reasons[case_id].append(("follow-up", due))
        # "silent since" is a past date: it sorts by when the silence began to count, not before all
        return {i: sorted(r, key=lambda kind_day: kind_day[1]) for i, r in reasons.items()}

    def _filtered(self, user: StaffUser, status: str | None, due_by: date | None, district_id: int | None,  # noqa: ANN202
                  silent_before: date | None = None):
        query = self.visible(user)
        if status:
            query = query.where(ClientCase.status == status)
        if due_by:
            # due for any reason within the window: assessment, an open goal, a referral to follow
            # up, or silence (each an indexed condition; the list pages them)
            goal_due = select(Goal.id).where(Goal.case_id == ClientCase.id, Goal.status == GoalStatus.OPEN,
                                             Goal.due_on <= due_by).exists()
            follow_up = select(Referral.id).where(Referral.case_id == ClientCase.id, Referral.follow_up_on <= due_by,
                                                  Referral.status.not_in(FINAL_STATUSES)).exists()
            condition = (ClientCase.next_due_on <= due_by) | goal_due | follow_up
            if silent_before is not None:
                condition = condition | silent_since(silent_before, self._store.tz)
            query = query.where(condition)
        if district_id:
            query = query.where(ClientCase.district_id == district_id)
        return query

    def count_for(self, user: StaffUser, *, status: str | None = None, due_by: date | None = None,
                  district_id: int | None = None, silent_before: date | None = None) -> int:
        with self._store.transaction() as s:
            query = self._filtered(user, status, due_by, district_id, silent_before)
            return s.exec(select(func.count()).select_from(query.subquery())).one()

    def list_for(self, user: StaffUser, *, offset: int = 0, limit: int = 10, status: str | None = None,
                 due_by: date | None = None, district_id: int | None = None,
                 silent_before: date | None = None) -> list[CaseSummary]:
        """The user's cases, soonest due first; no personal data, so not audited as a read."""
        with self._store.transaction() as s:
            rows = s.exec(
                self._filtered(user, status, due_by, district_id, silent_before)
                .order_by(ClientCase.next_due_on.is_(None), ClientCase.next_due_on, ClientCase.id.desc())
                .offset(offset).limit(limit)
            ).all()
            return [_summary(c, d) for c, d in rows]

    def waiting(self, user: StaffUser) -> list[tuple[str, str, datetime]]:
        """The waiting list, for whom assigns cases: (code, district code, since), oldest first."""
        if not user.may(roles.reassigns_cases):
            return []
        with self._store.transaction() as s:
            return [(code, district, since) for code, district, since in s.exec(
                select(ClientCase.code, District.code, ClientCase.waiting_since)
                .join(District, District.id == ClientCase.district_id)
                .where(ClientCase.org_id == user.org_id, ClientCase.waiting_since.is_not(None),
                       ClientCase.status == CaseStatus.OPEN)
                .order_by(ClientCase.waiting_since, ClientCase.id)).all()]

    def may_see(self, user: StaffUser, code: str) -> bool:
        """Whether the case is among those the user may see (not audited: nothing is shown)."""
        with self._store.reading() as connection:
            return connection.execute(self.visible(user).with_only_columns(ClientCase.id)
                                      .where(ClientCase.code == code.upper())).first() is not None

    def get_for(self, user: StaffUser, code: str) -> CaseSummary | None:
        """One case by code, if the user may see it (None otherwise: no hint that it exists)."""
        with self._store.transaction() as s:
            row = s.exec(self.visible(user).where(ClientCase.code == code.upper())).first()
            if row is None:
                return None
            audit.record(s, at=self._store.clock.now(), org_id=user.org_id, user_id=user.id,
                         action="case.view", case_id=row[0].id)
            return _summary(*row)

    def reveal(self, user: StaffUser, code: str) -> CaseDetail | None:
        """The case with its decrypted records. Audited: every reveal is a read of personal data."""
        with self._store.transaction() as s:
            row = s.exec(self.visible(user).where(ClientCase.code == code.upper())).first()
            if row is None:
                return None
            case, district = row
            key = self.data_key(s, case.id)
            records: dict[str, dict[str, Any]] = {}
            for value in s.exec(select(CaseValue).where(CaseValue.case_id == case.id).order_by(CaseValue.id)).all():
                plain = key.decrypt(value.ciphertext, aad=value_aad(case.id, value.record, value.field))
                records.setdefault(value.record, {})[value.field] = json.loads(plain)
            audit.record(s, at=self._store.clock.now(), org_id=user.org_id, user_id=user.id,
                         action="case.reveal", case_id=case.id, detail=f"records={len(records)}")
            return CaseDetail(summary=_summary(case, district), records=records)

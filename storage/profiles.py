"""Each case's coarse profile for reports (domain/reports.py: coarse_profile), kept in step with
the intake and the assessments in their own transactions, encrypted with the case's key, and
read back for a report in batches here: no plaintext record leaves storage."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlmodel import Session

from domain.reports import HISTORY_FIELDS, coarse_profile
from domain.vocabulary import EntryKind
from storage.crypto import CryptoError, DataKey
from storage.models import CaseEntry, CaseKey, CaseProfile, ClientCase

if TYPE_CHECKING:
    from storage.store import Store

BATCH = 2_000


def profile_aad(case_id: int) -> str:
    return f"case/{case_id}/profile"


class ProfileRepository:
    def __init__(self, store: Store) -> None:
        self._store = store

    def refresh(self, s: Session, case: ClientCase, key: DataKey, *, intake: dict[str, Any] | None = None,
                latest: dict[str, Any] | None = None, new_case: bool = False) -> None:
        """Compute the case's profile again from its records, in the caller's transaction. The
        caller passes what it has in hand (the whole intake, the assessment it just wrote as the
        latest) so it is not read back; `new_case`: a case created in this transaction, which has
        no status updates and no profile yet."""
        record = self._store.casework.record_or_empty
        intake = intake if intake is not None else record(s, case.id, key, "intake")
        if case.assessments > 1:
            latest = latest if latest is not None else record(s, case.id, key, f"assessment/{case.assessments}")
            first = record(s, case.id, key, "assessment/1")
        else:
            first = (latest if latest is not None else record(s, case.id, key, "assessment/1")) if case.assessments else None
            latest = None
        opened_on = case.created_at.astimezone(self._store.tz).date()
        changes = {} if new_case else self._changes(s, case.id, key)
        profile = coarse_profile(intake, first, latest, opened_on=opened_on, changes=changes)
        body = key.encrypt(json.dumps(profile), aad=profile_aad(case.id))
        row = None if new_case else s.get(CaseProfile, case.id)
        if row is None:
            s.add(CaseProfile(case_id=case.id, body_enc=body))
        else:
            row.body_enc = body
            s.add(row)

    def _changes(self, s: Session, case_id: int, key: DataKey) -> dict[str, list]:
        """Each update of residence status or benefits: (the day, the old value, the new one)."""
        updates = s.exec(select(CaseEntry.id, CaseEntry.happened_on).where(
            CaseEntry.case_id == case_id, CaseEntry.kind == EntryKind.STATUS).order_by(CaseEntry.happened_on, CaseEntry.id)).all()
        payloads = self._store.timeline.payloads(s, case_id, key, [u[0] for u in updates], ("field", "old", "new"))
        return {field: [(day, (payloads[i].get("old") or {}).get(field), (payloads[i].get("new") or {}).get(field))
                        for i, day in updates if payloads.get(i, {}).get("field") == field]
                for field in HISTORY_FIELDS}

    def backfill(self) -> int:
        """Profiles for the cases recorded before there were any (`casebot migrate`); erased
        cases and cases whose key does not unwrap are left out. Returns how many were written."""
        written, after = 0, 0
        while True:
            with self._store.transaction() as s:
                cases = s.exec(select(ClientCase).outerjoin(CaseProfile, CaseProfile.case_id == ClientCase.id)
                               .where(CaseProfile.case_id.is_(None), ClientCase.erased_at.is_(None), ClientCase.id > after)
                               .order_by(ClientCase.id).limit(BATCH)).scalars().all()
                for case in cases:
                    key = self._store.cases.data_key_or_none(s, case.id)
                    if key is not None:  # a key that does not unwrap: nothing to count, left out
                        self.refresh(s, case, key)
                        written += 1
            if not cases:
                return written
            after = cases[-1].id

    def read(self, case_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
        """The profiles of these cases that can be read (erased or damaged ones are left out)."""
        return {case_id: profile for case_id, profile in self.read_each(case_ids) if profile}

    def read_each(self, case_ids: Iterable[int]) -> Iterator[tuple[int, dict[str, Any]]]:
        """(case, profile) for each of these cases, decrypted a batch at a time; an empty profile
        where there is none or it does not decrypt (erased or damaged): the report counts it as
        unknown."""
        ids = sorted(set(case_ids))
        for start in range(0, len(ids), BATCH):
            chunk = ids[start : start + BATCH]
            with self._store.reading() as c:
                rows = c.execute(select(CaseProfile.case_id, CaseProfile.body_enc, CaseKey.kid, CaseKey.wrapped)
                                 .join(CaseKey, CaseKey.case_id == CaseProfile.case_id)
                                 .where(CaseProfile.case_id.in_(chunk))).all()
            found = {}
            for case_id, body, kid, wrapped in rows:
                try:
                    key = self._store.cases.unwrap(case_id, kid, wrapped)
                    found[case_id] = json.loads(key.decrypt(body, aad=profile_aad(case_id)))
                except CryptoError:
                    continue
            for case_id in chunk:
                yield case_id, found.get(case_id, {})

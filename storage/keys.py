"""Master key rotation: every wrapped key and every inbox update moves to the active master key,
in small batches, while the bot runs; nothing personal is decrypted or rewritten (a case's data
key is unwrapped and wrapped again, its values stay as they are).

Each row is changed only if it still holds what was read (compare and set): a dialogue started
meanwhile with a fresh key, or a case erased meanwhile, is left as it now is. Interrupted, it
is simply run again; what is done stays done.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import func, select, union_all, update

from storage.cases import key_aad as case_key_aad
from storage.crypto import CryptoError, WrappedKey
from storage.dialogues import key_aad as dialogue_key_aad
from storage.inbox import INBOX_KEY
from storage.inbox import body_aad as inbox_aad
from storage.models import CaseKey, Dialogue, InboxUpdate

if TYPE_CHECKING:
    from storage.store import Store


class KeyRotation:
    def __init__(self, store: Store) -> None:
        self._store = store

    def in_use(self) -> dict[str, int]:
        """How many rows each master key id still protects (wrapped keys and inbox updates)."""
        kids = union_all(select(CaseKey.kid), select(Dialogue.kid), select(InboxUpdate.kid)).subquery()
        with self._store.transaction() as s:
            return dict(s.exec(select(kids.c.kid, func.count()).group_by(kids.c.kid)).all())

    def rewrap(self, *, batch: int = 500, progress=None) -> int:  # noqa: ANN001
        """Move every row not under the active key to it; returns how many were moved."""
        moved = 0
        for step in (self._case_keys, self._dialogues, self._inbox):
            while True:
                done, seen = step(batch)
                moved += done
                if progress is not None and done:
                    progress(moved)
                if seen < batch:
                    break
        return moved

    def _case_keys(self, batch: int) -> tuple[int, int]:
        keyring = self._store.keyring
        with self._store.transaction() as s:
            rows = s.exec(select(CaseKey.case_id, CaseKey.kid, CaseKey.wrapped)
                          .where(CaseKey.kid != keyring.active_kid).limit(batch)).all()
            done = 0
            for case_id, kid, blob in rows:
                aad = case_key_aad(case_id)
                try:
                    fresh = keyring.wrap(keyring.unwrap(WrappedKey(kid, blob), aad=aad), aad=aad)
                except CryptoError:
                    continue  # damaged: it stays as it is (and is counted by in_use)
                done += s.exec(update(CaseKey).where(CaseKey.case_id == case_id, CaseKey.kid == kid,
                                                     CaseKey.wrapped == blob)
                               .values(kid=fresh.kid, wrapped=fresh.blob)).rowcount
            return done, len(rows)

    def _dialogues(self, batch: int) -> tuple[int, int]:
        keyring = self._store.keyring
        with self._store.transaction() as s:
            rows = s.exec(select(Dialogue.user_id, Dialogue.kid, Dialogue.wrapped_key)
                          .where(Dialogue.kid != keyring.active_kid).limit(batch)).all()
            done = 0
            for user_id, kid, blob in rows:
                aad = dialogue_key_aad(user_id)
                try:
                    fresh = keyring.wrap(keyring.unwrap(WrappedKey(kid, blob), aad=aad), aad=aad)
                except CryptoError:
                    continue
                # only the key's wrapping changes: a step committed meanwhile (state and version)
                # is not touched, a dialogue restarted meanwhile (another key) is not matched
                done += s.exec(update(Dialogue).where(Dialogue.user_id == user_id, Dialogue.kid == kid,
                                                      Dialogue.wrapped_key == blob)
                               .values(kid=fresh.kid, wrapped_key=fresh.blob)).rowcount
            return done, len(rows)

    def _inbox(self, batch: int) -> tuple[int, int]:
        keyring = self._store.keyring
        with self._store.transaction() as s:
            rows = s.exec(select(InboxUpdate.update_id, InboxUpdate.kid, InboxUpdate.body_enc)
                          .where(InboxUpdate.kid != keyring.active_kid).limit(batch)).all()
            active, new_key = keyring.system_key(INBOX_KEY)
            done = 0
            for update_id, kid, blob in rows:
                try:
                    _, old_key = keyring.system_key(INBOX_KEY, kid)
                    body = new_key.encrypt(old_key.decrypt(blob, aad=inbox_aad(update_id)), aad=inbox_aad(update_id))
                except CryptoError:
                    continue
                done += s.exec(update(InboxUpdate).where(InboxUpdate.update_id == update_id, InboxUpdate.kid == kid,
                                                         InboxUpdate.body_enc == blob)
                               .values(kid=active, body_enc=body)).rowcount
            return done, len(rows)

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
from storage.jourfixe import AGENDA_KEY, agenda_aad
from storage.models import AgendaItem, CaseKey, Dialogue, InboxUpdate, Organisation
from storage.organisations import ORG_KID, org_key_aad

if TYPE_CHECKING:
    from storage.store import Store


class KeyRotation:
    def __init__(self, store: Store) -> None:
        self._store = store

    def in_use(self) -> dict[str, int]:
        """How many rows each master key id still protects (wrapped keys and inbox updates)."""
        # case keys under their organisation's key are not the master key's: the organisation's key is
        kids = union_all(select(CaseKey.kid).where(CaseKey.kid.not_like(f"{ORG_KID}%")), select(Dialogue.kid),
                         select(InboxUpdate.kid), select(AgendaItem.kid).where(AgendaItem.kid.is_not(None)),
                         select(Organisation.key_kid.label("kid")).where(Organisation.key_kid.is_not(None))).subquery()
        with self._store.transaction() as s:
            return dict(s.exec(select(kids.c.kid, func.count()).group_by(kids.c.kid)).all())

    def rewrap(self, *, batch: int = 200, progress=None) -> int:  # noqa: ANN001
        """Move every row not under the active key to it; returns how many were moved. Each batch
        is read, re-wrapped outside any transaction, and written in a short one: the writes of
        the people working meanwhile wait for a few updates at most, not for the cryptography."""
        moved = 0
        for table in (Organisation, CaseKey, Dialogue, InboxUpdate, AgendaItem):
            while True:
                done, seen = self._batch(table, batch)
                moved += done
                if progress is not None and done:
                    progress(moved)
                if seen < batch:
                    break
        return moved

    def _batch(self, table, batch: int) -> tuple[int, int]:  # noqa: ANN001
        keyring = self._store.keyring
        ident, kid_column, blob_column = {
            CaseKey: (CaseKey.case_id, CaseKey.kid, CaseKey.wrapped),
            Dialogue: (Dialogue.user_id, Dialogue.kid, Dialogue.wrapped_key),
            InboxUpdate: (InboxUpdate.update_id, InboxUpdate.kid, InboxUpdate.body_enc),
            AgendaItem: (AgendaItem.id, AgendaItem.kid, AgendaItem.text_enc),
            Organisation: (Organisation.id, Organisation.key_kid, Organisation.key_wrapped)}[table]
        with self._store.reading() as connection:
            rows = connection.execute(select(ident, kid_column, blob_column)
                                      .where(kid_column != keyring.active_kid, blob_column.is_not(None),
                                             kid_column.not_like(f"{ORG_KID}%"))
                                      .limit(batch)).all()
        fresh = []
        for row_id, kid, blob in rows:
            try:
                fresh.append((row_id, kid, blob, *self._moved(table, row_id, kid, blob)))
            except CryptoError:
                continue  # damaged: it stays as it is (and is counted by in_use)
        done = 0
        with self._store.writing() as connection:
            for row_id, kid, blob, new_kid, new_blob in fresh:
                # compare and set: a row changed meanwhile (a dialogue restarted, a case erased) is left
                done += connection.execute(update(table).where(ident == row_id, kid_column == kid, blob_column == blob)
                                           .values({kid_column: new_kid, blob_column: new_blob})).rowcount
        return done, len(rows)

    def _moved(self, table, row_id: int, kid: str, blob: bytes) -> tuple[str, bytes]:  # noqa: ANN001
        """The row's new key id and blob under the active master key."""
        keyring = self._store.keyring
        if table in (InboxUpdate, AgendaItem):  # encrypted with a system key derived from the old master key
            purpose, aad = (INBOX_KEY, inbox_aad(row_id)) if table is InboxUpdate else (AGENDA_KEY, agenda_aad(row_id))
            _, old_key = keyring.system_key(purpose, kid)
            active, new_key = keyring.system_key(purpose)
            return active, new_key.encrypt(old_key.decrypt(blob, aad=aad), aad=aad)
        aad = case_key_aad(row_id) if table is CaseKey else org_key_aad(row_id) if table is Organisation else dialogue_key_aad(row_id)
        fresh = keyring.wrap(keyring.unwrap(WrappedKey(kid, blob), aad=aad), aad=aad)
        return fresh.kid, fresh.blob

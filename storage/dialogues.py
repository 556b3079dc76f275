"""Open dialogues: encrypted draft answers, committed with every answered step.

Each dialogue has its own data key, wrapped like a case key; finishing or cancelling a
dialogue deletes the row and with it the only copy of that key. Writes are optimistic: a step
is stored only if the dialogue is still at the version the step was computed from.
"""

from __future__ import annotations

import json
import secrets
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, update
from sqlmodel import Session

from storage.crypto import DataKey, WrappedKey
from storage.models import Dialogue
from storage.types import DialogueSnapshot, StaleDialogue

if TYPE_CHECKING:
    from storage.store import Store


def _key_aad(user_id: int) -> str:
    return f"dialogue-key/{user_id}"


def _state_aad(user_id: int, nonce: str) -> str:
    return f"dialogue/{user_id}/{nonce}/state"


class DialogueRepository:
    def __init__(self, store: Store) -> None:
        self._store = store

    def start(self, *, user_id: int, form: str, state: dict[str, Any], update_id: int = 0) -> DialogueSnapshot:
        """Open a dialogue, replacing any the user had (its key goes with it)."""
        now = self._store.clock.now()
        nonce = secrets.token_hex(4)
        key = DataKey.generate()
        wrapped = self._store.keyring.wrap(key, aad=_key_aad(user_id))
        with self._store.transaction() as s:
            s.exec(delete(Dialogue).where(Dialogue.user_id == user_id))
            s.add(Dialogue(
                user_id=user_id, form=form, nonce=nonce, version=0, last_update_id=update_id,
                kid=wrapped.kid, wrapped_key=wrapped.blob,
                state_enc=key.encrypt(json.dumps(state), aad=_state_aad(user_id, nonce)),
                created_at=now, updated_at=now,
            ))
        return DialogueSnapshot(user_id=user_id, form=form, nonce=nonce, version=0, state=state,
                                prompt_message_id=None, last_update_id=update_id)

    def load(self, user_id: int) -> DialogueSnapshot | None:
        with self._store.transaction() as s:
            row = s.get(Dialogue, user_id)
            if row is None:
                return None
            key = self._store.keyring.unwrap(WrappedKey(row.kid, row.wrapped_key), aad=_key_aad(user_id))
            state = json.loads(key.decrypt(row.state_enc, aad=_state_aad(user_id, row.nonce)))
            return DialogueSnapshot(
                user_id=user_id, form=row.form, nonce=row.nonce, version=row.version, state=state,
                prompt_message_id=row.prompt_message_id, last_update_id=row.last_update_id,
            )

    def save(self, snapshot: DialogueSnapshot, state: dict[str, Any], *, update_id: int = 0) -> DialogueSnapshot:
        """Commit one step. Raises StaleDialogue if the dialogue moved on since `snapshot`."""
        with self._store.transaction() as s:
            row = s.get(Dialogue, snapshot.user_id)
            if row is None or row.nonce != snapshot.nonce or row.version != snapshot.version:
                raise StaleDialogue()
            key = self._store.keyring.unwrap(WrappedKey(row.kid, row.wrapped_key), aad=_key_aad(snapshot.user_id))
            done = s.exec(
                update(Dialogue)
                .where(Dialogue.user_id == snapshot.user_id, Dialogue.nonce == snapshot.nonce,
                       Dialogue.version == snapshot.version)
                .values(
                    version=snapshot.version + 1, updated_at=self._store.clock.now(), last_update_id=update_id,
                    state_enc=key.encrypt(json.dumps(state), aad=_state_aad(snapshot.user_id, snapshot.nonce)),
                )
            )
            if done.rowcount != 1:
                raise StaleDialogue()
        return DialogueSnapshot(
            user_id=snapshot.user_id, form=snapshot.form, nonce=snapshot.nonce, version=snapshot.version + 1,
            state=state, prompt_message_id=snapshot.prompt_message_id, last_update_id=update_id,
        )

    def set_prompt_message(self, snapshot: DialogueSnapshot, message_id: int) -> None:
        """Remember the message that holds the current question (its buttons are removed later)."""
        with self._store.transaction() as s:
            s.exec(update(Dialogue).where(Dialogue.user_id == snapshot.user_id, Dialogue.nonce == snapshot.nonce)
                   .values(prompt_message_id=message_id))

    def consume(self, s: Session, *, user_id: int, version: int) -> None:
        """Delete the dialogue inside the caller's transaction, if it is still at `version`."""
        done = s.exec(delete(Dialogue).where(Dialogue.user_id == user_id, Dialogue.version == version))
        if done.rowcount != 1:
            raise StaleDialogue()

    def discard(self, user_id: int) -> bool:
        with self._store.transaction() as s:
            return s.exec(delete(Dialogue).where(Dialogue.user_id == user_id)).rowcount > 0

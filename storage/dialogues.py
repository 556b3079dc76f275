"""Open dialogues: encrypted draft answers, committed with every answered step.

Each dialogue has its own data key, wrapped like a case key; finishing or cancelling a
dialogue deletes the row and with it the only copy of that key. Writes are optimistic: a step
is stored only if the dialogue is still at the version the step was computed from.
"""

from __future__ import annotations

import json
import secrets
from typing import TYPE_CHECKING, Any

from sqlalchemy import ARRAY, Integer, any_, bindparam, delete, select, update

from storage.crypto import DataKey, WrappedKey
from storage.db import upsert_insert
from storage.models import Dialogue
from storage.store import defers_to_finish, in_place_when
from storage.types import DialogueSnapshot, StaleDialogue

if TYPE_CHECKING:
    from storage.store import Store


def key_aad(user_id: int) -> str:
    return f"dialogue-key/{user_id}"


def _state_aad(user_id: int, nonce: str) -> str:
    return f"dialogue/{user_id}/{nonce}/state"


# The statements of every dialogue step, built once: SQLAlchemy caches their compiled form.
_COLUMNS = (Dialogue.user_id, Dialogue.form, Dialogue.nonce, Dialogue.version, Dialogue.kid, Dialogue.wrapped_key,
            Dialogue.state_enc, Dialogue.prompt_message_id, Dialogue.last_update_id)
_LOAD = select(*_COLUMNS).where(Dialogue.user_id == bindparam("user_id"))
# the open dialogues of these staff members, read with their next update (storage/inbox.py)
DIALOGUES_OF = select(*_COLUMNS).where(Dialogue.user_id == any_(bindparam("users", type_=ARRAY(Integer))))
# (the same, outside Store.in_one_trip, which cannot expand IN: SQLite, and a finishing statement by statement)
DIALOGUES_AMONG = select(*_COLUMNS).where(Dialogue.user_id.in_(bindparam("users", expanding=True)))
# (bind names differ from column names: SQLAlchemy reserves those for the SET clause)
_SAVE = (
    update(Dialogue)
    .where(Dialogue.user_id == bindparam("match_user"), Dialogue.nonce == bindparam("match_nonce"),
           Dialogue.version == bindparam("match_version"))
    .values(version=bindparam("new_version"), updated_at=bindparam("new_updated_at"),
            last_update_id=bindparam("new_last_update"), state_enc=bindparam("new_state"))
)
# opening a dialogue replaces the one the user had (its key goes with it), in one statement
_STARTED = {"user_id", "form", "nonce", "version", "last_update_id", "kid", "wrapped_key", "state_enc",
            "prompt_message_id", "created_at", "updated_at"}


def _start(dialect: str) -> Any:
    insert = upsert_insert(dialect)(Dialogue).values({name: bindparam(f"new_{name}") for name in _STARTED})
    return insert.on_conflict_do_update(index_elements=[Dialogue.user_id],
                                        set_={name: insert.excluded[name] for name in _STARTED - {"user_id"}})


_START = {dialect: _start(dialect) for dialect in ("sqlite", "postgresql")}
_SET_PROMPT = (
    update(Dialogue)
    .where(Dialogue.user_id == bindparam("match_user"), Dialogue.nonce == bindparam("match_nonce"))
    .values(prompt_message_id=bindparam("new_prompt"))
)


class DialogueRepository:
    def __init__(self, store: Store) -> None:
        self._store = store

    def start(self, *, user_id: int, form: str, state: dict[str, Any], update_id: int = 0) -> DialogueSnapshot:
        """Open a dialogue, replacing any the user had (its key goes with it)."""
        now = self._store.clock.now()
        nonce = secrets.token_hex(4)
        key = DataKey.generate()
        wrapped = self._store.keyring.wrap(key, aad=key_aad(user_id))
        # (one round trip on PostgreSQL while an update is handled: Store.write_one)
        self._store.write_one(_START[self._store.engine.dialect.name], {f"new_{name}": value for name, value in {
            "user_id": user_id, "form": form, "nonce": nonce, "version": 0, "last_update_id": update_id,
            "kid": wrapped.kid, "wrapped_key": wrapped.blob, "prompt_message_id": None,
            "state_enc": key.encrypt(json.dumps(state), aad=_state_aad(user_id, nonce)),
            "created_at": now, "updated_at": now}.items()})
        return DialogueSnapshot(user_id=user_id, form=form, nonce=nonce, version=0, state=state,
                                prompt_message_id=None, last_update_id=update_id)

    @in_place_when(lambda repository, user_id: repository._store.inbox.read_ahead(user_id))
    def load(self, user_id: int) -> DialogueSnapshot | None:
        """The user's open dialogue, if any: read with the update being handled when the
        transaction that took it could (storage/inbox.py), else now."""
        found, row = self._store.inbox.dialogue_read_ahead(user_id)
        if not found:
            with self._store.reading() as connection:
                row = connection.execute(_LOAD, {"user_id": user_id}).first()
        if row is None:
            return None
        key = self._store.keyring.unwrap(WrappedKey(row.kid, row.wrapped_key), aad=key_aad(user_id))
        state = json.loads(key.decrypt(row.state_enc, aad=_state_aad(user_id, row.nonce)))
        return DialogueSnapshot(
            user_id=user_id, form=row.form, nonce=row.nonce, version=row.version, state=state,
            prompt_message_id=row.prompt_message_id, last_update_id=row.last_update_id, data_key=key,
        )

    def is_open(self, user_id: int) -> bool:
        """Whether the user has an open dialogue (no key unwrapped, nothing decrypted)."""
        with self._store.reading() as connection:
            return connection.execute(select(Dialogue.user_id).where(Dialogue.user_id == user_id)).first() is not None

    def save(self, snapshot: DialogueSnapshot, state: dict[str, Any], *, update_id: int = 0) -> DialogueSnapshot:
        """Commit one step: one UPDATE that matches only if the dialogue is still at the
        snapshot's nonce and version. Raises StaleDialogue otherwise."""
        key = snapshot.data_key
        if key is None:  # a snapshot made by start(): load it to get its key
            fresh = self.load(snapshot.user_id)
            if fresh is None or fresh.nonce != snapshot.nonce:
                raise StaleDialogue()
            key = fresh.data_key
        blob = key.encrypt(json.dumps(state), aad=_state_aad(snapshot.user_id, snapshot.nonce))
        done = self._store.write_one(_SAVE, {
            "match_user": snapshot.user_id, "match_nonce": snapshot.nonce, "match_version": snapshot.version,
            "new_version": snapshot.version + 1, "new_updated_at": self._store.clock.now(),
            "new_last_update": update_id, "new_state": blob,
        })
        if done.rowcount != 1:
            raise StaleDialogue()
        return DialogueSnapshot(
            user_id=snapshot.user_id, form=snapshot.form, nonce=snapshot.nonce, version=snapshot.version + 1,
            state=state, prompt_message_id=snapshot.prompt_message_id, last_update_id=update_id, data_key=key,
        )

    @defers_to_finish
    def set_prompt_message(self, snapshot: DialogueSnapshot, message_id: int) -> None:
        """Remember the message that holds the current question (its buttons are removed later):
        with the end of the update's handling, not a commit of its own."""
        values = {"match_user": snapshot.user_id, "match_nonce": snapshot.nonce, "new_prompt": message_id}
        self._store.at_finish(_SET_PROMPT, values)

    def consume(self, *, user_id: int, version: int) -> None:
        """Delete the dialogue, if it is still at `version`; inside a unit of work, together with
        what the dialogue's answers become (a second confirmation finds it gone: stale)."""
        with self._store.transaction() as s:
            done = s.exec(delete(Dialogue).where(Dialogue.user_id == user_id, Dialogue.version == version))
            if done.rowcount != 1:
                raise StaleDialogue()

    def discard(self, user_id: int) -> bool:
        with self._store.transaction() as s:
            return s.exec(delete(Dialogue).where(Dialogue.user_id == user_id)).rowcount > 0

    def close(self, user_id: int) -> tuple[bool, int | None]:
        """Delete the user's dialogue without reading it (so a damaged one can be left too):
        (whether there was one, the message holding its question)."""
        with self._store.transaction() as s:
            row = s.exec(delete(Dialogue).where(Dialogue.user_id == user_id)
                         .returning(Dialogue.prompt_message_id)).first()
            return row is not None, row[0] if row is not None else None

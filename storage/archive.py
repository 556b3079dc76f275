"""An organisation handed over as a whole: to its own server, or to another operator.

`export` writes everything the organisation has (its staff, cases with their records and
history, catalogue, languages, settings, Meldebögen, scheduled messages, audit trail) into one
archive encrypted with a key derived from a passphrase (scrypt, AES-GCM). Inside, the case data
stays as it is stored, under the case keys, which stay wrapped by the organisation's key; that
key travels in the archive, so the passphrase opens it. `import_` brings the archive into a new,
empty installation: the rows keep their ids (every ciphertext is bound to its row's ids, so
nothing needs re-encrypting), and only what the old installation's master key protected is
protected anew by the new one: the organisation's key, the agenda of its Jour fixe and its
staff's contact details. Blind indexes are computed again with the new installation's secret,
and the audit trail is sealed into the new installation's chain (the old chain's last place and
hash travel along, to note). Not carried: open dialogues (the organisation is switched off
first, so nobody is in one) and handovers between organisations on the old installation.
"""

from __future__ import annotations

import base64
import gzip
import json
import os
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
from sqlalchemy import MetaData, Table, insert, select, text

from storage import tenancy
from storage.crypto import DataKey
from storage.documents import CONTACT_KEY, contact_aad
from storage.jourfixe import AGENDA_KEY, agenda_aad
from storage.organisations import ORG_KID, org_key_aad
from storage.types import ArchiveError

if TYPE_CHECKING:
    from storage.store import Store

FORMAT = "kim-casebot-organisation/1"
MAGIC = b"KIMORG1\n"
# what stays behind: drafts in progress, the door's transient tables, cross-installation history
LEFT_BEHIND = {"dialogue", "inbox_update", "seen_update", "org_transfer", "locale_revision", "alembic_version"}


def _key(passphrase: str, salt: bytes) -> bytes:
    if len(passphrase) < 12:
        raise ArchiveError("the passphrase must have at least 12 characters")
    return Scrypt(salt=salt, length=32, n=2**15, r=8, p=1).derive(passphrase.encode("utf-8"))


def _plain(value: Any) -> Any:
    if isinstance(value, bytes | memoryview):
        return {"b": base64.b64encode(bytes(value)).decode()}
    if isinstance(value, datetime):
        return {"t": value.isoformat()}
    if isinstance(value, date):
        return {"d": value.isoformat()}
    return value


def _back(value: Any) -> Any:
    if isinstance(value, dict):
        if "b" in value:
            return base64.b64decode(value["b"])
        if "t" in value:
            return datetime.fromisoformat(value["t"])
        if "d" in value:
            return date.fromisoformat(value["d"])
    return value


class OrganisationArchive:
    def __init__(self, store: Store) -> None:
        self._store = store

    def _tables(self) -> list[Table]:
        meta = MetaData()
        meta.reflect(self._store.engine)
        return [t for t in meta.sorted_tables if t.name not in LEFT_BEHIND]

    def export(self, org_id: int, passphrase: str) -> bytes:
        store = self._store
        with tenancy.acting_for(None):
            org = store.organisations.list()
            org = next((o for o in org if o.id == org_id), None)
            if org is None or org.erased_at is not None:
                raise ArchiveError("no such organisation")
            if org.disabled_at is None:
                raise ArchiveError("switch the organisation off first (nothing may change while it is written)")
            store.organisations.rehome()  # every case key under the organisation's key
            key = store.organisations.key(org_id)
            tables, secrets = {}, {"agenda": {}, "contact": {}}
            with store.engine.connect() as c:
                cases = [r[0] for r in c.execute(text("SELECT id FROM client_case WHERE org_id = :o"), {"o": org_id})]
                users = [r[0] for r in c.execute(text("SELECT id FROM app_user WHERE org_id = :o"), {"o": org_id})]
                conferences = [r[0] for r in c.execute(text("SELECT id FROM conference WHERE org_id = :o"), {"o": org_id})]
                for table in self._tables():
                    columns = table.c
                    where = (columns.id == org_id if table.name == "organisation" else
                             columns.org_id == org_id if "org_id" in columns else
                             columns.case_id.in_(cases) if "case_id" in columns else
                             columns.conference_id.in_(conferences) if "conference_id" in columns else
                             columns.user_id.in_(users) if "user_id" in columns else None)
                    if where is None:
                        continue
                    rows = [dict(row._mapping) for row in c.execute(select(table).where(where))]
                    if table.name == "case_key" and any(not r["kid"].startswith(ORG_KID) for r in rows):
                        raise ArchiveError("a case key could not be moved under the organisation's key (damaged)")
                    tables[table.name] = [{k: _plain(v) for k, v in row.items()} for row in rows]
                for row in c.execute(text("SELECT id, kid, text_enc FROM agenda_item WHERE org_id = :o AND kid IS NOT NULL"),
                                     {"o": org_id}):
                    _, agenda_key = store.keyring.system_key(AGENDA_KEY, row.kid)
                    secrets["agenda"][row.id] = agenda_key.decrypt(row.text_enc, aad=agenda_aad(row.id))
                for row in c.execute(text("SELECT id, contact_kid, contact_enc FROM app_user "
                                          "WHERE org_id = :o AND contact_enc IS NOT NULL"), {"o": org_id}):
                    _, contact_key = store.keyring.system_key(CONTACT_KEY, row.contact_kid)
                    secrets["contact"][row.id] = contact_key.decrypt(row.contact_enc, aad=contact_aad(row.id))
                head = c.execute(text("SELECT seq, chain FROM audit_event WHERE seq IS NOT NULL ORDER BY seq DESC LIMIT 1")).first()
                revision = c.execute(text("SELECT version_num FROM alembic_version")).scalar()
        body = json.dumps({"format": FORMAT, "schema": revision, "organisation": org_id,
                           "exported_at": store.clock.now().isoformat(), "org_key": base64.b64encode(key._key).decode(),
                           "audit_head": list(head) if head else None, "tables": tables,
                           "secrets": {k: {str(i): v for i, v in d.items()} for k, d in secrets.items()}},
                          separators=(",", ":")).encode()
        salt, nonce = os.urandom(16), os.urandom(12)
        sealed = AESGCM(_key(passphrase, salt)).encrypt(nonce, gzip.compress(body), FORMAT.encode())
        return MAGIC + salt + nonce + sealed

    def read(self, archive: bytes, passphrase: str) -> dict[str, Any]:
        if not archive.startswith(MAGIC) or len(archive) < len(MAGIC) + 28:
            raise ArchiveError("this is not an organisation's archive")
        salt, nonce, sealed = archive[8:24], archive[24:36], archive[36:]
        try:
            return json.loads(gzip.decompress(AESGCM(_key(passphrase, salt)).decrypt(nonce, sealed, FORMAT.encode())))
        except InvalidTag:
            raise ArchiveError("the passphrase does not open this archive (or it was changed)") from None

    def import_(self, archive: bytes, passphrase: str) -> int:
        """Into an empty installation (migrated, no organisation yet); returns the organisation's id.
        It arrives switched off: `casebot org enable` once it is checked."""
        store = self._store
        data = self.read(archive, passphrase)
        with store.engine.connect() as c:
            revision = c.execute(text("SELECT version_num FROM alembic_version")).scalar()
            if c.execute(text("SELECT COUNT(*) FROM organisation")).scalar():
                raise ArchiveError("this installation holds an organisation already: import into a new one")
        if data.get("format") != FORMAT or data.get("schema") != revision:
            raise ArchiveError("the archive was written at another schema version: run `casebot migrate` on the "
                               "older installation first, so both are at the same version")
        org_id, org_key = data["organisation"], DataKey(base64.b64decode(data["org_key"]))
        secrets = data["secrets"]
        tables = {t.name: t for t in self._tables()}
        rows = {name: [{k: _back(v) for k, v in row.items()} for row in data["tables"].get(name, [])] for name in tables}
        self._settle_references(tables, rows, org_id)
        with tenancy.acting_for(None), store.engine.begin() as c:
            for name, table in tables.items():
                for row in rows[name]:
                    self._renew(name, row, org_id, org_key, secrets)
                if rows[name]:
                    c.execute(insert(table), rows[name])
            if c.dialect.name == "postgresql":  # ids were given: each table's sequence goes on after them
                for name, table in tables.items():
                    if "id" in table.c and table.c.id.autoincrement and len(table.primary_key.columns) == 1:
                        c.execute(text(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "  # noqa: S608 - our table names
                                       f"GREATEST((SELECT COALESCE(MAX(id), 0) FROM \"{name}\"), 1))"))
        store.staff.forget_all()
        store.cases.reindex()  # the blind indexes, with this installation's secret
        store.audit.seal()  # its trail, into this installation's chain
        return org_id

    def _settle_references(self, tables: dict[str, Table], rows: dict[str, list[dict]], org_id: int) -> None:
        """References to what did not come along (a colleague of the organisation a case came
        from, say): left empty where they may be, else to one stand-in "former colleague"
        (switched off, no Telegram account); a row that needs anything else missing stays out."""
        from storage.models import AppUser

        present = {name: {row["id"] for row in found} for name, found in rows.items() if "id" in tables[name].c}
        stand_in: dict | None = None
        for name, table in tables.items():
            kept = []
            for row in rows[name]:
                whole = True
                for column in table.c:
                    for fk in column.foreign_keys:
                        target = fk.column.table.name
                        value = row.get(column.name)
                        if value is None or fk.column.name != "id" or value in present.get(target, {value}):
                            continue
                        if column.nullable:
                            row[column.name] = None
                        elif target == "app_user":
                            if stand_in is None:
                                stand_id = max(present.get("app_user", {0}) | {0}) + 1
                                stand_in = AppUser(id=stand_id, org_id=org_id, telegram_id=-stand_id, role="case-manager",
                                                   active=False, digest_frequency="off",
                                                   created_at=self._store.clock.now()).model_dump()
                                rows["app_user"].append(stand_in)
                                present["app_user"].add(stand_id)
                            row[column.name] = stand_in["id"]
                        else:
                            whole = False
                if whole:
                    kept.append(row)
            rows[name] = kept

    def _renew(self, table: str, row: dict[str, Any], org_id: int, org_key: DataKey, secrets: dict) -> None:
        """What the old master key protected, protected by this installation's."""
        keyring = self._store.keyring
        if table == "organisation":
            wrapped = keyring.wrap(org_key, aad=org_key_aad(org_id))
            row["key_kid"], row["key_wrapped"] = wrapped.kid, wrapped.blob
        elif table == "client_case":
            row["index_rev"] = 0  # indexed again (the old installation's index secret is not here)
        elif table == "audit_event":
            row["seq"], row["chain"] = None, None  # sealed again, into this installation's chain
        elif table == "agenda_item" and str(row["id"]) in secrets["agenda"]:
            kid, key = keyring.system_key(AGENDA_KEY)
            row["kid"], row["text_enc"] = kid, key.encrypt(secrets["agenda"][str(row["id"])], aad=agenda_aad(row["id"]))
        elif table == "app_user" and str(row["id"]) in secrets["contact"]:
            kid, key = keyring.system_key(CONTACT_KEY)
            row["contact_kid"] = kid
            row["contact_enc"] = key.encrypt(secrets["contact"][str(row["id"])], aad=contact_aad(row["id"]))


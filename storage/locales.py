"""Uploaded language catalogs and which languages are on, with one revision number that every
running instance watches to reload without a restart."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import update
from sqlmodel import Session, select

from storage import audit
from storage.models import LocaleCatalog, LocaleRevision, LocaleSetting

if TYPE_CHECKING:
    from storage.store import Store


class LocaleRepository:
    def __init__(self, store: Store) -> None:
        self._store = store

    def revision(self) -> int:
        with self._store.reading() as connection:
            value = connection.execute(select(LocaleRevision.revision).where(LocaleRevision.id == 1)).first()
        return value[0] if value else 0

    def _bump(self, s: Session) -> None:
        row = s.get(LocaleRevision, 1) or LocaleRevision(id=1, revision=0)
        row.revision += 1
        s.add(row)

    def _audit(self, s: Session, org_id: int, user_id: int | None, action: str, detail: str) -> None:
        audit.record(s, at=self._store.clock.now(), org_id=org_id, user_id=user_id, action=action, detail=detail)

    def add_pending(self, org_id: int, *, language: str, po: str, user_id: int | None) -> int:
        with self._store.transaction() as s:
            row = LocaleCatalog(org_id=org_id, language=language, po=po, state="pending", created_by=user_id,
                                created_at=self._store.clock.now())
            s.add(row)
            s.flush()
            return row.id

    def _pending(self, s: Session, org_id: int, catalog_id: int) -> LocaleCatalog | None:
        row = s.get(LocaleCatalog, catalog_id)
        return row if row is not None and row.org_id == org_id and row.state == "pending" else None

    def pending(self, org_id: int, catalog_id: int) -> LocaleCatalog | None:
        with self._store.transaction() as s:
            return self._pending(s, org_id, catalog_id)

    def discard_pending(self, org_id: int, catalog_id: int, *, user_id: int | None) -> bool:
        """An upload the admin decided against: gone, nothing else changes."""
        with self._store.transaction() as s:
            row = self._pending(s, org_id, catalog_id)
            if row is None:
                return False
            s.delete(row)
            self._audit(s, org_id, user_id, "locale.discard", f"language={row.language}")
            return True

    def make_live(self, org_id: int, catalog_id: int, *, user_id: int | None) -> str:
        """The pending upload becomes the organisation's catalog of the language; the one before
        stays for rollback."""
        with self._store.transaction() as s:
            row = self._pending(s, org_id, catalog_id)
            if row is None:
                raise LookupError("no such pending catalog")
            s.exec(update(LocaleCatalog).where(LocaleCatalog.org_id == org_id, LocaleCatalog.language == row.language,
                                               LocaleCatalog.state == "live").values(state="retired"))
            row.state = "live"
            s.add(row)
            self._bump(s)
            self._audit(s, org_id, user_id, "locale.live", f"language={row.language};catalog={row.id}")
            return row.language

    def rollback(self, org_id: int, language: str, *, user_id: int | None) -> bool:
        """The live upload is withdrawn; the one before it (or the shipped file) is live again."""
        with self._store.transaction() as s:
            mine = (LocaleCatalog.org_id == org_id) & (LocaleCatalog.language == language)
            live = s.exec(select(LocaleCatalog).where(mine, LocaleCatalog.state == "live")).first()
            if live is None:
                return False
            live.state = "withdrawn"
            s.add(live)
            previous = s.exec(select(LocaleCatalog).where(mine, LocaleCatalog.state == "retired")
                              .order_by(LocaleCatalog.id.desc())).first()
            if previous is not None:
                previous.state = "live"
                s.add(previous)
            self._bump(s)
            self._audit(s, org_id, user_id, "locale.rollback", f"language={language}")
            return True

    def live(self) -> dict[tuple[int, str], str]:
        """(organisation, language) -> the .po text of its live upload, for every organisation:
        what the running instances load (each organisation sees only its own, bot/i18n.py)."""
        with self._store.transaction() as s:
            return {(row.org_id, row.language): row.po
                    for row in s.exec(select(LocaleCatalog).where(LocaleCatalog.state == "live"))}

    def live_po(self, org_id: int, language: str) -> str | None:
        with self._store.transaction() as s:
            return s.exec(select(LocaleCatalog.po).where(LocaleCatalog.org_id == org_id, LocaleCatalog.language == language,
                                                         LocaleCatalog.state == "live")).first()

    def has_previous(self, org_id: int, language: str) -> bool:
        return self.live_po(org_id, language) is not None

    def disabled(self) -> set[tuple[int, str]]:
        """(organisation, language) of every language an organisation switched off."""
        with self._store.transaction() as s:
            return {(row.org_id, row.language)
                    for row in s.exec(select(LocaleSetting).where(LocaleSetting.enabled == False))}  # noqa: E712

    def set_enabled(self, org_id: int, language: str, enabled: bool, *, user_id: int | None) -> None:
        with self._store.transaction() as s:
            row = s.get(LocaleSetting, (org_id, language)) or LocaleSetting(org_id=org_id, language=language)
            row.enabled = enabled
            s.add(row)
            self._bump(s)
            self._audit(s, org_id, user_id, "locale.enable" if enabled else "locale.disable", f"language={language}")

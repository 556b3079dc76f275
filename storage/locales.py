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

    def _audit(self, s: Session, user_id: int | None, action: str, detail: str) -> None:
        if user_id is not None:
            from storage.models import AppUser

            org_id = s.get(AppUser, user_id).org_id
            audit.record(s, at=self._store.clock.now(), org_id=org_id, user_id=user_id, action=action, detail=detail)

    def add_pending(self, *, language: str, po: str, user_id: int | None) -> int:
        with self._store.transaction() as s:
            row = LocaleCatalog(language=language, po=po, state="pending", created_by=user_id,
                                created_at=self._store.clock.now())
            s.add(row)
            s.flush()
            return row.id

    def pending(self, catalog_id: int) -> LocaleCatalog | None:
        with self._store.transaction() as s:
            row = s.get(LocaleCatalog, catalog_id)
            return row if row is not None and row.state == "pending" else None

    def discard_pending(self, catalog_id: int, *, user_id: int | None) -> bool:
        """An upload the admin decided against: gone, nothing else changes."""
        with self._store.transaction() as s:
            row = s.get(LocaleCatalog, catalog_id)
            if row is None or row.state != "pending":
                return False
            s.delete(row)
            self._audit(s, user_id, "locale.discard", f"language={row.language}")
            return True

    def make_live(self, catalog_id: int, *, user_id: int | None) -> str:
        """The pending upload becomes the language's catalog; the one before stays for rollback."""
        with self._store.transaction() as s:
            row = s.get(LocaleCatalog, catalog_id)
            if row is None or row.state != "pending":
                raise LookupError("no such pending catalog")
            s.exec(update(LocaleCatalog).where(LocaleCatalog.language == row.language, LocaleCatalog.state == "live")
                   .values(state="retired"))
            row.state = "live"
            s.add(row)
            self._bump(s)
            self._audit(s, user_id, "locale.live", f"language={row.language};catalog={row.id}")
            return row.language

    def rollback(self, language: str, *, user_id: int | None) -> bool:
        """The live upload is withdrawn; the one before it (or the shipped file) is live again."""
        with self._store.transaction() as s:
            live = s.exec(select(LocaleCatalog).where(LocaleCatalog.language == language,
                                                      LocaleCatalog.state == "live")).first()
            if live is None:
                return False
            live.state = "withdrawn"
            s.add(live)
            previous = s.exec(select(LocaleCatalog).where(LocaleCatalog.language == language,
                                                          LocaleCatalog.state == "retired")
                              .order_by(LocaleCatalog.id.desc())).first()
            if previous is not None:
                previous.state = "live"
                s.add(previous)
            self._bump(s)
            self._audit(s, user_id, "locale.rollback", f"language={language}")
            return True

    def live(self) -> dict[str, str]:
        """Language -> the .po text of its live upload."""
        with self._store.transaction() as s:
            return {row.language: row.po for row in s.exec(select(LocaleCatalog).where(LocaleCatalog.state == "live"))}

    def has_previous(self, language: str) -> bool:
        with self._store.transaction() as s:
            return s.exec(select(LocaleCatalog.id).where(LocaleCatalog.language == language,
                                                         LocaleCatalog.state == "live")).first() is not None

    def disabled(self) -> set[str]:
        with self._store.transaction() as s:
            return {row.language for row in s.exec(select(LocaleSetting).where(LocaleSetting.enabled == False))}  # noqa: E712

    def set_enabled(self, language: str, enabled: bool, *, user_id: int | None) -> None:
        with self._store.transaction() as s:
            row = s.get(LocaleSetting, language) or LocaleSetting(language=language)
            row.enabled = enabled
            s.add(row)
            self._bump(s)
            self._audit(s, user_id, "locale.enable" if enabled else "locale.disable", f"language={language}")

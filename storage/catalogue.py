"""The organisation's catalogue of services: seeded from the defaults, kept by admins."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from sqlmodel import select

from domain.services import DEFAULT_CATALOGUE, ServiceRule
from domain.vocabulary import LifeDomain
from storage import audit
from storage.models import Service
from storage.types import CatalogueProblem

if TYPE_CHECKING:
    from storage.store import Store

# "address" and "hours" are printed on the client's handout; files exported before they existed
# import unchanged (what a row leaves out stays as it was)
FIELDS = ("key", "name", "legal_area", "programme", "domains", "min_age", "max_age", "statuses", "contact", "address",
          "hours", "active")
# the longest text each free field may hold (as the table's columns)
TEXT_LIMITS = {"contact": 300, "address": 200, "hours": 200}




def _rule(service: Service) -> ServiceRule:
    split = lambda text: frozenset(p for p in text.split(",") if p)  # noqa: E731
    return ServiceRule(id=service.id, key=service.key, name=service.name, domains=split(service.domains),
                       min_age=service.min_age, max_age=service.max_age, statuses=split(service.statuses),
                       legal_area=service.legal_area)


class CatalogueRepository:
    def __init__(self, store: Store) -> None:
        self._store = store

    def _ensure_seeded(self, org_id: int) -> None:
        with self._store.transaction() as s:
            if s.exec(select(Service.id).where(Service.org_id == org_id)).first() is not None:
                return
            for key, name, legal, programme, domains, low, high, statuses in DEFAULT_CATALOGUE:
                s.add(Service(org_id=org_id, key=key, name=name, legal_area=legal, programme=programme,
                              domains=domains, min_age=low, max_age=high, statuses=statuses))

    def rules(self, org_id: int) -> list[ServiceRule]:
        self._ensure_seeded(org_id)
        with self._store.transaction() as s:
            rows = s.exec(select(Service).where(Service.org_id == org_id, Service.active == True)  # noqa: E712
                          .order_by(Service.name)).all()
            return [_rule(r) for r in rows]

    def service(self, org_id: int, service_id: int) -> Service | None:
        with self._store.transaction() as s:
            row = s.get(Service, service_id)
            return row if row is not None and row.org_id == org_id else None

    def export(self, org_id: int) -> list[dict[str, Any]]:
        self._ensure_seeded(org_id)
        with self._store.transaction() as s:
            rows = s.exec(select(Service).where(Service.org_id == org_id).order_by(Service.key)).all()
            return [{f: getattr(r, f) for f in FIELDS} for r in rows]

    def import_rows(self, org_id: int, rows: list[dict[str, Any]], *, user_id: int | None) -> int:
        """Replace the catalogue with `rows` (as exported). Checked whole before anything changes;
        services missing from the file are deactivated, not deleted (referrals point at them)."""
        problems = [(n, p) for n, row in enumerate(rows, start=1) for p in _check(row)]
        keys = [str(r.get("key")) for r in rows]
        problems += [(n, f"key {k!r} appears twice") for n, k in enumerate(keys, start=1) if keys.count(k) > 1]
        if problems or not rows:
            raise CatalogueProblem(problems or [(0, "the file holds no services")])
        with self._store.transaction() as s:
            existing = {r.key: r for r in s.exec(select(Service).where(Service.org_id == org_id)).all()}
            for row in rows:
                service = existing.pop(row["key"], None) or Service(org_id=org_id, key=row["key"], name=row["name"])
                for f in FIELDS[1:]:
                    setattr(service, f, row.get(f, getattr(service, f)) if f != "active" else bool(row.get("active", True)))
                s.add(service)
            for leftover in existing.values():
                leftover.active = False
                s.add(leftover)
            audit.record(s, at=self._store.clock.now(), org_id=org_id, user_id=user_id, action="catalogue.import",
                         detail=f"services={len(rows)}")
        return len(rows)


def _check(row: dict[str, Any]) -> list[str]:
    problems = []
    if not isinstance(row, dict):
        return ["not an object"]
    if not re.fullmatch(r"[a-z0-9-]{1,40}", str(row.get("key", ""))):
        problems.append("key: 1 to 40 of a-z, 0-9 and -")
    if not str(row.get("name", "")).strip() or len(str(row.get("name", ""))) > 200:
        problems.append("name: required, at most 200 characters")
    for bound in ("min_age", "max_age"):
        value = row.get(bound)
        if value is not None and not (isinstance(value, int) and 0 <= value <= 120):
            problems.append(f"{bound}: a whole number from 0 to 120, or null")
    for name, limit in TEXT_LIMITS.items():
        if not isinstance(row.get(name, ""), str) or len(row.get(name, "")) > limit:
            problems.append(f"{name}: text of at most {limit} characters")
    unknown = [d for d in str(row.get("domains", "")).split(",") if d and LifeDomain.parse(d) is None]
    if unknown:
        problems.append(f"domains: unknown {', '.join(unknown)}")
    return problems

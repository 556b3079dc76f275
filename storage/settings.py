"""An organisation's settings: the rules a municipality decides (its target group, the status
watcher's figures), stored per organisation and changed without a release."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from sqlmodel import select

from domain.eligibility import TargetGroupRules
from domain.organisation import Borders, parse_employers, parse_quarters
from domain.retention import RetentionRules
from domain.watch import WatchRules
from storage import audit
from storage.models import OrgSetting

if TYPE_CHECKING:
    from storage.store import Store

# setting name prefix -> the rules it belongs to
SECTIONS = {"target_group": TargetGroupRules, "watch": WatchRules, "retention": RetentionRules}


# settings are read at every step of a dialogue (the target group, the quarters) and change a few
# times a year: each instance keeps them this long (a change on another instance is live after it)
CACHE_SECONDS = 30.0


class SettingsRepository:
    def __init__(self, store: Store) -> None:
        self._store = store
        self._cache: dict[tuple[int, str], tuple[float, dict[str, str]]] = {}

    def section(self, org_id: int, section: str) -> dict[str, str]:
        """The stored settings of one section, by name without the section's prefix."""
        cached = self._cache.get((org_id, section))
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        with self._store.transaction() as s:
            rows = s.exec(select(OrgSetting.name, OrgSetting.value).where(
                OrgSetting.org_id == org_id, OrgSetting.name.startswith(f"{section}."))).all()
        values = {name.split(".", 1)[1]: value for name, value in rows}
        self._cache[(org_id, section)] = (time.monotonic() + CACHE_SECONDS, values)
        return values

    def target_group(self, org_id: int) -> TargetGroupRules:
        return TargetGroupRules.from_settings(self.section(org_id, "target_group"))

    def watch_rules(self, org_id: int) -> WatchRules:
        return WatchRules.from_settings(self.section(org_id, "watch"))

    def quarters(self, org_id: int) -> dict[str, tuple[str, ...]]:
        """Each district's quarters, by district code (none set: no buttons, typed as before)."""
        return {code: parse_quarters(value) for code, value in self.section(org_id, "quarters").items()}

    def borders(self, org_id: int) -> dict[str, Borders]:
        """Each district's border quarters and the districts they border, by district code."""
        quarters, neighbours = self.section(org_id, "border"), self.section(org_id, "neighbours")
        return {code: Borders(parse_quarters(quarters.get(code, "")), parse_quarters(neighbours.get(code, "")))
                for code in {*quarters, *neighbours}}

    def employers(self, org_id: int) -> tuple[str, ...]:
        """The employers (Träger) an admin picks from for each member of staff (`employers.list`)."""
        return parse_employers(self.section(org_id, "employers").get("list", ""))

    def all(self, org_id: int) -> dict[str, str]:
        """Every setting with its current value (defaults where none is stored)."""
        borders = self.borders(org_id)
        return {**{f"quarters.{d.code}": ", ".join(self.quarters(org_id).get(d.code, ()))
                   for d in self._store.staff.districts(org_id)},
                **{f"border.{d.code}": ", ".join(borders.get(d.code, Borders()).quarters)
                   for d in self._store.staff.districts(org_id)},
                **{f"neighbours.{d.code}": ", ".join(borders.get(d.code, Borders()).neighbours)
                   for d in self._store.staff.districts(org_id)},
                "employers.list": ", ".join(self.employers(org_id)),
                **{f"target_group.{k}": v for k, v in self.target_group(org_id).as_settings().items()},
                **{f"watch.{k}": v for k, v in self.watch_rules(org_id).as_settings().items()},
                **{f"retention.{k}": v for k, v in
                   RetentionRules.from_settings(self.section(org_id, "retention")).as_settings().items()}}

    def set(self, org_id: int, name: str, value: str, *, user_id: int | None = None, audited: bool = True) -> None:
        """Change one setting; ValueError (with a reason, no data in it) if the value is not one.
        `audited=False`: part of a change the caller audits as one (a district's save)."""
        section, _, key = name.partition(".")
        if section in ("quarters", "border", "neighbours"):
            if self._store.staff.district_by_code(org_id, key) is None:
                raise ValueError(f"no such district: {key}")
            value = ", ".join(parse_quarters(value))  # validates, and stores the list tidied
            if section == "border" and (unknown := set(parse_quarters(value)) - set(self.quarters(org_id).get(key, ()))):
                raise ValueError(f"border quarters must be quarters of the district ({len(unknown)} are not)")
            if section == "neighbours" and any(self._store.staff.district_by_code(org_id, c) is None or c == key
                                               for c in parse_quarters(value)):
                raise ValueError("neighbours must be codes of other districts")
        elif name == "employers.list":
            value = ", ".join(parse_employers(value))
        elif section not in SECTIONS:
            raise ValueError(f"no such setting: {name}")
        else:
            SECTIONS[section]().with_setting(key, value)  # validates
        with self._store.transaction() as s:
            row = s.get(OrgSetting, (org_id, name)) or OrgSetting(org_id=org_id, name=name, value=value)
            row.value = value
            s.add(row)
            if audited:
                audit.record(s, at=self._store.clock.now(), org_id=org_id, user_id=user_id, action="settings.change",
                             detail=f"name={name}")
        self._cache.pop((org_id, section), None)  # this instance sees the change at once
        if section == "watch":
            self._store.watch.invalidate(org_id)

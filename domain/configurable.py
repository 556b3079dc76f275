"""Rules an organisation sets for itself: stored as text per setting, each value checked."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields
from typing import Self


def setting_text(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, frozenset):
        return ",".join(sorted(value))
    return str(value)


def number_setting(name: str, text: str, low: int, high: int) -> int:
    """A whole number from `low` to `high`, typed as text; ValueError names the bounds."""
    number = int(text) if text.isdigit() else -1
    if not low <= number <= high:
        raise ValueError(f"{name} must be a number from {low} to {high}")
    return number


class Configurable:
    """A frozen dataclass of rules whose fields are the organisation's settings."""

    def with_setting(self, name: str, text: str) -> Self:
        """These rules with one setting changed; ValueError names what is wrong."""
        raise NotImplementedError

    def as_settings(self) -> dict[str, str]:
        return {f.name: setting_text(getattr(self, f.name)) for f in fields(self)}

    @classmethod
    def from_settings(cls, values: Mapping[str, str]) -> Self:
        """The rules from stored settings; a missing or unreadable value keeps its default."""
        rules = cls()
        for name, text in values.items():
            try:
                rules = rules.with_setting(name, text)
            except ValueError:
                continue
        return rules

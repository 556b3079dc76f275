"""Callback data: short, typed, and never carrying personal data (only ids, codes, indices).

Every press is checked again by its handler against the user's rights and the current state;
nothing in callback data is trusted.
"""

from __future__ import annotations

SEPARATOR = "|"
MAX_BYTES = 64  # Telegram's limit


def pack(*parts: object) -> str:
    data = SEPARATOR.join(str(p) for p in parts)
    if len(data.encode("utf-8")) > MAX_BYTES:
        raise ValueError("callback data longer than Telegram allows")
    return data


def unpack(data: str | None, prefix: str, arity: int) -> list[str] | None:
    """The parts after `prefix`, or None when the data is not of this shape (forged or stale)."""
    if not data:
        return None
    parts = data.split(SEPARATOR)
    if parts[0] != prefix or len(parts) != arity + 1:
        return None
    return parts[1:]

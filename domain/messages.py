"""Marking message ids where they are declared; they are translated where they are shown."""

from __future__ import annotations


def N_(message: str) -> str:
    """Mark a string for extraction (`make strings`); it stays the untranslated msgid."""
    return message

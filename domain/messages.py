"""Marking message ids where they are declared; they are translated where they are shown."""

from __future__ import annotations

# gettext's separator between a message's context and its id (what pgettext looks up)
CONTEXT_SEPARATOR = "\x04"


def N_(message: str) -> str:
    """Mark a string for extraction (`make strings`); it stays the untranslated msgid."""
    return message


def NC_(context: str, message: str) -> str:
    """Mark a bare word that means different things in different places ("open" case, "open"
    goal): translators see the context (msgctxt), and the translation is looked up with it."""
    return f"{context}{CONTEXT_SEPARATOR}{message}"

"""Invitations as staff pass them on: a one-time code and the link that redeems it."""

from __future__ import annotations

INVITATION_DAYS = 7


def invitation_link(bot_username: str, code: str) -> str:
    return f"https://t.me/{bot_username}?start={code}"

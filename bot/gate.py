"""Who may take a processing slot: staff always; people the bot does not know only now and then.

Anyone on Telegram can write to the bot. Without a gate, a stranger's flood takes the slots
(and the per-chat send limit) that staff need: 120 messages made an admin's /help take 60 s.
The gate decides before an update takes a slot, from memory only (no database call): senders
identified as staff recently pass; any other sender gets one update through every
`stranger_every` seconds, and all strangers together at most `strangers_per_second`; the rest
is dropped and counted. A new colleague's /start is such an update, so it gets through.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

from telegram import Update

INVITATION_TRIES = 5  # wrong invitation codes a sender may send per INVITATION_WINDOW
INVITATION_WINDOW = 3600.0
STAFF_MEMORY = 3600.0  # seconds a sender identified as staff passes without being looked up
MAX_REMEMBERED = 100_000  # senders remembered at most (the oldest are forgotten first)


class Gate:
    def __init__(self, *, stranger_every: float = 30.0, strangers_per_second: float = 5.0,
                 now: Callable[[], float] = time.monotonic) -> None:
        self.stranger_every, self.strangers_per_second, self._now = stranger_every, strangers_per_second, now
        self._staff: OrderedDict[int, float] = OrderedDict()  # telegram id -> identified at
        self._strangers: OrderedDict[int, float] = OrderedDict()  # telegram id -> last let through
        self._budget, self._budget_at = strangers_per_second, now()
        self._wrong_codes: OrderedDict[int, list[float]] = OrderedDict()  # telegram id -> when
        self.dropped = 0

    def may_try_invitation(self, telegram_id: int) -> bool:
        """False once a sender sent INVITATION_TRIES wrong codes within the window: then even
        the right code waits (guessing stays hopeless, however many accounts try)."""
        now = self._now()
        recent = [at for at in self._wrong_codes.get(telegram_id, []) if now - at < INVITATION_WINDOW]
        self._wrong_codes[telegram_id] = recent
        return len(recent) < INVITATION_TRIES

    def wrong_invitation(self, telegram_id: int) -> None:
        self._wrong_codes.setdefault(telegram_id, []).append(self._now())
        self._wrong_codes.move_to_end(telegram_id)
        self._trim(self._wrong_codes)

    def is_staff(self, telegram_id: int) -> None:
        """The access layer found this sender among the staff."""
        self._staff[telegram_id] = self._now()
        self._staff.move_to_end(telegram_id)
        self._strangers.pop(telegram_id, None)
        self._trim(self._staff)

    def is_not_staff(self, telegram_id: int) -> None:
        """The access layer found nobody (a deactivated colleague stops passing at once)."""
        self._staff.pop(telegram_id, None)

    def admit(self, update: object) -> bool:
        """Whether the update may take a processing slot."""
        user = update.effective_user if isinstance(update, Update) else None
        if user is None:
            return True  # nothing to attribute it to; the access layer drops it at once
        now = self._now()
        seen = self._staff.get(user.id)
        if seen is not None and now - seen < STAFF_MEMORY:
            return True
        last = self._strangers.get(user.id)
        if last is not None and now - last < self.stranger_every:
            self.dropped += 1
            return False
        self._budget = min(self.strangers_per_second, self._budget + (now - self._budget_at) * self.strangers_per_second)
        self._budget_at = now
        if self._budget < 1:
            self.dropped += 1
            return False
        self._budget -= 1
        self._strangers[user.id] = now
        self._strangers.move_to_end(user.id)
        self._trim(self._strangers)
        return True

    def staff_after_all(self, telegram_id: int) -> None:
        """A sender `admit` turned away was found among the staff (on another instance's watch):
        let them through from now on, and do not count the update as dropped."""
        self.dropped -= 1
        self.is_staff(telegram_id)

    def not_admitted(self, update: object) -> None:
        """Take back an admission whose update could not be stored (it will come again)."""
        user = update.effective_user if isinstance(update, Update) else None
        if user is not None and self._strangers.pop(user.id, None) is not None:
            self._budget = min(self.strangers_per_second, self._budget + 1)

    @staticmethod
    def _trim(memory: OrderedDict) -> None:
        while len(memory) > MAX_REMEMBERED:
            memory.popitem(last=False)

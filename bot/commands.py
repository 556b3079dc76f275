"""The commands each role is offered: in /help and in Telegram's command menu of that person's
chat (BotCommandScopeChat), so nobody is offered a command they cannot use."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from telegram import Bot, BotCommand, BotCommandScopeChat
from telegram.error import TelegramError

from bot.i18n import N_, Translator
from domain import roles
from domain.roles import Role
from storage.types import StaffUser

log = logging.getLogger("casebot.commands")


def _everyone(role: Role) -> bool:
    return True


# (command, what it does, who may use it). Translators: Telegram's command menu; each at most
# about 30 characters
COMMANDS: tuple[tuple[str, str, Callable[[Role], bool]], ...] = (
    ("new", N_("record a new client (intake)"), roles.records_cases),
    ("meldebogen", N_("refer a client (Meldebogen)"), roles.sends_meldebogen),
    ("sent", N_("your Meldebögen and their state"), roles.sends_meldebogen),
    ("inbox", N_("Meldebögen to decide on"), roles.reviews_meldebogen),
    ("cases", N_("your cases"), roles.sees_case_content),
    ("case", N_("one case, by its code"), roles.sees_case_content),
    ("find", N_("find a person by name and date of birth"), roles.sees_case_content),
    ("documents", N_("forms and letters to print for a case"), roles.sees_case_content),
    ("conferences", N_("your coming Fallkonferenzen"), roles.sees_case_content),
    ("jourfixe", N_("the next Jour fixe and its agenda"), roles.takes_part_in_jour_fixe),
    ("digest", N_("the coordinators' digest"), roles.reads_digest),
    ("report", N_("anonymised figures for a period, as files"), roles.reads_digest),
    ("audit", N_("a case's audit trail"), roles.sees_all_cases),
    ("invite", N_("invite a colleague"), roles.manages_users),
    ("staff", N_("colleagues and their roles"), roles.manages_users),
    ("districts", N_("districts, quarters and borders"), roles.manages_users),
    ("waiting", N_("cases waiting for a case manager"), roles.reassigns_cases),
    ("services", N_("the catalogue of services"), roles.manages_catalogue),
    ("locales", N_("languages and translations"), roles.manages_languages),
    ("contact", N_("how clients reach you (on their documents)"), roles.sees_case_content),
    ("language", N_("change the language"), _everyone),
    ("lock", N_("lock: the PIN is asked again"), _everyone),
    ("cancel", N_("stop the current dialogue"), lambda role: roles.records_cases(role) or roles.sends_meldebogen(role)),
    ("help", N_("what I can do"), _everyone),
)
# what a person who is not (yet) staff sees in the menu: /help answers them who the bot is for
STRANGERS = ("help",)


def commands_for(role: Role | None) -> list[tuple[str, str]]:
    """(command, description msgid) of what this role may use, in menu order."""
    return [(name, text) for name, text, may in COMMANDS if (may(role) if role else name in STRANGERS)]


def menu(t: Translator, role: Role | None) -> list[BotCommand]:
    return [BotCommand(name, t.plain(text)) for name, text in commands_for(role)]


class ChatMenus:
    """Publishes each person's menu once per process and whenever their role or language
    changes (Telegram keeps it per chat, so a restart only publishes it again)."""

    def __init__(self) -> None:
        self._published: dict[int, tuple[str, str]] = {}
        self._sending: set[asyncio.Task] = set()

    def wanted(self, staff: StaffUser, language: str) -> bool:
        return self._published.get(staff.telegram_id) != (staff.role.value, language)

    def publish_soon(self, bot: Bot, staff: StaffUser, t: Translator) -> None:
        """Publish beside the reply rather than before it: the menu must not slow the answer."""
        self._published[staff.telegram_id] = (staff.role.value, t.language)
        task = asyncio.ensure_future(self.publish(bot, staff, t))
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

    async def settle(self) -> None:
        """Wait for the menus on their way (tests, shutdown)."""
        while self._sending:
            await asyncio.gather(*self._sending)

    async def publish(self, bot: Bot, staff: StaffUser, t: Translator) -> None:
        self._published[staff.telegram_id] = (staff.role.value, t.language)
        try:
            await bot.set_my_commands(menu(t, staff.role), scope=BotCommandScopeChat(staff.telegram_id))
        except TelegramError as failure:  # the menu is a convenience: the reply must not wait for it
            self._published.pop(staff.telegram_id, None)
            log.info("the command menu could not be set: %s", type(failure).__name__)

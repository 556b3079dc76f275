"""Invitations, registration, strangers, roles, /language and /invite, through the real Application."""

from __future__ import annotations

from datetime import timedelta

from domain.roles import Role
from tests.helpers import row_counts, rows, stored_text

REFUSAL_DE = "Dieser Assistent ist nur für eingeladene Mitarbeitende des KIM-Case-Managements."


async def test_first_admin_registers_with_the_init_invitation(bot):
    admin = bot.user(language_code="de")
    replies = await admin.send(f"/start {bot.admin_code}")
    assert "Willkommen! Sie sind registriert als Admin." in replies[0].text
    assert "/invite" in replies[1].text
    stored = rows(bot, "SELECT role, telegram_id, language FROM app_user")
    assert stored == [("admin", admin.id, "de")]


async def test_an_invitation_works_once(bot):
    admin = bot.user()
    await admin.send(f"/start {bot.admin_code}")
    other = bot.user()
    replies = await other.send(f"/start {bot.admin_code}")
    assert replies[0].text == "Diese Einladung wurde bereits verwendet. Bitte beim Admin eine neue erfragen."
    assert rows(bot, "SELECT COUNT(*) FROM app_user")[0][0] == 1


async def test_expired_and_unknown_invitations_are_refused(bot, clock):
    store = bot.services.store
    org_id = store.staff.first_organisation_id()
    code = store.staff.create_invitation(org_id=org_id, role=Role.CASE_MANAGER, district_id=None,
                                         expires_in=timedelta(hours=1), created_by=None)
    clock.advance(timedelta(hours=2))
    late = bot.user()
    assert (await late.send(f"/start {code}"))[0].text.startswith("Diese Einladung ist abgelaufen.")
    assert (await late.send("/start not-a-real-code"))[0].text.startswith("Dieser Einladungscode ist ungültig.")
    assert rows(bot, "SELECT COUNT(*) FROM app_user WHERE telegram_id = :t", t=late.id)[0][0] == 0


async def test_invitation_codes_are_stored_only_as_hashes(bot):
    assert bot.admin_code not in stored_text(bot, "invitation")


async def test_strangers_get_one_short_refusal_and_nothing_is_stored(bot):
    before = row_counts(bot)
    stranger = bot.user(first_name="Mallory")
    for attempt in ("hello", "/new", "/cases", "/case LEV-2026-0001", "/start"):
        replies = await stranger.send(attempt)
        assert [m.text for m in replies] == [REFUSAL_DE], attempt
    # "/start" without the command entity Telegram gives it: text, not a command, so not let in
    assert [m.text for m in await stranger.send_raw(text="/start")] == [REFUSAL_DE]
    await stranger.send_raw(photo=[{"file_id": "x", "file_unique_id": "y", "width": 1, "height": 1}])
    await stranger.press_data("c|r|LEV-2026-0001", bot.fake.chat(stranger.id)[-1])
    assert stranger.alerts()[-1] == REFUSAL_DE
    assert row_counts(bot) == before


async def test_group_chats_are_ignored(bot):
    from telegram import Update

    calls = len(bot.fake.calls)
    await bot.app.process_update(Update.de_json({"update_id": 1, "message": {
        "message_id": 1, "date": 1, "chat": {"id": -100, "type": "group", "title": "Team"},
        "from": {"id": 5, "is_bot": False, "first_name": "X"}, "text": "/new",
        "entities": [{"type": "bot_command", "offset": 0, "length": 4}]}}, bot.app.bot))
    assert len(bot.fake.calls) == calls


async def test_language_follows_telegram_then_the_user_choice(bot):
    english = await bot.register(language_code="en-GB")
    assert "Welcome! You are registered as case manager." in english.messages()[0].text
    await english.send("/language")
    assert english.last().button_texts() == ["Deutsch", "✓ English", "Türkçe", "العربية", "فارسی", "Українська", "Русский"]
    replies = await english.press("Deutsch")
    assert english.last().text == "Ab jetzt schreibe ich auf Deutsch."
    assert not replies  # the choice message is edited in place
    assert (await english.send("/help"))[0].text.startswith("KIM Casebot")
    assert "neue Klient:in erfassen" in english.messages()[-1].text or "neue Klient:in erfassen" in english.messages()[-2].text
    unsupported = await bot.register(language_code="sw")
    assert "Willkommen!" in unsupported.messages()[0].text  # falls back to the default language


async def test_forged_language_button_changes_nothing(bot):
    user = await bot.register()
    await user.send("/language")
    await user.press_data("l|xx")
    assert user.alerts()[-1] == "Diese Taste ist nicht mehr gültig."
    assert rows(bot, "SELECT language FROM app_user WHERE telegram_id = :t", t=user.id)[0][0] == "de"


async def test_admin_invites_a_case_manager_from_the_chat(bot):
    admin = bot.user()
    await admin.send(f"/start {bot.admin_code}")
    await admin.send("/invite")
    await admin.press("Case Manager:in")
    assert admin.last().text == "Für welchen Bezirk?"
    await admin.press("II")
    invitation = admin.last().text
    assert "Einmalige Einladung (Rolle: Case Manager:in), 7 Tage gültig" in invitation
    code = invitation.split("\n")[1]
    assert f"https://t.me/kim_test_bot?start={code}" in invitation
    colleague = bot.user()
    await colleague.send(f"/start {code}")
    assert rows(bot, "SELECT a.role, d.code FROM app_user a JOIN district d ON d.id = a.district_id "
                     "WHERE a.telegram_id = :t", t=colleague.id) == [("case-manager", "II")]


async def test_only_admins_invite_even_with_a_forged_button(bot):
    cm = await bot.register(Role.CASE_MANAGER)
    assert (await cm.send("/invite"))[0].text == "Nur Admins können einladen."
    invitations = rows(bot, "SELECT COUNT(*) FROM invitation")[0][0]
    await cm.press_data("i|admin|-", cm.last())
    assert cm.alerts()[-1] == "Diese Taste ist nicht mehr gültig."
    assert rows(bot, "SELECT COUNT(*) FROM invitation")[0][0] == invitations


async def test_command_menu_is_published_in_every_language_and_per_role(bot):
    """Strangers' menu (every language) offers only /help; staff get their role's commands in
    their own chat, in their language, once they write (tests/test_day.py covers every role)."""
    from bot.app import _publish_commands

    await _publish_commands(bot.app)
    assert {c["command"] for c in bot.fake.commands["de"]} == {"help"}
    assert bot.fake.commands["en"] == [{"command": "help", "description": "what I can do"}]
    manager = await bot.register(Role.CASE_MANAGER, "I")
    await bot.services.menus.settle()
    menu = bot.fake.commands[f"chat:{manager.id}"]
    assert next(c for c in menu if c["command"] == "new")["description"] == "neue Klient:in erfassen (Erstberatung)"
    assert "digest" not in {c["command"] for c in menu}

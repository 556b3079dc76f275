"""The PIN on top of Telegram (issue 11): set at registration, asked for before names, copies
and changes after the idle time or /lock, five wrong entries lock the account until an admin
lifts the lock. The PIN message is deleted at once; only an Argon2id hash is stored."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.roles import Role
from tests.conftest import initialise, make_settings, start_bot
from tests.flows import run_intake
from tests.helpers import rows

CODE = "LEV-2026-0001"
ASK = "🔒 Bitte bestätigen Sie, dass Sie es sind: /unlock und Ihre PIN senden, dann noch einmal drücken."


@pytest.fixture
async def pinned(database_url, tmp_path, clock):  # noqa: ANN001, ANN201
    """The bot as an organisation runs it: the PIN required, asked after 30 idle minutes."""
    from tests.conftest import BotUnderTest

    settings = make_settings(database_url, tmp_path, pin_required=True, pin_idle_minutes=30)
    admin_code = initialise(settings, org_name="Stadt Leverkusen", prefix="LEV", districts=["I", "II", "III"], quiet=True)
    app, fake, services = await start_bot(settings, clock)
    yield BotUnderTest(app, fake, services, settings, admin_code)
    await app.shutdown()
    services.store.close()


async def test_a_pin_is_asked_for_at_registration_and_before_names_after_idle_time(pinned, clock):
    bot = pinned
    cm = await bot.register(Role.CASE_MANAGER, "I")
    assert any(m.text.startswith("Jetzt Ihre PIN setzen: /pin") for m in cm.messages())
    await run_intake(cm, save=False)
    await cm.press("✔ Speichern")  # saving changes data: no PIN yet
    assert cm.alerts()[-1].startswith("Bitte zuerst eine PIN setzen: /pin und 4 bis 8 Ziffern")
    await cm.send("/pin 12")
    assert cm.last().text == "Eine PIN hat 4 bis 8 Ziffern: /pin 4711"
    await cm.send("/pin 4711")
    assert cm.last().text.startswith("PIN gesetzt.")
    assert not [t for t in cm.typed_still_visible() if "4711" in t]  # the PIN message is gone
    pin_hash = rows(bot, "SELECT pin_hash FROM app_user WHERE telegram_id = :t", t=cm.id)[0][0]
    assert pin_hash.startswith("$argon2id$") and "4711" not in pin_hash
    await cm.press("✔ Speichern")  # the dialogue waited; now it saves
    assert cm.last().text.startswith("Gespeichert als Fall LEV-2026-0001.")
    # within the idle time nothing is asked; after it, names wait for the PIN
    await cm.send(f"/case {CODE}")
    await cm.press("👁 Namen und Details zeigen")
    assert "Amina" in cm.last().text
    clock.advance(timedelta(minutes=31))
    view = (await cm.send(f"/case {CODE}"))[0]
    assert "Amina" not in view.text  # the glance itself is no reveal
    await cm.press("👁 Namen und Details zeigen", view)
    assert cm.alerts()[-1] == ASK and "Amina" not in bot.fake.messages[(cm.id, view.message_id)].text
    await cm.send("/unlock 4711")
    assert cm.last().text == "Entsperrt. Bitte die Taste noch einmal drücken."
    await cm.press("👁 Namen und Details zeigen", view)
    assert "Amina" in bot.fake.messages[(cm.id, view.message_id)].text
    await cm.send("/lock")
    await cm.send(f"/case {CODE}")
    await cm.press("👁 Namen und Details zeigen")
    assert cm.alerts()[-1] == ASK


async def test_five_wrong_pins_lock_the_account_until_an_admin_lifts_it(pinned, clock):
    bot = pinned
    admin = await bot.register(Role.ADMIN, None)
    cm = await bot.register(Role.CASE_MANAGER, "I")
    await cm.send("/pin 4711")
    await cm.send("/lock")
    for left in (4, 3, 2, 1):
        await cm.send("/unlock 0000")
        assert cm.last().text == f"Falsche PIN. Verbleibende Versuche: {left}."
    await cm.send("/unlock 0000")
    assert cm.last().text.startswith("Zu viele falsche PINs: Ihr Konto ist gesperrt.")
    replies = await cm.send("/cases")  # nothing works but /help
    assert replies[0].text.startswith("Ihr Konto ist nach zu vielen falschen PINs gesperrt.")
    await cm.send("/unlock 4711")  # not even the right PIN
    assert cm.last().text.startswith("Ihr Konto ist nach zu vielen falschen PINs gesperrt.")
    assert not [t for t in cm.typed_still_visible() if "4711" in t or "0000" in t]  # no PIN stays in the chat
    await admin.send("/pin 9999")
    await admin.send("/staff")
    await admin.press(next(label for label in admin.last().button_texts() if label.startswith("2.")))
    await admin.press("🔓 PIN-Sperre aufheben")
    assert admin.last().text == "Die PIN-Sperre von Ana ist aufgehoben."
    await cm.send("/unlock 4711")
    assert cm.last().text == "Entsperrt. Bitte die Taste noch einmal drücken."
    trail = [r[0] for r in rows(bot, "SELECT action FROM audit_event WHERE action LIKE 'pin.%' ORDER BY id")]
    assert trail.count("pin.wrong") == 4 and "pin.locked" in trail and "pin.unlock" in trail and trail[-1] == "pin.ok"


async def test_pin_commands_work_in_the_middle_of_a_dialogue(pinned):
    bot = pinned
    cm = await bot.register(Role.CASE_MANAGER, "I")
    await cm.send("/new")
    await cm.send("/pin 4711")
    assert cm.last().text.startswith("PIN gesetzt.")
    assert rows(bot, "SELECT COUNT(*) FROM dialogue") == [(1,)]  # the intake is still open


async def test_a_signed_scan_after_the_idle_time_waits_for_the_pin_and_one_press_keeps_it(pinned, clock, monkeypatch):
    """Keeping a signed scan with a case changes the case: after the idle time it asks for the PIN
    and stores nothing; its answer quotes the scan with "Keep this scan", which after /unlock keeps
    it without sending it again (scan and answer then leave the chat). A double tap keeps it
    once; a forged press, or one whose scan was deleted meanwhile, keeps nothing."""
    from sqlalchemy.exc import OperationalError

    from tests.test_documents import SCAN, make

    bot = pinned
    api = bot.fake.api
    cm = await bot.register(Role.CASE_MANAGER, "I")
    await cm.send("/pin 4711")
    await run_intake(cm)
    consent = await make(cm, "✍ Einwilligung in die Dokumentation")
    clock.advance(timedelta(minutes=31))

    def attachments() -> list:
        return rows(bot, "SELECT COUNT(*) FROM case_attachment")

    def scans_in_chat() -> list:
        return [m for m in api.chat(cm.id) if m.photo and not m.from_bot]

    answer = (await cm.send_photo(SCAN, reply_to=consent))[-1]
    assert answer.text == ("🔒 Bitte bestätigen Sie, dass Sie es sind: /unlock und Ihre PIN senden, dann „Diesen Scan "
                           "ablegen“ drücken.")
    [scan] = scans_in_chat()
    assert answer.reply_to == scan.message_id and answer.button_texts() == ["📎 Diesen Scan ablegen"]
    assert attachments() == [(0,)]
    await cm.press("📎 Diesen Scan ablegen", answer)  # the PIN first
    assert cm.alerts()[-1] == ASK and attachments() == [(0,)]
    await cm.send("/unlock 4711")
    await cm.press_data("S|1", answer)  # forged: message 1 is no document of theirs
    assert cm.alerts()[-1] == "Diese Taste ist nicht mehr gültig." and attachments() == [(0,)]
    # the database fails as the scan is kept: the user is told, scan and answer stay for another press

    def down(*_, **__):  # noqa: ANN002, ANN003, ANN202
        raise OperationalError("INSERT", {}, Exception("database is down"))

    monkeypatch.setattr(bot.services.store.documents, "attach", down)
    failed = await cm.press("📎 Diesen Scan ablegen", answer)
    assert failed[-1].text.startswith("Entschuldigung, etwas ist schiefgegangen.")
    assert attachments() == [(0,)] and scans_in_chat() and (cm.id, answer.message_id) in api.messages
    monkeypatch.undo()
    await cm.double_tap("📎 Diesen Scan ablegen", answer)  # both presses reach the bot before the first is answered
    kept, again = [m.text for m in cm.messages()[-2:]]
    assert kept.startswith("📎 Einwilligung in die Dokumentation (unterschrieben) beim Fall LEV-2026-0001 abgelegt")
    assert "Das Foto wurde aus diesem Chat gelöscht." in kept
    assert again == "📎 Dieser Scan ist schon beim Fall LEV-2026-0001 abgelegt; er wurde nicht zweimal gespeichert."
    assert attachments() == [(1,)] and not scans_in_chat() and (cm.id, answer.message_id) not in api.messages
    assert [str(r[0]) for r in rows(bot, "SELECT consent_signed_on FROM client_case")] == ["2026-11-24"]
    # a scan deleted by hand before the press is not kept
    clock.advance(timedelta(minutes=31))
    answer = (await cm.send_photo(b"\xff\xd8\xff\xe0 another page", reply_to=consent))[-1]
    await cm.send("/unlock 4711")
    [scan] = scans_in_chat()
    del api.messages[(cm.id, scan.message_id)]
    await cm.press("📎 Diesen Scan ablegen", answer)
    assert cm.alerts()[-1] == "Diese Taste ist nicht mehr gültig." and attachments() == [(1,)]

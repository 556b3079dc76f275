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


async def test_a_signed_scan_after_the_idle_time_waits_for_the_pin(pinned, clock):
    """Keeping a signed scan with a case changes the case: after the idle time it asks for the PIN
    (saying to send the scan again), stores nothing, and is kept once sent again after /unlock."""
    from tests.test_documents import SCAN, make

    bot = pinned
    cm = await bot.register(Role.CASE_MANAGER, "I")
    await cm.send("/pin 4711")
    await run_intake(cm)
    consent = await make(cm, "✍ Einwilligung in die Dokumentation")
    clock.advance(timedelta(minutes=31))
    answer = await cm.send_photo(SCAN, reply_to=consent)
    assert answer[-1].text == ("🔒 Bitte bestätigen Sie, dass Sie es sind: /unlock und Ihre PIN senden, dann den Scan noch "
                               "einmal als Antwort auf das Dokument senden.")
    assert rows(bot, "SELECT COUNT(*) FROM case_attachment") == [(0,)]
    await cm.send("/unlock 4711")
    answer = await cm.send_photo(SCAN, reply_to=consent)
    assert answer[-1].text.startswith("📎 Einwilligung in die Dokumentation (unterschrieben) beim Fall LEV-2026-0001")
    assert rows(bot, "SELECT COUNT(*) FROM case_attachment") == [(1,)]

"""A referrer's Meldebogen through the coordinator's inbox to a case manager's intake; declined
with a reason its sender reads; the sender never sees a case; the details stay encrypted."""

from __future__ import annotations

from domain.roles import Role
from storage import crypto
from tests.flows import INTAKE_STEPS, do
from tests.helpers import rows
from tests.test_audit import execute
from tests.test_encryption import raw_database_bytes

PLAIN = str.maketrans("", "", "\u2066\u2067\u2068\u2069")


def plain(text: str) -> str:
    return text.translate(PLAIN)


async def send_meldebogen(referrer, *, given: str = "Amina", family: str = "Haddad", send: bool = True):  # noqa: ANN001, ANN201
    await referrer.send("/meldebogen")
    await referrer.press("FB 50 (Soziales)")
    await referrer.send(given)
    await referrer.send(family)
    await referrer.send("01.02.1995")
    await referrer.send("+49 171 1234567")
    await referrer.send("vormittags, spricht Arabisch")
    await referrer.send("Sucht Wohnung und Kita-Platz")
    shown = await referrer.press("Ja, die Person ist einverstanden")
    return await referrer.press("✔ Senden") if send else shown


async def test_a_meldebogen_goes_through_the_inbox_to_an_intake(bot):
    dispatcher = bot.services.dispatcher
    coordinator = await bot.register(Role.COORDINATOR, None)
    cm = await bot.register(Role.CASE_MANAGER, "I")
    referrer = await bot.register(Role.REFERRER, None)
    assert "/meldebogen" in (await referrer.send("/help"))[0].text and "/new" not in (await referrer.send("/help"))[0].text
    sent = await send_meldebogen(referrer)
    assert "Meldebogen M-1 ist an die Koordination" in plain(sent[-1].text)
    assert rows(bot, "SELECT status, source FROM intake_request") == [("received", "fb50")]
    # the coordinator is told (nothing about the client in that message) and opens it in the inbox
    assert await dispatcher.dispatch_once(bot.app.bot, plan=False) == 1
    told = coordinator.last()
    assert "Neuer Meldebogen M-1 von FB 50" in plain(told.text) and "Amina" not in told.text
    inbox = (await coordinator.send("/inbox"))[0]
    assert "M-1 · FB 50 (Soziales)" in plain(inbox.text) and "eingegangen" in inbox.text
    await coordinator.press("📨 M-1 · FB 50 (Soziales)", inbox)
    details = plain(coordinator.last().text)
    assert "Amina" in details and "Haddad" in details and "Sucht Wohnung und Kita-Platz" in details
    await coordinator.press("👤 Zuweisen")
    await coordinator.press(next(label for label in coordinator.last().button_texts() if label.startswith("Ana")))
    assert "Meldebogen M-1 ist zugewiesen" in plain(coordinator.last().text)
    # the case manager starts the intake from it: names, birth date, phone and source are in
    assert await dispatcher.dispatch_once(bot.app.bot, plan=False) >= 1
    assert "Meldebogen M-1 (FB 50 (Soziales)) ist Ihrer" in plain(cm.last().text)
    await cm.press("▶ Erstberatung beginnen")
    await do(cm, *INTAKE_STEPS["consent"])
    steps = [name for name in INTAKE_STEPS if name not in ("consent",)]
    for name in steps:
        if name in ("given_name", "family_name", "birth_date", "phone", "source"):
            continue  # known from the Meldebogen: not asked again (the summary shows it, to correct)
        await do(cm, *INTAKE_STEPS[name])
    summary = plain(cm.last_with_buttons().text)
    assert "Amina" in summary and "Haddad" in summary and "+49 171 1234567" in summary
    await cm.press("✔ Speichern")
    assert rows(bot, "SELECT r.status, c.code FROM intake_request r JOIN client_case c ON c.id = r.case_id") == [
        ("taken-on", "LEV-2026-0001")]
    # the referrer sees what became of it, never the case
    state = plain((await referrer.send("/sent"))[0].text)
    assert "M-1 · FB 50 (Soziales)" in state and "aufgenommen" in state and "LEV-2026" not in state
    assert (await referrer.send("/cases"))[0].text != (await cm.send("/cases"))[0].text
    assert "LEV-2026-0001" not in (await referrer.send("/case LEV-2026-0001"))[-1].text.replace("LEV-2026-0001", "", 1)
    # nothing of the Meldebogen is in the clear
    raw = raw_database_bytes(bot)
    for needle in ("Sucht Wohnung", "vormittags", "1234567"):
        assert needle.encode() not in raw


async def test_a_meldebogen_declined_with_a_reason_and_one_put_on_the_waiting_list(bot):
    coordinator = await bot.register(Role.COORDINATOR, None)
    referrer = await bot.register(Role.REFERRER, None)
    await send_meldebogen(referrer)
    await send_meldebogen(referrer, given="Samira", family="Nasser")
    await coordinator.press_data("M|1|open|", coordinator.last())
    await coordinator.press("✖ Ablehnen")
    await coordinator.send("Die Person wohnt nicht in Leverkusen; bitte an die Stadt Köln wenden.")
    await coordinator.press("✔ Speichern")
    assert "Meldebogen M-1 ist abgelehnt" in plain(coordinator.last().text)
    await coordinator.press_data("M|2|open|", coordinator.last())
    await coordinator.press("⏳ Warteliste")
    assert "Warteliste" in coordinator.last().text
    inbox = plain((await coordinator.send("/inbox"))[0].text)
    assert "M-2" in inbox and "M-1" not in inbox
    state = plain((await referrer.send("/sent"))[0].text)
    assert "abgelehnt" in state and "bitte an die Stadt Köln wenden" in state and "auf der Warteliste" in state
    # decided once: the buttons of the first are stale now
    await coordinator.press_data("M|1|wait|", coordinator.last())
    assert coordinator.alerts()[-1] == "Diese Taste ist nicht mehr gültig."
    assert rows(bot, "SELECT status FROM intake_request ORDER BY id") == [("declined",), ("waiting",)]


async def test_only_referrers_send_and_only_coordinators_decide(bot):
    cm = await bot.register(Role.CASE_MANAGER, "I")
    referrer = await bot.register(Role.REFERRER, None)
    assert "/new" in (await cm.send("/meldebogen"))[0].text
    assert (await referrer.send("/inbox"))[0].text == "Nur Koordinator:innen lesen die Meldebögen."
    await send_meldebogen(referrer)
    for data in ("M|1|open|", "M|1|to|1", "M|1|start|"):
        await referrer.press_data(data, referrer.last())
        await cm.press_data(data, cm.last())
    assert set(referrer.alerts()) == set(cm.alerts()) == {"Diese Taste ist nicht mehr gültig."}
    assert rows(bot, "SELECT status FROM intake_request") == [("received",)]
    # a refused consent sends nothing
    await referrer.send("/meldebogen")
    await referrer.press("FB 33 / Ausländerbehörde")
    await referrer.send("Nour, Saleh, 03.04.1990")
    await referrer.send("/cancel")
    assert rows(bot, "SELECT COUNT(*) FROM intake_request") == [(1,)]


async def test_a_damaged_meldebogen_is_shown_as_unreadable_and_can_still_be_decided(bot):
    """One Meldebogen's ciphertext is damaged: the coordinator sees it listed and opened, with
    "cannot be read" instead of the details, and can still decline it; the other one reads as
    before; the failure is counted for the operator, without content."""
    coordinator = await bot.register(Role.COORDINATOR, None)
    referrer = await bot.register(Role.REFERRER, None)
    await send_meldebogen(referrer)
    await send_meldebogen(referrer, given="Samira", family="Nasser")
    execute(bot, "UPDATE intake_request SET body_enc = :b WHERE id = 1", b=b"\x00" * 60)
    unreadable_before = crypto.unreadable_values
    inbox = plain((await coordinator.send("/inbox"))[0].text)
    assert "M-1" in inbox and "M-2" in inbox
    await coordinator.press_data("M|1|open|", coordinator.last())
    opened = plain(coordinator.last().text)
    assert "Die Angaben können nicht gelesen werden." in opened and "Amina" not in opened
    assert crypto.unreadable_values == unreadable_before + 1
    await coordinator.press("✖ Ablehnen")
    await coordinator.send("Bitte noch einmal senden: der Meldebogen ist nicht lesbar.")
    await coordinator.press("✔ Speichern")
    assert "Meldebogen M-1 ist abgelehnt" in plain(coordinator.last().text)
    await coordinator.press_data("M|2|open|", coordinator.last())
    assert "Samira" in plain(coordinator.last().text)
    assert "nicht lesbar" in plain((await referrer.send("/sent"))[0].text)
    assert rows(bot, "SELECT status FROM intake_request ORDER BY id") == [("declined",), ("received",)]

"""Erasure with four eyes, retention and legal holds (issue 11)."""

from __future__ import annotations

from datetime import timedelta

from domain.roles import Role
from tests.flows import run_intake
from tests.helpers import rows
from tests.test_encryption import raw_database_bytes
from tests.test_reminders import dispatch

CODE = "LEV-2026-0001"


async def steps(user, *actions: str) -> None:  # noqa: ANN001
    for action in actions:
        await (user.press(action[1:]) if action.startswith(">") else user.send(action))


async def test_an_erasure_needs_a_second_person_and_leaves_nothing_personal(bot):
    cm = await bot.register(Role.CASE_MANAGER, "I")
    first = await bot.register(Role.COORDINATOR, None)
    second = await bot.register(Role.COORDINATOR, None)
    await run_intake(cm)
    await steps(cm, f"/note {CODE}", ">heute", ">Telefonat", "Gerichtsvollzieher kommt Montag", ">✔ Speichern")
    await steps(cm, f"/goal {CODE}", ">Wohnen", "Wohnung finden", ">die Klient:in", "30.06.2027", ">✔ Speichern")
    await steps(cm, f"/note {CODE}", ">heute")  # a draft about the case, left open
    await first.send(f"/case {CODE}")
    await first.press("🗑 Löschen")
    await first.press("Antrag der Klient:in (Art. 17 DSGVO)")
    assert first.last().text.startswith("Löschung von LEV-2026-0001 beantragt")
    assert rows(bot, "SELECT COUNT(*) FROM case_key") == [(1,)]  # nothing happened yet
    await dispatch(bot)
    ask = [m for m in second.messages() if "Löschung von LEV-2026-0001 beantragt von" in m.text]
    assert len(ask) == 1 and ask[0].button_texts() == ["🗑 Löschung bestätigen", "✖ Ablehnen"]
    # the one who asked cannot confirm
    request = rows(bot, "SELECT id FROM erasure_request")[0][0]
    await first.press_data(f"E|{request}|y")
    assert first.alerts()[-1] == "Diese Löschung ist nicht mehr offen, oder sie braucht eine zweite Person."
    await second.press("🗑 Löschung bestätigen", ask[0])
    assert second.last().text.startswith("LEV-2026-0001 ist gelöscht. Erhalten bleiben, ohne Personenbezug")
    # what is left: no key, no values, no draft, no blind index, no pending reminder
    assert rows(bot, "SELECT COUNT(*) FROM case_key") == [(0,)]
    assert rows(bot, "SELECT COUNT(*) FROM case_value") == [(0,)]
    assert rows(bot, "SELECT COUNT(*) FROM dialogue") == [(0,)]
    assert rows(bot, "SELECT person_index, status FROM client_case")[0][0].startswith("erased/")
    # no reminder about the case is left; what stays due deletes the bot's messages about it
    assert rows(bot, "SELECT COUNT(*) FROM outbox WHERE state = 'due' AND kind != 'delete-message'") == [(0,)]
    assert rows(bot, "SELECT COUNT(*) FROM case_entry")[0][0] >= 3  # kinds and dates, for the statistics
    raw = raw_database_bytes(bot)
    assert b"Gerichtsvollzieher" not in raw and b"LEV-2026-0001" in raw
    view = (await second.send(f"/case {CODE}"))[0].text
    assert "Gelöscht am" in view and "Amina" not in view
    # the same person cannot be found any more, and may be recorded anew
    await steps(cm, "/find", "Amina", "Haddad", "01.02.1995", ">🔍 Suchen")
    assert cm.last().text == "Kein Fall mit diesem Namen und Geburtsdatum."
    actions = [r[0] for r in rows(bot, "SELECT action FROM audit_event WHERE action LIKE 'case.erase%' ORDER BY id")]
    assert actions == ["case.erase-request", "case.erase-confirm", "case.erase"]
    assert bot.services.store.audit.seal() and bot.services.store.audit.verify().problems == []


async def test_a_declined_erasure_changes_nothing_and_case_managers_cannot_ask(bot):
    cm = await bot.register(Role.CASE_MANAGER, "I")
    coordinator = await bot.register(Role.COORDINATOR, None)
    admin = await bot.register(Role.ADMIN, None)
    await run_intake(cm)
    assert "🗑 Löschen" not in (await cm.send(f"/case {CODE}"))[0].button_texts()
    await cm.press_data(f"Q|{CODE}|request")
    assert cm.alerts()[-1] == "Diese Taste ist nicht mehr gültig."
    await coordinator.send(f"/case {CODE}")
    await steps(coordinator, ">🗑 Löschen", ">Einwilligung in die Dokumentation widerrufen")
    await dispatch(bot)
    await admin.press("✖ Ablehnen")
    assert admin.last().text == "Löschung von LEV-2026-0001 abgelehnt; nichts wurde geändert."
    assert rows(bot, "SELECT COUNT(*) FROM case_key") == [(1,)]


async def test_closed_cases_are_erased_after_the_retention_period_unless_held(bot, clock):
    cm = await bot.register(Role.CASE_MANAGER, "I")
    coordinator = await bot.register(Role.COORDINATOR, None)
    await run_intake(cm)
    await run_intake(cm, given_name=("send", "Omar"))
    for code in ("LEV-2026-0001", "LEV-2026-0002"):
        await steps(cm, f"/close {code}", ">weggezogen", ">✔ Speichern")
    await coordinator.send("/case LEV-2026-0002")
    await steps(coordinator, ">⚖ Aufbewahren", "Klageverfahren vor dem Sozialgericht", ">✔ Speichern")
    assert coordinator.last().text.startswith("Rechtliche Aufbewahrung für LEV-2026-0002")
    assert "Rechtliche Aufbewahrung: über die Aufbewahrungsfrist" in (await coordinator.send("/case LEV-2026-0002"))[0].text
    clock.advance(timedelta(days=3 * 365 - 1))
    await dispatch(bot)
    assert rows(bot, "SELECT code FROM client_case WHERE erased_at IS NOT NULL") == []
    clock.advance(timedelta(days=2))
    await dispatch(bot)
    assert rows(bot, "SELECT code FROM client_case WHERE erased_at IS NOT NULL") == [("LEV-2026-0001",)]
    assert rows(bot, "SELECT user_id FROM audit_event WHERE action = 'case.erase'") == [(None,)]
    # the hold released: erased at the next round
    await coordinator.send("/case LEV-2026-0002")
    await coordinator.press("⚖ Aufbewahrung aufheben")
    await dispatch(bot)
    assert len(rows(bot, "SELECT code FROM client_case WHERE erased_at IS NOT NULL")) == 2
    org = rows(bot, "SELECT id FROM organisation")[0][0]
    bot.services.store.settings.set(org, "retention.closed_years", "10")
    assert bot.services.store.erasure.rules(org).closed_years == 10


async def test_the_digest_lists_cases_erased_within_a_month(bot, clock):
    cm = await bot.register(Role.CASE_MANAGER, "I")
    coordinator = await bot.register(Role.COORDINATOR, None)
    await run_intake(cm)
    await steps(cm, f"/close {CODE}", ">weggezogen", ">✔ Speichern")
    assert "In den nächsten 30 Tagen gelöscht" not in (await coordinator.send("/digest"))[0].text
    clock.advance(timedelta(days=3 * 365 - 20))
    digest = (await coordinator.send("/digest"))[0].text
    assert "In den nächsten 30 Tagen gelöscht (Aufbewahrungsfrist endet)\nLEV-2026-0001" in digest


async def test_an_erasure_removes_at_once_what_chats_still_show_of_the_case(bot):
    cm = await bot.register(Role.CASE_MANAGER, "I")
    first = await bot.register(Role.COORDINATOR, None)
    second = await bot.register(Role.COORDINATOR, None)
    await run_intake(cm)
    await cm.send(f"/case {CODE}")
    await cm.press("👁 Namen und Details zeigen")
    revealed = cm.last()
    await first.send(f"/case {CODE}")
    await first.press("📦 Kopie (Art. 15)")
    assert any(m.document for m in bot.fake.chat(first.id))
    await steps(first, f"/case {CODE}", ">🗑 Löschen", ">Antrag der Klient:in (Art. 17 DSGVO)")
    await dispatch(bot)
    await second.press("🗑 Löschung bestätigen")
    await dispatch(bot)  # no waiting for the ten minutes
    still = bot.fake.messages.get((cm.id, revealed.message_id))
    assert still is None or "Amina" not in still.text  # deleted (a message about the case), or hidden
    assert not any(m.document for m in bot.fake.chat(first.id))


async def test_withdrawn_consent_is_erased_after_the_period_the_organisation_sets(bot, clock):
    cm = await bot.register(Role.CASE_MANAGER, "I")
    coordinator = await bot.register(Role.COORDINATOR, None)
    admin = await bot.register(Role.ADMIN, None)
    await run_intake(cm)
    org = rows(bot, "SELECT id FROM organisation")[0][0]
    bot.services.store.settings.set(org, "retention.withdrawal_days", "30")
    await steps(coordinator, f"/case {CODE}", ">🗑 Löschen", ">Einwilligung in die Dokumentation widerrufen")
    await dispatch(bot)
    await admin.press("🗑 Löschung bestätigen")
    assert admin.last().text == ("LEV-2026-0001 ist abgeschlossen: Es wird nichts mehr dokumentiert. Gelöscht wird "
                                 "nach 30 Tagen, wie es das Gesetz verlangt.")
    assert rows(bot, "SELECT status FROM client_case") == [("closed",)]
    assert rows(bot, "SELECT COUNT(*) FROM case_key") == [(1,)]  # kept for the period
    clock.advance(timedelta(days=29))
    await dispatch(bot)
    assert rows(bot, "SELECT erased_at FROM client_case") == [(None,)]
    clock.advance(timedelta(days=2))
    await dispatch(bot)
    assert rows(bot, "SELECT COUNT(*) FROM case_key") == [(0,)]


async def test_an_erasure_deletes_the_bots_messages_about_the_case(bot, clock):
    cm = await bot.register(Role.CASE_MANAGER, "I")
    first = await bot.register(Role.COORDINATOR, None)
    second = await bot.register(Role.COORDINATOR, None)
    await run_intake(cm)
    await run_intake(cm, given_name=("send", "Omar"))  # another case: its messages stay
    view = (await cm.send(f"/case {CODE}"))[0]
    await cm.press("🕓 Fallakte", view)
    timeline = cm.last()
    other = (await cm.send("/case LEV-2026-0002"))[0]
    clock.advance(timedelta(hours=1))
    await steps(first, f"/case {CODE}", ">🗑 Löschen", ">Antrag der Klient:in (Art. 17 DSGVO)")
    await dispatch(bot)
    await second.press("🗑 Löschung bestätigen")
    await dispatch(bot)
    assert (cm.id, view.message_id) not in bot.fake.messages and (cm.id, timeline.message_id) not in bot.fake.messages
    assert (cm.id, other.message_id) in bot.fake.messages
    assert rows(bot, "SELECT COUNT(*) FROM case_message WHERE case_id = (SELECT id FROM client_case WHERE code = :c)",
                c=CODE) == [(0,)]

"""A client moves from one municipality to another on the same installation: with their consent
the case goes there with its history once the receiving coordinator accepts; the sending one
keeps a closed stub (its figures, its audit trail) and nothing it may not keep."""

from __future__ import annotations

from domain.reports import Period
from domain.roles import Role
from tests.flows import run_intake
from tests.helpers import rows
from tests.test_audit import execute
from tests.test_tenancy import SOLINGEN, solingen

PLAIN = str.maketrans("", "", "\u2066\u2067\u2068\u2069")


def plain(text: str) -> str:
    return text.translate(PLAIN)


async def asked(bot):  # noqa: ANN001, ANN201
    """Leverkusen's case manager with a case (a contact in its history) asks Solingen to take it."""
    org_b = solingen(bot)
    cm_a = await bot.register(Role.CASE_MANAGER, "I")
    coordinator_b = await bot.register(Role.COORDINATOR, None, org_id=org_b)
    cm_b = await bot.register(Role.CASE_MANAGER, "Mitte", org_id=org_b)
    await run_intake(cm_a)
    view = [m for m in await cm_a.send("/case LEV-2026-0001") if m.reply_markup][0]
    await cm_a.press("🏙 Umgezogen: übergeben", view)
    await cm_a.press("Stadt Solingen")
    assert "Nur mit Einwilligung" in cm_a.last().text
    await cm_a.press("✔ Die Person ist einverstanden: übergeben")
    assert "bleibt LEV-2026-0001 bei Ihnen" in plain(cm_a.last().text)
    assert rows(bot, "SELECT status, from_org, to_org FROM org_transfer") == [("pending", 1, org_b)]
    assert await bot.services.dispatcher.dispatch_once(bot.app.bot, plan=False) == 1
    told = coordinator_b.last()
    assert "Stadt Leverkusen übergibt einen Fall" in plain(told.text) and "Amina" not in told.text
    return org_b, cm_a, coordinator_b, cm_b


async def test_a_case_moves_to_another_municipality_with_its_history(bot):
    store = bot.services.store
    org_b, cm_a, coordinator_b, cm_b = await asked(bot)
    await coordinator_b.press("✔ Annehmen")
    assert "Als Fall SOL-2026-0001 übernommen" in plain(coordinator_b.last().text)
    # the case is Solingen's now, waiting for a case manager there; Leverkusen keeps a closed stub
    assert rows(bot, "SELECT org_id, code, status, waiting_since IS NOT NULL, erased_at IS NULL FROM client_case ORDER BY id") == [
        (org_b, "SOL-2026-0001", "open", 1, 1), (1, "LEV-2026-0001", "closed", 0, 0)]
    assert rows(bot, "SELECT kid FROM case_key") == [(f"org:{org_b}",)]
    listing = plain((await coordinator_b.send("/waiting"))[0].text)
    assert "SOL-2026-0001" in listing
    await coordinator_b.press("👤 SOL-2026-0001 zuweisen")
    await coordinator_b.press(next(label for label in coordinator_b.last().button_texts() if label.startswith("Ana")))
    # its new case manager reads it with its history
    view = [m for m in await cm_b.send("/case SOL-2026-0001") if m.reply_markup][0]
    await cm_b.press("👁 Namen und Details zeigen", view)
    assert "Vorname(n): Amina" in cm_b.last().text
    await cm_b.send("/case SOL-2026-0001")
    await cm_b.press("🕓 Fallakte")
    assert "Erstberatung" in cm_b.last().text
    # Leverkusen: the code is a closed, erased case; nothing of the client is readable there
    await cm_a.send("/cases")
    assert "LEV-2026-0001" not in (await cm_a.send("/cases"))[0].text
    assert "Amina" not in "".join(m.text for m in await cm_a.send("/case LEV-2026-0001"))
    assert await bot.services.dispatcher.dispatch_once(bot.app.bot, plan=False) >= 1
    assert "Stadt Solingen hat den Fall LEV-2026-0001 übernommen" in plain(cm_a.last().text)
    # each counts what it did: Leverkusen its case of November, Solingen the one it received
    november = Period.parse("2026-11")
    assert sum(1 for _ in store.reports.facts(1, november)) >= 1
    assert sum(1 for _ in store.reports.facts(org_b, november)) >= 1
    assert store.audit.verify().problems == []
    assert {a for (a,) in rows(bot, "SELECT action FROM audit_event WHERE action LIKE 'case.transfer%'")} == {
        "case.transfer.request", "case.transfer.out", "case.transfer.in"}
    # each trail names the case by the code it had there: Leverkusen's whole history of it is
    # found by its old code (its data-protection officer knows no other), Solingen's by the new
    leverkusen = store.audit.export(1, case_code="LEV-2026-0001")
    actions = [e["action"] for e in leverkusen]
    assert actions[:4] == ["case.create", "case.view", "case.transfer.request", "case.transfer.out"]  # and a look since
    assert {e["case"] for e in leverkusen} == {"LEV-2026-0001"}
    assert not [e for e in store.audit.export(1) if e["case"] == "SOL-2026-0001"]
    solingen_trail = store.audit.export(org_b, case_code="SOL-2026-0001")
    assert "case.transfer.in" in [e["action"] for e in solingen_trail] and "case.create" not in [e["action"] for e in solingen_trail]


async def test_a_handover_declined_or_forged_changes_nothing(bot):
    org_b, cm_a, coordinator_b, cm_b = await asked(bot)
    transfer = rows(bot, "SELECT id FROM org_transfer")[0][0]
    # not the receiving coordinator: its case manager, the sender's own people
    coordinator_a = await bot.register(Role.COORDINATOR, None)
    for user in (cm_b, cm_a, coordinator_a):
        await user.press_data(f"Y|{transfer}|accept|", user.last())
        assert user.alerts()[-1] == "Diese Taste ist nicht mehr gültig."
    assert rows(bot, "SELECT status FROM org_transfer") == [("pending",)]
    await coordinator_b.press("✖ Ablehnen")
    assert "Abgelehnt; der Fall bleibt bei Stadt Leverkusen." in plain(coordinator_b.last().text)
    assert rows(bot, "SELECT org_id, code, status FROM client_case") == [(1, "LEV-2026-0001", "open")]
    await coordinator_b.press_data(f"Y|{transfer}|accept|", coordinator_b.last())  # decided already
    assert coordinator_b.alerts()[-1] == "Diese Taste ist nicht mehr gültig."
    assert await bot.services.dispatcher.dispatch_once(bot.app.bot, plan=False) >= 1
    assert "hat die Übergabe von LEV-2026-0001 abgelehnt" in plain(cm_a.last().text)
    # a person the receiving organisation has already: refused there, nothing moves
    await run_intake(cm_b, district=("press", "Mitte"))  # the same Amina Haddad, recorded in Solingen too
    view = [m for m in await cm_a.send("/case LEV-2026-0001") if m.reply_markup][0]
    await cm_a.press("🏙 Umgezogen: übergeben", view)
    await cm_a.press("Stadt Solingen")
    await cm_a.press("✔ Die Person ist einverstanden: übergeben")
    await bot.services.dispatcher.dispatch_once(bot.app.bot, plan=False)
    await coordinator_b.press("✔ Annehmen")
    assert "Diese Person ist hier schon ein Fall: SOL-2026-0001" in coordinator_b.alerts()[-1]
    assert rows(bot, "SELECT org_id, code FROM client_case ORDER BY id") == [(1, "LEV-2026-0001"), (org_b, "SOL-2026-0001")]
    assert SOLINGEN  # the other organisation's names, as the tenancy tests use them


async def test_a_case_whose_key_is_damaged_is_not_handed_over_and_the_coordinator_is_told(bot):
    """Between the request and the acceptance the case's key is damaged: the receiving
    coordinator is told the case cannot be read and nothing was handed over; nothing moved, and
    the handover can still be declined."""
    org_b, cm_a, coordinator_b, cm_b = await asked(bot)
    execute(bot, "UPDATE case_key SET wrapped = :w", w=b"\x00" * 60)
    await coordinator_b.press("✔ Annehmen")
    said = plain(coordinator_b.alerts()[-1])
    assert "können nicht gelesen werden" in said and "Es wurde nichts übergeben." in said
    assert rows(bot, "SELECT org_id, code, status FROM client_case") == [(1, "LEV-2026-0001", "open")]
    assert rows(bot, "SELECT status FROM org_transfer") == [("pending",)]
    await coordinator_b.press("✖ Ablehnen")
    assert rows(bot, "SELECT status FROM org_transfer") == [("declined",)]

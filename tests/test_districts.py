"""Districts and quarters as an admin keeps them, a case manager's capacity, border quarters
assigned by free capacity, and the waiting list when nobody has room."""

from __future__ import annotations

import subprocess
from datetime import timedelta

import pytest

from domain.organisation import Candidate, assign
from domain.roles import Role
from tests.flows import run_intake
from tests.helpers import rows
from tests.test_operations import casebot as run_cli


def user_id(bot, user) -> int:  # noqa: ANN001
    return rows(bot, "SELECT id FROM app_user WHERE telegram_id = :t", t=user.id)[0][0]


def test_assignment_rules():
    a, b, c = Candidate(1, 10, 0, 1), Candidate(2, 10, 0, 2), Candidate(3, 20, 0, 5)
    # a district's own quarter: the one with fewest open cases among those with room (ties: more room)
    assert assign(district_id=10, border_districts=(), recorder=None, recorder_id=9, candidates=(a, b, c)).user_id == 2
    # a border quarter: its district and the bordering ones
    assert assign(district_id=10, border_districts=(20,), recorder=None, recorder_id=9, candidates=(a, b, c)).user_id == 3
    # the recording case manager keeps a case of their district while they have room
    assert assign(district_id=10, border_districts=(), recorder=a, recorder_id=1, candidates=(a, b, c)).user_id == 1
    full = (Candidate(1, 10, 1, 1), Candidate(2, 10, 2, 2))
    waiting = assign(district_id=10, border_districts=(), recorder=full[0], recorder_id=1, candidates=full)
    assert waiting.waiting and waiting.user_id == 1
    # nobody serves the district: the recording user keeps it, as before capacities
    alone = assign(district_id=30, border_districts=(), recorder=None, recorder_id=9, candidates=full)
    assert alone.user_id == 9 and not alone.waiting


async def test_an_admin_keeps_a_district_in_the_chat(bot):
    admin = await bot.register(Role.ADMIN, None)
    shown = (await admin.send("/districts"))[0]
    assert "<b>Bezirke</b>" in shown.text or "Bezirke" in shown.text
    assert "✏️ I" in shown.button_texts() and "➕ Neuer Bezirk" in shown.button_texts()
    await admin.press("✏️ I")
    assert "Name des Bezirks" in admin.last().text
    await admin.send("Opladen")
    await admin.send("Rheindorf, Hitdorf,  Rheindorf")  # tidied: each once
    await admin.press("Hitdorf")
    await admin.press("Fertig")
    await admin.press("II")
    await admin.press("Fertig")
    await admin.press("✔ Speichern")
    saved = admin.last().text.replace("\u2068", "").replace("\u2069", "")
    assert "Bezirk I · Opladen gespeichert: 2 Stadtteile, davon 1 Grenzquartiere." in saved
    store = bot.services.store
    org = store.staff.first_organisation_id()
    assert store.staff.district_by_code(org, "I").name == "Opladen"
    assert store.settings.quarters(org)["I"] == ("Rheindorf", "Hitdorf")
    assert store.settings.borders(org)["I"].of("hitdorf") == ("II",)
    # one save, one entry in the audit trail (its quarters, borders and neighbours are part of it)
    assert [r[0] for r in rows(bot, "SELECT action FROM audit_event WHERE action LIKE 'district.%' OR action = 'settings.change'")] == [
        "district.change"]
    # a new district, with a code checked first
    await admin.send("/districts")
    assert "Grenzquartiere: " in admin.last().text
    await admin.press("➕ Neuer Bezirk")
    await admin.send("I")
    assert "Es gibt bereits einen Bezirk mit diesem Kürzel." in admin.last().text
    await admin.send("Nord")
    await admin.send("Nordbezirk")
    await admin.send("Bergisch Neukirchen")
    await admin.press("Fertig")  # no border quarters
    await admin.press("✔ Speichern")
    assert [d.code for d in store.staff.districts(org)] == ["I", "II", "III", "Nord"]
    # an intake offers it by name at once
    cm = await bot.register(Role.CASE_MANAGER, "I")
    await run_intake(cm, district=("press", "Nordbezirk"), quarter=("press", "Bergisch Neukirchen"))
    assert rows(bot, "SELECT d.code FROM client_case c JOIN district d ON d.id = c.district_id") == [("Nord",)]
    # not for others
    assert (await cm.send("/districts"))[0].text == "Nur Admins pflegen die Bezirke."
    await cm.press_data("W|I", cm.last())
    assert cm.alerts()[-1] == "Diese Taste ist nicht mehr gültig."


async def test_border_quarters_go_by_free_capacity_and_a_full_district_waits(bot):
    store = bot.services.store
    org = store.staff.first_organisation_id()
    admin = await bot.register(Role.ADMIN, None)
    coordinator = await bot.register(Role.COORDINATOR, None)
    first, second, neighbour = [await bot.register(Role.CASE_MANAGER, d) for d in ("I", "I", "II")]
    operator = store.staff.user_by_id(user_id(bot, admin))
    store.staff.save_district(operator, code="I", name="Opladen", quarters=("Rheindorf", "Hitdorf"), border=("Hitdorf",),
                              neighbours=("II",))
    # capacities: in the chat for the first, as the CLI would for the others
    await admin.send("/staff")
    await admin.press(next(label for label in admin.last().button_texts() if label.startswith("3.")))
    await admin.press("📦 Kapazität: –")
    await admin.press("10")
    assert "höchstens 10 offene Fälle" in admin.last().text
    store.lifecycle.set_capacity(operator, user_id(bot, first), 1)
    store.lifecycle.set_capacity(operator, user_id(bot, second), 2)
    store.lifecycle.set_capacity(operator, user_id(bot, neighbour), 5)
    people = [("Hitdorf", "Amina"), ("Rheindorf", "Samira"), ("Rheindorf", "Layla"), ("Rheindorf", "Nour"),
              ("Rheindorf", "Hana")]
    for quarter, name in people:
        await run_intake(coordinator, given_name=("send", name), district=("press", "Opladen"), quarter=("send", quarter))
    holders = rows(bot, "SELECT assigned_to, waiting_since IS NOT NULL FROM client_case ORDER BY id")
    ids = {u: user_id(bot, u) for u in (first, second, neighbour, coordinator)}
    assert holders == [
        (ids[neighbour], 0),  # a border quarter: the neighbouring district's case manager has the most room
        (ids[second], 0),  # Opladen's own: both empty, the second has more room
        (ids[first], 0),  # fewer open cases
        (ids[second], 0),  # the first is full
        (ids[coordinator], 1),  # everyone in Opladen is full: the waiting list
    ]
    assert "Warteliste" in coordinator.last().text and "/waiting" in coordinator.last().text
    listing = (await coordinator.send("/waiting"))[0]
    assert "LEV-2026-0005 · Bezirk I" in listing.text.replace("\u2068", "").replace("\u2069", "")
    await coordinator.press("👤 LEV-2026-0005 zuweisen", listing)
    await coordinator.press(next(label for label in coordinator.last().button_texts() if "Bezirk II" in label))
    assert rows(bot, "SELECT assigned_to, waiting_since FROM client_case WHERE code = 'LEV-2026-0005'") == [
        (ids[neighbour], None)]
    assert (await coordinator.send("/waiting"))[0].text == "Kein Fall wartet auf eine Case Managerin oder einen Case Manager."
    # a case manager does not see the waiting list
    assert (await first.send("/waiting"))[0].text == "Nur Koordinator:innen weisen wartende Fälle zu."
    assert org


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # the commands; the data is tested on both
def test_districts_and_capacity_from_the_command_line(bot, tmp_path):
    env = {"DATABASE_URL": bot.settings.database_url, "MASTER_KEY_FILE": str(bot.settings.master_key_file)}

    def casebot(*args: str) -> subprocess.CompletedProcess:
        return run_cli(*args, env=env, cwd=tmp_path)

    done = casebot("districts", "set", "I", "--name", "Opladen", "--quarters", "Rheindorf, Hitdorf", "--border", "Hitdorf",
                   "--neighbours", "II")
    assert done.returncode == 0, done.stderr
    listed = casebot("districts", "list").stdout
    assert "Opladen" in listed and "border quarters: Hitdorf -> II" in listed
    assert casebot("districts", "set", "I", "--border", "Nowhere").returncode == 2  # not one of its quarters
    assert casebot("districts", "set", "I", "--border", "Hitdorf", "--neighbours", "XX").returncode == 2
    assert casebot("districts", "add", "I").returncode == 2  # exists
    assert casebot("districts", "add", "IV", "--name", "Nord").returncode == 0
    assert rows(bot, "SELECT code, name FROM district ORDER BY id")[-1] == ("IV", "Nord")
    org = bot.services.store.staff.first_organisation_id()
    code = bot.services.store.staff.create_invitation(org_id=org, role=Role.CASE_MANAGER,
                                                      district_id=bot.services.store.staff.district_by_code(org, "I").id,
                                                      expires_in=timedelta(days=1), created_by=None)
    bot.services.store.staff.redeem_invitation(code=code, telegram_id=777, language="de")
    member = rows(bot, "SELECT id FROM app_user WHERE telegram_id = 777")[0][0]
    assert casebot("staff", "capacity", str(member), "--max", "30").returncode == 0
    assert rows(bot, "SELECT capacity FROM app_user WHERE id = :i", i=member) == [(30,)]
    assert casebot("staff", "capacity", str(member)).returncode == 0
    assert rows(bot, "SELECT capacity FROM app_user WHERE id = :i", i=member) == [(None,)]

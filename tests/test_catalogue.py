"""The catalogue of services: admins export it, edit it and send it back; the CLI does the same."""

from __future__ import annotations

import json

from domain.roles import Role
from tests.helpers import rows
from tests.test_operations import casebot


async def export(admin, bot) -> dict:  # noqa: ANN001
    await admin.send("/services")
    await admin.press("📤 Export as file")
    document = admin.last().document
    return json.loads(bot.fake.api.files[document["file_id"]]["content"])


async def test_admins_export_edit_and_import_the_catalogue(bot):
    admin = await bot.register(Role.ADMIN, None, language_code="en")
    listing = (await admin.send("/services"))[0].text
    assert "Catalogue of services · 15 active" in listing and "Jugendmigrationsdienst (JMD)\n" in listing and "(JMD) (JMD)" not in listing
    catalogue = await export(admin, bot)
    services = catalogue["services"]
    assert {s["key"] for s in services} >= {"jobcenter", "jmd", "mbe", "teilhabe", "sozialamt", "abh"}
    jmd = next(s for s in services if s["key"] == "jmd")
    assert (jmd["min_age"], jmd["max_age"]) == (12, 27)
    # a broken file: nothing changes, every problem is named
    broken = [dict(services[0], max_age=500), dict(services[1], domains="work,space"), dict(services[2], key="Bad Key!")]
    replies = await admin.send_document("services.json", json.dumps({"services": broken}).encode())
    assert replies[0].text.startswith("Nothing was changed. Please correct:")
    assert "Service 1: max_age: a whole number from 0 to 120, or null" in replies[0].text
    assert "Service 2: domains: unknown space" in replies[0].text and "Service 3: key:" in replies[0].text
    assert rows(bot, "SELECT COUNT(*) FROM service WHERE active")[0][0] == 15
    # a good one: renamed, one added, one left out (deactivated, not deleted)
    edited = [dict(s, name="Jobcenter Leverkusen") if s["key"] == "jobcenter" else s for s in services if s["key"] != "ehrenamt"]
    edited.append({"key": "frauenberatung", "name": "Frauenberatungsstelle <Süd>", "domains": "family,health",
                   "min_age": 18, "max_age": None, "statuses": "", "legal_area": "", "programme": "", "contact": "", "active": True})
    replies = await admin.send_document("services.json", json.dumps({"services": edited}).encode())
    assert replies[0].text == "Catalogue updated: 15 services. Here is the previous version, should you want it back."
    backup = json.loads(bot.fake.api.files[replies[0].document["file_id"]]["content"])
    assert backup == catalogue
    assert rows(bot, "SELECT name FROM service WHERE key = 'jobcenter'") == [("Jobcenter Leverkusen",)]
    assert rows(bot, "SELECT active FROM service WHERE key = 'ehrenamt'") == [(False,)]
    assert "Frauenberatungsstelle <Süd>" in (await admin.send("/services"))[0].text  # escaped, shown as text
    assert rows(bot, "SELECT action FROM audit_event ORDER BY id DESC")[0] == ("catalogue.import",)


async def test_only_admins_keep_the_catalogue(bot):
    cm = await bot.register(Role.CASE_MANAGER, "I")
    assert (await cm.send("/services"))[0].text == "Nur Admins pflegen den Katalog der Angebote."
    replies = await cm.send_document("services.json", b'{"services": []}')
    assert replies[0].text.startswith("Ich nehme hier nur Text und Tasten an")
    await cm.press_data("s|export", cm.last())
    assert cm.alerts()[-1] == "Diese Taste ist nicht mehr gültig."


async def test_a_file_that_is_no_catalogue(bot):
    admin = await bot.register(Role.ADMIN, None)
    replies = await admin.send_document("notes.txt", "Ärger \x00".encode("latin-1"), "text/plain")
    assert replies[0].text.startswith("Das ist keine Katalogdatei.")


def test_the_cli_exports_and_imports(tmp_path):
    env = {"DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3", "MASTER_KEY_FILE": str(tmp_path / "master.key")}
    assert casebot("init", env=env, cwd=tmp_path).returncode == 0
    exported = casebot("services", "export", str(tmp_path / "services.json"), env=env, cwd=tmp_path)
    assert exported.returncode == 0
    data = json.loads((tmp_path / "services.json").read_text())
    data["services"][0]["min_age"] = -3
    (tmp_path / "bad.json").write_text(json.dumps(data))
    refused = casebot("services", "import", str(tmp_path / "bad.json"), env=env, cwd=tmp_path)
    assert refused.returncode == 2 and "service 1: min_age" in refused.stderr
    data["services"][0]["min_age"] = 16
    (tmp_path / "good.json").write_text(json.dumps(data))
    imported = casebot("services", "import", str(tmp_path / "good.json"), env=env, cwd=tmp_path)
    assert imported.returncode == 0 and "imported 15 services" in imported.stdout

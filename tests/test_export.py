"""The data subject's access (Art. 15, issue 11): everything stored about a client, and nothing
of anyone else, as JSON and as a readable document in German and the client's language."""

from __future__ import annotations

import json
from datetime import timedelta

from domain.roles import Role
from tests.flows import run_intake
from tests.helpers import rows
from tests.test_reminders import dispatch

CODE = "LEV-2026-0001"


async def steps(user, *actions: str) -> None:  # noqa: ANN001
    for action in actions:
        await (user.press(action[1:]) if action.startswith(">") else user.send(action))


def documents(bot, user) -> dict[str, bytes]:  # noqa: ANN001
    return {m.document["file_name"]: bot.fake.api.files[m.document["file_id"]]["content"]
            for m in bot.fake.chat(user.id) if m.document}


async def test_the_copy_holds_everything_written_and_nothing_of_another_case(bot, clock):
    cm = await bot.register(Role.CASE_MANAGER, "I")
    coordinator = await bot.register(Role.COORDINATOR, None)
    await run_intake(cm)  # speaks Arabic (languages: ar)
    await run_intake(cm, given_name=("send", "Omar"), family_name=("send", "Nabil"), note=("send", "Anderer Fall"))
    await steps(cm, f"/note {CODE}", ">heute", ">Hausbesuch", "Wohnung besichtigt, Schimmel im Bad", ">✔ Speichern")
    await steps(cm, f"/goal {CODE}", ">Wohnen", "Größere Wohnung finden", ">die Klient:in", "30.06.2027", ">✔ Speichern")
    await steps(cm, f"/refer {CODE}", ">Qualifizierung", ">★ Jobcenter", "Arbeitssuche und Anerkennung", ">Einwilligung erteilt",
                ">Qualifizierung", ">Fertig", ">✔ Speichern")
    assert "📦 Kopie (Art. 15)" not in (await cm.send(f"/case {CODE}"))[0].button_texts()  # coordinators only
    await coordinator.send(f"/case {CODE}")
    await coordinator.press("📦 Kopie (Art. 15)")
    files = documents(bot, coordinator)
    assert set(files) == {f"{CODE}-art15.json", f"{CODE}-art15-de.html", f"{CODE}-art15-ar.html"}
    data = json.loads(files[f"{CODE}-art15.json"])
    assert data["intake"]["given_name"] == "Amina" and data["intake"]["note"] == "Sucht einen Kita-Platz"
    assert data["intake"]["phone"] == "+49 171 1234567" and data["intake"]["address"] == "Kölner Str. 12"
    assert data["contacts"][0]["note"] == "Wohnung besichtigt, Schimmel im Bad"
    assert data["goals"][0]["goal"] == "Größere Wohnung finden"
    [referral] = data["referrals"]
    assert referral["service"] == "Jobcenter" and referral["purpose"] == "Arbeitssuche und Anerkennung"
    assert referral["consent_given"].startswith("2026-11-24") and referral["shared_life_domains"] == ["work"]
    assert [e["kind"] for e in data["case_file"]][:1] == ["intake"]
    everything = b"".join(files.values())
    assert b"Omar" not in everything and b"Anderer Fall" not in everything and b"Nabil" not in everything
    german, arabic = files[f"{CODE}-art15-de.html"].decode(), files[f"{CODE}-art15-ar.html"].decode()
    assert "Kölner Str. 12" in german and "Familienname" in german and 'dir="ltr"' in german
    assert 'dir="rtl"' in arabic and "ملف الحالة" in arabic and "Schimmel" in arabic
    assert rows(bot, "SELECT COUNT(*) FROM audit_event WHERE action = 'case.export'") == [(1,)]
    # the files leave the chat again, like names shown on request
    clock.advance(timedelta(minutes=11))
    await dispatch(bot)
    assert documents(bot, coordinator) == {}


async def test_an_erased_case_has_nothing_left_to_copy(bot):
    cm = await bot.register(Role.CASE_MANAGER, "I")
    coordinator = await bot.register(Role.COORDINATOR, None)
    admin = await bot.register(Role.ADMIN, None)
    await run_intake(cm)
    await steps(coordinator, f"/case {CODE}", ">🗑 Löschen", ">Antrag der Klient:in (Art. 17 DSGVO)")
    await dispatch(bot)
    await admin.press("🗑 Löschung bestätigen")
    coord = bot.services.store.staff.user_by_telegram_id(coordinator.id)
    data = bot.services.store.export.export(coord, CODE)
    assert data["intake"] == {} and data["contacts"] == [] and data["case"]["code"] == CODE


async def test_the_command_line_writes_the_copy_to_a_folder(bot, tmp_path):
    from tests.test_operations import casebot

    cm = await bot.register(Role.CASE_MANAGER, "I")
    await run_intake(cm)
    env = {"DATABASE_URL": bot.settings.database_url, "MASTER_KEY_FILE": str(bot.settings.master_key_file)}
    result = casebot("export", CODE, str(tmp_path / "out"), env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [f"{CODE}-art15-ar.html", f"{CODE}-art15-de.html",
                                                                    f"{CODE}-art15.json"]
    assert "Amina" in (tmp_path / "out" / f"{CODE}-art15.json").read_text()
    assert casebot("export", "LEV-2026-9999", env=env, cwd=tmp_path).returncode == 2

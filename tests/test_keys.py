"""The master key (issue 11): where it may come from, and its rotation while the bot runs."""

from __future__ import annotations

import pytest

from bot.app import load_keyring
from domain.roles import Role
from storage.crypto import CryptoError, Keyring
from tests.conftest import make_settings
from tests.flows import INTAKE_STEPS, do, run_intake
from tests.helpers import rows
from tests.test_operations import casebot


def test_a_key_file_others_may_read_is_refused(tmp_path):
    path = tmp_path / "master.key"
    Keyring.generate().save(path)
    path.chmod(0o644)
    with pytest.raises(CryptoError, match="readable or writable by others: chmod 600"):
        Keyring.load(path)
    path.chmod(0o640)  # a group (the service's) may read it: Kubernetes secrets with fsGroup
    assert Keyring.load(path).active_kid == "k1"


def test_the_key_may_come_from_the_environment(tmp_path):
    ring = Keyring.generate()
    settings = make_settings(f"sqlite:///{tmp_path}/db.sqlite3", tmp_path, master_key=ring.to_text())
    loaded = load_keyring(settings)
    assert settings.has_master_key and not settings.master_key_file.exists()
    assert loaded.blind_index("x", "y") == ring.blind_index("x", "y") and loaded.source is None
    assert "keys" not in repr(settings.master_key)  # a SecretStr: never printed


async def test_a_rotation_while_a_dialogue_is_open_loses_nothing(bot):
    store, path = bot.services.store, bot.settings.master_key_file
    cm = await bot.register(Role.CASE_MANAGER, "I")
    await run_intake(cm)  # LEV-2026-0001, its key wrapped by k1
    await cm.send("/new")  # a second intake, half-way: its draft key wrapped by k1 too
    for name in ("consent", "source"):
        await do(cm, *INTAKE_STEPS[name])
    await cm.send("Samira")
    # another process rotates: a new active key in the file ...
    Keyring.load(path).rotated().save(path)
    store.keyring.refresh(force=True)
    assert store.keyring.active_kid == "k2" and store.keys.in_use() == {"k1": 2}
    # ... every wrapped key moved to it, one at a time (as if interrupted after each and resumed)
    assert store.keys.rewrap(batch=1) == 2
    assert store.keys.in_use() == {"k2": 2}
    # the dialogue goes on where it stood, and is saved under the new key
    steps = list(INTAKE_STEPS.items())
    for name, step in steps[steps.index(("family_name", INTAKE_STEPS["family_name"])):]:
        await do(cm, *(("send", "01.02.1990") if name == "birth_date" else step))
    await cm.press("✔ Speichern")
    assert cm.last().text.startswith("Gespeichert als Fall LEV-2026-0002.")
    # the old key is retired by the command line, and the running bot follows the file
    env = {"DATABASE_URL": bot.settings.database_url, "MASTER_KEY_FILE": str(path)}
    result = casebot("rotate-key", "--resume", "--no-wait", env=env, cwd=path.parent)
    assert result.returncode == 0, result.stderr
    assert "0 keys moved to k2; retired: k1" in result.stdout
    assert Keyring.load(path).kids == {"k2"}
    store.keyring.refresh(force=True)
    assert store.keyring.kids == {"k2"}
    for code, name in (("LEV-2026-0001", "Amina"), ("LEV-2026-0002", "Samira")):
        await cm.send(f"/case {code}")
        await cm.press("👁 Namen und Details zeigen")
        assert f"Vorname(n): {name}" in cm.last().text
    # the case keys are wrapped by the organisation's key, and that by the new master key
    assert {r[0] for r in rows(bot, "SELECT kid FROM case_key")} == {"org:1"}
    assert rows(bot, "SELECT key_kid FROM organisation") == [("k2",)]


def test_the_command_line_rotates_and_retires(tmp_path):
    env = {"DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3", "MASTER_KEY_FILE": str(tmp_path / "master.key")}
    assert casebot("init", env=env, cwd=tmp_path).returncode == 0
    result = casebot("rotate-key", "--no-wait", env=env, cwd=tmp_path)
    assert result.returncode == 0 and "new master key k2 is active" in result.stdout
    assert "retired: k1" in result.stdout and Keyring.load(tmp_path / "master.key").kids == {"k2"}
    from_env = casebot("rotate-key", env={**env, "MASTER_KEY": Keyring.generate().to_text()}, cwd=tmp_path)
    assert from_env.returncode == 2 and "rotate it in your secret store" in from_env.stderr
    assert "keys" not in from_env.stderr


async def test_agenda_points_of_an_earlier_version_are_encrypted_and_rotated(bot):
    from datetime import date

    from sqlalchemy import text

    store = bot.services.store
    cm = await bot.register(Role.CASE_MANAGER, "I")
    user_id = rows(bot, "SELECT id FROM app_user WHERE telegram_id = :t", t=cm.id)[0][0]
    with store.engine.begin() as connection:  # as version 0.1 wrote it: in the clear
        connection.execute(text("INSERT INTO agenda_item (org_id, meeting_on, user_id, text, created_at) "
                                "VALUES (1, :d, :u, 'Frau Haddad braucht Hilfe', :c)"),
                           {"d": date(2026, 12, 1), "u": user_id, "c": store.clock.now()})
    assert store.jourfixe.encrypt_plaintext() == 1
    assert rows(bot, "SELECT text FROM agenda_item") == [("",)]
    assert [i.text for i in store.jourfixe.items(1, date(2026, 12, 1))] == ["Frau Haddad braucht Hilfe"]
    path = bot.settings.master_key_file
    Keyring.load(path).rotated().save(path)
    store.keyring.refresh(force=True)
    # the agenda point and the organisation's key (which wraps the case keys)
    assert store.keys.rewrap() == 2 and store.keys.in_use() == {"k2": 2}
    assert [i.text for i in store.jourfixe.items(1, date(2026, 12, 1))] == ["Frau Haddad braucht Hilfe"]

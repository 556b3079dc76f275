"""A restore drill, as the data-protection officer asks for it (Art. 32(1)(c)): back up while
the bot runs, destroy the database, restore; every case readable, the audit chain intact,
scheduled messages neither lost nor sent twice, and the key never in the backup."""

from __future__ import annotations

from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

from domain.roles import Role
from tests.conftest import POSTGRES_ADMIN_URL, start_bot
from tests.flows import run_intake
from tests.helpers import rows
from tests.telegram_fake import TgUser
from tests.test_operations import casebot


def destroy(bot) -> None:  # noqa: ANN001
    """The database gone: the SQLite file deleted, the PostgreSQL database dropped and made anew (empty)."""
    url = bot.settings.database_url
    bot.services.store.close()
    if url.startswith("sqlite"):
        for suffix in ("", "-wal", "-shm"):
            Path(make_url(url).database + suffix).unlink(missing_ok=True)
        return
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')


async def test_a_restore_drill(bot, tmp_path, clock):
    cm = await bot.register(Role.CASE_MANAGER, "I")
    await run_intake(cm)
    store = bot.services.store
    # one message already sent, one due: after the restore the sent one stays sent, the due one goes once
    staff = store.staff.user_by_telegram_id(cm.id)
    case_id = rows(bot, "SELECT id FROM client_case")[0][0]
    store.outbox.schedule_for(org_id=staff.org_id, user_id=staff.id, kind="case-reassigned", ref_id=case_id,
                              due_at=store.clock.now(), key="drill:due")
    store.audit.seal()
    env = {"DATABASE_URL": bot.settings.database_url, "MASTER_KEY_FILE": str(bot.settings.master_key_file)}
    made = casebot("backup", str(tmp_path / "backup" / "casebot.backup"), env=env, cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    assert "the master key is not in it" in made.stdout
    copy = (tmp_path / "backup" / "casebot.backup").read_bytes()
    assert store.keyring.to_text().encode() not in copy and b"Amina" not in copy and b"Haddad" not in copy
    before = rows(bot, "SELECT code FROM client_case"), rows(bot, "SELECT dedupe_key, state FROM outbox ORDER BY id")
    destroy(bot)
    refused = casebot("restore", str(tmp_path / "nothing-here"), env=env, cwd=tmp_path)
    assert refused.returncode == 2 and "no such backup file" in refused.stderr
    restored = casebot("restore", str(tmp_path / "backup" / "casebot.backup"), env=env, cwd=tmp_path)
    assert restored.returncode == 0, restored.stdout + restored.stderr
    assert "1 cases readable with this key file" in restored.stdout and "intact" in restored.stdout
    assert "scheduled messages still due: 1" in restored.stdout
    # a second restore over a database with data wants --force
    assert casebot("restore", str(tmp_path / "backup" / "casebot.backup"), env=env, cwd=tmp_path).returncode == 2
    # the bot on the restored database: the case reads, the due message goes out once
    app, fake, services = await start_bot(bot.settings, clock)
    try:
        bot.app, bot.fake, bot.services = app, fake, services
        assert (rows(bot, "SELECT code FROM client_case"), rows(bot, "SELECT dedupe_key, state FROM outbox ORDER BY id")) \
            == before
        again = TgUser(app, fake, cm.id)
        view = [m for m in await again.send("/case LEV-2026-0001") if m.reply_markup][0]
        await again.press("👁 Namen und Details zeigen", view)
        assert "Vorname(n): Amina" in again.last().text
        assert await services.dispatcher.dispatch_once(app.bot, plan=False) == 1
        assert await services.dispatcher.dispatch_once(app.bot, plan=False) == 0
        assert services.store.audit.verify().problems == []
        # with another key file the drill says so
        other = tmp_path / "other" / "master.key"
        assert casebot("init", env={"DATABASE_URL": f"sqlite:///{tmp_path / 'other' / 'x.sqlite3'}",
                                    "MASTER_KEY_FILE": str(other)}, cwd=tmp_path).returncode == 0
        wrong_key = casebot("restore", "--force", str(tmp_path / "backup" / "casebot.backup"),
                            env={**env, "MASTER_KEY_FILE": str(other)}, cwd=tmp_path)
        assert wrong_key.returncode == 1 and "1 NOT" in wrong_key.stdout
    finally:
        await app.shutdown()

"""An organisation handed over as a whole: switched off on a shared installation, written into
an archive encrypted with a passphrase, and brought into a new installation with a master key
of its own, where its staff go on with every case readable, its indexes and audit trail
renewed, and nothing of the other organisations along."""

from __future__ import annotations

import secrets
import subprocess
from datetime import date
from pathlib import Path

import psycopg
from sqlalchemy import text

from domain.roles import Role
from storage.crypto import Keyring
from tests.conftest import POSTGRES_ADMIN_URL, make_settings, start_bot
from tests.flows import run_intake
from tests.helpers import rows
from tests.telegram_fake import TgUser
from tests.test_operations import casebot as run_cli
from tests.test_tenancy import SOLINGEN, solingen

PASSPHRASE = "Korrekt Pferd Batterie 42"


def casebot(env: dict, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return run_cli(*args, env={"ORG_ARCHIVE_PASSPHRASE": PASSPHRASE, **env}, cwd=cwd)


def second_database(bot, tmp_path: Path):  # noqa: ANN001, ANN201
    """An empty database of the same kind as the first installation's (and how to drop it)."""
    if bot.settings.database_url.startswith("sqlite"):
        return f"sqlite:///{tmp_path / 'new' / 'casebot.sqlite3'}", lambda: None
    name = f"casebot_test_{secrets.token_hex(6)}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0]
    return f"{base}/{name}".replace("postgresql://", "postgresql+psycopg://", 1), drop


async def test_an_organisation_moves_to_an_installation_of_its_own(bot, tmp_path, clock):
    store = bot.services.store
    org_b = solingen(bot)
    cm_a = await bot.register(Role.CASE_MANAGER, "I")
    cm_b = await bot.register(Role.CASE_MANAGER, "Mitte", org_id=org_b)
    coordinator_b = await bot.register(Role.COORDINATOR, None, org_id=org_b)
    referrer_b = await bot.register(Role.REFERRER, None, org_id=org_b)
    await run_intake(cm_b, **SOLINGEN, district=("press", "Mitte"))
    await run_intake(cm_a)  # Leverkusen's, which then moves to Solingen (its creator stays behind)
    staff = {u: store.staff.user_by_telegram_id(u.id) for u in (cm_a, cm_b, coordinator_b, referrer_b)}
    transfer = store.transfers.request(staff[cm_a], "LEV-2026-0001", to_org=org_b)
    store.transfers.decide(staff[coordinator_b], transfer, accept=True)
    store.requests.send(staff[referrer_b], source="fb33", body={"given_name": "Nour", "family_name": "Saleh",
                                                                "reason": "Wohnung"})
    store.documents.set_contact(staff[cm_b], "Tel. 0212 290-0, Mo-Do 9-12")
    env = {"DATABASE_URL": bot.settings.database_url, "MASTER_KEY_FILE": str(bot.settings.master_key_file)}
    refused = casebot(env, tmp_path, "org", "export", "--org", "SOL", "--file", str(tmp_path / "sol.kimorg"))
    assert refused.returncode == 2 and "switch the organisation off" in refused.stderr
    store.organisations.set_disabled(org_b, True)
    written = casebot(env, tmp_path, "org", "export", "--org", "SOL", "--file", str(tmp_path / "sol.kimorg"))
    assert written.returncode == 0, written.stderr
    archive = (tmp_path / "sol.kimorg").read_bytes()
    for needle in (b"Zainab", b"Solingen", b"Tel. 0212", b"SOL-2026", b"Mitte"):
        assert needle not in archive  # encrypted as a whole
    # a new installation: another database, another master key
    url, drop = second_database(bot, tmp_path)
    try:
        (tmp_path / "new").mkdir()
        new_env = {"DATABASE_URL": url, "MASTER_KEY_FILE": str(tmp_path / "new" / "keys" / "master.key")}
        wrong = casebot({**new_env, "ORG_ARCHIVE_PASSPHRASE": "not the passphrase"}, tmp_path, "org", "import",
                        "--file", str(tmp_path / "sol.kimorg"))
        assert wrong.returncode == 2 and "passphrase does not open" in wrong.stderr
        done = casebot(new_env, tmp_path, "org", "import", "--file", str(tmp_path / "sol.kimorg"))
        assert done.returncode == 0, done.stderr
        again = casebot(new_env, tmp_path, "org", "import", "--file", str(tmp_path / "sol.kimorg"))
        assert again.returncode == 2 and "holds an organisation already" in again.stderr
        assert Keyring.load(tmp_path / "new" / "keys" / "master.key").to_text() != store.keyring.to_text()
        settings = make_settings(url, tmp_path / "new")
        app, fake, services = await start_bot(settings, clock)
        try:
            new = services.store
            assert [(o.prefix, o.state) for o in new.organisations.list()] == [("SOL", "disabled")]
            assert new.organisations.set_disabled(org_b, False)
            manager = TgUser(app, fake, cm_b.id, first_name="Ana", language_code="de")
            coordinator = TgUser(app, fake, coordinator_b.id, first_name="Ana", language_code="de")
            assert "SOL-2026-0001" in (await manager.send("/cases"))[0].text
            assert "SOL-2026-0002" in (await coordinator.send("/waiting"))[0].text  # the case that came from Leverkusen
            for person, code, name in ((manager, "SOL-2026-0001", "Zainab"), (coordinator, "SOL-2026-0002", "Amina")):
                view = [m for m in await person.send(f"/case {code}") if m.reply_markup][0]
                await person.press("👁 Namen und Details zeigen", view)
                assert f"Vorname(n): {name}" in person.last().text
            # the indexes were computed again with this installation's secret: the duplicate check works
            index = new.cases.person_index(org_id=org_b, given_name="Zainab", family_name="Quraishi",
                                           birth_date=date(1993, 9, 17))
            assert new.cases.code_of_person(org_id=org_b, person_index=index) == "SOL-2026-0001"
            assert new.documents.contact(new.staff.user_by_telegram_id(cm_b.id)) == "Tel. 0212 290-0, Mo-Do 9-12"
            assert [line.id for line in new.requests.inbox(new.staff.user_by_telegram_id(coordinator_b.id))] == [1]
            assert new.audit.verify().problems == []
            with new.engine.connect() as c:  # nothing of Leverkusen came along but a stand-in for its colleague
                assert c.execute(text("SELECT COUNT(*) FROM app_user WHERE org_id != :o"), {"o": org_b}).scalar() == 0
                assert c.execute(text("SELECT COUNT(*) FROM client_case")).scalar() == 2
            # new rows get ids after the imported ones
            await run_intake(manager, given_name=("send", "Samira"), district=("press", "Mitte"))
            assert "SOL-2026-0003" in manager.last().text
        finally:
            await app.shutdown()
            services.store.close()
    finally:
        drop()
    # the shared installation is as it was
    assert rows(bot, "SELECT COUNT(*) FROM client_case WHERE org_id = :o", o=org_b) == [(2,)]

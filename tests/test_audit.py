"""The audit trail you can trust and read (issue 11): a keyed hash chain that `casebot audit
verify` checks, and the export of one case's or one user's trail."""

from __future__ import annotations

import json

from sqlalchemy import text

from domain.roles import Role
from tests.flows import run_intake
from tests.helpers import rows
from tests.test_operations import casebot


async def audited_case(bot):  # noqa: ANN001, ANN201
    cm = await bot.register(Role.CASE_MANAGER, "I")
    await run_intake(cm)
    for _ in range(3):
        await cm.send("/case LEV-2026-0001")
    return cm


def execute(bot, sql: str, **params) -> None:  # noqa: ANN001, ANN003
    with bot.services.store.engine.begin() as connection:
        connection.execute(text(sql), params)


async def test_a_sealed_trail_verifies_and_every_kind_of_tampering_is_found(bot):
    await audited_case(bot)
    chain = bot.services.store.audit
    count = rows(bot, "SELECT COUNT(*) FROM audit_event")[0][0]
    assert chain.seal() == count and chain.seal() == 0  # sealed once
    result = chain.verify()
    assert result.checked == count and result.problems == [] and result.unsealed == 0 and result.head[0] == count
    # an entry changed (someone hides that a case was viewed by making it look like another action)
    execute(bot, "UPDATE audit_event SET action = 'case.find' WHERE seq = 3")
    assert [(p.seq, p.what) for p in chain.verify().problems] == [(3, "changed, or not in its place")]
    execute(bot, "UPDATE audit_event SET action = (SELECT action FROM audit_event WHERE seq = 4) WHERE seq = 3")
    # an entry removed
    execute(bot, "DELETE FROM audit_event WHERE seq = 5")
    problems = [(p.seq, p.what) for p in chain.verify().problems]
    assert (5, "missing (up to 5)") in problems
    # entries moved about: two places swapped
    execute(bot, "UPDATE audit_event SET seq = -1 WHERE seq = 6")
    execute(bot, "UPDATE audit_event SET seq = 6 WHERE seq = 7")
    execute(bot, "UPDATE audit_event SET seq = 7 WHERE seq = -1")
    assert {p.seq for p in chain.verify().problems} >= {6, 7}
    # new entries keep chaining after the last sealed one
    before = chain.verify().checked
    await bot.user().send("/start")  # a stranger: nothing audited
    assert chain.seal() == 0 and chain.verify().checked == before


async def test_the_chain_cannot_be_rebuilt_without_the_key(bot):
    """Someone with the database but not the key file changes an entry and recomputes the hashes
    the obvious way: the keyed chain does not match."""
    import hashlib

    await audited_case(bot)
    chain = bot.services.store.audit
    chain.seal()
    forged = hashlib.sha256(b"forged").hexdigest()
    execute(bot, "UPDATE audit_event SET detail = 'nothing', chain = :c WHERE seq = 2", c=forged)
    assert [p.seq for p in chain.verify().problems][:1] == [2]


async def test_the_command_line_verifies_and_exports(bot, tmp_path):
    cm = await audited_case(bot)
    env = {"DATABASE_URL": bot.settings.database_url, "MASTER_KEY_FILE": str(bot.settings.master_key_file)}
    verified = casebot("audit", "verify", env=env, cwd=tmp_path)
    assert verified.returncode == 0 and "0 problems" in verified.stdout
    exported = casebot("audit", "export", str(tmp_path / "case.json"), "--case", "LEV-2026-0001", env=env, cwd=tmp_path)
    assert exported.returncode == 0
    entries = json.loads((tmp_path / "case.json").read_text())
    assert [e["action"] for e in entries].count("case.view") == 3 and {e["case"] for e in entries} == {"LEV-2026-0001"}
    assert {e["staff"] for e in entries} == {"Ana"} and all(e["seq"] for e in entries)
    assert "Amina" not in (tmp_path / "case.json").read_text()
    user_id = rows(bot, "SELECT id FROM app_user WHERE telegram_id = :t", t=cm.id)[0][0]
    mine = casebot("audit", "export", "--user", str(user_id), "--since", "2026-11-24", env=env, cwd=tmp_path)
    assert mine.returncode == 0 and "user.register" in mine.stdout
    execute(bot, "DELETE FROM audit_event WHERE seq = 2")
    tampered = casebot("audit", "verify", env=env, cwd=tmp_path)
    assert tampered.returncode == 1 and "entry 2: missing" in tampered.stdout


async def test_a_coordinator_gets_a_cases_trail_in_the_chat(bot):
    cm = await audited_case(bot)
    coordinator = await bot.register(Role.COORDINATOR, None)
    replies = await coordinator.send("/audit LEV-2026-0001")
    [document] = [m for m in replies if m.document]
    entries = json.loads(bot.fake.api.files[document.document["file_id"]]["content"])
    assert [e["action"] for e in entries].count("case.view") == 3 and "Amina" not in json.dumps(entries)
    assert (await cm.send("/audit LEV-2026-0001"))[0].text.startswith("Koordination: /audit und ein Fallcode")

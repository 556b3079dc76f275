"""A rolling upgrade, as an orchestrator runs one: this release's instances keep working while
the next release's schema migration runs and its instances start beside them, behind one load
balancer, on one PostgreSQL. An intake begun before the upgrade goes on across both releases
(its buttons pressed where the other release drew them), a scheduled message goes out once, a
restarted instance of the older release comes back; once a later release contracts the schema
past what this one uses, this one's instances say they are not ready and refuse to start.

The "next release" is this code base copied with one more migration (an expansion), the one
after it with a contraction as well (storage/db.py: `oldest_release_served`).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from bot.app import build_store
from domain.reminders import ReminderKind
from storage.db import head_revision, make_engine
from tests.flows import INTAKE_STEPS
from tests.instances import (
    ROOT,
    WEBHOOK_SECRET,
    Installation,
    Instance,
    RoundRobin,
    WebhookPusher,
    listening,
    tear_down,
    until,
)
from tests.live import free_port

pytestmark = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)

EXPAND = '''"""the next release: a column the release before it does not know

Revision ID: 9001
Revises: {head}
"""
import sqlalchemy as sa
from alembic import op

revision = '9001'
down_revision = '{head}'
branch_labels = None
depends_on = None
oldest_release_served = '{head}'


def upgrade() -> None:
    op.add_column('client_case', sa.Column('next_release_note', sa.String(length=40), nullable=True))


def downgrade() -> None:
    op.drop_column('client_case', 'next_release_note')
'''
CONTRACT = '''"""the release after it: drops what only the release before the next one used

Revision ID: 9002
Revises: 9001
"""
from alembic import op

revision = '9002'
down_revision = '9001'
branch_labels = None
depends_on = None
oldest_release_served = '9001'


def upgrade() -> None:
    op.execute("CREATE TABLE contracted (id integer)")  # (stands for dropping a column 9001 no longer reads)


def downgrade() -> None:
    op.execute("DROP TABLE contracted")
'''


def release(tmp_path: Path, name: str, migrations: dict[str, str]) -> Path:
    """This code base as a later release: a copy of its packages with more migrations."""
    tree = tmp_path / name
    for package in ("bot", "domain", "handlers", "storage", "simulator", "locales"):
        shutil.copytree(ROOT / package, tree / package, ignore=shutil.ignore_patterns("__pycache__"))
    for file, text in migrations.items():
        (tree / "storage" / "migrations" / "versions" / file).write_text(text.format(head=head_revision()))
    return tree


def casebot(installation: Installation, code: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], env={**installation.env, "PYTHONPATH": str(code)},  # noqa: S603
                          cwd=installation.tmp_path, capture_output=True, text=True, timeout=120)


def readiness(port: int) -> tuple[int, str]:
    answer = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=10)
    return answer.status_code, answer.text


async def test_the_next_release_rolls_in_beside_this_one_and_a_contraction_retires_it(database_url, tmp_path):
    installation = Installation(database_url, tmp_path)
    api = installation.api
    ports, health = [free_port(), free_port()], [free_port(), free_port(), free_port()]
    balancer = RoundRobin(ports[:1])
    url = f"http://127.0.0.1:{balancer.port}/telegram"
    webhook = {"WEBHOOK_URL": url, "WEBHOOK_SECRET": WEBHOOK_SECRET}
    webhook["DISPATCH_INTERVAL_SECONDS"] = "1"
    current = Instance(installation, "current", WEBHOOK_PORT=str(ports[0]), HEALTH_PORT=str(health[0]), **webhook)
    instances = [current]
    pusher = WebhookPusher(api, url)
    try:
        await listening(ports[0], current.process, current.log)
        manager = api.add_user("Ana", "de").id

        def seen() -> list[tuple[int, int]]:
            return [(m.message_id, m.revision) for m in api.chat(manager, bot_only=True)]

        async def act(action: str, value: str) -> None:
            before = seen()
            (installation.send if action == "send" else installation.press)(manager, value)
            await until(lambda: seen() != before, what=f"an answer to {value!r}")
            await until(lambda: not installation.sql("SELECT 1 FROM inbox_update"), what=f"{value!r} done")

        await act("send", f"/start {installation.invitation()}")
        await act("send", "/new")
        steps = list(INTAKE_STEPS.values())
        for action, value in steps[:3]:
            await act(action, value)

        # the next release: its migration runs while this release's instance serves
        following = release(tmp_path, "next", {"9001_next.py": EXPAND})
        plan = casebot(installation, following, "migrate", "--plan")
        assert "9001  [release 0021 keeps running]" in plan.stdout and "rolling upgrade" in plan.stdout, plan.stdout
        done = casebot(installation, following, "migrate")
        assert done.returncode == 0, done.stderr
        assert sorted(installation.sql("SELECT head FROM schema_release")) == [(head_revision(),), ("9001",)]
        status, body = readiness(health[0])
        assert status == 200 and "newer, and serves this release" in body, body

        nxt = Instance(installation, "next", code=following, WEBHOOK_PORT=str(ports[1]), HEALTH_PORT=str(health[1]), **webhook)
        instances.append(nxt)
        await listening(ports[1], nxt.process, nxt.log)
        balancer.upstreams.append(ports[1])
        balancer.served[ports[1]] = 0
        assert readiness(health[1])[0] == 200
        # the rest of the intake goes to both releases in turn: a keyboard one drew is pressed at the other
        for action, value in steps[3:]:
            await act(action, value)
        await act("press", "✔ Speichern")
        assert installation.sql("SELECT COUNT(*) FROM client_case") == [(1,)]
        assert min(balancer.served.values()) >= 5, balancer.served
        ((code, case_id, org_id),) = installation.sql("SELECT code, id, org_id FROM client_case")

        # a message scheduled now goes out once, with both releases' dispatchers running
        store = build_store(installation.settings)
        try:
            (user_id,) = installation.sql("SELECT id FROM app_user WHERE role = 'case-manager'")[0]
            store.outbox.schedule_for(org_id=org_id, user_id=user_id, kind=ReminderKind.REASSESS_SOON,
                                      ref_id=case_id, due_at=datetime.now(UTC))
        finally:
            store.close()
        await until(lambda: installation.sql("SELECT state FROM outbox WHERE kind = 'reassess-soon'") == [("sent",)],
                    what=lambda: f"the reminder sent: {installation.sql('SELECT state FROM outbox')}")
        reminders = [t for t in installation.bot_texts(manager) if t.startswith(f"Die nächste Bestandsaufnahme von {code}")]
        assert len(reminders) == 1, installation.bot_texts(manager)[-3:]

        # an instance of this release restarted during the roll-out comes back (nothing to migrate)
        assert await current.terminate() == 0
        current = Instance(installation, "current-again", WEBHOOK_PORT=str(ports[0]), HEALTH_PORT=str(health[0]), **webhook)
        instances.append(current)
        await listening(ports[0], current.process, current.log)
        assert readiness(health[0])[0] == 200
        await act("send", f"/case {code}")

        # the release after the next contracts the schema: this release must be gone by then
        later = release(tmp_path, "later", {"9001_next.py": EXPAND, "9002_later.py": CONTRACT})
        plan = casebot(installation, later, "migrate", "--plan")
        assert "9002  [release 9001 keeps running]" in plan.stdout and "rolling upgrade" in plan.stdout, plan.stdout
        assert casebot(installation, later, "migrate").returncode == 0
        status, body = readiness(health[0])
        assert status == 503 and "no longer serves this release" in body, body
        assert readiness(health[1])[0] == 200  # the next release still runs beside the later one
        assert await current.terminate() == 0
        refused = Instance(installation, "refused", WEBHOOK_PORT=str(ports[0]), HEALTH_PORT=str(health[2]), **webhook)
        instances.append(refused)
        assert await refused.exited(60) == 3
        assert "cannot run beside" in refused.log.read_text()
        assert casebot(installation, ROOT, "migrate").returncode == 3
        init = casebot(installation, ROOT, "init")  # (likewise every command that would migrate)
        assert init.returncode == 3 and "cannot run beside" in init.stderr and "Traceback" not in init.stderr
        assert pusher.refused == 0
    finally:
        await tear_down(pusher, balancer, instances, installation)


def test_instances_migrating_at_once_do_not_collide(database_url, tmp_path):
    """Every instance runs `casebot migrate` as it starts: two at once (replicas starting
    together) both note which releases the schema serves, and neither fails on the other's rows
    (the second waited for the first's transaction, then found its rows there)."""
    from storage.db import _scripts, migrate, note_releases

    migrate(database_url)
    engine = make_engine(database_url)
    failures: list[BaseException] = []
    try:
        with engine.connect() as first:
            first.begin()
            note_releases(first, head_revision(), _scripts())

            def second() -> None:
                try:
                    with engine.begin() as connection:
                        note_releases(connection, head_revision(), _scripts())
                except BaseException as failure:  # noqa: BLE001 - reported below
                    failures.append(failure)

            other = threading.Thread(target=second)
            other.start()
            other.join(1.0)  # it may wait on the first's transaction ...
            first.commit()  # ... until this
        other.join(30)
        assert failures == []
        with engine.connect() as connection:
            assert sorted(connection.exec_driver_sql("SELECT head FROM schema_release").all()) == [
                ("0020",), (head_revision(),)]
    finally:
        engine.dispose()


def test_instances_of_a_new_release_starting_at_once_migrate_one_after_the_other(database_url, tmp_path):
    """Four `casebot migrate` at the same moment on an empty database (replicas of a new release
    starting together): they take turns, so all succeed and the schema is made once."""
    env = {**os.environ, "DATABASE_URL": database_url, "MASTER_KEY_FILE": str(tmp_path / "master.key"),
           "PYTHONPATH": str(ROOT)}
    runs = [subprocess.Popen([sys.executable, "-m", "bot.cli", "migrate"], env=env, cwd=tmp_path,  # noqa: S603
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(4)]
    outcomes = [(run.wait(120), run.stderr.read()[-300:]) for run in runs]
    assert [code for code, _ in outcomes] == [0, 0, 0, 0], outcomes
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            assert connection.exec_driver_sql("SELECT version_num FROM alembic_version").all() == [(head_revision(),)]
    finally:
        engine.dispose()

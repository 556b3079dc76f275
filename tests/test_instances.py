"""Real instances, as an orchestrator runs them: killed with SIGKILL between receiving and
handling an update, stopped with SIGTERM mid-update, two of them behind a load balancer taking
one intake in turns. Nothing is lost and nothing is applied twice.

To stop an instance deterministically "between receiving and handling", the test holds a lock
on the dialogue table: the update is stored and acknowledged, and its handling waits on the lock.
"""

from __future__ import annotations

import asyncio

import psycopg
import pytest

from storage.db import CLIENT_CHECK_MILLISECONDS
from tests.flows import INTAKE_STEPS
from tests.instances import (
    WEBHOOK_SECRET,
    Installation,
    Instance,
    RoundRobin,
    WebhookPusher,
    listening,
    plain,
    tear_down,
    until,
)
from tests.live import free_port

pytestmark = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
FIRST_QUESTION = "Erstberatung · Frage 1 von"


def _pending(installation: Installation, update_id: int) -> bool:
    return any(u["update_id"] == update_id for u in installation.api.pending_updates)


def _taken_by(installation: Installation, update_id: int) -> str | None:
    found = installation.sql(f"SELECT taken_by FROM inbox_update WHERE update_id = {int(update_id)}")
    return found[0][0] if found else None


async def test_an_instance_killed_between_receiving_and_handling_loses_nothing(database_url, tmp_path):
    """Long polling. PTB confirms an update to Telegram as soon as it is in memory, so a crash
    lost it; here it is confirmed once stored, and the next instance handles it, once."""
    installation = Installation(database_url, tmp_path)
    first = second = None
    try:
        first = Instance(installation, "first")
        manager = installation.api.add_user("Ana", "de").id
        installation.send(manager, f"/start {installation.invitation()}")
        await until(lambda: installation.bot_texts(manager), what="the first instance answers")
        await until(lambda: installation.sql("SELECT COUNT(*) FROM inbox_update") == [(0,)], what="and is done")
        with psycopg.connect(plain(database_url)) as holder:
            # (SHARE: storing the update may read the table, as it does; opening a dialogue may not write it)
            holder.execute("LOCK TABLE dialogue IN SHARE MODE")
            update_id = installation.send(manager, "/new")
            # stored, taken, and confirmed to Telegram (which has forgotten it): then killed
            await until(lambda: _taken_by(installation, update_id) and not _pending(installation, update_id),
                        what="the update is stored, taken and confirmed")
            first.kill()
            # the dead instance's statement, waiting for the lock, is abandoned (storage/db.py)
            # instead of running once the lock is free
            await asyncio.sleep(CLIENT_CHECK_MILLISECONDS / 1000 + 1)
            holder.rollback()
        second = Instance(installation, "second")  # takes it once the dead instance's lease ran out
        await until(lambda: any(t.startswith(FIRST_QUESTION) for t in installation.bot_texts(manager)),
                    what="the second instance handles the update")
        await asyncio.sleep(1.5)  # time enough for a second handling, were there one
        assert sum(t.startswith(FIRST_QUESTION) for t in installation.bot_texts(manager)) == 1
        assert installation.sql("SELECT COUNT(*) FROM dialogue") == [(1,)]
        assert installation.sql("SELECT COUNT(*) FROM inbox_update") == [(0,)]
        assert await second.terminate() == 0
    finally:
        for instance in (first, second):
            if instance is not None:
                instance.close()
        installation.stop()


async def test_two_webhook_instances_behind_a_balancer_share_one_intake_and_drain_on_sigterm(database_url, tmp_path):
    """One intake's steps go to two instances in turn; halfway, the instance holding a step is
    sent SIGTERM: it finishes that step and exits, and the other takes the rest."""
    installation = Installation(database_url, tmp_path)
    ports = [free_port(), free_port()]
    balancer = RoundRobin(ports)
    url = f"http://127.0.0.1:{balancer.port}/telegram"
    instances = [Instance(installation, f"web{n}", WEBHOOK_URL=url, WEBHOOK_SECRET=WEBHOOK_SECRET,
                          WEBHOOK_PORT=str(port)) for n, port in enumerate(ports)]
    pusher = WebhookPusher(installation.api, url)
    api = installation.api
    try:
        for port, instance in zip(ports, instances, strict=True):
            await listening(port, instance.process, instance.log)
        manager = api.add_user("Ana", "de").id

        def seen() -> list[tuple[int, int]]:
            return [(m.message_id, m.revision) for m in api.chat(manager, bot_only=True)]

        async def act(action: str, value: str) -> int:
            before = seen()
            update_id = (installation.send if action == "send" else installation.press)(manager, value)
            await until(lambda: seen() != before, what=f"an answer to {value!r}")
            await until(lambda: not _taken_by(installation, update_id), what=f"{value!r} done")
            return update_id

        await act("send", f"/start {installation.invitation()}")
        await act("send", "/new")
        steps = list(INTAKE_STEPS.values())
        for action, value in steps[:4]:
            await act(action, value)
        # the next answer arrives while its instance is told to stop: it is finished, not dropped
        with psycopg.connect(plain(database_url)) as holder:
            # (SHARE: storing the update may read the table, as it does; opening a dialogue may not write it)
            holder.execute("LOCK TABLE dialogue IN SHARE MODE")
            action, value = steps[4]
            update_id = installation.send(manager, value)
            await until(lambda: _taken_by(installation, update_id), what="an instance takes the answer")
            pid = int(_taken_by(installation, update_id).split(":")[1])
            stopping = next(i for i in instances if i.process.pid == pid)
            before = seen()
            stopping.process.terminate()  # SIGTERM
            await asyncio.sleep(0.5)
            holder.rollback()
        assert await stopping.exited(20) == 0
        await until(lambda: seen() != before, what="the stopped instance's last answer")
        for action, value in steps[5:]:
            await act(action, value)
        summary = api.chat(manager, bot_only=True)[-1].text
        for typed in ("Amina", "Haddad", "01.02.1995", "Opladen", "+49 171 1234567", "Sucht einen Kita-Platz"):
            assert summary.count(typed) == 1, typed
        await act("press", "✔ Speichern")
        assert installation.sql("SELECT COUNT(*) FROM client_case") == [(1,)]
        assert installation.sql("SELECT COUNT(*) FROM inbox_update") == [(0,)]
        assert min(balancer.served.values()) >= 3  # both instances took steps
        assert pusher.refused == 0
    finally:
        await tear_down(pusher, balancer, instances, installation)

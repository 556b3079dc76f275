"""What an operator watches, read while updates flow: /healthz, /readyz (false while the
database is unreachable or behind, or the dispatcher lags; true again after) and /metrics."""

from __future__ import annotations

import os
from datetime import timedelta

import aiohttp
import psycopg
import pytest
import tornado.httpserver
import tornado.testing
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bot.ops import ops_app
from domain.roles import Role
from tests.conftest import POSTGRES_ADMIN_URL
from tests.flows import INTAKE_STEPS, do
from tests.helpers import holds_number, metric


@pytest.fixture
async def ops(bot):  # noqa: ANN201
    sock, port = tornado.testing.bind_unused_port()
    server = tornado.httpserver.HTTPServer(ops_app(bot.services))
    server.add_sockets([sock])
    async with aiohttp.ClientSession(base_url=f"http://127.0.0.1:{port}") as session:
        yield session
    server.stop()


async def get(session, path: str) -> tuple[int, str]:  # noqa: ANN001
    async with session.get(path) as response:
        return response.status, await response.text()


async def test_health_readiness_and_metrics_while_updates_flow(bot, ops):
    assert await get(ops, "/healthz") == (200, "ok\n")
    status, body = await get(ops, "/readyz")
    assert status == 200 and '"ready": true' in body and '"schema": "current"' in body
    before = (await get(ops, "/metrics"))[1]
    cm = await bot.register(Role.CASE_MANAGER, "I")
    await cm.send("/new")
    await do(cm, *INTAKE_STEPS["consent"])
    await cm.press_data("k|nonsense|LEV-2099-0001", cm.last())  # a forged press
    stranger = bot.user()
    await stranger.send("hello")
    after = (await get(ops, "/metrics"))[1]
    assert metric(after, 'casebot_updates_total{kind="command",outcome="handled"}') >= \
        metric(before, 'casebot_updates_total{kind="command",outcome="handled"}') + 2  # /start, /new
    assert metric(after, 'casebot_updates_total{kind="press"') >= 2
    assert metric(after, 'casebot_updates_total{kind="message",outcome="refused"}') == 1  # the stranger
    assert metric(after, "casebot_stale_presses_total") == 1
    assert metric(after, 'casebot_bot_api_calls_total{method="sendMessage",status="2xx"}') > \
        metric(before, 'casebot_bot_api_calls_total{method="sendMessage",status="2xx"}')
    assert metric(after, "casebot_update_handling_seconds_count") >= 4
    assert "casebot_outbox_due" in after and "casebot_inbox_depth" in after and "casebot_decrypt_failures" in after
    for personal in ("Amina", "hello"):
        assert personal not in after
    assert not holds_number(after, cm.id)  # (a metric's _created timestamp may spell its digits)



async def test_a_step_that_loses_the_race_to_another_is_refused_and_counted(bot, ops, monkeypatch):
    """Another device (or instance) stores a step of the same dialogue between this step's read
    and its write: this one is refused with the form's notice, nothing of it is stored, and the
    operator sees a dialogue conflict."""
    cm = await bot.register(Role.CASE_MANAGER, "I")
    await cm.send("/new")
    dialogues = bot.services.store.dialogues
    save = dialogues.save

    def other_step_first(snapshot, state, **kwargs):  # noqa: ANN001, ANN003, ANN202
        monkeypatch.setattr(dialogues, "save", save)
        save(snapshot, {**snapshot.state, "elsewhere": True}, update_id=1)  # the other device's step
        return save(snapshot, state, **kwargs)

    monkeypatch.setattr(dialogues, "save", other_step_first)
    await do(cm, *INTAKE_STEPS["consent"])
    assert cm.alerts()[-1] == "Diese Taste ist nicht mehr gültig. Bitte die neueste Frage verwenden."
    staff = bot.services.store.staff.user_by_telegram_id(cm.id)
    assert dialogues.load(staff.id).state.get("elsewhere") is True  # the other step stands
    assert metric((await get(ops, "/metrics"))[1], "casebot_dialogue_conflicts_total") == 1

async def test_readiness_follows_the_database_and_the_dispatcher(bot, ops):
    store, url = bot.services.store, bot.settings.database_url
    # the dispatcher lags: a message due for 20 minutes and not sent
    cm = await bot.register(Role.CASE_MANAGER, "I")
    staff = store.staff.user_by_telegram_id(cm.id)
    store.outbox.schedule_for(org_id=staff.org_id, user_id=staff.id, kind="digest", ref_id=0,
                              due_at=store.clock.now() - timedelta(minutes=20), key="lagging")
    status, body = await get(ops, "/readyz")
    assert status == 503 and '"dispatcher": "lagging"' in body
    assert metric((await get(ops, "/metrics"))[1], "casebot_outbox_oldest_due_seconds") >= 1200
    with store.engine.begin() as c:
        c.execute(text("UPDATE outbox SET state = 'sent' WHERE dedupe_key = 'lagging'"))
    assert (await get(ops, "/readyz"))[0] == 200
    # the database out of reach, and back
    if url.startswith("sqlite"):
        path = make_url(url).database
        away = path + ".away"
        os.replace(path, away)
        store.engine.dispose()  # new connections find no database at the path
        status, body = await get(ops, "/readyz")
        assert status == 503 and ('"schema": "behind' in body or '"database": "unreachable' in body), body
        os.replace(away, path)
        store.engine.dispose()
    else:
        name = url.rsplit("/", 1)[1]
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS false')
            admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))
        store.engine.dispose()
        status, body = await get(ops, "/readyz")
        assert status == 503 and '"database": "unreachable' in body
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS true')
    assert (await get(ops, "/healthz"))[0] == 200  # alive all the while
    status, body = await get(ops, "/readyz")
    assert status == 200, body

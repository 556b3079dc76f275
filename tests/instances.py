"""Real `casebot run` processes against the simulator's Bot API over HTTP, on one database: for
the tests that kill, stop and load-balance instances as an orchestrator would."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import httpx
import psycopg
import tornado.httpserver
import tornado.web

from bot.app import build_store
from bot.cli import initialise
from domain.roles import Role
from simulator.botapi import BotApi
from simulator.server import SIMULATOR_TOKEN, Simulator, make_app
from tests.conftest import make_settings
from tests.live import free_port

ROOT = Path(__file__).resolve().parent.parent
WEBHOOK_SECRET = "instances-webhook-secret-0123456789"


class Installation:
    """A database, a key, a simulated Telegram, and the environment instances start with."""

    def __init__(self, database_url: str, tmp_path: Path) -> None:
        self.api = BotApi(bot_username="kim_sim_bot")
        self.sim_port = free_port()
        self.simulator = Simulator(self.api)
        self.server = tornado.httpserver.HTTPServer(make_app(self.simulator))
        self.server.listen(self.sim_port, address="127.0.0.1")
        self.settings = make_settings(database_url, tmp_path, telegram_bot_token=SIMULATOR_TOKEN,
                                      telegram_api_url=f"http://127.0.0.1:{self.sim_port}")
        self.admin_code = initialise(self.settings, org_name="Test", prefix="LEV", districts=["I", "II"], quiet=True)
        self.tmp_path = tmp_path
        clean = {k: v for k, v in os.environ.items()
                 if not k.startswith(("TELEGRAM_", "DATABASE_", "MASTER_", "WEBHOOK_", "INBOX_"))}
        self.env = {**clean, "PYTHONPATH": str(ROOT), "TELEGRAM_BOT_TOKEN": SIMULATOR_TOKEN,
                    "PIN_REQUIRED": "false",
                    "TELEGRAM_API_URL": f"http://127.0.0.1:{self.sim_port}", "DATABASE_URL": database_url,
                    "MASTER_KEY_FILE": str(self.settings.master_key_file), "INBOX_LEASE_SECONDS": "2",
                    "TELEGRAM_RATE_LIMIT": "0", "LOG_LEVEL": "WARNING"}

    def send(self, person: int, text: str) -> int:
        """A person types; returns the update's id (a long-polling instance hears it at once)."""
        update_id = self.api.user_sends(person, text)["update_id"]
        self.simulator.touched()
        return update_id

    def press(self, person: int, label: str) -> int:
        message = [m for m in self.api.chat(person, bot_only=True) if m.buttons()][-1]
        data = next(b["callback_data"] for b in message.buttons() if b["text"] == label or b["text"].startswith(label))
        update_id = self.api.user_presses(person, message.message_id, data)["update_id"]
        self.simulator.touched()
        return update_id

    def invitation(self, role: Role = Role.CASE_MANAGER) -> str:
        store = build_store(self.settings)
        try:
            org_id = store.staff.first_organisation_id()
            district = store.staff.district_by_code(org_id, "I").id
            return store.staff.create_invitation(org_id=org_id, role=role, district_id=district,
                                                 expires_in=timedelta(days=7), created_by=None)
        finally:
            store.close()

    def sql(self, statement: str) -> list[tuple]:
        with psycopg.connect(plain(self.settings.database_url), autocommit=True) as connection:
            cursor = connection.execute(statement)
            return cursor.fetchall() if cursor.description else []

    def bot_texts(self, person: int) -> list[str]:
        return [m.text or "" for m in self.api.chat(person, bot_only=True)]

    def stop(self) -> None:
        self.server.stop()


class Instance:
    """One `casebot run` process."""

    def __init__(self, installation: Installation, name: str, *, code: Path = ROOT, **env: str) -> None:
        """`code`: the source tree it runs (another release's, for a rolling upgrade)."""
        self.name = name
        self.log = installation.tmp_path / f"{name}.log"
        self.process = subprocess.Popen(  # noqa: S603 - our own CLI
            [sys.executable, "-m", "bot.cli", "run"], env={**installation.env, "PYTHONPATH": str(code), **env},
            cwd=installation.tmp_path, stdout=self.log.open("w"), stderr=subprocess.STDOUT)

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    async def terminate(self, timeout: float = 20) -> int:
        self.process.send_signal(signal.SIGTERM)
        return await self.exited(timeout)

    async def exited(self, timeout: float) -> int:
        for _ in range(int(timeout / 0.05)):
            if self.process.poll() is not None:
                return self.process.returncode
            await asyncio.sleep(0.05)
        raise AssertionError(f"{self.name} did not stop: {self.log.read_text()[-2000:]}")

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)


async def tear_down(pusher: WebhookPusher, balancer: RoundRobin, instances: list[Instance],
                    installation: Installation) -> None:
    """After a test with instances behind a balancer: everything stopped, whatever failed."""
    await pusher.close()
    await balancer.close()
    for instance in instances:
        if instance is not None:
            instance.close()
    installation.stop()


async def until(condition: Callable[[], object], timeout: float = 20, what: str | Callable[[], str] = "") -> None:
    for _ in range(int(timeout / 0.05)):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"waited {timeout} s in vain: {what() if callable(what) else what}")


async def listening(port: int, process: subprocess.Popen | None = None, log: Path | None = None,
                    timeout: float = 20) -> None:
    """Until something listens on `port`; fails at once when `process` has exited (with the
    end of its `log`). The load benchmark waits for its instances with this, too."""
    for _ in range(int(timeout / 0.05)):
        if process is not None and process.poll() is not None:
            raise AssertionError(f"exited with {process.returncode}: {log.read_text()[-1500:] if log else ''}")
        with contextlib.suppress(OSError):
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"nothing listens on port {port}")


def plain(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


class RoundRobin:
    """A small load balancer: each request to the next instance, skipping one that is down."""

    def __init__(self, upstreams: list[int]) -> None:
        self.upstreams, self.turn, self.served = list(upstreams), 0, {port: 0 for port in upstreams}
        self.port = free_port()
        self.client = httpx.AsyncClient(timeout=10)
        balancer = self

        class Forward(tornado.web.RequestHandler):
            async def post(self) -> None:
                for _ in range(len(balancer.upstreams)):
                    port = balancer.upstreams[balancer.turn % len(balancer.upstreams)]
                    balancer.turn += 1
                    try:
                        answer = await balancer.client.post(
                            f"http://127.0.0.1:{port}{self.request.path}", content=self.request.body,
                            headers={k: v for k, v in self.request.headers.items() if k.lower().startswith(("x-", "content-type"))})
                    except httpx.TransportError:
                        continue  # down: the next one
                    balancer.served[port] += 1
                    self.set_status(answer.status_code)
                    return
                self.set_status(502)

        self.server = tornado.httpserver.HTTPServer(tornado.web.Application([(r"/.*", Forward)]))
        self.server.listen(self.port, address="127.0.0.1")

    async def close(self) -> None:
        self.server.stop()
        await self.client.aclose()


class WebhookPusher:
    """Telegram's side of webhook mode: each pending update is POSTed until it is answered
    200, one after another (a failed one is tried again, as Telegram does)."""

    def __init__(self, api: BotApi, url: str) -> None:
        self.api, self.url = api, url
        self.refused = 0
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        async with httpx.AsyncClient(timeout=10) as client:
            while True:
                if not self.api.pending_updates:
                    await asyncio.sleep(0.02)
                    continue
                update = self.api.pending_updates[0]
                try:
                    answer = await client.post(self.url, json=update, headers={
                        "X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET})
                    ok = answer.status_code == 200
                except httpx.TransportError:
                    ok = False
                if ok:
                    self.api.pending_updates.remove(update)
                else:
                    self.refused += 1
                    await asyncio.sleep(0.2)

    async def close(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

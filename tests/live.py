"""A live simulator over real HTTP with the bot polling it, for end-to-end and browser tests."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import tornado.httpserver

from bot.app import build_application, build_services
from bot.cli import initialise
from bot.services import Services
from simulator.botapi import BotApi
from simulator.server import SIMULATOR_TOKEN, Simulator, make_app
from tests.conftest import make_settings


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Live:
    api: BotApi
    http: httpx.AsyncClient
    admin_code: str
    services: Services
    base_url: str
    bot: object  # the bot's PTB Bot, talking to the simulator over HTTP

    async def person(self, name: str = "Ana", language: str = "de") -> int:
        return (await self.http.post("/api/users", json={"first_name": name, "language_code": language})).json()["id"]

    async def state(self) -> dict:
        return (await self.http.get("/api/state", params={"wait": 0})).json()

    async def bot_messages(self, person: int) -> list[dict]:
        return [m for m in (await self.state())["chats"][str(person)] if m["from_bot"]]

    async def wait_for(self, person: int, done: Callable[[list[dict]], bool], timeout: float = 10) -> list[dict]:
        for _ in range(int(timeout / 0.05)):
            messages = await self.bot_messages(person)
            if done(messages):
                return messages
            await asyncio.sleep(0.05)
        raise AssertionError(f"the bot did not answer as expected: {[m['text'][:80] for m in messages]}")

    async def say(self, person: int, text: str) -> list[dict]:
        """Send and wait until the bot has answered (a new message or an edit)."""
        before = [(m["id"], m["revision"]) for m in await self.bot_messages(person)]
        await self.http.post("/api/send", json={"user_id": person, "text": text})
        return await self.wait_for(person, lambda ms: [(m["id"], m["revision"]) for m in ms] != before)

    async def press(self, person: int, label: str) -> list[dict]:
        messages = await self.bot_messages(person)
        message = [m for m in messages if m["buttons"]][-1]
        button = next(b for row in message["buttons"] for b in row if b["text"] == label or b["text"].startswith(label))
        await self.http.post("/api/press", json={"user_id": person, "message_id": message["id"], "data": button["data"]})
        before = [(m["id"], m["revision"]) for m in messages]
        return await self.wait_for(person, lambda ms: [(m["id"], m["revision"]) for m in ms] != before)


@pytest.fixture
async def live(request: pytest.FixtureRequest, tmp_path: Path, clock) -> AsyncIterator[Live]:  # noqa: ANN001
    rate_limit = getattr(request, "param", None)
    api = BotApi(bot_username="kim_sim_bot", rate_limit=rate_limit)
    port = free_port()
    server = tornado.httpserver.HTTPServer(make_app(Simulator(api)))
    server.listen(port, address="127.0.0.1")
    settings = make_settings(f"sqlite:///{tmp_path / 'db.sqlite3'}", tmp_path, telegram_rate_limit=30,
                             telegram_api_url=f"http://127.0.0.1:{port}", telegram_bot_token=SIMULATOR_TOKEN)
    code = initialise(settings, org_name="Test", prefix="LEV", districts=["I", "II", "III"], quiet=True)
    services = build_services(settings, clock=clock)
    app = build_application(settings, services=services)  # PTB's own HTTPX request: real HTTP
    await app.initialize()
    await app.start()
    services.inbox.start()
    stop = asyncio.Event()
    polling = asyncio.create_task(services.inbox.poll(stop, timeout=1))
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
        yield Live(api, http, code, services, f"http://127.0.0.1:{port}", app.bot)
    stop.set()
    await polling
    await services.inbox.stop()
    await app.stop()
    await app.shutdown()
    services.store.close()
    server.stop()

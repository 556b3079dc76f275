"""Intake throughput: many intakes through the real Application on SQLite (network replaced),
beside a bare python-telegram-bot echo handler measured in the same run.

    .venv/bin/python bench/intake_throughput.py [--intakes 200] [--users 20] [--latency-ms 30]

Two scenarios, each printing updates per second and p50/p99 latency per update for both bots
and the ratio between them (goal, issue 2: the intake bot reaches half the echo's throughput):

1. in process: the Bot API answers instantly; updates one after another. This is pure CPU:
   PTB parsing the update and building API calls, plus our database, crypto and templates.
2. Bot API over the network: every call takes --latency-ms; --users people work at the same
   time, each sending the next message when the bot has answered the last. This is how the bot
   runs in production, where waiting for Telegram dominates.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import secrets
import statistics
import sys
import tempfile
import time
import warnings
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psycopg  # noqa: E402
from netproxy import Proxy, through  # noqa: E402, I001 - beside this script
from sqlalchemy import event  # noqa: E402
from telegram import Message, Update  # noqa: E402
from telegram.ext import Application, MessageHandler, TypeHandler, filters  # noqa: E402
from telegram.request import BaseRequest  # noqa: E402

from bot.app import build_application, build_services  # noqa: E402
from bot.cli import initialise  # noqa: E402
from bot.settings import Settings  # noqa: E402
from storage.types import Role  # noqa: E402
from tests.flows import INTAKE_STEPS  # noqa: E402

TOKEN = "123456:" + "B" * 35
_ids = itertools.count(1)


# what the Bot API answers with a message (PTB's typed methods parse it into a Message)
_RETURNS_MESSAGE = frozenset({"sendMessage", "editMessageText", "editMessageReplyMarkup"})


class NullNetwork(BaseRequest):
    """The Bot API at the cost of a dictionary look-up (plus an optional latency): answers like
    Telegram (message ids, the keyboard echoed back, which PTB then parses) but checks nothing.
    Both bots use it, so the figures are the bots' own work and waiting, not a test fake's."""

    def __init__(self, latency: float = 0.0) -> None:
        super().__init__()
        self.latency = latency
        self.message_ids = itertools.count(1)
        self.latest_keyboard: dict[int, dict] = {}
        self.calls: list[tuple[str, dict]] | None = None  # while set, each request is noted here

    @property
    def read_timeout(self) -> float | None:
        return 5.0

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    async def do_request(self, url, method, request_data=None, **_) -> tuple[int, bytes]:  # noqa: ANN001, ANN003
        if self.latency:
            await asyncio.sleep(self.latency)
        endpoint = url.rsplit("/", 1)[-1]
        params = request_data.json_parameters if request_data else {}
        if self.calls is not None:
            self.calls.append((endpoint, params))
        if endpoint == "getMe":
            result: object = {"id": 1, "is_bot": True, "first_name": "B", "username": "bench_bot"}
        elif endpoint in _RETURNS_MESSAGE:
            chat_id = int(params["chat_id"])
            result = {"message_id": int(params.get("message_id") or next(self.message_ids)), "date": 1,
                      "chat": {"id": chat_id, "type": "private"}, "text": "x"}
            if "reply_markup" in params:
                result["reply_markup"] = json.loads(params["reply_markup"])
                if result["reply_markup"]:
                    self.latest_keyboard[chat_id] = result
        else:
            result = True
        return 200, json.dumps({"ok": True, "result": result}).encode()


def text_update(user_id: int, text: str) -> dict:
    message = {"message_id": next(_ids), "date": 1_700_000_000, "text": text,
               "chat": {"id": user_id, "type": "private"},
               "from": {"id": user_id, "is_bot": False, "first_name": "U", "language_code": "de"}}
    if text.startswith("/"):
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
    return {"update_id": next(_ids), "message": message}


def press_update(user_id: int, network: NullNetwork, label: str) -> dict:
    message = network.latest_keyboard[user_id]
    buttons = [b for row in message["reply_markup"]["inline_keyboard"] for b in row]
    data = next(b["callback_data"] for b in buttons if b["text"] == label or b["text"].startswith(label))
    return {"update_id": next(_ids), "callback_query": {
        "id": str(next(_ids)), "chat_instance": "c", "data": data, "message": message,
        "from": {"id": user_id, "is_bot": False, "first_name": "U", "language_code": "de"}}}


def intake_script(user_id: int, network: NullNetwork, intakes: int, first: int) -> list[Callable[[], dict]]:
    """The updates of `intakes` whole intakes by one user (built lazily: presses need the
    keyboard the bot sent last)."""
    steps: list[Callable[[], dict]] = []
    for n in range(first, first + intakes):
        steps.append(lambda: text_update(user_id, "/new"))
        for name, (action, value) in INTAKE_STEPS.items():
            value = f"Person{n}" if name == "given_name" else value
            if action == "press":
                steps.append(lambda v=value: press_update(user_id, network, v))
            else:
                steps.append(lambda v=value: text_update(user_id, v))
        steps.append(lambda: press_update(user_id, network, "✔ Speichern"))
    return steps


def echo_script(user_id: int, count: int) -> list[Callable[[], dict]]:
    return [lambda n=n: text_update(user_id, f"Nachricht {n}") for n in range(count)]


async def drive(app: Application, scripts: list[list[Callable[[], dict]]],
                feed: Callable[[Update, str], Awaitable[None]]) -> tuple[list[float], float]:
    """Play each user's script, users side by side; each update waits for the one before it.
    An update comes as its JSON and as PTB's object, as a webhook request brings it."""
    latencies: list[float] = []

    async def play(script: list[Callable[[], dict]]) -> None:
        for make in script:
            body = make()
            raw, update = json.dumps(body), Update.de_json(body, app.bot)
            started = time.perf_counter()
            await feed(update, raw)
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(play(script) for script in scripts))
    return latencies, time.perf_counter() - started


def summarise(name: str, latencies: list[float], elapsed: float) -> dict:
    ordered = sorted(latencies)
    figures = {"updates/s": len(ordered) / elapsed, "p50": statistics.median(ordered) * 1000,
               "p99": ordered[max(0, int(len(ordered) * 0.99) - 1)] * 1000}
    print(f"  {name:<11} {len(ordered):>6} updates {figures['updates/s']:>9.1f} updates/s   "
          f"p50 {figures['p50']:7.2f} ms   p99 {figures['p99']:7.2f} ms")
    return figures


async def intake_bot(workdir: Path, network: NullNetwork, users: int, intakes: int, concurrent: bool,
                     database_url: str | None = None, round_trips: Proxy | None = None,
                     recording: list[tuple[str, list[tuple[str, dict]]]] | None = None) -> dict:
    # pacing off: at Telegram's 30 calls/s it would measure Telegram's limit, not the bot
    settings = Settings(_env_file=None, telegram_bot_token=TOKEN,
                        database_url=database_url or f"sqlite:///{workdir}/bench.sqlite3",
                        master_key_file=workdir / "master.key", telegram_rate_limit=0,
                        pin_required=False)  # the PIN's own cost is a few presses a day, not the intake's
    initialise(settings, org_name="Bench", prefix="BEN", districts=["I", "II", "III"], quiet=True)
    services = build_services(settings)
    app = build_application(settings, services=services, request=network)
    await app.initialize()
    staff, org_id = services.store.staff, services.store.staff.first_organisation_id()
    user_ids = []
    for n in range(users):
        code = staff.create_invitation(org_id=org_id, role=Role.CASE_MANAGER, district_id=None,
                                       expires_in=timedelta(days=1), created_by=None)
        user_ids.append(700_000 + n + 1000 * int(concurrent))
        await app.process_update(Update.de_json(text_update(user_ids[-1], f"/start {code}"), app.bot))
    per_user = max(1, intakes // users)
    scripts = [intake_script(uid, network, per_user, i * per_user) for i, uid in enumerate(user_ids)]
    if not concurrent:  # one after another: interleave nothing, play the scripts in turn
        scripts = [[step for script in scripts for step in script]]
    # the way every update comes in when the bot runs: stored in the inbox (the webhook would
    # answer 200 then), taken by the pump, handled through the update processor, finished
    await app.start()
    services.inbox.start()
    trips = RoundTrips(services.store)
    requests_before = round_trips.requests if round_trips else 0
    feed = _through_the_inbox(services)
    if recording is not None:  # (one after another only: a call belongs to the update in hand)
        feed = _recorded(feed, network, recording)
    latencies, elapsed = await drive(app, scripts, feed)
    trips.stop()
    measured = (round_trips.requests - requests_before) / len(latencies) if round_trips else None
    await services.inbox.stop()
    await app.stop()
    saved = sum(services.store.cases.count_for(staff.user_by_telegram_id(uid)) for uid in user_ids)
    await app.shutdown()
    services.store.engine.dispose()
    assert saved == per_user * users, f"only {saved} intakes were saved"
    figures = summarise("intake bot", latencies, elapsed)
    trips.report(len(latencies))
    if measured is not None:
        print(f"  {'':<11} requests to the PostgreSQL server per update, counted on the wire: {measured:.1f} (goal: at most 4)")
    return figures


class RoundTrips:
    """Counts what goes to the database while the intakes run: statements, transactions and
    connection checkouts (scenario 3 also counts the requests on the wire). Statements sent in
    one trip on PostgreSQL (Store.in_one_trip) pass SQLAlchemy's execution events by: counted
    where the store sends them."""

    def __init__(self, store) -> None:  # noqa: ANN001
        self.store, self.engine, self.counts = store, store.engine, Counter()
        self._listeners = [("before_cursor_execute", self._statement), ("commit", self._end), ("rollback", self._end)]
        for name, listener in self._listeners:
            event.listen(self.engine, name, listener)
        event.listen(self.engine.pool, "checkout", self._checkout)
        if self.engine.dialect.name == "postgresql":
            in_one_trip = store.in_one_trip

            def counted(steps: list) -> list:
                self.counts["statements"] += len(steps)
                self.counts["transactions"] += 1
                return in_one_trip(steps)

            store.in_one_trip = counted

    def _statement(self, *args: object) -> None:
        self.counts["statements"] += 1

    def _end(self, *args: object) -> None:
        self.counts["transactions"] += 1

    def _checkout(self, *args: object) -> None:
        self.counts["checkouts"] += 1

    def stop(self) -> None:
        for name, listener in self._listeners:
            event.remove(self.engine, name, listener)
        event.remove(self.engine.pool, "checkout", self._checkout)
        self.store.__dict__.pop("in_one_trip", None)

    def report(self, updates: int) -> None:
        c = {k: v / updates for k, v in self.counts.items()}
        print(f"  {'':<11} per update: {c.get('statements', 0):.1f} statements, {c.get('transactions', 0):.1f} transactions, "
              f"{c.get('checkouts', 0):.1f} connection checkouts")


def _through_the_inbox(services) -> Callable[[Update, str], Awaitable[None]]:  # noqa: ANN001
    """Feed an update into the inbox, as the webhook does, and wait until its handling has finished."""
    loop = asyncio.get_running_loop()
    waiting: dict[int, asyncio.Future] = {}
    repository = services.store.inbox
    finish_all = repository.finish_all  # where every handling ends (with others that ended meanwhile)

    def finished(batch: list, **taking: object) -> list:  # (in a worker thread)
        taken = finish_all(batch, **taking)
        for update_id, _ in batch:
            future = waiting.pop(update_id, None)
            if future is not None:
                loop.call_soon_threadsafe(future.set_result, None)
        return taken

    repository.finish_all = finished

    async def feed(update: Update, raw: str) -> None:
        waiting[update.update_id] = loop.create_future()
        future = waiting[update.update_id]
        await services.inbox.take_in([update], raw={update.update_id: raw})
        await future

    return feed


def _recorded(feed: Callable[[Update, str], Awaitable[None]], network: NullNetwork,
              recording: list[tuple[str, list[tuple[str, dict]]]]) -> Callable[[Update, str], Awaitable[None]]:
    """Note each update's JSON and the Bot API calls its handling made."""
    async def recording_feed(update: Update, raw: str) -> None:
        network.calls = []
        recording.append((raw, network.calls))
        try:
            await feed(update, raw)
        finally:
            network.calls = None

    return recording_feed



async def same_calls_bot(network: NullNetwork, recording: list[tuple[str, list[tuple[str, dict]]]]) -> dict:
    """A ceiling for the intake bot: python-telegram-bot alone, receiving the intake's updates and
    making exactly the Bot API calls the intake bot made for each (the same sends, keyboards,
    edits, deletions and answers), with nothing stored, read, rendered or encrypted. No
    implementation on PTB that answers as the intake bot does can be faster than this."""
    calls_of = {json.loads(raw)["update_id"]: calls for raw, calls in recording}
    # PTB warns that typed methods exist for these endpoints: the recorded calls are replayed as sent
    warnings.filterwarnings("ignore", message="Please use 'Bot.", category=UserWarning)

    async def replay(update: Update, context) -> None:  # noqa: ANN001
        for endpoint, params in calls_of[update.update_id]:
            await context.bot.do_api_request(endpoint, dict(params),
                                             return_type=Message if endpoint in _RETURNS_MESSAGE else None)

    app = Application.builder().token(TOKEN).request(network).get_updates_request(NullNetwork()).build()
    app.add_handler(TypeHandler(Update, replay))
    await app.initialize()
    script = [lambda raw=raw: json.loads(raw) for raw, _ in recording]

    async def feed(update: Update, raw: str) -> None:
        await app.process_update(update)

    latencies, elapsed = await drive(app, [script], feed)
    await app.shutdown()
    return summarise("same calls", latencies, elapsed)


async def echo_bot(network: NullNetwork, users: int, count: int, concurrent: bool) -> dict:
    async def echo(update: Update, context) -> None:  # noqa: ANN001
        await update.effective_message.reply_text(update.effective_message.text)

    app = Application.builder().token(TOKEN).request(network).get_updates_request(NullNetwork()) \
        .concurrent_updates(concurrent).build()
    app.add_handler(MessageHandler(filters.TEXT, echo))
    await app.initialize()
    scripts = [echo_script(800_000 + n, max(1, count // users)) for n in range(users)]
    if not concurrent:
        scripts = [[step for script in scripts for step in script]]

    async def feed(update: Update, raw: str) -> None:
        if concurrent:  # exactly what Application does with every fetched update
            await app.update_processor.process_update(update, app.process_update(update))
        else:
            await app.process_update(update)

    latencies, elapsed = await drive(app, scripts, feed)
    await app.shutdown()
    return summarise("echo bot", latencies, elapsed)


def ratio(intake: dict, echo: dict, goal: float = 0.5) -> None:
    print(f"  ratio       intake/echo throughput {intake['updates/s'] / echo['updates/s']:.2f} (goal: at least {goal:.2f}); "
          f"p50 x{intake['p50'] / echo['p50']:.2f}, p99 x{intake['p99'] / echo['p99']:.2f}")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--intakes", type=int, default=200)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--latency-ms", type=float, default=30.0)
    parser.add_argument("--postgres", default=os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
                        help="a server where a database may be created for scenario 3 ('' to skip it)")
    args = parser.parse_args()
    updates = args.intakes * (len(INTAKE_STEPS) + 2)
    with tempfile.TemporaryDirectory() as first, tempfile.TemporaryDirectory() as second, \
            tempfile.TemporaryDirectory() as third:
        print(f"1. in process, no network latency, updates one after another ({args.intakes} intakes, SQLite)")
        recording: list[tuple[str, list[tuple[str, dict]]]] = []
        intake = await intake_bot(Path(first), NullNetwork(), args.users, args.intakes, concurrent=False,
                                  recording=recording)
        echo = await echo_bot(NullNetwork(), args.users, updates, concurrent=False)
        ceiling = await same_calls_bot(NullNetwork(), recording)
        calls = sum(len(c) for _, c in recording) / len(recording)
        ratio(intake, echo)
        print(f"  ceiling     PTB alone receiving the intake's updates and making its {calls:.1f} Bot API calls per update: "
              f"{ceiling['updates/s'] / echo['updates/s']:.2f} x the echo; "
              f"the intake bot {intake['updates/s'] / ceiling['updates/s']:.2f} x that")
        print(f"2. Bot API {args.latency_ms:g} ms away, {args.users} users at the same time")
        latency = args.latency_ms / 1000
        intake = await intake_bot(Path(second), NullNetwork(latency), args.users, args.intakes, concurrent=True)
        echo = await echo_bot(NullNetwork(latency), args.users, updates, concurrent=True)
        ratio(intake, echo)
        if args.postgres:
            print(f"3. in process as 1., on PostgreSQL ({args.postgres.rsplit('@', 1)[-1]})")
            name = f"casebot_bench_{secrets.token_hex(4)}"
            with psycopg.connect(args.postgres, autocommit=True) as admin:
                admin.execute(f'CREATE DATABASE "{name}"')
            server = args.postgres.rsplit("/", 1)[0]
            counter = Proxy(int(server.rsplit(":", 1)[1]) if server.count(":") > 1 else 5432).start()
            try:
                url = through(f"{server}/{name}".replace("postgresql://", "postgresql+psycopg://", 1), counter.port)
                intake = await intake_bot(Path(third), NullNetwork(), args.users, args.intakes, concurrent=False,
                                          database_url=url, round_trips=counter)
                echo = await echo_bot(NullNetwork(), args.users, updates, concurrent=False)
                ratio(intake, echo, goal=0.3)
            finally:
                counter.stop()
                with psycopg.connect(args.postgres, autocommit=True) as admin:
                    admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    asyncio.run(main())

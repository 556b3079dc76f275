"""Load through the real webhook endpoints of several `casebot run` instances on one PostgreSQL.

    .venv/bin/python bench/load.py [--instances 2] [--people 200] [--intakes 1] [--latency-ms 50]
                                   [--db-latency-ms 5] [--database postgresql://postgres@127.0.0.1/postgres]

It starts, in one run and on the same machine:
1. the baseline: as many bare python-telegram-bot echo bots in webhook mode (PTB's own
   `run_webhook`), each person sending as many messages as an intake has steps;
2. the KIM Casebot instances (`casebot run`, webhook mode) on a fresh PostgreSQL database, each
   person taking whole intakes, step by step, the next step when the bot has answered;
3. the same again with the database behind a TCP proxy that delays every packet by
   --db-latency-ms each way (a database a few milliseconds away), unless it is 0; the proxy
   runs in a process of its own (in the driver's, the driver's own waiting added to the delay).

The Bot API is the simulator's, answering every call after --latency-ms, without rate limits
(so the figures are the bots', not Telegram's limits; the instances' pacing is off). Updates go
to the instances in turn, as a round-robin load balancer would send them. Printed: updates/s,
latency per update (from the POST to the bot's answer) p50/p95/p99, updates lost (never
answered) or applied twice (answered again, or an intake saved twice), 429s, and each
instance's memory (RSS now and at its peak), and the ratios against the baseline.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import re
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import psycopg  # noqa: E402
import tornado.httpserver  # noqa: E402
from netproxy import SpawnedProxy, through  # noqa: E402, I001 - beside this script

from bot.app import build_store  # noqa: E402
from bot.cli import initialise  # noqa: E402
from bot.settings import Settings  # noqa: E402
from domain.roles import Role  # noqa: E402
from simulator.botapi import BotApi  # noqa: E402
from simulator.server import SIMULATOR_TOKEN, Simulator, make_app  # noqa: E402
from tests.flows import INTAKE_STEPS  # noqa: E402
from tests.instances import listening  # noqa: E402
from tests.live import free_port  # noqa: E402

SECRET = "load-benchmark-webhook-secret"
# what counts as the bot having answered a step: a new message or a changed text, or (a tick on a
# multiple choice) new buttons on the very message that was pressed
ANSWERS = ("sendMessage", "editMessageText")
ECHO_BOT = '''
import sys
from telegram.ext import Application, MessageHandler, filters
async def echo(update, context):
    await update.effective_message.reply_text(update.effective_message.text)
app = (Application.builder().token(sys.argv[1]).base_url(sys.argv[2] + "/bot")
       .concurrent_updates(64).build())
app.add_handler(MessageHandler(filters.TEXT, echo))
app.run_webhook(listen="127.0.0.1", port=int(sys.argv[3]), url_path="telegram", secret_token=sys.argv[4],
                webhook_url=f"http://127.0.0.1:{sys.argv[3]}/telegram")
'''


class Telegram:
    """The simulator's Bot API, slowed to --latency-ms, telling the driver when a chat got an answer."""

    def __init__(self, latency: float) -> None:
        self.api = BotApi(bot_username="load_bot")
        self.port = free_port()
        self.server = tornado.httpserver.HTTPServer(make_app(Simulator(self.api, latency=latency)))
        self.server.listen(self.port, address="127.0.0.1")
        self.url = f"http://127.0.0.1:{self.port}"
        self.waiting: dict[int, tuple[asyncio.Future, int | None]] = {}  # chat -> (answered, message pressed)
        self.too_many = 0
        original = self.api.call

        def call(method: str, params: dict, files: dict | None = None):  # noqa: ANN202
            try:
                result = original(method, params, files)
            except Exception as error:
                if getattr(error, "code", None) == 429:
                    self.too_many += 1
                raise
            chat = int(params.get("chat_id") or 0)
            pressed = self.waiting.get(chat, (None, None))[1]
            if method in ANSWERS or (method == "editMessageReplyMarkup" and pressed
                                     and int(params.get("message_id") or 0) == pressed):
                future, _ = self.waiting.pop(chat, (None, None))
                if future is not None and not future.done():
                    future.set_result(None)
            return result

        self.api.call = call

    def person(self, n: int) -> int:
        return self.api.add_user(f"P{n}", "de", user_id=900_000 + n).id

    def stop(self) -> None:
        self.server.stop()


def memory(pid: int) -> tuple[float, float]:
    """(RSS now, peak RSS) in MB."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


class Driver:
    """People working at once; each posts the next update when the bot has answered the last,
    to the instances in turn."""

    def __init__(self, telegram: Telegram, ports: list[int]) -> None:
        self.telegram, self.ports = telegram, ports
        self.turn = itertools.count()
        self.latencies: list[float] = []
        self.lost = 0
        self.client = httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=400))

    async def step(self, person: int, update: dict) -> None:
        future = asyncio.get_running_loop().create_future()
        pressed = update["callback_query"]["message"]["message_id"] if "callback_query" in update else None
        self.telegram.waiting[person] = (future, pressed)
        port = self.ports[next(self.turn) % len(self.ports)]
        started = time.perf_counter()
        while True:  # as Telegram: a refused delivery is tried again
            answer = await self.client.post(f"http://127.0.0.1:{port}/telegram", json=update,
                                            headers={"X-Telegram-Bot-Api-Secret-Token": SECRET})
            if answer.status_code == 200:
                break
            await asyncio.sleep(0.1)
        try:
            await asyncio.wait_for(future, 30)
            self.latencies.append(time.perf_counter() - started)
        except TimeoutError:
            self.lost += 1
            self.telegram.waiting.pop(person, None)

    def send(self, person: int, text: str) -> dict:
        return self.telegram.api.user_sends(person, text)

    def press(self, person: int, label: str) -> dict:
        shown = [m for m in self.telegram.api.chat(person, bot_only=True) if m.buttons()]
        if not shown:
            raise SystemExit(f"no buttons to press; the bot said: {[m.text[:80] for m in self.telegram.api.chat(person)]}")
        message = shown[-1]
        found = [b["callback_data"] for b in message.buttons() if b["text"] == label or b["text"].startswith(label)]
        if not found:
            raise SystemExit(f"no button {label!r}; the bot said: {[(m.message_id, m.text[:30]) for m in self.telegram.api.chat(person)]}"
                             f" with {message.button_texts()}, alerts {self.telegram.api.alerts[-3:]}")
        data = found[0]
        return self.telegram.api.user_presses(person, message.message_id, data)

    async def close(self) -> None:
        await self.client.aclose()


def report(name: str, driver: Driver, elapsed: float, telegram: Telegram, sizes: list[tuple[float, float]],
           extra: str = "") -> float:
    ordered = sorted(driver.latencies)

    def pct(p: float) -> float:
        return ordered[min(len(ordered) - 1, int(len(ordered) * p))] * 1000 if ordered else float("nan")

    rate = len(ordered) / elapsed
    rss = ", ".join(f"{now:.0f} MB (peak {peak:.0f})" for now, peak in sizes)
    print(f"  {name:<22} {len(ordered):>6} updates {rate:8.1f} updates/s   p50 {statistics.median(ordered) * 1000:6.1f} ms"
          f"   p95 {pct(0.95):6.1f} ms   p99 {pct(0.99):6.1f} ms")
    print(f"  {'':<22} unanswered {driver.lost}{extra}, 429s {telegram.too_many};"
          f" RSS per instance: {rss}")
    return rate


async def echo_baseline(args: argparse.Namespace, steps: int) -> float:
    telegram = Telegram(args.latency_ms / 1000)
    ports = [free_port() for _ in range(args.instances)]
    processes = [subprocess.Popen([sys.executable, "-c", ECHO_BOT, SIMULATOR_TOKEN, telegram.url, str(port), SECRET],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for port in ports]
    driver = Driver(telegram, ports)
    try:
        for port, process in zip(ports, processes, strict=True):
            await listening(port, process, timeout=60)
        people = [telegram.person(n) for n in range(args.people)]

        async def person(pid: int) -> None:
            for n in range(steps):
                await driver.step(pid, driver.send(pid, f"Nachricht {n}"))

        started = time.perf_counter()
        await asyncio.gather(*(person(p) for p in people))
        return report("echo (PTB run_webhook)", driver, time.perf_counter() - started, telegram,
                      [memory(p.pid) for p in processes])
    finally:
        await driver.close()
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            process.wait(30)
        telegram.stop()


async def casebot(args: argparse.Namespace, workdir: Path, db_delay: float) -> float:
    telegram = Telegram(args.latency_ms / 1000)
    name = f"casebot_load_{secrets.token_hex(4)}"
    server = args.database.rsplit("/", 1)[0]
    with psycopg.connect(args.database, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    proxy = None
    url = f"{server}/{name}".replace("postgresql://", "postgresql+psycopg://", 1)
    if db_delay:
        proxy = SpawnedProxy(int(server.rsplit(":", 1)[1]) if server.count(":") > 1 else 5432, db_delay)
        url = through(url, proxy.port)
    key = workdir / f"{name}.key"
    settings = Settings(_env_file=None, telegram_bot_token=SIMULATOR_TOKEN, telegram_api_url=telegram.url,
                        database_url=url, master_key_file=key)
    initialise(settings, org_name="Load", prefix="LOA", districts=["I", "II"], quiet=True)
    store = build_store(settings)
    org = store.staff.first_organisation_id()
    people = []
    for n in range(args.people):  # staff already registered: the benchmark measures their work
        code = store.staff.create_invitation(org_id=org, role=Role.CASE_MANAGER, district_id=None,
                                             expires_in=timedelta(days=1), created_by=None)
        people.append(telegram.person(n))
        store.staff.redeem_invitation(code=code, telegram_id=people[-1], language="de")
    ports = [free_port() for _ in range(args.instances)]
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "DATABASE_", "MASTER_", "WEBHOOK_"))}
    env = {**clean, "PYTHONPATH": str(ROOT), "TELEGRAM_BOT_TOKEN": SIMULATOR_TOKEN, "TELEGRAM_API_URL": telegram.url,
           "DATABASE_URL": url, "MASTER_KEY_FILE": str(key), "TELEGRAM_RATE_LIMIT": "0", "LOG_LEVEL": "WARNING",
           "WEBHOOK_SECRET": SECRET, "WEBHOOK_URL": f"http://127.0.0.1:{ports[0]}/telegram",
           "DATABASE_THREADS": str(args.threads), "PIN_REQUIRED": "false"}
    processes = [subprocess.Popen([sys.executable, "-m", "bot.cli", "run"], cwd=workdir, env={**env, "WEBHOOK_PORT": str(port)},
                                  stdout=subprocess.DEVNULL, stderr=(workdir / f"{name}-{port}.log").open("w"))
                 for port in ports]
    driver = Driver(telegram, ports)
    try:
        for port, process in zip(ports, processes, strict=True):
            await listening(port, process, timeout=60)

        async def person(pid: int) -> None:
            for n in range(args.intakes):
                await driver.step(pid, driver.send(pid, "/new"))
                for field, (action, value) in INTAKE_STEPS.items():
                    value = f"P{pid}x{n}" if field == "given_name" else value
                    await driver.step(pid, driver.send(pid, value) if action == "send" else driver.press(pid, value))
                await driver.step(pid, driver.press(pid, "✔ Speichern"))

        started = time.perf_counter()
        await asyncio.gather(*(person(p) for p in people))
        elapsed = time.perf_counter() - started
        sizes = [memory(p.pid) for p in processes]
        for process in processes:  # drained: whatever was taken is finished
            process.send_signal(signal.SIGTERM)
        for process in processes:
            process.wait(60)
        with store.engine.connect() as connection:
            from sqlalchemy import text

            saved = connection.scalar(text("SELECT COUNT(*) FROM client_case"))
            names = connection.scalar(text("SELECT COUNT(DISTINCT person_index) FROM client_case"))
            waiting = connection.scalar(text("SELECT COUNT(*) FROM inbox_update"))
            received = connection.scalar(text("SELECT COUNT(*) FROM seen_update"))
        expected = args.people * args.intakes
        endings = Counter(re.sub(r"[A-Z]+-\d{4}-\d+", "<code>", telegram.api.chat(p, bot_only=True)[-1].text.split("\n")[0][:50])
                          for p in people)
        if len(endings) > 1:  # every intake should end the same way
            print(f"    how the intakes ended: {dict(endings)}")
        for log in sorted(workdir.glob(f"{name}-*.log")):  # what the instances logged (never personal data)
            lines = [line.split(" ", 2)[-1][:160] for line in log.read_text().splitlines() if " WARNING " in line or " ERROR " in line]
            for line, count in sorted(Counter(lines).items(), key=lambda kv: -kv[1])[:5]:
                print(f"    {log.name.split('-')[-1][:-4]}: {count} x {line}")
        label = f"casebot, DB +{db_delay * 1000:g} ms" if db_delay else "casebot"
        # a step lost or applied twice would leave an intake unsaved, saved twice, or under a wrong name
        return report(label, driver, elapsed, telegram, sizes,
                      f"; updates stored {received} of {len(driver.latencies) + driver.lost}, intakes saved {saved} "
                      f"of {expected} ({names} distinct people), left in the inbox {waiting}")
    finally:
        await driver.close()
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in processes:
            process.wait(60)
        store.close()
        if proxy is not None:
            proxy.stop()
        telegram.stop()
        with psycopg.connect(args.database, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int, default=2)
    parser.add_argument("--people", type=int, default=200)
    parser.add_argument("--intakes", type=int, default=1, help="whole intakes per person")
    parser.add_argument("--latency-ms", type=float, default=50.0, help="how long each Bot API call takes")
    parser.add_argument("--db-latency-ms", type=float, default=5.0)
    parser.add_argument("--threads", type=int, default=16, help="DATABASE_THREADS of each instance")
    parser.add_argument("--database", default=os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"))
    args = parser.parse_args()
    steps = args.intakes * (len(INTAKE_STEPS) + 2)
    print(f"{args.instances} instances, {args.people} people, {steps} steps each, Bot API {args.latency_ms:g} ms away, "
          f"PostgreSQL, on {os.cpu_count()} cores")
    echo = await echo_baseline(args, steps)
    with tempfile.TemporaryDirectory() as workdir:
        near = await casebot(args, Path(workdir), 0.0)
        print(f"  ratio casebot/echo {near / echo:.2f}   (goal: at least 500 updates/s in total, p99 under 300 ms)")
        if args.db_latency_ms:
            far = await casebot(args, Path(workdir), args.db_latency_ms / 1000)
            print(f"  ratio with the database {args.db_latency_ms:g} ms away / without {far / near:.2f}   (goal: at least 0.8)")


if __name__ == "__main__":
    asyncio.run(main())

"""Configuration, the CLI, webhook mode and log hygiene: what an operator sees."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from bot.webhook import SECRET_HEADER, webhook_app
from tests.conftest import TEST_TOKEN
from tests.flows import run_intake

ROOT = Path(__file__).resolve().parents[1]


def casebot(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "DATABASE_", "MASTER_", "WEBHOOK_"))}
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], env={**clean, **env, "PYTHONPATH": str(ROOT)},
                          cwd=cwd, capture_output=True, text=True, timeout=120)


def test_bad_configuration_exits_2_with_one_line_and_no_secret(tmp_path):
    secret_token = "999:definitely-not-a-valid-token"
    result = casebot("run", env={"TELEGRAM_BOT_TOKEN": secret_token, "TIMEZONE": "Mars/Olympus"}, cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("casebot: configuration error:")
    assert "TELEGRAM_BOT_TOKEN" in lines[0] and "TIMEZONE: unknown time zone" in lines[0]
    assert secret_token not in result.stderr + result.stdout


def test_the_readme_run_command_without_token_serves_the_simulator(tmp_path):
    """`casebot run` with no token: the bot, unchanged, against the local simulator."""
    port, health = _free_port(), _free_port()
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "DATABASE_", "MASTER_", "WEBHOOK_"))}
    env = {**clean, "PYTHONPATH": str(ROOT), "SIMULATOR_HOME": str(tmp_path / "sim"),
           "DATABASE_URL": f"sqlite:///{tmp_path}/real.sqlite3", "HEALTH_PORT": str(health)}
    process = subprocess.Popen([sys.executable, "-m", "bot.cli", "run", "--port", str(port)], env=env, cwd=tmp_path,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        lines = []
        for line in process.stdout:
            lines.append(line)
            if "running (long polling)" in line:
                break
        output = "".join(lines)
        assert f"simulator: open http://127.0.0.1:{port}" in output and "/start " in output
        page = httpx.get(f"http://127.0.0.1:{port}/", timeout=5)
        assert page.status_code == 200 and "KIM Casebot · Simulator" in page.text
        for _ in range(100):  # the bot publishes its command menu once it is connected
            commands = httpx.get(f"http://127.0.0.1:{port}/api/state", params={"wait": 0}).json()["commands"]
            if commands:
                break
            time.sleep(0.05)
        assert {c["command"] for c in commands["de"]} == {"help"}  # strangers' menu; staff get theirs
        assert (tmp_path / "sim" / "casebot.sqlite3").exists() and not (tmp_path / "real.sqlite3").exists()
        # the operator's endpoints, in polling mode too (bot/ops.py)
        assert httpx.get(f"http://127.0.0.1:{health}/healthz", timeout=5).text == "ok\n"
        ready = httpx.get(f"http://127.0.0.1:{health}/readyz", timeout=5)
        assert ready.status_code == 200 and ready.json()["ready"] is True
        assert "casebot_bot_api_calls_total" in httpx.get(f"http://127.0.0.1:{health}/metrics", timeout=5).text
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_a_token_from_a_placeholder_is_refused(tmp_path):
    result = casebot("run", env={"TELEGRAM_BOT_TOKEN": "123:abc"}, cwd=tmp_path)
    assert result.returncode == 2 and "@BotFather" in result.stderr


def test_webhook_needs_a_secret(tmp_path):
    result = casebot("run", env={"TELEGRAM_BOT_TOKEN": TEST_TOKEN, "WEBHOOK_URL": "https://bot.example.org/hook"},
                     cwd=tmp_path)
    assert result.returncode == 2 and "WEBHOOK_SECRET" in result.stderr


def test_init_creates_database_key_and_first_invitation_once(tmp_path):
    env = {"DATABASE_URL": f"sqlite:///{tmp_path}/var/db.sqlite3", "MASTER_KEY_FILE": str(tmp_path / "var" / "master.key")}
    first = casebot("init", "--prefix", "lev", "--districts", "Nord,Süd", env=env, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "one-time invitation (admin):" in first.stdout and "https://t.me/" in first.stdout
    assert (tmp_path / "var" / "master.key").stat().st_mode & 0o777 == 0o600
    second = casebot("init", env=env, cwd=tmp_path)
    assert second.returncode == 0 and "already initialised" in second.stdout
    invite = casebot("invite", "--role", "case-manager", "--district", "Süd", "--expires", "2d", env=env, cwd=tmp_path)
    assert invite.returncode == 0 and "one-time invitation (case-manager):" in invite.stdout
    unknown = casebot("invite", "--role", "case-manager", "--district", "West", env=env, cwd=tmp_path)
    assert unknown.returncode == 2 and "no district" in unknown.stderr


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_webhook_checks_the_secret_token_and_feeds_the_bot(bot, monkeypatch):
    """The endpoint answers 200 only once the update is stored: a database that does not take
    it gets 503, so Telegram delivers it again."""
    secret = "s3cret-webhook-token-0123456789"
    port = _free_port()
    server = webhook_app(bot.app, "/telegram", secret).listen(port, address="127.0.0.1")
    await bot.app.start()
    bot.services.inbox.start()
    try:
        admin = bot.user()
        update = {"update_id": 1, "message": {
            "message_id": 1, "date": 1, "chat": {"id": admin.id, "type": "private"},
            "from": {"id": admin.id, "is_bot": False, "first_name": "A", "language_code": "de"},
            "text": f"/start {bot.admin_code}", "entities": [{"type": "bot_command", "offset": 0, "length": 6}]}}
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            assert (await client.post("/telegram", json=update)).status_code == 403
            assert (await client.post("/telegram", json=update, headers={SECRET_HEADER: "wrong"})).status_code == 403
            assert bot.fake.chat(admin.id) == []
            assert (await client.post("/telegram", content=b"{not json", headers={SECRET_HEADER: secret})).status_code == 400
            for malformed in ([], {"update_id": "x"}, {"update_id": 2, "message": 5}, {"update_id": 3, "message": {}}):
                refused = await client.post("/telegram", json=malformed, headers={SECRET_HEADER: secret})
                assert refused.status_code == 400, malformed
            with monkeypatch.context() as broken:
                broken.setattr(bot.services.store.inbox, "receive", _database_down)
                assert (await client.post("/telegram", json=update, headers={SECRET_HEADER: secret})).status_code == 503
            await asyncio.sleep(0.1)
            assert bot.fake.chat(admin.id) == []
            assert (await client.post("/telegram", json=update, headers={SECRET_HEADER: secret})).status_code == 200
        for _ in range(100):
            if bot.fake.chat(admin.id):
                break
            await asyncio.sleep(0.02)
        assert "Willkommen!" in bot.fake.chat(admin.id)[0].text
    finally:
        await bot.services.inbox.stop()
        await bot.app.stop()
        server.stop()


def _database_down(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
    from sqlalchemy.exc import OperationalError

    raise OperationalError("INSERT", {}, Exception("the database is away"))


async def test_no_personal_data_or_token_in_the_logs(bot, caplog):
    caplog.set_level(logging.DEBUG)
    cm = await bot.register()
    await run_intake(cm, given_name=("send", "Leyla"), family_name=("send", "Osmanova"), note=("send", "Trauma"))
    await cm.send("/case LEV-2026-0001")
    await cm.press("👁 Namen und Details zeigen")
    revealed = cm.last().text
    await cm.send("31.02.1999")
    logged = "\n".join(r.getMessage() for r in caplog.records)
    for secret in ("Leyla", "Osmanova", "Trauma", TEST_TOKEN, bot.admin_code):
        assert secret not in logged
    assert "Leyla" in revealed  # the user did see it; only the logs must not


def test_log_redaction_filter():
    from bot.logs import RedactSecrets

    record = logging.LogRecord("httpx", logging.INFO, __file__, 1, "POST https://api/bot%s/getMe", (TEST_TOKEN,), None)
    RedactSecrets([TEST_TOKEN]).filter(record)
    assert TEST_TOKEN not in record.getMessage() and "[redacted]" in record.getMessage()


@pytest.mark.parametrize("value", ["sqlite:///x.db", "postgresql://u@h/db"])
def test_database_urls_are_accepted_and_use_psycopg(value, tmp_path):
    from bot.settings import Settings

    settings = Settings(_env_file=None, database_url=value)
    assert settings.database_url.startswith(("sqlite", "postgresql+psycopg://"))


def test_json_log_lines_hold_no_secret(tmp_path):
    """LOG_FORMAT=json: each line one JSON object; the token never in it."""
    import json as json_module

    secret_token = "999:definitely-not-a-valid-token"
    result = casebot("run", env={"TELEGRAM_BOT_TOKEN": secret_token, "LOG_FORMAT": "json", "TIMEZONE": "Mars/Olympus"},
                     cwd=tmp_path)
    assert result.returncode == 2 and secret_token not in result.stderr + result.stdout
    import logging

    from bot.logs import JsonLines

    record = logging.LogRecord("casebot.test", logging.INFO, __file__, 1, "stored %s updates", (3,), None)
    line = json_module.loads(JsonLines().format(record))
    assert line["level"] == "INFO" and line["logger"] == "casebot.test" and line["message"] == "stored 3 updates"

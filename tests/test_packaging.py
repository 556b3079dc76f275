"""The bot as an operator installs it: `pip install .` (not editable), run from anywhere."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.live import free_port

ROOT = Path(__file__).resolve().parents[1]
_NOT_SHIPPED = shutil.ignore_patterns(".venv", ".git", "var", "build", "*.egg-info", "__pycache__", "artifacts",
                                      "compat", ".pytest_cache")


def _install(tmp_path: Path) -> Path:
    """A non-editable install of this checkout into a folder of its own (the venv's Python and its
    dependencies, but none of the checkout's files on the path)."""
    source, target = tmp_path / "source", tmp_path / "site"
    shutil.copytree(ROOT, source, ignore=_NOT_SHIPPED)  # the build writes into its source tree
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps",
                    "--target", str(target), str(source)], check=True, capture_output=True, timeout=300)
    shutil.rmtree(source)
    return target


def test_an_installed_copy_runs_from_anywhere_and_asks_the_intake_in_german(tmp_path):
    target = _install(tmp_path)
    workdir = tmp_path / "office"
    workdir.mkdir()
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith(("TELEGRAM_", "DATABASE_", "MASTER_", "WEBHOOK_", "SIMULATOR_", "PYTHON"))}
    env = {**clean, "PYTHONPATH": str(target), "PYTHONUNBUFFERED": "1"}
    where = subprocess.run([sys.executable, "-c", "import bot, locales; print(bot.__file__); print(locales.__file__)"],
                           env=env, cwd=workdir, capture_output=True, text=True, check=True).stdout.split()
    assert all(path.startswith(str(target)) for path in where), where  # the installed copy, not the checkout
    assert (target / "locales" / "de" / "LC_MESSAGES" / "messages.po").exists()
    assert (target / "locales" / "templates" / "question.j2").exists()

    port = free_port()
    process = subprocess.Popen([sys.executable, str(target / "bin" / "casebot"), "run", "--port", str(port)], env=env,
                               cwd=workdir, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        code, lines = None, []
        for line in process.stdout:
            lines.append(line)
            if match := re.search(r"/start (\S+)", line):
                code = match[1]
            if "running (long polling)" in line:
                break
        assert code, "".join(lines)
        api = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=5)

        def person() -> int:
            return api.post("/api/users", json={"first_name": "Ana", "language_code": "de"}).json()["id"]

        def wait(who: int, expected: str) -> dict:
            for _ in range(200):
                chat = api.get("/api/state", params={"wait": 0}).json()["chats"][str(who)]
                found = [m for m in chat if m["from_bot"] and expected in m["text"]]
                if found:
                    return found[-1]
                time.sleep(0.05)
            raise AssertionError([m["text"][:80] for m in chat])

        def say(who: int, text: str, expected: str) -> dict:
            api.post("/api/send", json={"user_id": who, "text": text})
            return wait(who, expected)

        def press(who: int, message: dict, label: str, expected: str) -> dict:
            data = next(b["data"] for row in message["buttons"] for b in row if b["text"] == label)
            api.post("/api/press", json={"user_id": who, "message_id": message["id"], "data": data})
            return wait(who, expected)

        admin, manager = person(), person()
        say(admin, f"/start {code}", "Willkommen")
        roles = say(admin, "/invite", "Wen möchten Sie einladen?")
        districts = press(admin, roles, "Case Manager:in", "Für welchen Bezirk?")
        invitation = press(admin, districts, districts["buttons"][0][0]["text"], "Einmalige Einladung")
        say(manager, "/start " + re.search(r"start=(\S+)", invitation["text"])[1], "Willkommen")
        question = say(manager, "/new", "Einwilligung")
        assert question["text"].startswith("Erstberatung · Frage 1 von")
        # the data went where the README says: ./var under the working directory
        assert (workdir / "var" / "simulator" / "casebot.sqlite3").exists()
        assert not (target / "var").exists()
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_the_locks_pin_every_dependency_the_project_declares():
    """A dependency added to pyproject.toml without `make lock` fails here, not on a fresh machine."""
    import re
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    name = lambda requirement: re.split(r"[<>=\[ ;]", requirement, maxsplit=1)[0].lower().replace("_", "-")  # noqa: E731
    for lock, declared in (("runtime.lock", project["dependencies"]),
                           ("test.lock", project["dependencies"] + project["optional-dependencies"]["test"])):
        pinned = {line.split("==")[0].lower() for line in (ROOT / "requirements" / lock).read_text().splitlines()
                  if "==" in line and not line.startswith("#")}
        assert {name(r) for r in declared} <= pinned, (lock, {name(r) for r in declared} - pinned)
    readme = (ROOT / "README.md").read_text()
    assert "pip install -q -r requirements/test.lock" in readme and "pip install -q -r requirements/runtime.lock" in readme
    assert "pip install -q -r requirements/test.lock" in (ROOT / ".ci" / "run").read_text()

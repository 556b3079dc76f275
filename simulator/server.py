"""The simulator over HTTP on 127.0.0.1: the Bot API for the bot, a chat page for people.

    /bot<token>/<method>   the Bot API (query string, form, JSON or multipart, like Telegram)
    /                       the chat page (simulator/static/index.html)
    /api/...                what the page does: people, messages, button presses, state
    /files/<file_id>        documents and photos the bot sent
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import threading
from pathlib import Path
from typing import Any
from urllib.parse import quote

import tornado.httpserver
import tornado.web

from simulator.botapi import ApiError, BotApi, RateLimit

log = logging.getLogger("casebot.simulator")
STATIC = Path(__file__).resolve().parent / "static"
# A token of the real shape, so the bot's own validation accepts it; it opens nothing anywhere.
SIMULATOR_TOKEN = "1000000001:SIMULATOR-local-only-not-a-real-token"
MAX_POLL_SECONDS = 50
# the names this machine's loopback goes by: any other Host is a page elsewhere that got a DNS
# name pointed at 127.0.0.1 (DNS rebinding), and is refused
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "[::1]", "::1"})


class Simulator:
    """The Bot API core plus what HTTP needs: waiting for changes, remembering people."""

    def __init__(self, api: BotApi, *, token: str = SIMULATOR_TOKEN, users_file: Path | None = None,
                 latency: float = 0.0) -> None:
        self.api, self.token, self.users_file = api, token, users_file
        self.latency = latency  # seconds each Bot API call takes (Telegram is tens of ms away)
        self._changed = asyncio.Event()
        if users_file and users_file.exists():
            for user in json.loads(users_file.read_text(encoding="utf-8")):
                api.add_user(user["first_name"], user.get("language_code"), user_id=user["id"])

    def touched(self) -> None:
        """Wake everyone waiting for a change (long-polling bot, open pages)."""
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait(self, condition, timeout: float) -> None:  # noqa: ANN001
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not condition() and (remaining := deadline - loop.time()) > 0:
            try:
                await asyncio.wait_for(self._changed.wait(), remaining)
            except TimeoutError:
                return

    def save_users(self) -> None:
        if self.users_file:
            self.users_file.parent.mkdir(parents=True, exist_ok=True)
            people = [{"id": u.id, "first_name": u.first_name, "language_code": u.language_code}
                      for u in self.api.users.values()]
            self.users_file.write_text(json.dumps(people, ensure_ascii=False), encoding="utf-8")

    def state(self) -> dict[str, Any]:
        """Everything the page shows, as JSON."""
        api = self.api
        return {
            "revision": api.revision,
            "bot": {"username": api.bot_username},
            "users": [{"id": u.id, "first_name": u.first_name, "language_code": u.language_code}
                      for u in api.users.values()],
            "chats": {str(uid): [_message_json(m) for m in api.chat(uid)] for uid in api.users},
            "alerts": [{"n": n, "chat": chat, "text": text, "alert": alert}
                       for n, (chat, text, alert) in enumerate(api.alerts)],
            "commands": api.commands,
        }


def _message_json(message) -> dict:  # noqa: ANN001
    data = {"id": message.message_id, "from_bot": message.from_bot, "html": message.display_html,
            "text": message.text, "revision": message.revision, "reply_to": message.reply_to,
            "buttons": [[{"text": b.get("text", ""), "data": b.get("callback_data"), "url": b.get("url")} for b in row]
                        for row in (message.reply_markup or {}).get("inline_keyboard", [])]}
    for kind in ("document", "photo"):
        media = getattr(message, kind)
        if media:
            data[kind] = {"file_id": media["file_id"], "file_name": media.get("file_name"), "size": media["file_size"]}
    return data


class _Base(tornado.web.RequestHandler):
    def initialize(self, simulator: Simulator) -> None:
        self.sim = simulator

    def prepare(self) -> None:
        """Only this machine's own pages and the bot: a web page the developer happens to visit
        must neither read the chats nor drive the simulator."""
        host = self.request.host.lower()
        name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
        if name not in LOCAL_HOSTS:
            raise tornado.web.HTTPError(403)
        if self.request.method != "POST" or not self.request.path.startswith("/api/"):
            return
        origin = self.request.headers.get("Origin")
        if origin is not None and origin.lower() not in {f"http://{host}", f"https://{host}"}:
            raise tornado.web.HTTPError(403)  # a cross-site request
        if self.request.headers.get("Sec-Fetch-Site", "same-origin") not in ("same-origin", "none"):
            raise tornado.web.HTTPError(403)
        # a cross-site form cannot send JSON without a preflight, which is never answered here
        if not self.request.headers.get("Content-Type", "").startswith("application/json"):
            raise tornado.web.HTTPError(415)

    def write_json(self, data: Any, status: int = 200) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json; charset=utf-8")
        self.finish(json.dumps(data, ensure_ascii=False))

    def body_json(self) -> dict:
        try:
            return json.loads(self.request.body or b"{}")
        except ValueError:
            raise tornado.web.HTTPError(400) from None

    def log_exception(self, typ, value, tb) -> None:  # noqa: ANN001 - keep chat texts out of logs
        if not isinstance(value, tornado.web.HTTPError):
            log.error("simulator request failed: %s", typ.__name__ if typ else "unknown")


class BotApiHandler(_Base):
    """One Bot API method, as Telegram's server answers it."""

    async def get(self, token: str, method: str) -> None:
        await self.post(token, method)

    async def post(self, token: str, method: str) -> None:
        if token != self.sim.token:
            self.write_json({"ok": False, "error_code": 401, "description": "Unauthorized"}, 401)
            return
        params, files = self._parameters()
        if self.sim.latency:
            await asyncio.sleep(self.sim.latency)
        if method == "getUpdates":
            offset = int(params.get("offset") or 0)
            timeout = min(float(params.get("timeout") or 0), MAX_POLL_SECONDS)
            self.sim.api.confirm_below(offset)  # as Telegram: confirmed when asked, not when answered
            await self.sim.wait(lambda: any(u["update_id"] >= offset for u in self.sim.api.pending_updates), timeout)
        try:
            result = self.sim.api.call(method, params, files)
        except ApiError as error:
            self.write_json(error.body(), error.code)
            return
        if method != "getUpdates":
            self.sim.touched()
        self.write_json({"ok": True, "result": result})

    def _parameters(self) -> tuple[dict, dict]:
        params: dict[str, Any] = {k: self.get_argument(k) for k in self.request.query_arguments}
        content_type = self.request.headers.get("Content-Type", "")
        if content_type.startswith("application/json"):
            params.update(self.body_json())
        else:
            params.update({k: self.get_body_argument(k) for k in self.request.body_arguments})
        # nested objects arrive as JSON strings in forms, as Telegram accepts them
        params = {k: json.loads(v) if isinstance(v, str) and v[:1] in "[{" else v for k, v in params.items()}
        files = {name: {"filename": f[0]["filename"], "content": f[0]["body"], "mime_type": f[0]["content_type"]}
                 for name, f in self.request.files.items()}
        # a file sent as "attach://name" is looked up under that name
        for key, value in list(params.items()):
            if isinstance(value, str) and value.startswith("attach://") and value[9:] in files:
                files[key] = files[value[9:]]
        return params, files


class StateHandler(_Base):
    async def get(self) -> None:
        since = int(self.get_argument("since", "-1"))
        await self.sim.wait(lambda: self.sim.api.revision > since, float(self.get_argument("wait", "25")))
        self.write_json(self.sim.state())


class UsersHandler(_Base):
    def post(self) -> None:
        body = self.body_json()
        name = str(body.get("first_name") or "").strip()
        if not name:
            self.write_json({"error": "first_name is required"}, 400)
            return
        user = self.sim.api.add_user(name, str(body.get("language_code") or "") or None)
        self.sim.save_users()
        self.sim.touched()
        self.write_json({"id": user.id, "first_name": user.first_name, "language_code": user.language_code})


class SendHandler(_Base):
    def post(self) -> None:
        body = self.body_json()
        user_id, text = int(body.get("user_id") or 0), str(body.get("text") or "")
        if user_id not in self.sim.api.users or not text.strip():
            self.write_json({"error": "unknown user or empty text"}, 400)
            return
        update = self.sim.api.user_sends(user_id, text)
        self.sim.touched()
        self.write_json({"update_id": update["update_id"]})


class PressHandler(_Base):
    def post(self) -> None:
        body = self.body_json()
        try:
            update = self.sim.api.user_presses(int(body.get("user_id") or 0), int(body.get("message_id") or 0),
                                               str(body.get("data") or ""))
        except (ApiError, KeyError):
            self.write_json({"error": "no such message"}, 400)
            return
        self.sim.touched()
        self.write_json({"update_id": update["update_id"]})


class BotFileHandler(_Base):
    """File downloads as the Bot API serves them (what getFile's file_path points at)."""

    def get(self, token: str, file_path: str) -> None:
        content = self.sim.api.file_content(file_path) if token == self.sim.token else None
        if content is None:
            raise tornado.web.HTTPError(404)
        self.finish(content)


class SendDocumentHandler(_Base):
    def post(self) -> None:
        body = self.body_json()
        user_id = int(body.get("user_id") or 0)
        try:
            content = base64.b64decode(str(body.get("content_b64") or ""), validate=True)
        except ValueError:
            content = b""
        if user_id not in self.sim.api.users or not content or len(content) > 20_000_000:
            self.write_json({"error": "unknown user, or no file (at most 20 MB)"}, 400)
            return
        mime_type = str(body.get("mime_type") or "application/octet-stream")
        reply_to = int(body["reply_to"]) if str(body.get("reply_to") or "").isdigit() else None
        if reply_to and mime_type in ("image/jpeg", "image/png"):  # a photo, as the app sends one
            update = self.sim.api.user_sends_photo(user_id, content, reply_to)
        else:
            update = self.sim.api.user_sends_document(user_id, str(body.get("filename") or "file"), content, mime_type,
                                                      reply_to)
        self.sim.touched()
        self.write_json({"update_id": update["update_id"]})


class FileHandler(_Base):
    def get(self, file_id: str) -> None:
        stored = self.sim.api.files.get(file_id)
        if stored is None:
            raise tornado.web.HTTPError(404)
        self.set_header("Content-Type", stored["mime_type"])
        disposition = "inline" if stored["mime_type"].startswith("image/") else "attachment"
        self.set_header("Content-Disposition", f"{disposition}; filename*=UTF-8''{quote(stored['file_name'])}")
        self.finish(stored["content"])


class PageHandler(_Base):
    def get(self) -> None:
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.set_header("Content-Security-Policy", "default-src 'self'; style-src 'self' 'unsafe-inline'; "
                                                   "script-src 'self' 'unsafe-inline'; img-src 'self'")
        self.finish((STATIC / "index.html").read_bytes())


def make_app(simulator: Simulator) -> tornado.web.Application:
    args = {"simulator": simulator}
    return tornado.web.Application([
        (r"/bot([^/]+)/(\w+)", BotApiHandler, args),
        (r"/file/bot([^/]+)/(.+)", BotFileHandler, args),
        (r"/api/send_document", SendDocumentHandler, args),
        (r"/api/state", StateHandler, args),
        (r"/api/users", UsersHandler, args),
        (r"/api/send", SendHandler, args),
        (r"/api/press", PressHandler, args),
        (r"/files/([\w-]+)", FileHandler, args),
        (r"/", PageHandler, args),
    ], log_function=lambda handler: None)


class SimulatorThread(threading.Thread):
    """The simulator in a thread of its own, with its own event loop, so the bot beside it runs
    exactly as it does against Telegram (its own loop, real HTTP over loopback)."""

    def __init__(self, *, port: int, rate_limit: RateLimit | None = None, users_file: Path | None = None,
                 bot_username: str = "kim_casebot") -> None:
        super().__init__(name="simulator", daemon=True)
        self.port, self.rate_limit, self.users_file, self.bot_username = port, rate_limit, users_file, bot_username
        self.ready = threading.Event()
        self.simulator: Simulator | None = None
        self.loop: asyncio.AbstractEventLoop | None = None

    def run(self) -> None:
        self.loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self.loop)

        async def serve() -> None:
            self.simulator = Simulator(BotApi(bot_username=self.bot_username, rate_limit=self.rate_limit),
                                       users_file=self.users_file)
            server = tornado.httpserver.HTTPServer(make_app(self.simulator))
            server.listen(self.port, address="127.0.0.1")
            self.ready.set()
            await asyncio.Event().wait()

        self.loop.run_until_complete(serve())

    def call(self, function, *args):  # noqa: ANN001, ANN002, ANN201
        """Run `function(simulator, *args)` on the simulator's loop and return its result."""
        done = asyncio.run_coroutine_threadsafe(_apply(self.simulator, function, args), self.loop)
        return done.result(timeout=10)


async def _apply(simulator: Simulator, function, args):  # noqa: ANN001, ANN201
    result = function(simulator, *args)
    simulator.touched()
    return result

"""Webhook mode: a small HTTP endpoint of our own instead of PTB's built-in one, because the
secret-token header must be compared in constant time (PTB compares with `!=` and logs the
wrong token it received)."""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from urllib.parse import urlsplit

import tornado.httpserver
import tornado.web
from telegram import Update
from telegram.ext import Application

log = logging.getLogger("casebot.webhook")
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_BODY = 1_000_000


class _UpdateHandler(tornado.web.RequestHandler):
    # tornado passes its own `application` to handlers, so ours is called `bot_application`
    def initialize(self, bot_application: Application, secret: str) -> None:
        self.bot_application = bot_application
        self.secret = secret.encode()

    async def post(self) -> None:
        given = (self.request.headers.get(SECRET_HEADER) or "").encode()
        if not hmac.compare_digest(given, self.secret):
            log.warning("webhook request refused: missing or wrong secret token")
            raise tornado.web.HTTPError(403)
        try:
            body = json.loads(self.request.body)
            if not isinstance(body, dict) or not isinstance(body.get("update_id"), int):
                raise ValueError("not an update")
            update = Update.de_json(body, self.bot_application.bot)
        except Exception:  # noqa: BLE001 - whatever the body is, it is not an update: the sender's fault
            log.warning("webhook request refused: the body is not an update")
            raise tornado.web.HTTPError(400) from None
        await self.bot_application.update_queue.put(update)
        self.set_status(200)

    def log_exception(self, typ, value, tb) -> None:  # noqa: ANN001 - keep request bodies out of logs
        if not isinstance(value, tornado.web.HTTPError):
            log.error("webhook handler failed: %s", typ.__name__ if typ else "unknown")


def webhook_app(application: Application, path: str, secret: str) -> tornado.web.Application:
    return tornado.web.Application([(path, _UpdateHandler, {"bot_application": application, "secret": secret})],
                                   log_function=lambda handler: None)


async def serve(application: Application, *, public_url: str, secret: str, listen: str, port: int,
                stop: asyncio.Event) -> None:
    """Register the webhook with Telegram, then feed posted updates to the application until `stop`."""
    path = urlsplit(public_url).path or "/"
    server = tornado.httpserver.HTTPServer(webhook_app(application, path, secret), max_body_size=MAX_BODY)
    server.listen(port, address=listen)
    async with application:
        await application.bot.set_webhook(public_url, secret_token=secret, allowed_updates=Update.ALL_TYPES)
        await application.start()
        log.info("webhook mode: listening on %s:%s", listen, port)
        await stop.wait()
        await application.stop()
    server.stop()

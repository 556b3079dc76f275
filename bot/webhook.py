"""Webhook mode: a small HTTP endpoint of our own instead of PTB's built-in one, because the
secret-token header must be compared in constant time (PTB compares with `!=` and logs the
wrong token it received), and because Telegram may be told "received" only once the update is
stored in the inbox (PTB answers 200 as soon as the update is queued in memory)."""

from __future__ import annotations

import hmac
import json
import logging

import tornado.web
from telegram import Update
from telegram.ext import Application

from bot.inbox import Inbox

log = logging.getLogger("casebot.webhook")
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_BODY = 1_000_000


class _UpdateHandler(tornado.web.RequestHandler):
    # tornado passes its own `application` to handlers, so ours is called `bot_application`
    def initialize(self, bot_application: Application, inbox: Inbox, secret: str) -> None:
        self.bot_application, self.inbox = bot_application, inbox
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
        try:
            await self.inbox.take_in([update], raw={update.update_id: self.request.body.decode("utf-8")})
        except Exception as failure:  # noqa: BLE001 - not stored, so not acknowledged: Telegram sends it again
            log.warning("webhook update not stored (%s): Telegram will deliver it again", type(failure).__name__)
            raise tornado.web.HTTPError(503) from None
        self.set_status(200)

    def log_exception(self, typ, value, tb) -> None:  # noqa: ANN001 - keep request bodies out of logs
        if not isinstance(value, tornado.web.HTTPError):
            log.error("webhook handler failed: %s", typ.__name__ if typ else "unknown")


def webhook_app(application: Application, path: str, secret: str) -> tornado.web.Application:
    inbox = application.bot_data["services"].inbox
    return tornado.web.Application(
        [(path, _UpdateHandler, {"bot_application": application, "inbox": inbox, "secret": secret})],
        log_function=lambda handler: None)

"""One running instance, in either mode, from start to a drained stop.

Updates come in through the inbox (bot/inbox.py): from the webhook endpoint, or from long
polling. On SIGTERM (an orchestrator restarting the instance) it stops taking updates in, hands
nothing new to the handlers, lets every update it holds finish, and gives back what it could not
start, so another instance goes on at once.
"""

from __future__ import annotations

import asyncio
import logging
from urllib.parse import urlsplit

import tornado.httpserver
from telegram import Update
from telegram.ext import Application

from bot.ops import ops_app
from bot.settings import Settings
from bot.webhook import MAX_BODY, webhook_app

log = logging.getLogger("casebot.serve")


async def serve(application: Application, settings: Settings, stop: asyncio.Event) -> None:
    inbox = application.bot_data["services"].inbox
    await application.initialize()
    server: tornado.httpserver.HTTPServer | None = None
    health: tornado.httpserver.HTTPServer | None = None
    poller: asyncio.Task | None = None
    try:
        if application.post_init is not None:  # PTB calls it only from its own run_* methods
            await application.post_init(application)
        await application.start()
        inbox.start()  # updates stored before a restart are handled first
        if settings.health_port:  # /healthz, /readyz, /metrics (bot/ops.py), in either mode
            health = tornado.httpserver.HTTPServer(ops_app(application.bot_data["services"]))
            health.listen(settings.health_port, address=settings.health_listen)
            log.info("health and metrics on %s:%s", settings.health_listen, settings.health_port)
        if settings.webhook_url:
            server = tornado.httpserver.HTTPServer(
                webhook_app(application, urlsplit(settings.webhook_url).path or "/",
                            settings.webhook_secret.get_secret_value()),
                max_body_size=MAX_BODY)
            server.listen(settings.webhook_port, address=settings.webhook_listen)
            await application.bot.set_webhook(settings.webhook_url, allowed_updates=Update.ALL_TYPES,
                                              secret_token=settings.webhook_secret.get_secret_value())
            log.info("webhook mode: listening on %s:%s", settings.webhook_listen, settings.webhook_port)
        else:
            await application.bot.delete_webhook()
            poller = asyncio.create_task(inbox.poll(stop), name="casebot-polling")
            log.info("long polling")
        await stop.wait()
        log.info("stopping: taking no more updates, finishing the ones taken")
    finally:
        if server is not None:
            server.stop()  # no new requests; Telegram delivers them to another instance or later
        if health is not None:
            health.stop()
        if poller is not None:
            await poller
        await inbox.stop()
        if application.running:
            await application.stop()  # every update handed to the handlers is finished
        await inbox.release()
        await application.shutdown()
        if application.post_shutdown is not None:
            await application.post_shutdown(application)

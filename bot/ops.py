"""What an operator watches: `/healthz` (alive), `/readyz` (database reachable, schema current,
dispatcher not lagging) and `/metrics` (Prometheus), on one small HTTP port in polling and in
webhook mode (HEALTH_PORT). Nothing personal in any of them: counts, kinds, durations.

The figures are counted where things happen: updates and their handling time around each
update (bot/concurrency.py), Bot API calls, 429s and their waits at the HTTP layer
(`CountedRequest`, whatever network is below), errors by type in the error handler; the depth of
the outbox and the inbox, the age of the oldest due message and values that did not decrypt are
read when Prometheus asks.
"""

from __future__ import annotations

import asyncio
import json
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

import tornado.web
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from telegram import Update
from telegram.request import BaseRequest, RequestData

if TYPE_CHECKING:
    from bot.services import Services

# how an update's handling ended, set by whoever knows (the door, the error handler)
OUTCOME: ContextVar[str] = ContextVar("casebot_update_outcome", default="handled")


class Metrics:
    """One instance's figures, in a registry of its own (tests run several instances)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.updates = Counter("casebot_updates", "Updates handled, by kind and outcome", ["kind", "outcome"], registry=r)
        self.handling = Histogram("casebot_update_handling_seconds", "Time from taking an update to its end",
                                  buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10), registry=r)
        self.api_calls = Counter("casebot_bot_api_calls", "Bot API calls, by method and HTTP status class",
                                 ["method", "status"], registry=r)
        self.too_many = Counter("casebot_bot_api_429", "Bot API answers 429 (too many requests)", registry=r)
        self.retry_wait = Counter("casebot_bot_api_retry_wait_seconds", "Seconds Telegram asked us to wait", registry=r)
        self.errors = Counter("casebot_errors", "Updates that failed, by exception type", ["type"], registry=r)
        self.outbox_due = Gauge("casebot_outbox_due", "Scheduled messages waiting to go out", registry=r)
        self.outbox_oldest = Gauge("casebot_outbox_oldest_due_seconds", "Age of the oldest message due and not sent",
                                   registry=r)
        self.inbox_depth = Gauge("casebot_inbox_depth", "Updates stored and not yet finished", registry=r)
        self.unreadable = Gauge("casebot_decrypt_failures", "Values that did not decrypt since start (damaged or "
                                "erased), each skipped and shown as unreadable", registry=r)
        self.stale_presses = Counter("casebot_stale_presses", "Button presses refused (stale or forged)", registry=r)
        self.dialogue_conflicts = Counter("casebot_dialogue_conflicts", "Dialogue steps refused because another "
                                          "step of the same dialogue was stored first (two devices, two instances)",
                                          registry=r)

    def update_done(self, update: object, seconds: float) -> None:
        kind = "other"
        if isinstance(update, Update):
            kind = ("command" if update.message and (update.message.text or "").startswith("/") else
                    "message" if update.message else "press" if update.callback_query else "other")
        self.updates.labels(kind, OUTCOME.get()).inc()
        self.handling.observe(seconds)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


class CountedRequest(BaseRequest):
    """The Bot API client as it is, with every call counted (method, status class, 429s)."""

    def __init__(self, inner: BaseRequest, metrics: Metrics) -> None:
        self._inner, self._metrics = inner, metrics

    @property
    def read_timeout(self) -> float | None:
        return self._inner.read_timeout

    async def initialize(self) -> None:
        await self._inner.initialize()

    async def shutdown(self) -> None:
        await self._inner.shutdown()

    async def do_request(self, url: str, method: str, request_data: RequestData | None = None, **timeouts: Any
                         ) -> tuple[int, bytes]:
        status, body = await self._inner.do_request(url, method, request_data, **timeouts)
        self._metrics.api_calls.labels(url.rsplit("/", 1)[-1][:40], f"{status // 100}xx").inc()
        if status == 429:
            self._metrics.too_many.inc()
            try:
                self._metrics.retry_wait.inc(float(json.loads(body)["parameters"]["retry_after"]))
            except (ValueError, KeyError, TypeError):
                pass
        return status, body


# how the schema stands to this release (storage/db.py: schema_state), as the probe says it
_SCHEMA_FINDINGS = {
    "current": "current",
    "newer": "newer, and serves this release (a rolling upgrade)",
    "behind": "behind: run casebot migrate",
    "incompatible": "newer, and no longer serves this release: stop this instance",
}
_SERVING = (_SCHEMA_FINDINGS["current"], _SCHEMA_FINDINGS["newer"])


async def readiness(services: Services) -> dict[str, Any]:
    """Whether this instance should get traffic: each check with its finding, and `ready`."""
    store, checks = services.store, {}
    try:
        # a database that hangs is not ready either: the probe gets its answer in time
        state = await asyncio.wait_for(store.run(store.operational_state), timeout=5)
        checks["database"] = "reachable"
        checks["schema"] = _SCHEMA_FINDINGS[state["schema"]]
        lag = state["oldest_due_seconds"]
        checks["dispatcher"] = ("lagging" if lag > services.settings.ready_lag_seconds else "keeping up")
        services.metrics.outbox_due.set(state["outbox_due"])
        services.metrics.outbox_oldest.set(lag)
        services.metrics.inbox_depth.set(state["inbox_depth"])
        services.metrics.unreadable.set(state["unreadable"])
    except Exception as failure:  # noqa: BLE001 - unreachable, locked, gone: not ready, and why (the type)
        checks["database"] = f"unreachable ({type(failure).__name__})"
    checks["ready"] = checks.get("database") == "reachable" and checks.get("schema") in _SERVING \
        and checks.get("dispatcher") == "keeping up"
    return checks


class _Health(tornado.web.RequestHandler):
    def get(self) -> None:
        self.set_header("Content-Type", "text/plain; charset=utf-8")
        self.write("ok\n")


class _Ready(tornado.web.RequestHandler):
    def initialize(self, services: Services) -> None:
        self.services = services

    async def get(self) -> None:
        checks = await readiness(self.services)
        self.set_status(200 if checks["ready"] else 503)
        self.set_header("Content-Type", "application/json")
        self.write(json.dumps(checks))


class _Metrics(tornado.web.RequestHandler):
    def initialize(self, services: Services) -> None:
        self.services = services

    async def get(self) -> None:
        await readiness(self.services)  # the gauges read from the database, fresh for this scrape
        self.set_header("Content-Type", CONTENT_TYPE_LATEST)
        self.write(self.services.metrics.exposition())


def ops_app(services: Services) -> tornado.web.Application:
    return tornado.web.Application([("/healthz", _Health), ("/readyz", _Ready, {"services": services}),
                                    ("/metrics", _Metrics, {"services": services})], log_function=lambda handler: None)


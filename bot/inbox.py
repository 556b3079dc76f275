"""How updates enter the bot: through the transactional inbox (storage/inbox.py), never straight
from the network into memory.

Telegram delivers at least once and forgets an update once it is acknowledged. PTB acknowledges
when an update is queued in memory, so a crash lost what was queued. Here an update is first
stored (encrypted), then acknowledged (HTTP 200 to the webhook, or the next getUpdates offset),
then taken from the database by whichever instance is free, one sender's updates one at a time
and oldest first, and handed to PTB's update queue. Its handling marks it handled in its first
commit and deletes it when it ends (see `Store.settling`).

Strangers' floods are dropped at the door by the gate (bot/gate.py), before they cost a row.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import secrets
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from datetime import timedelta

from telegram import Update
from telegram.error import RetryAfter
from telegram.ext import Application
from telegram.request import BaseRequest

from bot.gate import Gate
from bot.ops import OUTCOME, CountedRequest, Metrics
from storage.store import Store
from storage.types import NOT_REMEMBERED, Received, StaffUser, Taken

log = logging.getLogger("casebot.inbox")
POLL_TIMEOUT = 30  # seconds a getUpdates call waits for news (long polling)
RECHECK_SECONDS = 1.0  # how often the database is asked for updates another instance stored or left


class Inbox:
    def __init__(self, store: Store, gate: Gate, *, lease_seconds: float = 60.0, in_flight: int = 256,
                 metrics: Metrics | None = None) -> None:
        self.store, self.gate, self.metrics = store, gate, metrics
        self.lease = timedelta(seconds=lease_seconds)
        self.in_flight = in_flight
        # who holds a lease: unique per process, so a restarted instance never mistakes a dead
        # predecessor's leases for its own
        self.holder = f"{socket.gethostname()[:32]}:{os.getpid()}:{secrets.token_hex(4)}"
        self._application: Application | None = None
        self._fetching: RawUpdates | None = None  # getUpdates' client, which keeps each update's JSON
        self._held: dict[int, int] = {}  # taken here, not yet finished: update id -> sender
        self._wake: asyncio.Event | None = None
        self._stopping = False
        self._pump: asyncio.Task | None = None
        self._looking: dict[int, asyncio.Future] = {}  # senders being looked up at the door
        # stores of concurrent requests, and ends of concurrent handlings, each share a commit
        self._receive = GroupCommit(self._store_batch)
        self._finish = GroupCommit(self._finish_batch)
        self.stored = self.repeated = self.unreadable = 0  # counted for the operator

    def bind(self, application: Application, fetching: RawUpdates | None = None) -> None:
        self._application, self._fetching = application, fetching

    # the door -----------------------------------------------------------------------------
    async def take_in(self, updates: Sequence[Update], *, through_gate: bool = True,
                      raw: Mapping[int, str] | None = None) -> None:
        """Store the updates (the gate admitting); only then may the caller acknowledge them.
        Raises when they could not be stored: then they must not be acknowledged. `raw`: each
        update's JSON as it came, by update id (the webhook's body, getUpdates' answer): turning
        PTB's objects back into JSON costs some 150 µs for a button press with its keyboard.
        While the pump runs, the updates whose senders have nothing else waiting are taken
        here in the same transaction and go straight to the handlers."""
        unique = {u.update_id: u for u in updates}.values()  # (a batch may hold one update twice)
        admitted = [u for u in unique if not through_gate or await self._let_in(u)]
        raw = raw or {}
        received = [Received(u.update_id, _sender(u), raw.get(u.update_id) or json.dumps(u.to_dict(), ensure_ascii=False),
                             self._staff_id(_sender(u))) for u in admitted]
        try:
            new, taken = await self._receive(received)
        except Exception:
            for update in admitted:  # not taken in: when Telegram delivers it again, it is let in again
                self.gate.not_admitted(update)
            raise
        self.stored += len(new)
        self.repeated += len(received) - len(new)
        senders = set(self._held.values())
        waiting_elsewhere = False
        for update in admitted:
            if update.update_id in taken:
                self._held[update.update_id] = _sender(update)
                senders.add(_sender(update))
                await self._application.update_queue.put(update)
            elif update.update_id in new and _sender(update) not in senders:
                waiting_elsewhere = True
        # stored behind a step of the same sender handled here: the end of that step takes it
        # (InboxRepository.finish_all); behind one handled elsewhere: the pump looks now
        if waiting_elsewhere:
            self._kick()

    async def _store_batch(self, batch: list[list[Received]]) -> list[tuple[list[int], list[int]]]:
        """Store what several requests brought, in one transaction; for each request (its new
        update ids, those of them taken here)."""
        pumping = self._taking and len(self._held) < self.in_flight
        new, taken = await self.store.aio.inbox.receive(
            [r for received in batch for r in received], holder=self.holder if pumping else None, lease=self.lease)
        new, taken, answered, results = set(new), set(taken), set(), []
        for received in batch:
            # the same update in two requests at once: new for the first of them only
            mine = [r.update_id for r in received if r.update_id in new and r.update_id not in answered]
            answered.update(mine)
            results.append((mine, [i for i in mine if i in taken]))
        return results

    def _staff_id(self, sender: int) -> int | None:
        """The sender's staff id, if this instance remembers them (memory only)."""
        known = self.store.staff.remembered(sender)
        return known.id if isinstance(known, StaffUser) else None

    async def _let_in(self, update: Update) -> bool:
        """The gate's answer, except that a colleague this instance has not met yet (another
        instance handled their updates so far) is never taken for a stranger: over a stranger's
        allowance, the sender is looked up (remembered for a while, so a flood costs one look)."""
        if self.gate.admit(update):
            return True
        sender = update.effective_user.id
        known = self.store.staff.remembered(sender)  # memory only
        if known is NOT_REMEMBERED:  # one look per sender at a time, however many updates wait for it
            looking = self._looking.get(sender)
            if looking is None:
                looking = self._looking[sender] = asyncio.ensure_future(self.store.aio.staff.user_by_telegram_id(sender))
                looking.add_done_callback(lambda _, sender=sender: self._looking.pop(sender, None))
            known = await asyncio.shield(looking)
        if known is None:
            return False
        self.gate.staff_after_all(sender)
        return True

    async def poll(self, stop: asyncio.Event, *, timeout: int = POLL_TIMEOUT) -> None:
        """Long polling: fetch, store, and only then confirm (the next call's offset does that)."""
        bot = self._application.bot
        offset: int | None = None
        pause = 1.0
        stopped = asyncio.ensure_future(stop.wait())
        try:
            while not stop.is_set():
                fetch = asyncio.ensure_future(
                    bot.get_updates(offset=offset, timeout=timeout, allowed_updates=Update.ALL_TYPES))
                await asyncio.wait({fetch, stopped}, return_when=asyncio.FIRST_COMPLETED)
                if not fetch.done():  # stopping: what this call would bring stays unconfirmed at Telegram
                    fetch.cancel()
                    break
                try:
                    updates = fetch.result()
                    if updates:
                        await self.take_in(updates, raw=self._fetching.taken() if self._fetching else None)
                        offset = updates[-1].update_id + 1
                    pause = 1.0
                except RetryAfter as flood:
                    wait = flood.retry_after
                    await _sleep_or_stop(stop, wait.total_seconds() if isinstance(wait, timedelta) else float(wait))
                except Exception as failure:  # noqa: BLE001 - Telegram, the network or the database: not stored, so not confirmed
                    log.warning("fetching or storing updates failed: %s; trying again in %.0f s",
                                type(failure).__name__, pause)
                    await _sleep_or_stop(stop, pause)
                    pause = min(pause * 2, 30.0)
        finally:
            stopped.cancel()
        if offset is not None:  # confirm what is stored, so a restart is not handed it again
            with contextlib.suppress(Exception):
                await bot.get_updates(offset=offset, timeout=0)

    # the pump -----------------------------------------------------------------------------
    def start(self) -> None:
        """Begin handing stored updates to the application (it must be running)."""
        self._stopping = False
        self._wake = asyncio.Event()
        self._pump = asyncio.create_task(self._run(), name="casebot-inbox")

    async def stop(self) -> None:
        """Take nothing more; what is taken is handled before `Application.stop()` returns."""
        self._stopping = True
        self._kick()
        if self._pump is not None:
            await self._pump
            self._pump = None

    async def release(self) -> None:
        """After the application stopped: give back anything taken and not handled."""
        if self._held:
            with contextlib.suppress(Exception):
                await self.store.aio.inbox.release(self.holder, sorted(self._held))
            self._held.clear()

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        renewed = loop.time()
        while not self._stopping:
            try:
                if self._held and loop.time() - renewed > self.lease.total_seconds() / 3:
                    await self.store.aio.inbox.extend(self.holder, sorted(self._held), self.lease)
                    renewed = loop.time()
                taken = await self._take()
            except Exception as failure:  # noqa: BLE001 - the database is away: try again shortly
                log.warning("the inbox could not be read: %s", type(failure).__name__)
                taken = 0
            if self._stopping:
                return
            if taken == 0 or len(self._held) >= self.in_flight:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), RECHECK_SECONDS)

    async def _take(self) -> int:
        room = self.in_flight - len(self._held)
        if room <= 0:
            return 0
        taken = await self.store.aio.inbox.take(self.holder, limit=room, lease=self.lease)
        for item in taken:
            if item.update_id in self._held:
                continue  # (its lease ran out while it waited here; renewed from now on)
            if self._stopping:  # taken as the instance stops: give it back at once
                await self.store.aio.inbox.release(self.holder, [item.update_id])
                continue
            await self._hand_over(item)
        return len(taken)

    async def _hand_over(self, item: Taken) -> None:
        """A taken update to the handlers (an unreadable one leaves the inbox at once)."""
        update = self._readable(item.update_id, item.body)
        if update is None:
            await self.store.aio.inbox.finish(item.update_id)
            return
        self._held[item.update_id] = _sender(update)
        await self._application.update_queue.put(update)

    def _readable(self, update_id: int, body: str | None) -> Update | None:
        if body is None:
            self.unreadable += 1
            log.error("an update in the inbox could not be decrypted; it is dropped (update %d)", update_id)
            return None
        return Update.de_json(json.loads(body), self._application.bot)

    # handling -----------------------------------------------------------------------------
    @contextlib.asynccontextmanager
    async def handling(self, update_id: int | None, update: object = None) -> AsyncIterator[None]:
        """Around the handling of one update (bot/concurrency.py): its first commit marks it
        handled; at the end it leaves the inbox and its sender's next update may be taken. The
        organisation the door binds for the update (storage/tenancy.py) ends with it, and it is
        counted with how it ended (bot/ops.py)."""
        started, outcome = time.monotonic(), OUTCOME.set("handled")
        try:
            with self.store.acting_for(None):
                if update_id not in self._held:
                    yield  # not from the inbox (a test feeding the application directly)
                    return
                async with self._held_update(update_id):
                    yield
        finally:
            if self.metrics is not None:
                self.metrics.update_done(update, time.monotonic() - started)
            OUTCOME.reset(outcome)

    @contextlib.asynccontextmanager
    async def _held_update(self, update_id: int) -> AsyncIterator[None]:
        settlement = None
        try:
            with self.store.settling(update_id) as settlement:
                yield
        finally:
            try:
                await self._finish((update_id, settlement.at_finish if settlement else []))
            except Exception as failure:  # noqa: BLE001 - its lease runs out and the inbox tidies up
                log.warning("finishing an update in the inbox failed: %s", type(failure).__name__)
            self._held.pop(update_id, None)
            if self._stopping or len(self._held) + 1 >= self.in_flight:
                self._kick()  # (room again for the pump: it may take more)

    async def deliver(self, update: Update) -> None:
        """Store one update and handle everything then waiting, here and now, as the running
        bot would (tests: the inbox without the network and without background tasks)."""
        await self.take_in([update], through_gate=False)
        while True:
            taken = await self.store.aio.inbox.take(self.holder, limit=self.in_flight, lease=self.lease)
            if not taken:
                return
            for item in taken:
                update = self._readable(item.update_id, item.body)
                self._held[item.update_id] = _sender(update) if update is not None else 0
                async with self.handling(item.update_id, update):
                    if update is not None:
                        await self._application.process_update(update)

    async def _finish_batch(self, batch: list[tuple[int, list]]) -> list[None]:
        """Finish the updates whose handling ended meanwhile, in one transaction, which takes
        the next waiting update of their senders too (when the pump runs)."""
        pumping = self._taking
        room = self.in_flight - len(self._held) + len(batch)
        taken = await self.store.aio.inbox.finish_all(
            batch, holder=self.holder if pumping else None, lease=self.lease, room=room if pumping else 0)
        for item in taken:
            await self._hand_over(item)
        return [None] * len(batch)

    @property
    def _taking(self) -> bool:
        """Whether this instance takes updates to handle now (the pump runs and is not stopping)."""
        return self._pump is not None and not self._stopping

    def _kick(self) -> None:
        if self._wake is not None:
            self._wake.set()


def _sender(update: Update) -> int:
    """Whose updates must keep their order: the person, else the chat (0 when neither)."""
    if update.effective_user is not None:
        return update.effective_user.id
    return update.effective_chat.id if update.effective_chat is not None else 0


async def _sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)


class GroupCommit:
    """Work that arrives while a batch is being committed waits and goes into the next one: the
    first caller commits everything then waiting, again while more came. Under load that is one
    transaction for many callers; when idle nobody waits. `commit` gets the items and answers
    one result per item; when it fails, every caller of that batch gets the exception."""

    def __init__(self, commit: Callable[[list], Awaitable[list]]) -> None:
        self._commit = commit
        self._waiting: list[tuple[object, asyncio.Future]] = []
        self._leader: asyncio.Future | None = None

    async def __call__(self, item: object) -> object:
        done = asyncio.get_running_loop().create_future()
        self._waiting.append((item, done))
        if self._leader is None or self._leader.done():
            self._leader = asyncio.ensure_future(self._commit_waiting())
        return await done

    async def _commit_waiting(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting, []
            try:
                results = await self._commit([item for item, _ in batch])
            except Exception as failure:  # noqa: BLE001 - each caller of the batch hears of it
                for _, done in batch:
                    if not done.done():  # (a caller given up meanwhile)
                        done.set_exception(failure)
                continue
            for (_, done), result in zip(batch, results, strict=True):
                if not done.done():
                    done.set_result(result)


class RawUpdates(CountedRequest):
    """getUpdates' client, counted as every other, keeping each update's JSON as Telegram sent
    it: the inbox stores that instead of serialising PTB's objects back (the webhook has the
    body anyway)."""

    def __init__(self, inner: BaseRequest, metrics: Metrics) -> None:
        super().__init__(inner, metrics)
        self._last: dict[int, str] = {}

    def parse_json_payload(self, payload: bytes) -> dict:
        data = super().parse_json_payload(payload)
        result = data.get("result")
        if isinstance(result, list):
            self._last = {u["update_id"]: json.dumps(u, ensure_ascii=False) for u in result
                          if isinstance(u, dict) and isinstance(u.get("update_id"), int)}
        return data

    def taken(self) -> dict[int, str]:
        """The JSON of the updates of the last answer (once: then forgotten)."""
        last, self._last = self._last, {}
        return last

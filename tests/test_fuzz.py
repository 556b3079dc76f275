"""Bad input never escapes: thousands of random and malformed updates through the real
Application (hypothesis, with a fixed seed so CI sees the same ones every run).

Updates come from a registered case manager with two cases on file (so the handlers really
run, on real cases and mid-dialogue too), from a coordinator and an admin, from strangers and
from groups and channels; texts carry control and bidi characters, HTML,
huge strings; buttons carry our families' prefixes with wrong, forged and missing parts. After
every batch: no handler raised (the error handler never ran), every message the bot sent was
valid Telegram HTML (the in-process Bot API refuses anything else), and the case manager can
still work.
"""

from __future__ import annotations

import asyncio
import itertools
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st
from telegram import Update

from bot.buttons import Buttons
from domain.roles import Role
from storage.clock import FixedClock
from tests.conftest import BotUnderTest, make_settings, start_bot
from tests.flows import run_intake

# every family of buttons there is (bot/buttons.py), and none
PREFIXES = [*sorted(Buttons._families), "zz", ""]
WORDS = ["/new", "/cancel", "/help", "/case", "/cases", "/goal", "/refer", "/find", "/digest", "/language",
         "/invite", "/start", "/jourfixe", "/conferences", "/locales", "/services", "LEV-2026-0001", "01.02.1995",
         "31.02.2000", "2", "-1", "99999", "+49 171 1234567", "Ja", "Fertig", "<b>", "</i>", "&amp;", "\u202e",
         "\u2067", "\x00", "\n", "إلياس", "Ölçek", "😀"]
text = st.one_of(
    st.lists(st.sampled_from(WORDS), min_size=1, max_size=4).map(" ".join),
    st.text(max_size=60),
    st.builds(lambda c, n: c * n, st.sampled_from(["x", "ü", "\u202e", "<"]), st.integers(4000, 5000)),
)
callback = st.one_of(
    st.builds(lambda p, parts: "|".join([p, *parts]), st.sampled_from(PREFIXES),
              st.lists(st.one_of(st.sampled_from(["o", "r", "assess", "1", "0", "sent", "x", "k", "t", "d", "",
                                                   "LEV-2026-0001", "LEV-2026-0002", "2", "99999999999999999999", "achieved", "later"]),
                                 st.text(max_size=8)), max_size=5)),
    st.text(max_size=64),
)


_BOT_PDF = {"message_id": 1, "date": 1_700_000_000, "chat": {"id": 1, "type": "private"},
            "from": {"id": 999_000_111, "is_bot": True, "first_name": "KIM Casebot"},
            "document": {"file_id": "d", "file_unique_id": "d", "file_name": "LEV-2026-0001-consent-de.pdf"}}


def _payloads(manager_id: int, others: list[int]) -> st.SearchStrategy:
    sender = st.sampled_from([manager_id, manager_id, manager_id, *others, 777_001, 777_002])
    chat_type = st.sampled_from(["private", "private", "private", "group", "supergroup", "channel"])

    def message(user: int, kind: str, body: dict) -> dict:
        return {"message_id": 1, "date": 1_700_000_000, "chat": {"id": user, "type": kind},
                "from": {"id": user, "is_bot": False, "first_name": "F", "language_code": "de"}, **body}

    body = st.one_of(
        text.map(lambda t: {"text": t}),
        text.map(lambda t: {"text": t, "entities": [{"type": "bot_command", "offset": 0, "length": min(len(t), 9)}]}
                 if t.startswith("/") else {"text": t}),
        st.just({"photo": [{"file_id": "p", "file_unique_id": "p", "width": 1, "height": 1}]}),
        # a photo "in reply to" one of the bot's PDFs: the signed-scan path, with a document it never sent
        st.builds(lambda m: {"photo": [{"file_id": "p", "file_unique_id": "p", "width": 1, "height": 1}],
                             "reply_to_message": {**_BOT_PDF, "message_id": m}}, st.integers(-5, 10**12)),
        st.just({"sticker": {"file_id": "s", "file_unique_id": "s", "width": 1, "height": 1, "is_animated": False,
                             "is_video": False, "type": "regular"}}),
        st.just({}),
    )
    return st.one_of(
        st.builds(lambda u, k, b: {"message": message(u, k, b)}, sender, chat_type, body),
        st.builds(lambda u, b: {"edited_message": {**message(u, "private", b), "edit_date": 1}}, sender, body),
        st.builds(lambda b: {"channel_post": {"message_id": 1, "date": 1, "chat": {"id": -100, "type": "channel"}, **b}},
                  body),
        st.builds(lambda u, data: {"callback_query": {
            "id": "q", "from": {"id": u, "is_bot": False, "first_name": "F", "language_code": "de"},
            "chat_instance": "c", "data": data, "message": message(u, "private", {"text": "alt"})}}, sender, callback),
        # a press on an answer that quotes a message (as "Keep this scan" is): a photo, or not
        st.builds(lambda u, data, quoted: {"callback_query": {
            "id": "q", "from": {"id": u, "is_bot": False, "first_name": "F", "language_code": "de"},
            "chat_instance": "c", "data": data, "message": message(u, "private", {"text": "alt", "reply_to_message": {
                **message(u, "private", quoted), "message_id": 2}})}}, sender, callback, body),
        st.builds(lambda u: {"callback_query": {
            "id": "q", "from": {"id": u, "is_bot": False, "first_name": "F"}, "chat_instance": "c"}}, sender),
        st.just({"poll": {"id": "p", "question": "q", "options": [], "total_voter_count": 0, "is_closed": False,
                          "is_anonymous": True, "type": "regular", "allows_multiple_answers": False}}),
    )


@pytest.fixture
def fuzz_bot(tmp_path: Path):  # noqa: ANN201
    """A bot on its own event loop (hypothesis drives a synchronous test)."""
    from bot.cli import initialise

    loop = asyncio.new_event_loop()
    settings_ = make_settings(f"sqlite:///{tmp_path / 'fuzz.sqlite3'}", tmp_path)
    code = initialise(settings_, org_name="Fuzz", prefix="LEV", districts=["I", "II"], quiet=True)
    app, fake, services = loop.run_until_complete(start_bot(settings_, FixedClock(datetime(2026, 11, 24, 9, tzinfo=UTC))))
    bot = BotUnderTest(app, fake, services, settings_, code)
    manager = loop.run_until_complete(bot.register(Role.CASE_MANAGER, "I"))
    for overrides in ({}, {"given_name": ("send", "Omar")}):  # cases LEV-2026-0001 and -0002
        loop.run_until_complete(run_intake(manager, **overrides))
    others = [loop.run_until_complete(bot.register(role, None)).id for role in (Role.COORDINATOR, Role.ADMIN)]
    for stranger in (777_001, 777_002):  # people who write to the bot have a chat with it
        fake.api.add_user("Stranger", "de", user_id=stranger)
    failures: list[str] = []

    async def record(update: object, context) -> None:  # noqa: ANN001
        import traceback

        # where in our code it broke (the error's text may quote the fuzz's input, which is fine here)
        frames = [(Path(f.filename).name, f.name, f.lineno) for f in traceback.extract_tb(context.error.__traceback__)
                  if "site-packages" not in f.filename]
        chat = getattr(getattr(update, "effective_chat", None), "id", None)
        failures.append(f"{type(context.error).__name__}: {context.error} chat={chat} {frames}")

    app.error_handlers.clear()
    app.add_error_handler(record)
    yield loop, bot, manager, others, failures
    loop.run_until_complete(app.shutdown())
    services.store.close()
    loop.close()


@pytest.mark.filterwarnings("ignore")
def test_random_and_malformed_updates_never_escape(fuzz_bot):
    loop, bot, manager, others, failures = fuzz_bot
    update_ids = itertools.count(10_000_000)

    @seed(20261129)
    @settings(max_examples=1200, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                     HealthCheck.data_too_large])
    @given(st.lists(_payloads(manager.id, others), min_size=1, max_size=6))
    def batch(payloads: list[dict]) -> None:
        for payload in payloads:
            update_id = next(update_ids)
            if "callback_query" in payload:  # a press Telegram saw: it takes one answer to it
                query = payload["callback_query"] = {**payload["callback_query"], "id": str(update_id)}
                bot.fake.api._callbacks[query["id"]] = query["from"]["id"]
            try:
                update = Update.de_json({"update_id": update_id, **payload}, bot.app.bot)
            except Exception:  # noqa: BLE001 - not an update at all: the webhook answers 400 (tests/test_operations.py)
                continue
            loop.run_until_complete(bot.app.process_update(update))
        assert failures == [], failures

    batch()
    # the case manager can still work: nothing the fuzz sent has broken their state
    loop.run_until_complete(manager.send("/cancel"))
    replies = loop.run_until_complete(manager.send("/new"))
    assert replies[-1].text.startswith("Erstberatung · Frage 1")
    assert failures == []

"""Telegram's side of the wire, in process: a PTB `BaseRequest` over the simulator's Bot API
core (simulator/botapi.py), and people who send real `Update` objects to the Application.

Only the network is replaced: the bot under test is the real PTB `Application` with all our
handlers, storage and catalogs, and the Bot API answers with Telegram's shapes and errors.
"""

from __future__ import annotations

import itertools
import json
from typing import Any

from telegram import Update
from telegram.error import TimedOut
from telegram.ext import Application
from telegram.request import BaseRequest, RequestData

from simulator.botapi import ApiError, BotApi, SimMessage

BOT_USERNAME = "kim_test_bot"
BotMessage = SimMessage  # what the tests call the bot's messages


class FakeTelegram(BaseRequest):
    """Every Bot API call of the bot goes to a `BotApi` instead of the internet."""

    def __init__(self, api: BotApi | None = None) -> None:
        super().__init__()
        self.api = api or BotApi(bot_username=BOT_USERNAME)
        # endpoint -> how many of its next calls time out (a slow network, a Telegram hiccup)
        self.failing: dict[str, int] = {}

    # what the tests look at
    @property
    def messages(self) -> dict[tuple[int, int], SimMessage]:
        return self.api.messages

    @property
    def calls(self) -> list[tuple[str, dict]]:
        return self.api.calls

    @property
    def commands(self) -> dict[str, list[dict]]:
        return self.api.commands

    def chat(self, chat_id: int) -> list[SimMessage]:
        return self.api.chat(chat_id, bot_only=True)

    # BaseRequest
    @property
    def read_timeout(self) -> float | None:
        return 1.0

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    async def do_request(self, url: str, method: str, request_data: RequestData | None = None, **_: Any) -> tuple[int, bytes]:
        if "/file/bot" in url:  # a file download (after getFile)
            content = self.api.file_content(url.split("/file/bot", 1)[1].split("/", 1)[1])
            return (200, content) if content is not None else (404, b"Not Found")
        endpoint = url.rsplit("/", 1)[-1]
        if self.failing.get(endpoint):  # a fault the test asked for: the call times out
            self.failing[endpoint] -= 1
            raise TimedOut()
        params = request_data.json_parameters if request_data else {}
        params = {k: json.loads(v) if isinstance(v, str) and v[:1] in "[{" else v for k, v in params.items()}
        files = {}
        for name, upload in (request_data.multipart_data if request_data and request_data.contains_files else {}).items():
            filename, content, mime_type = upload
            files[name] = {"filename": filename, "content": content, "mime_type": mime_type}
        try:
            result = self.api.call(endpoint, params, files)
        except ApiError as error:
            return error.code, json.dumps(error.body()).encode()
        return 200, json.dumps({"ok": True, "result": result}).encode()


class TgUser:
    """A person in a private chat with the bot, sending real updates through the Application."""

    _update_ids = itertools.count(1)
    _message_ids = itertools.count(1)

    def __init__(self, app: Application, fake: FakeTelegram, user_id: int, *, first_name: str = "Ana",
                 language_code: str | None = "de") -> None:
        self.app, self.fake, self.id = app, fake, user_id
        self.user = fake.api.users.get(user_id) or fake.api.add_user(first_name, language_code, user_id=user_id)

    def _message(self, **content: Any) -> dict:
        return {"message_id": next(self._message_ids), "date": 1_700_000_000,
                "chat": {"id": self.id, "type": "private", "first_name": self.user.first_name},
                "from": self.user.to_api(), **content}

    async def _process(self, payload: dict) -> list[SimMessage]:
        before = set(self.fake.messages)
        # through the inbox, as the running bot takes updates in (stored, then handled)
        update = Update.de_json({"update_id": next(self._update_ids), **payload}, self.app.bot)
        await self.app.bot_data["services"].inbox.deliver(update)
        return [m for key, m in sorted(self.fake.messages.items())
                if key not in before and key[0] == self.id and m.from_bot]

    def text_update(self, text: str) -> Update:
        """The update a message from this person would be, not yet processed."""
        content: dict[str, Any] = {"text": text}
        if text.startswith("/"):
            content["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
        return Update.de_json({"update_id": next(self._update_ids), "message": self._message(**content)}, self.app.bot)

    async def send(self, text: str) -> list[SimMessage]:
        """Type a message: it stands in the chat (where the bot may delete it) until it does."""
        update = self.fake.api.user_sends(self.id, text)
        self.fake.api.pending_updates.remove(update)  # delivered right here, not through getUpdates
        return await self._process({"message": update["message"]})

    def typed_still_visible(self) -> list[str]:
        """What this person typed that still stands in the chat."""
        return [m.text for (chat, _), m in sorted(self.fake.messages.items()) if chat == self.id and not m.from_bot]

    async def send_raw(self, **content: Any) -> list[SimMessage]:
        """A message of another kind: photo=[...], sticker={...}, voice={...}."""
        return await self._process({"message": self._message(**content)})

    async def send_document(self, filename: str, content: bytes, mime_type: str = "application/json", *,
                            reply_to: SimMessage | None = None) -> list[SimMessage]:
        update = self.fake.api.user_sends_document(self.id, filename, content, mime_type,
                                                   reply_to.message_id if reply_to else None)
        self.fake.api.pending_updates.remove(update)
        return await self._process({"message": update["message"]})

    async def send_photo(self, content: bytes, *, reply_to: SimMessage | None = None) -> list[SimMessage]:
        update = self.fake.api.user_sends_photo(self.id, content, reply_to.message_id if reply_to else None)
        self.fake.api.pending_updates.remove(update)
        return await self._process({"message": update["message"]})

    async def edit(self, text: str) -> list[SimMessage]:
        return await self._process({"edited_message": {**self._message(text=text), "edit_date": 1_700_000_100}})

    async def press_data(self, data: str, message: SimMessage | None = None) -> list[SimMessage]:
        """Press a button with this callback data on `message` (forged data included)."""
        message = message or self.last()
        update = self.fake.api.user_presses(self.id, message.message_id, data)
        self.fake.api.pending_updates.remove(update)  # delivered right here, not through getUpdates
        return await self._process({"callback_query": update["callback_query"]})

    async def double_tap(self, label: str, message: SimMessage) -> list[SimMessage]:
        """Press `label` on `message` twice, both presses sent before either is handled (a thumb
        on a slow connection): each carries the message as it was."""
        data = next(b["callback_data"] for b in message.buttons() if b["text"] == label)
        presses = [self.fake.api.user_presses(self.id, message.message_id, data) for _ in range(2)]
        replies = []
        for press in presses:
            self.fake.api.pending_updates.remove(press)
            replies += await self._process({"callback_query": press["callback_query"]})
        return replies

    async def press(self, label: str, message: SimMessage | None = None) -> list[SimMessage]:
        """Press the button labelled `label` (or starting with it) on the latest message with buttons."""
        message = message or self.last_with_buttons()
        buttons = message.buttons()
        for button in [b for b in buttons if b["text"] == label] + [b for b in buttons if b["text"].startswith(label)]:
            return await self.press_data(button["callback_data"], message)
        raise AssertionError(f"no button {label!r} in {message.button_texts()}")

    def messages(self) -> list[SimMessage]:
        return self.fake.chat(self.id)

    def last(self) -> SimMessage:
        return self.messages()[-1]

    def last_with_buttons(self) -> SimMessage:
        return [m for m in self.messages() if m.reply_markup][-1]

    def alerts(self) -> list[str]:
        return [text for chat, text, _ in self.fake.api.alerts if chat == self.id]

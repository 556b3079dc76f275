"""Telegram's side of the wire, in process: a `BaseRequest` that answers Bot API calls the way
Telegram does (shapes, errors, HTML parsing rules), and users who send real `Update` objects.

Only the network is replaced: the bot under test is the real PTB `Application` with all our
handlers, storage and catalogs.
"""

from __future__ import annotations

import html
import itertools
import json
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

from telegram import Update
from telegram.ext import Application
from telegram.request import BaseRequest, RequestData

BOT_ID = 999_000_111
BOT_USERNAME = "kim_test_bot"
_TELEGRAM_TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "code", "pre", "a",
                  "tg-spoiler", "span", "blockquote", "tg-emoji"}


class _TelegramHTML(HTMLParser):
    """Parses like Telegram's HTML mode: only its tags, balanced, entities decoded."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.text: list[str] = []
        self.error: str | None = None

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag not in _TELEGRAM_TAGS:
            self.error = self.error or f"unsupported start tag \"{tag}\""
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack.pop() != tag:
            self.error = self.error or f"unmatched end tag \"{tag}\""

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse_telegram_html(source: str) -> str:
    """The text a user sees, or ValueError with Telegram's kind of complaint."""
    parser = _TelegramHTML()
    parser.feed(source)
    parser.close()
    if parser.error or parser.stack:
        raise ValueError(f"Bad Request: can't parse entities: {parser.error or 'unclosed tag'}")
    return "".join(parser.text)


@dataclass
class BotMessage:
    chat_id: int
    message_id: int
    html: str
    text: str
    reply_markup: dict | None = None
    document: str | None = None

    def buttons(self) -> list[dict]:
        if not self.reply_markup:
            return []
        return [b for row in self.reply_markup.get("inline_keyboard", []) for b in row]

    def button_texts(self) -> list[str]:
        return [b["text"] for b in self.buttons()]

    def to_api(self) -> dict:
        data = {"message_id": self.message_id, "date": 1_700_000_000,
                "chat": {"id": self.chat_id, "type": "private"},
                "from": {"id": BOT_ID, "is_bot": True, "first_name": "KIM", "username": BOT_USERNAME},
                "text": self.text}
        if self.reply_markup:
            data["reply_markup"] = self.reply_markup
        return data


class ApiError(Exception):
    def __init__(self, code: int, description: str, **extra: Any) -> None:
        super().__init__(description)
        self.code, self.description, self.extra = code, description, extra


@dataclass
class FakeTelegram(BaseRequest):
    """The Bot API as the bot sees it. Records every call; keeps each chat's messages."""

    messages: dict[tuple[int, int], BotMessage] = field(default_factory=dict)
    calls: list[tuple[str, dict]] = field(default_factory=list)
    alerts: list[tuple[int, str, bool]] = field(default_factory=list)
    commands: dict[str, list[dict]] = field(default_factory=dict)
    # the newest message with buttons per chat (what a user would press next)
    latest_keyboard: dict[int, BotMessage] = field(default_factory=dict)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(5000))

    def __post_init__(self) -> None:
        super().__init__()

    @property
    def read_timeout(self) -> float | None:
        return 1.0

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    async def do_request(self, url: str, method: str, request_data: RequestData | None = None, **_: Any) -> tuple[int, bytes]:
        endpoint = url.rsplit("/", 1)[-1]
        params = request_data.json_parameters if request_data else {}
        params = {k: json.loads(v) if isinstance(v, str) and v[:1] in "[{" else v for k, v in params.items()}
        self.calls.append((endpoint, params))
        try:
            result = getattr(self, f"api_{endpoint}")(params)
        except ApiError as error:
            body = {"ok": False, "error_code": error.code, "description": error.description}
            if error.extra:
                body["parameters"] = error.extra
            return error.code, json.dumps(body).encode()
        return 200, json.dumps({"ok": True, "result": result}).encode()

    # --- Bot API methods ---------------------------------------------------------------
    def api_getMe(self, params: dict) -> dict:  # noqa: N802
        return {"id": BOT_ID, "is_bot": True, "first_name": "KIM", "username": BOT_USERNAME,
                "can_join_groups": False, "can_read_all_group_messages": False, "supports_inline_queries": False}

    def api_getUpdates(self, params: dict) -> list:  # noqa: N802
        return []

    def api_deleteWebhook(self, params: dict) -> bool:  # noqa: N802
        return True

    def api_setMyCommands(self, params: dict) -> bool:  # noqa: N802
        self.commands[params.get("language_code", "")] = params["commands"]
        return True

    def _check_markup(self, markup: dict | None) -> None:
        for row in (markup or {}).get("inline_keyboard", []):
            for button in row:
                if len(button.get("callback_data", "").encode()) > 64:
                    raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")

    def _render(self, params: dict) -> tuple[str, str]:
        source = str(params["text"])
        if params.get("parse_mode") == "HTML":
            try:
                text = parse_telegram_html(source)
            except ValueError as error:
                raise ApiError(400, str(error)) from None
        else:
            text = source
        if not text.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        if len(text) > 4096:
            raise ApiError(400, "Bad Request: message is too long")
        return source, text

    def api_sendMessage(self, params: dict) -> dict:  # noqa: N802
        source, text = self._render(params)
        self._check_markup(params.get("reply_markup"))
        chat_id = int(params["chat_id"])
        message = BotMessage(chat_id, next(self._ids), source, text, params.get("reply_markup"))
        self.messages[(chat_id, message.message_id)] = message
        if message.reply_markup:
            self.latest_keyboard[chat_id] = message
        return message.to_api()

    def _message(self, params: dict) -> BotMessage:
        key = (int(params["chat_id"]), int(params["message_id"]))
        if key not in self.messages:
            raise ApiError(400, "Bad Request: message to edit not found")
        return self.messages[key]

    def api_editMessageText(self, params: dict) -> dict:  # noqa: N802
        message = self._message(params)
        source, text = self._render(params)
        markup = params.get("reply_markup")
        if source == message.html and markup == message.reply_markup:
            raise ApiError(400, "Bad Request: message is not modified")
        self._check_markup(markup)
        message.html, message.text, message.reply_markup = source, text, markup
        return message.to_api()

    def api_editMessageReplyMarkup(self, params: dict) -> dict:  # noqa: N802
        message = self._message(params)
        markup = params.get("reply_markup") or None
        if markup == message.reply_markup or (markup is None and not message.reply_markup):
            raise ApiError(400, "Bad Request: message is not modified")
        self._check_markup(markup)
        message.reply_markup = markup
        return message.to_api()

    def api_answerCallbackQuery(self, params: dict) -> bool:  # noqa: N802
        if params.get("text"):
            self.alerts.append((0, params["text"], bool(params.get("show_alert"))))
        return True

    def api_setWebhook(self, params: dict) -> bool:  # noqa: N802
        return True

    # --- what a user sees ----------------------------------------------------------------
    def chat(self, chat_id: int) -> list[BotMessage]:
        return [m for (c, _), m in sorted(self.messages.items()) if c == chat_id]


class TgUser:
    """A person in a private chat with the bot, sending real updates through the Application."""

    _update_ids = itertools.count(1)
    _message_ids = itertools.count(1)

    def __init__(self, app: Application, fake: FakeTelegram, user_id: int, *, first_name: str = "Ana",
                 language_code: str | None = "de") -> None:
        self.app, self.fake, self.id = app, fake, user_id
        self.first_name, self.language_code = first_name, language_code

    def _from(self) -> dict:
        data = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.language_code:
            data["language_code"] = self.language_code
        return data

    def _message(self, **content: Any) -> dict:
        return {"message_id": next(self._message_ids), "date": 1_700_000_000,
                "chat": {"id": self.id, "type": "private", "first_name": self.first_name},
                "from": self._from(), **content}

    async def _process(self, payload: dict) -> list[BotMessage]:
        before = set(self.fake.messages)
        await self.app.process_update(Update.de_json({"update_id": next(self._update_ids), **payload}, self.app.bot))
        return [m for key, m in sorted(self.fake.messages.items()) if key not in before and key[0] == self.id]

    async def send(self, text: str) -> list[BotMessage]:
        content: dict[str, Any] = {"text": text}
        if text.startswith("/"):
            content["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
        return await self._process({"message": self._message(**content)})

    async def send_raw(self, **content: Any) -> list[BotMessage]:
        """A message of another kind: photo=[...], sticker={...}, voice={...}."""
        return await self._process({"message": self._message(**content)})

    async def edit(self, text: str) -> list[BotMessage]:
        return await self._process({"edited_message": {**self._message(text=text), "edit_date": 1_700_000_100}})

    async def press_data(self, data: str, message: BotMessage | None = None) -> list[BotMessage]:
        message = message or self.last()
        return await self._process({"callback_query": {
            "id": str(next(self._update_ids)), "from": self._from(), "chat_instance": "ci",
            "data": data, "message": message.to_api()}})

    async def press(self, label: str, message: BotMessage | None = None) -> list[BotMessage]:
        """Press the button whose text is `label` (or starts with it) on the latest message with buttons."""
        message = message or self.last_with_buttons()
        buttons = message.buttons()
        for button in [b for b in buttons if b["text"] == label] + [b for b in buttons if b["text"].startswith(label)]:
            return await self.press_data(button["callback_data"], message)
        raise AssertionError(f"no button {label!r} in {message.button_texts()}")

    def messages(self) -> list[BotMessage]:
        return self.fake.chat(self.id)

    def last(self) -> BotMessage:
        return self.messages()[-1]

    def last_with_buttons(self) -> BotMessage:
        return [m for m in self.messages() if m.reply_markup][-1]

    def alerts(self) -> list[str]:
        return [text for _, text, _ in self.fake.alerts]


def escape(text: str) -> str:
    return html.escape(text)

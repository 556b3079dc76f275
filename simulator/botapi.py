"""The Bot API as the bot sees it, and the chats as people see them: the simulator's core.

Synchronous and free of I/O, so it serves two masters: the HTTP simulator (simulator/server.py)
and the tests' in-process transport (tests/telegram_fake.py). Requests and answers have
Telegram's shapes; bad requests get Telegram's kind of 400, an exceeded rate limit a 429 with
retry_after; HTML is parsed by Telegram's rules (its tags only, balanced).
"""

from __future__ import annotations

import html
import itertools
import json
import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

BOT_ID = 999_000_111
_TELEGRAM_TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "code", "pre", "a",
                  "tg-spoiler", "span", "blockquote", "tg-emoji"}


class ApiError(Exception):
    def __init__(self, code: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.code, self.description, self.retry_after = code, description, retry_after

    def body(self) -> dict:
        body: dict[str, Any] = {"ok": False, "error_code": self.code, "description": self.description}
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


class _TelegramHTML(HTMLParser):
    """Parses like Telegram's HTML mode and re-emits only what Telegram would render."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.text: list[str] = []
        self.safe: list[str] = []
        self.error: str | None = None

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag not in _TELEGRAM_TAGS:
            self.error = self.error or f'unsupported start tag "{tag}"'
        self.stack.append(tag)
        href = dict(attrs).get("href") if tag == "a" else None
        if href and href.startswith(("http://", "https://", "tg://")):
            self.safe.append(f'<a href="{html.escape(href)}" target="_blank" rel="noopener">')
        elif tag == "tg-spoiler":
            self.safe.append('<span class="spoiler">')
        else:
            self.safe.append(f"<{tag}>" if tag in _TELEGRAM_TAGS and tag != "a" else "<span>")

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack.pop() != tag:
            self.error = self.error or f'unmatched end tag "{tag}"'
        self.safe.append(f"</{tag}>" if tag in _TELEGRAM_TAGS and tag not in ("a", "tg-spoiler") else
                         ("</a>" if tag == "a" else "</span>"))

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        self.safe.append(html.escape(data))


def parse_telegram_html(source: str) -> tuple[str, str]:
    """(the text a user sees, safe HTML to display it), or ApiError as Telegram would answer."""
    parser = _TelegramHTML()
    parser.feed(source)
    parser.close()
    if parser.error or parser.stack:
        raise ApiError(400, f"Bad Request: can't parse entities: {parser.error or 'unclosed tag'}")
    return "".join(parser.text), "".join(parser.safe)


@dataclass
class SimUser:
    id: int
    first_name: str
    language_code: str | None = None

    def to_api(self) -> dict:
        data: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.language_code:
            data["language_code"] = self.language_code
        return data


@dataclass
class SimMessage:
    """One message in a private chat, from the bot or from the person."""

    chat_id: int
    message_id: int
    from_bot: bool
    text: str = ""
    html: str = ""  # as the bot sent it
    display_html: str = ""  # safe to show in the page
    reply_markup: dict | None = None
    document: dict | None = None
    photo: dict | None = None
    reply_to: int | None = None  # the message this one answers (Telegram's reply, quoted above it)
    revision: int = 0

    def buttons(self) -> list[dict]:
        return [b for row in (self.reply_markup or {}).get("inline_keyboard", []) for b in row]

    def button_texts(self) -> list[str]:
        return [b["text"] for b in self.buttons()]

    def to_api(self, bot_username: str = "kim_casebot", user: SimUser | None = None) -> dict:
        sender = ({"id": BOT_ID, "is_bot": True, "first_name": "KIM Casebot", "username": bot_username}
                  if self.from_bot else (user.to_api() if user else {"id": self.chat_id, "is_bot": False, "first_name": "?"}))
        data: dict[str, Any] = {"message_id": self.message_id, "date": int(time.time()),
                                "chat": {"id": self.chat_id, "type": "private"}, "from": sender}
        if self.text:
            data["text" if not (self.document or self.photo) else "caption"] = self.text
        if self.document:
            data["document"] = {k: v for k, v in self.document.items() if k != "content"}
        if self.photo:
            data["photo"] = [{k: v for k, v in self.photo.items() if k != "content"}]
        if self.reply_markup:
            data["reply_markup"] = self.reply_markup
        return data


@dataclass
class RateLimit:
    """Telegram's published limits: about one message a second per chat, 30 a second overall."""

    per_chat: int = 1
    overall: int = 30
    window: float = 1.0


# what counts against the rate limit: new messages (edits and toasts do not)
_SENDING = {"sendMessage", "sendDocument", "sendPhoto"}


@dataclass
class BotApi:
    bot_username: str = "kim_casebot"
    rate_limit: RateLimit | None = None
    clock: Callable[[], float] = time.monotonic
    users: dict[int, SimUser] = field(default_factory=dict)
    messages: dict[tuple[int, int], SimMessage] = field(default_factory=dict)
    calls: list[tuple[str, dict]] = field(default_factory=list)
    alerts: list[tuple[int, str, bool]] = field(default_factory=list)
    commands: dict[str, list[dict]] = field(default_factory=dict)
    files: dict[str, dict] = field(default_factory=dict)
    latest_keyboard: dict[int, SimMessage] = field(default_factory=dict)
    pending_updates: list[dict] = field(default_factory=list)
    blocked_by: set[int] = field(default_factory=set)  # people who blocked the bot
    rejected_429: int = 0
    revision: int = 0
    _update_ids: itertools.count = field(default_factory=lambda: itertools.count(1))
    _message_ids: itertools.count = field(default_factory=lambda: itertools.count(1))
    _file_ids: itertools.count = field(default_factory=lambda: itertools.count(1))
    _sent: deque = field(default_factory=deque)  # (time, chat_id) of recent sends
    _callbacks: dict[str, int] = field(default_factory=dict)  # callback query id -> chat

    # --- the bot's side ----------------------------------------------------------------------
    def call(self, method: str, params: dict, files: dict[str, dict] | None = None) -> Any:
        """Run one Bot API method; raises ApiError where Telegram would answer with an error."""
        self.calls.append((method, params))
        handler = getattr(self, f"_api_{method}", None)
        if handler is None:
            raise ApiError(404, "Not Found: method not found")
        if method in _SENDING:
            self._check_rate(int(params.get("chat_id") or 0))
        result = handler(params, files or {})
        self.revision += 1
        return result

    def _check_rate(self, chat_id: int) -> None:
        if self.rate_limit is None:
            return
        now, limit = self.clock(), self.rate_limit
        while self._sent and now - self._sent[0][0] >= limit.window:
            self._sent.popleft()
        in_chat = [t for t, chat in self._sent if chat == chat_id]
        blocking = in_chat if len(in_chat) >= limit.per_chat else [t for t, _ in self._sent]
        if len(in_chat) >= limit.per_chat or len(self._sent) >= limit.overall:
            self.rejected_429 += 1
            retry = max(1, math.ceil(limit.window - (now - blocking[0])))
            raise ApiError(429, f"Too Many Requests: retry after {retry}", retry_after=retry)
        self._sent.append((now, chat_id))

    def _api_getMe(self, params: dict, files: dict) -> dict:  # noqa: N802
        return {"id": BOT_ID, "is_bot": True, "first_name": "KIM Casebot", "username": self.bot_username,
                "can_join_groups": False, "can_read_all_group_messages": False, "supports_inline_queries": False}

    def confirm_below(self, offset: int) -> None:
        """Telegram forgets every update below a getUpdates offset: they are confirmed."""
        if offset:
            self.pending_updates = [u for u in self.pending_updates if u["update_id"] >= offset]

    def _api_getUpdates(self, params: dict, files: dict) -> list[dict]:  # noqa: N802
        self.confirm_below(int(params.get("offset") or 0))
        limit = int(params.get("limit") or 100)
        return self.pending_updates[:limit]

    def _api_deleteWebhook(self, params: dict, files: dict) -> bool:  # noqa: N802
        return True

    def _api_setWebhook(self, params: dict, files: dict) -> bool:  # noqa: N802
        return True

    @staticmethod
    def _menu_key(params: dict) -> str:
        """Menus are kept as Telegram keeps them: per chat ("chat:<id>", BotCommandScopeChat),
        else per language ("" for all)."""
        scope = params.get("scope") or {}
        if isinstance(scope, str):
            scope = json.loads(scope)
        if scope.get("type") == "chat":
            return f"chat:{scope['chat_id']}"
        return params.get("language_code") or ""

    def _api_setMyCommands(self, params: dict, files: dict) -> bool:  # noqa: N802
        commands = params["commands"]
        self.commands[self._menu_key(params)] = json.loads(commands) if isinstance(commands, str) else commands
        return True

    def _api_getMyCommands(self, params: dict, files: dict) -> list:  # noqa: N802
        return self.commands.get(self._menu_key(params), [])

    def _render(self, source: str, parse_mode: str | None, *, caption: bool = False) -> tuple[str, str]:
        if parse_mode == "HTML":
            text, display = parse_telegram_html(source)
        else:
            text, display = source, html.escape(source)
        limit = 1024 if caption else 4096
        if not caption and not text.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        if len(text) > limit:
            raise ApiError(400, "Bad Request: message is too long" if not caption else "Bad Request: message caption is too long")
        return text, display

    def _check_markup(self, markup: dict | None) -> dict | None:
        for row in (markup or {}).get("inline_keyboard", []):
            for button in row:
                if not button.get("text"):
                    raise ApiError(400, "Bad Request: text buttons are unallowed in the inline keyboard")
                if len(str(button.get("callback_data", "")).encode()) > 64:
                    raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
        return markup or None

    def _chat(self, params: dict) -> int:
        chat_id = int(params.get("chat_id") or 0)
        if chat_id not in self.users:
            raise ApiError(400, "Bad Request: chat not found")
        if chat_id in self.blocked_by:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        return chat_id

    def _new_message(self, chat_id: int, **content: Any) -> SimMessage:
        message = SimMessage(chat_id=chat_id, message_id=next(self._message_ids), from_bot=True, **content)
        self.messages[(chat_id, message.message_id)] = message
        if message.reply_markup:
            self.latest_keyboard[chat_id] = message
        return message

    def _reply_target(self, chat_id: int, params: dict) -> int | None:
        """The message a new one answers (reply_parameters, or the older reply_to_message_id);
        Telegram refuses a reply to a message that is not (or no longer) in the chat."""
        reply = params.get("reply_parameters") or {}
        target = int(reply.get("message_id") or params.get("reply_to_message_id") or 0)
        if not target:
            return None
        if (chat_id, target) not in self.messages:
            if str(reply.get("allow_sending_without_reply")).lower() == "true":
                return None
            raise ApiError(400, "Bad Request: message to be replied not found")
        return target

    def view(self, message: SimMessage) -> dict:
        """A message as the Bot API shows it, with the message it answers (one level deep, and
        only while that one is still in the chat: a deleted one is no longer shown)."""
        data = message.to_api(self.bot_username, None if message.from_bot else self.users.get(message.chat_id))
        target = self.messages.get((message.chat_id, message.reply_to)) if message.reply_to else None
        if target is not None:
            data["reply_to_message"] = target.to_api(self.bot_username, None if target.from_bot else self.users.get(target.chat_id))
        return data

    def _api_sendMessage(self, params: dict, files: dict) -> dict:  # noqa: N802
        chat_id = self._chat(params)
        text, display = self._render(str(params.get("text", "")), params.get("parse_mode"))
        markup = self._check_markup(params.get("reply_markup"))
        message = self._new_message(chat_id, text=text, html=str(params["text"]), display_html=display, reply_markup=markup,
                                    reply_to=self._reply_target(chat_id, params))
        return self.view(message)

    def _upload(self, kind: str, params: dict, files: dict) -> dict:
        upload = files.get(kind)
        if upload is None:
            raise ApiError(400, f"Bad Request: there is no {kind} in the request")
        file_id = f"{kind}-{next(self._file_ids)}"
        stored = {"file_id": file_id, "file_unique_id": file_id, "file_name": upload.get("filename", kind),
                  "mime_type": upload.get("mime_type", "application/octet-stream"),
                  "file_size": len(upload["content"]), "content": upload["content"]}
        if kind == "photo":
            # Telegram looks at the bytes, not the declared type (PTB sends raw bytes untyped)
            signatures = {b"\x89PNG": "image/png", b"\xff\xd8\xff": "image/jpeg", b"GIF8": "image/gif"}
            sniffed = next((mime for magic, mime in signatures.items() if upload["content"].startswith(magic)), None)
            if sniffed is None:
                raise ApiError(400, "Bad Request: IMAGE_PROCESS_FAILED")
            stored.update(mime_type=sniffed, width=800, height=600)
        self.files[file_id] = stored
        return stored

    def _send_media(self, kind: str, params: dict, files: dict) -> dict:
        chat_id = self._chat(params)
        text, display = self._render(str(params.get("caption", "")), params.get("parse_mode"), caption=True)
        message = self._new_message(chat_id, text=text, html=str(params.get("caption", "")), display_html=display,
                                    reply_markup=self._check_markup(params.get("reply_markup")),
                                    **{kind: self._upload(kind, params, files)})
        return message.to_api(self.bot_username)

    def _api_sendDocument(self, params: dict, files: dict) -> dict:  # noqa: N802
        return self._send_media("document", params, files)

    def _api_sendPhoto(self, params: dict, files: dict) -> dict:  # noqa: N802
        return self._send_media("photo", params, files)

    def _own_message(self, params: dict) -> SimMessage:
        key = (int(params.get("chat_id") or 0), int(params.get("message_id") or 0))
        message = self.messages.get(key)
        if message is None:
            raise ApiError(400, "Bad Request: message to edit not found")
        if not message.from_bot:
            raise ApiError(400, "Bad Request: message can't be edited")
        return message

    def _api_editMessageText(self, params: dict, files: dict) -> dict:  # noqa: N802
        message = self._own_message(params)
        text, display = self._render(str(params.get("text", "")), params.get("parse_mode"))
        markup = self._check_markup(params.get("reply_markup"))
        if str(params["text"]) == message.html and markup == message.reply_markup:
            raise ApiError(400, "Bad Request: message is not modified: specified new message content and reply "
                                "markup are exactly the same as a current content and reply markup of the message")
        message.text, message.html, message.display_html, message.reply_markup = text, str(params["text"]), display, markup
        message.revision += 1
        if markup:
            self.latest_keyboard[message.chat_id] = message
        return message.to_api(self.bot_username)

    def _api_editMessageReplyMarkup(self, params: dict, files: dict) -> dict:  # noqa: N802
        message = self._own_message(params)
        markup = self._check_markup(params.get("reply_markup"))
        if markup == message.reply_markup:
            raise ApiError(400, "Bad Request: message is not modified: specified new message content and reply "
                                "markup are exactly the same as a current content and reply markup of the message")
        message.reply_markup = markup
        message.revision += 1
        return message.to_api(self.bot_username)

    def _api_deleteMessage(self, params: dict, files: dict) -> bool:  # noqa: N802
        key = (int(params.get("chat_id") or 0), int(params.get("message_id") or 0))
        if self.messages.pop(key, None) is None:
            raise ApiError(400, "Bad Request: message to delete not found")
        return True

    def _api_getFile(self, params: dict, files: dict) -> dict:  # noqa: N802
        stored = self.files.get(str(params.get("file_id", "")))
        if stored is None:
            raise ApiError(400, "Bad Request: invalid file_id")
        return {"file_id": stored["file_id"], "file_unique_id": stored["file_unique_id"],
                "file_size": stored["file_size"], "file_path": f"documents/{stored['file_id']}"}

    def file_content(self, file_path: str) -> bytes | None:
        """What the file download URL (/file/bot<token>/<file_path>) returns."""
        stored = self.files.get(file_path.rsplit("/", 1)[-1])
        return stored["content"] if stored else None

    def _api_answerCallbackQuery(self, params: dict, files: dict) -> bool:  # noqa: N802
        query_id = str(params.get("callback_query_id", ""))
        if query_id not in self._callbacks:  # Telegram takes one answer to a press, and none to a press it never saw
            raise ApiError(400, "Bad Request: query is too old and response timeout expired or query ID is invalid")
        chat_id = self._callbacks.pop(query_id)
        if params.get("text"):
            self.alerts.append((chat_id, str(params["text"]), str(params.get("show_alert")).lower() == "true"))
        return True

    # --- the people's side (the chat page) ----------------------------------------------------
    def add_user(self, first_name: str, language_code: str | None = "de", user_id: int | None = None) -> SimUser:
        # people added in the page count up from 100_001, past any id already taken (the demo's
        # people have theirs from 900_001: simulator/demo.py)
        user_id = user_id or max((i for i in self.users if i < 900_000), default=100_000) + 1
        user = self.users[user_id] = SimUser(user_id, first_name[:64] or "?", language_code)
        self.revision += 1
        return user

    def _queue(self, kind: str, payload: dict) -> dict:
        update = {"update_id": next(self._update_ids), kind: payload}
        self.pending_updates.append(update)
        self.revision += 1
        return update

    def user_sends(self, user_id: int, text: str) -> dict:
        """A person types a message; commands get their bot_command entity, as in Telegram."""
        user = self.users[user_id]
        text = text[:4096]
        message = SimMessage(chat_id=user_id, message_id=next(self._message_ids), from_bot=False,
                             text=text, display_html=html.escape(text))
        self.messages[(user_id, message.message_id)] = message
        payload = message.to_api(self.bot_username, user)
        if text.startswith("/"):
            payload["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
        return self._queue("message", payload)

    def user_sends_document(self, user_id: int, filename: str, content: bytes, mime_type: str,
                            reply_to: int | None = None) -> dict:
        """A person sends a file (say, an edited catalogue, or a signed form in reply to a document)."""
        file_id = f"user-document-{next(self._file_ids)}"
        self.files[file_id] = {"file_id": file_id, "file_unique_id": file_id, "file_name": filename[:200],
                               "mime_type": mime_type, "file_size": len(content), "content": content}
        return self._user_sends_file(user_id, reply_to, document=self.files[file_id])

    def user_sends_photo(self, user_id: int, content: bytes, reply_to: int | None = None) -> dict:
        """A person sends a photo (Telegram passes on its largest size; one size here)."""
        file_id = f"user-photo-{next(self._file_ids)}"
        jpeg = content.startswith(b"\xff\xd8\xff")
        self.files[file_id] = {"file_id": file_id, "file_unique_id": file_id, "width": 1280, "height": 960,
                               "file_size": len(content), "content": content, "file_name": "photo.jpg" if jpeg else "photo.png",
                               "mime_type": "image/jpeg" if jpeg else "image/png"}
        return self._user_sends_file(user_id, reply_to, photo=self.files[file_id])

    def _user_sends_file(self, user_id: int, reply_to: int | None, **content: Any) -> dict:
        message = SimMessage(chat_id=user_id, message_id=next(self._message_ids), from_bot=False,
                             reply_to=reply_to if (user_id, reply_to) in self.messages else None, **content)
        self.messages[(user_id, message.message_id)] = message
        return self._queue("message", self.view(message))

    def user_presses(self, user_id: int, message_id: int, callback_data: str) -> dict:
        """A person presses an inline button: a callback query with the message it sits on."""
        message = self.messages.get((user_id, message_id))
        if message is None or not message.from_bot:
            raise ApiError(400, "Bad Request: message not found")
        query_id = str(next(self._update_ids) + 10_000_000)
        self._callbacks[query_id] = user_id
        return self._queue("callback_query", {
            "id": query_id, "from": self.users[user_id].to_api(), "chat_instance": str(user_id),
            "data": callback_data, "message": self.view(message),
        })

    def chat(self, user_id: int, *, bot_only: bool = False) -> list[SimMessage]:
        return [m for (chat, _), m in sorted(self.messages.items()) if chat == user_id and (m.from_bot or not bot_only)]

    def take_alerts(self, user_id: int) -> list[tuple[str, bool]]:
        """The answer toasts for this person since the last look (shown once, like Telegram)."""
        mine = [(text, alert) for chat, text, alert in self.alerts if chat == user_id]
        self.alerts = [a for a in self.alerts if a[0] != user_id]
        return mine

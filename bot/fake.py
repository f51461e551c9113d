"""A Bot API of our own, in process: the rules Telegram applies to what a bot sends (HTML
entities, 4096 characters, 64-byte callback data, one answer per callback query, blocked
users, unknown methods), with every call recorded.

`FakeTelegram.call` takes the form fields aiogram sends (strings) and returns the HTTP status
and JSON body Telegram would. `LocalSession` plugs it into aiogram without a network; the
end-to-end emulator in tests/e2e serves the same object over HTTP. `--console` uses it too.
"""

from __future__ import annotations

import html
import itertools
import json
import re
import time
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass, field
from typing import Any

from aiogram import Bot
from aiogram.client.session.base import BaseSession
from aiogram.methods import TelegramMethod
from aiogram.methods.base import TelegramType

BOT_ID = 7_000_000_001
BOT_USERNAME = "economy_test_bot"
TAGS = frozenset({"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre", "tg-spoiler",
                  "span", "blockquote", "tg-emoji"})
_TOKEN = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s[^<>]*)?)>|&(#[0-9]{1,7}|#x[0-9a-fA-F]{1,6}|[a-zA-Z]+);|[<&]")
_INT_FIELDS = frozenset({"chat_id", "from_chat_id", "message_id", "offset", "limit", "timeout", "user_id",
                         "cache_time"})
_JSON_FIELDS = frozenset({"reply_markup", "commands", "scope", "allowed_updates", "link_preview_options",
                          "show_alert", "disable_notification", "protect_content", "entities", "caption_entities",
                          "menu_button"})
MEDIA = ("document", "photo", "video")


class ApiError(Exception):
    def __init__(self, status: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.status, self.description, self.retry_after = status, description, retry_after


def parse_html(text: str) -> str:
    """The plain text of Telegram-HTML, or ApiError(400) where Telegram refuses it."""
    out: list[str] = []
    stack: list[str] = []
    pos = 0
    for m in _TOKEN.finditer(text):
        out.append(text[pos : m.start()])
        pos = m.end()
        whole, closing, tag, entity = m.group(0), m.group(1), m.group(2), m.group(4)
        if whole in ("<", "&"):
            raise ApiError(400, f"Bad Request: can't parse entities: unexpected {whole!r} at byte offset {m.start()}")
        if entity is not None:
            if not entity.startswith("#") and entity not in ("lt", "gt", "amp", "quot"):
                raise ApiError(400, f"Bad Request: can't parse entities: unsupported HTML entity '&{entity};'")
            out.append(html.unescape(whole))
            continue
        tag = tag.lower()
        if closing:
            if not stack or stack[-1] != tag:
                raise ApiError(400, f"Bad Request: can't parse entities: can't find end tag corresponding to </{tag}>")
            stack.pop()
        elif tag not in TAGS:
            raise ApiError(400, f"Bad Request: can't parse entities: unsupported start tag \"{tag}\"")
        else:
            stack.append(tag)
    if stack:
        raise ApiError(400, f"Bad Request: can't parse entities: can't find end of {stack[-1]} entity")
    out.append(text[pos:])
    return "".join(out)


def decode(params: dict[str, Any]) -> dict[str, Any]:
    """Form fields (strings) to values, as the Bot API reads them."""
    out: dict[str, Any] = {}
    for k, v in params.items():
        if isinstance(v, str) and (k in _JSON_FIELDS or k in _INT_FIELDS):
            try:
                v = json.loads(v)
            except ValueError:
                if k in _JSON_FIELDS:
                    raise ApiError(400, f"Bad Request: can't parse {k} JSON object") from None
        out[k] = v
    return out


@dataclass
class Sent:
    """One message the bot sent (or a file it delivered), as a test reads it."""

    method: str
    chat_id: int
    message_id: int
    text: str
    html: str
    markup: list[list[dict[str, Any]]] = field(default_factory=list)
    media: str | None = None

    def buttons(self) -> list[tuple[str, str]]:
        return [(b["text"], b.get("callback_data", "")) for row in self.markup for b in row]


class FakeTelegram:
    def __init__(self, bot_id: int = BOT_ID, username: str = BOT_USERNAME, clock: Callable[[], float] = time.time,
                 first_message_id: int = 1) -> None:
        self.bot_id, self.username, self.clock = bot_id, username, clock
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.sent: list[Sent] = []
        self.messages: dict[tuple[int, int], Sent] = {}
        self.blocked: set[int] = set()
        self.answered: dict[str, dict[str, Any]] = {}
        self.commands: dict[str, list[dict[str, str]]] = {}
        self.menu_buttons: dict[int, dict[str, Any]] = {}
        #: faults to inject: method name -> list of ApiError raised (one per call) before serving it
        self.faults: dict[str, list[ApiError]] = {}
        self.listeners: list[Callable[[Sent], None]] = []
        #: the webhook as setWebhook left it (url, secret_token, allowed_updates, ...), or None
        self.webhook: dict[str, Any] | None = None
        self._ids = itertools.count(first_message_id)

    # -- the API --
    def call(self, method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        try:
            values = decode({k: v for k, v in params.items() if v not in (None, "")})
            self.calls.append((method, values))
            queued = self.faults.get(method)
            if queued:
                raise queued.pop(0)
            handler = getattr(self, f"_m_{method.lower()}", None)
            if handler is None:
                raise ApiError(404, "Not Found: method not found")
            return 200, {"ok": True, "result": handler(values)}
        except ApiError as exc:
            body: dict[str, Any] = {"ok": False, "error_code": exc.status, "description": exc.description}
            if exc.retry_after is not None:
                body["parameters"] = {"retry_after": exc.retry_after}
            return exc.status, body

    def _m_getme(self, p: dict[str, Any]) -> dict[str, Any]:
        return {"id": self.bot_id, "is_bot": True, "first_name": "Economy", "username": self.username,
                "can_join_groups": True, "can_read_all_group_messages": False, "supports_inline_queries": False}

    def _chat(self, p: dict[str, Any], name: str = "chat_id") -> int:
        chat = p.get(name)
        if not isinstance(chat, int):
            raise ApiError(400, "Bad Request: chat not found")
        if chat in self.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        return chat

    def _markup(self, p: dict[str, Any]) -> list[list[dict[str, Any]]]:
        markup = p.get("reply_markup")
        if not markup:
            return []
        rows = markup.get("inline_keyboard") if isinstance(markup, dict) else None
        if not isinstance(rows, list):
            raise ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
        for row in rows:
            for button in row:
                if not button.get("text"):
                    raise ApiError(400, "Bad Request: text buttons are unallowed in the inline keyboard")
                data = button.get("callback_data")
                if data is not None and not 1 <= len(data.encode()) <= 64:
                    raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
        return rows

    def _text(self, p: dict[str, Any], name: str, limit: int, required: bool) -> tuple[str, str]:
        raw = p.get(name) or ""
        if not raw:
            if required:
                raise ApiError(400, "Bad Request: message text is empty")
            return "", ""
        plain = parse_html(raw) if str(p.get("parse_mode", "")).upper() == "HTML" else raw
        if len(plain) > limit:
            raise ApiError(400, "Bad Request: message is too long" if name == "text"
                           else "Bad Request: message caption is too long")
        if required and not plain.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        return plain, raw

    def _message(self, sent: Sent) -> dict[str, Any]:
        chat_type = "private" if sent.chat_id > 0 else "supergroup"
        msg: dict[str, Any] = {
            "message_id": sent.message_id, "date": int(self.clock()),
            "chat": {"id": sent.chat_id, "type": chat_type, **({"first_name": "user"} if chat_type == "private"
                                                              else {"title": "group"})},
            "from": {"id": self.bot_id, "is_bot": True, "first_name": "Economy", "username": self.username},
        }
        if sent.media:
            msg[sent.media] = ([{"file_id": sent.html or "f", "file_unique_id": "u", "width": 1, "height": 1}]
                               if sent.media == "photo" else
                               {"file_id": sent.html or "f", "file_unique_id": "u"} if sent.media == "document" else
                               {"file_id": sent.html or "f", "file_unique_id": "u", "width": 1, "height": 1,
                                "duration": 1})
            if sent.text:
                msg["caption"] = sent.text
        else:
            msg["text"] = sent.text
        if sent.markup:
            msg["reply_markup"] = {"inline_keyboard": sent.markup}
        return msg

    def _record(self, sent: Sent) -> Sent:
        self.sent.append(sent)
        self.messages[(sent.chat_id, sent.message_id)] = sent
        for listener in self.listeners:
            listener(sent)
        return sent

    def _m_sendmessage(self, p: dict[str, Any]) -> dict[str, Any]:
        chat = self._chat(p)
        plain, raw = self._text(p, "text", 4096, required=True)
        markup = self._markup(p)
        return self._message(self._record(Sent("sendMessage", chat, next(self._ids), plain, raw, markup)))

    def _m_editmessagetext(self, p: dict[str, Any]) -> dict[str, Any]:
        chat = self._chat(p)
        old = self.messages.get((chat, p.get("message_id", 0)))
        if old is None:
            raise ApiError(400, "Bad Request: message to edit not found")
        plain, raw = self._text(p, "text", 4096, required=True)
        markup = self._markup(p)
        if raw == old.html and markup == old.markup:
            raise ApiError(400, "Bad Request: message is not modified: specified new message content and reply"
                                " markup are exactly the same as a current content and reply markup of the message")
        new = Sent("editMessageText", chat, old.message_id, plain, raw, markup)
        return self._message(self._record(new))

    def _media(self, kind: str, p: dict[str, Any]) -> dict[str, Any]:
        chat = self._chat(p)
        ref = p.get(kind)
        if not ref:
            raise ApiError(400, f"Bad Request: there is no {kind} in the request")
        caption, _ = self._text(p, "caption", 1024, required=False)
        sent = self._record(Sent(f"send{kind.title()}", chat, next(self._ids), caption, str(ref), self._markup(p),
                                 media=kind))
        return self._message(sent)

    def _m_senddocument(self, p: dict[str, Any]) -> dict[str, Any]:
        return self._media("document", p)

    def _m_sendphoto(self, p: dict[str, Any]) -> dict[str, Any]:
        return self._media("photo", p)

    def _m_sendvideo(self, p: dict[str, Any]) -> dict[str, Any]:
        return self._media("video", p)

    def _m_copymessage(self, p: dict[str, Any]) -> dict[str, Any]:
        chat = self._chat(p)
        source = p.get("from_chat_id")
        if not isinstance(source, int) or not isinstance(p.get("message_id"), int):
            raise ApiError(400, "Bad Request: message to copy not found")
        caption, _ = self._text(p, "caption", 1024, required=False)
        sent = self._record(Sent("copyMessage", chat, next(self._ids), caption, f"copy:{source}:{p['message_id']}",
                                 self._markup(p), media="document"))
        return {"message_id": sent.message_id}

    def _m_answercallbackquery(self, p: dict[str, Any]) -> bool:
        qid = str(p.get("callback_query_id", ""))
        if not qid or qid in self.answered:
            raise ApiError(400, "Bad Request: query is too old and response timeout expired or query ID is invalid")
        if len(p.get("text") or "") > 200:
            raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        self.answered[qid] = p
        return True

    def _m_setmycommands(self, p: dict[str, Any]) -> bool:
        commands = p.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise ApiError(400, "Bad Request: BOT_COMMANDS_TOO_MUCH")
        for c in commands:
            if not re.fullmatch(r"[a-z0-9_]{1,32}", c.get("command", "")) or not 1 <= len(c.get("description", "")) <= 256:
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
        scope = p.get("scope") or {"type": "default"}
        if scope.get("type") == "chat" and scope.get("chat_id") in self.blocked:
            raise ApiError(400, "Bad Request: chat not found")
        self.commands[f"{json.dumps(scope, sort_keys=True)}|{p.get('language_code', '')}"] = commands
        return True

    def _m_setchatmenubutton(self, p: dict[str, Any]) -> bool:
        chat = self._chat(p)
        button = p.get("menu_button") or {"type": "default"}
        if button.get("type") == "web_app" and not str(button.get("web_app", {}).get("url", "")).startswith("https://"):
            raise ApiError(400, "Bad Request: BUTTON_URL_INVALID")
        self.menu_buttons[chat] = button
        return True

    def _m_deletemycommands(self, p: dict[str, Any]) -> bool:
        return True

    def _m_setwebhook(self, p: dict[str, Any]) -> bool:
        url = p.get("url", "")
        if not url.startswith("https://"):
            raise ApiError(400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook")
        secret = p.get("secret_token")
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
            raise ApiError(400, "Bad Request: secret token contains unallowed characters")
        connections = int(p.get("max_connections") or 40)
        if not 1 <= connections <= 100:
            raise ApiError(400, "Bad Request: bad webhook: max_connections must be between 1 and 100")
        self.webhook = {"url": url, "secret_token": secret, "max_connections": connections,
                        "allowed_updates": p.get("allowed_updates"),
                        "drop_pending_updates": p.get("drop_pending_updates") in ("true", True)}
        return True

    def _m_deletewebhook(self, p: dict[str, Any]) -> bool:
        self.webhook = None
        return True

    def _m_getwebhookinfo(self, p: dict[str, Any]) -> dict[str, Any]:
        hook = self.webhook or {}
        return {"url": hook.get("url", ""), "has_custom_certificate": False, "pending_update_count": 0,
                **({"max_connections": hook["max_connections"]} if hook else {})}

    def _m_close(self, p: dict[str, Any]) -> bool:
        return True

    # -- for tests --
    def to(self, chat_id: int) -> list[Sent]:
        return [s for s in self.sent if s.chat_id == chat_id]

    def last(self, chat_id: int) -> Sent:
        mine = self.to(chat_id)
        assert mine, f"nothing was sent to {chat_id}"
        return mine[-1]


class LocalSession(BaseSession):
    """An aiogram session that talks to a FakeTelegram in process (no network)."""

    def __init__(self, telegram: FakeTelegram | None = None) -> None:
        super().__init__()
        self.telegram = telegram or FakeTelegram()

    async def make_request(self, bot: Bot, method: TelegramMethod[TelegramType], timeout: int | None = None) -> TelegramType:
        files: dict[str, Any] = {}
        params = {}
        for key, value in method.model_dump(warnings=False).items():
            prepared = self.prepare_value(value, bot=bot, files=files)
            if prepared:
                params[key] = prepared
        status, body = self.telegram.call(method.__api_method__, params)
        response = self.check_response(bot, method, status, json.dumps(body))
        return response.result  # type: ignore[return-value]

    async def stream_content(self, url: str, headers: dict[str, Any] | None = None, timeout: int = 30,
                             chunk_size: int = 65536, raise_for_status: bool = True) -> AsyncGenerator[bytes, None]:
        yield b""

    async def close(self) -> None:
        return None


@dataclass
class Person:
    """A Telegram user as updates describe them."""

    id: int
    first_name: str = ""
    username: str | None = None
    language_code: str | None = "en"

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name or f"User {self.id}"}
        if self.username:
            out["username"] = self.username
        if self.language_code:
            out["language_code"] = self.language_code
        return out


class Updates:
    """Update JSON as Telegram sends it (dicts: the e2e emulator serves them, tests validate them)."""

    def __init__(self, start: int = 1000, clock: Callable[[], float] = time.time,
                 first_message_id: int = 1_000_000) -> None:
        self.ids = itertools.count(start)
        self.message_ids = itertools.count(first_message_id)
        self.clock = clock

    def message(self, who: Person, text: str | None = None, *, chat: int | None = None, caption: str | None = None,
                media: str | None = None, **extra: Any) -> dict[str, Any]:
        chat_id = who.id if chat is None else chat
        chat_obj = ({"id": chat_id, "type": "private", "first_name": who.first_name or "user"} if chat_id > 0
                    else {"id": chat_id, "type": "supergroup", "title": "Group"})
        msg: dict[str, Any] = {"message_id": next(self.message_ids), "date": int(self.clock()), "chat": chat_obj,
                               "from": who.as_dict(), **extra}
        if text is not None:
            msg["text"] = text
            if text.startswith("/"):
                msg["entities"] = [{"type": "bot_command", "offset": 0,
                                    "length": len(text.split(maxsplit=1)[0].encode("utf-16-le")) // 2}]
        if media == "document":
            msg["document"] = {"file_id": f"doc-{msg['message_id']}", "file_unique_id": f"d{msg['message_id']}",
                               "file_name": "invoice.pdf"}
        elif media == "photo":
            msg["photo"] = [{"file_id": f"photo-{msg['message_id']}", "file_unique_id": f"p{msg['message_id']}",
                             "width": 90, "height": 90}]
        elif media == "video":
            msg["video"] = {"file_id": f"video-{msg['message_id']}", "file_unique_id": f"v{msg['message_id']}",
                            "width": 90, "height": 90, "duration": 3}
        if caption is not None:
            msg["caption"] = caption
        return {"update_id": next(self.ids), "message": msg}

    def callback(self, who: Person, data: str, message: Sent | None = None, *, chat: int | None = None) -> dict[str, Any]:
        uid = next(self.ids)
        query: dict[str, Any] = {"id": f"q{uid}", "from": who.as_dict(), "chat_instance": "ci", "data": data}
        if message is not None:
            chat_id = message.chat_id
            query["message"] = {
                "message_id": message.message_id, "date": int(self.clock()),
                "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "supergroup",
                         **({"first_name": "user"} if chat_id > 0 else {"title": "Group"})},
                "from": {"id": BOT_ID, "is_bot": True, "first_name": "Economy", "username": BOT_USERNAME},
                "text": message.text or "-",
            }
        return {"update_id": uid, "callback_query": query}

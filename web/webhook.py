"""Telegram's webhook: an update is answered 200 only after its effect is committed and its
replies are sent (never aiogram's handle_in_background, which answers first and loses the
update if the process dies). A failure answers 500, and Telegram sends the update again; its
writes are keyed `u:<update_id>`, so the second delivery changes nothing that was done."""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Callable

from aiogram import Bot, Dispatcher
from aiogram.types import Update
from aiohttp import web
from pydantic import ValidationError

log = logging.getLogger("web.webhook")

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


class Webhook:
    def __init__(self, bot: Bot, dp: Dispatcher, secret: str, failed: Callable[[object], bool]) -> None:
        """`failed(result)` says whether `dp.feed_update`'s result means the update failed."""
        self.bot, self.dp, self.failed = bot, dp, failed
        self._secret = secret.encode()
        #: set while shutting down: new updates are refused (503) and go to another instance
        self.closing = False
        self.handled = 0

    async def handle(self, request: web.Request) -> web.Response:
        got = request.headers.get(SECRET_HEADER, "").encode("utf-8", "replace")
        if not hmac.compare_digest(got, self._secret):
            return web.Response(status=401, text="wrong or missing secret token\n")
        if self.closing:
            return web.Response(status=503, text="shutting down\n", headers={"Retry-After": "1"})
        raw = await request.read()
        try:
            update = Update.model_validate(json.loads(raw), context={"bot": self.bot})
            update.event_type  # noqa: B018 — raises for an update with no event aiogram knows
        except (ValueError, LookupError, ValidationError, RecursionError) as exc:
            log.warning("webhook: a body of %d bytes is not an update: %s", len(raw), str(exc).splitlines()[0][:200])
            return web.Response(status=400, text="not a Telegram update\n")
        try:
            result = await self.dp.feed_update(self.bot, update)
        except Exception:
            log.exception("update %s raised; answering 500 so Telegram sends it again", update.update_id)
            return web.Response(status=500, text="failed; send it again\n")
        if self.failed(result):
            return web.Response(status=500, text="failed; send it again\n")
        self.handled += 1
        return web.Response(status=200)

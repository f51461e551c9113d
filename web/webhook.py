"""Telegram's webhook: an update is answered 200 only after its effect is committed and its
replies are sent (never aiogram's handle_in_background, which answers first and loses the
update if the process dies). One rule for a failed update, as in polling (bot/failures.py):
a failure that may pass (the Bot API or the database did not answer) answers 500, and Telegram
sends the update again — its writes are keyed `u:<update_id>`, so the second delivery changes
nothing that was done — up to MAX_TRIES; a failure that will not pass (Telegram refuses the
reply for good, a bug, an update that cannot be decoded or is of no known kind) is logged in
one line and answered 200, so that chat's next updates are not held behind it."""

from __future__ import annotations

import hmac
import json
import logging
from collections import OrderedDict
from collections.abc import Callable

from aiogram import Bot, Dispatcher
from aiogram.types import Update
from aiohttp import web
from pydantic import ValidationError

log = logging.getLogger("web.webhook")

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


#: Deliveries of one update this instance handles before a failure that may pass is final
#: (answered 200; the user told). `feed_update` gets `final_try=True` on the last.
MAX_TRIES = 5
#: Updates whose tries are counted at most (the oldest are forgotten first).
TRIES_KEPT = 10_000


class Webhook:
    def __init__(self, bot: Bot, dp: Dispatcher, secret: str, retry: Callable[[object], bool]) -> None:
        """`retry(result)` says whether `dp.feed_update`'s result means the update failed for now
        (answered 500: Telegram sends it again)."""
        self.bot, self.dp, self.retry = bot, dp, retry
        self._secret = secret.encode()
        #: set while shutting down: new updates are refused (503) and go to another instance
        self.closing = False
        self.handled = 0
        self.skipped = 0
        #: update id -> deliveries of it that failed for now
        self.tries: OrderedDict[int, int] = OrderedDict()

    async def handle(self, request: web.Request) -> web.Response:
        got = request.headers.get(SECRET_HEADER, "").encode("utf-8", "replace")
        if not hmac.compare_digest(got, self._secret):
            return web.Response(status=401, text="wrong or missing secret token\n")
        if self.closing:
            return web.Response(status=503, text="shutting down\n", headers={"Retry-After": "1"})
        raw = await request.read()
        try:
            body = json.loads(raw)
        except (ValueError, RecursionError) as exc:
            log.warning("webhook: a body of %d bytes is not an update (not JSON: %s)", len(raw),
                        str(exc).splitlines()[0][:200])
            return web.Response(status=400, text="not a Telegram update\n")
        uid = body.get("update_id") if isinstance(body, dict) else None
        if not isinstance(uid, int) or isinstance(uid, bool):
            log.warning("webhook: a body of %d bytes is not an update (no update id)", len(raw))
            return web.Response(status=400, text="not a Telegram update\n")
        try:
            update = Update.model_validate(body, context={"bot": self.bot})
            update.event_type  # noqa: B018 — raises for an update with no event aiogram knows
        except (ValueError, LookupError, ValidationError, RecursionError) as exc:
            # From Telegram (the secret matched) but not for us: sending it again would not help.
            self.skipped += 1
            log.warning("update %s cannot be decoded or is of no kind this bot knows (%s); skipped", uid,
                        str(exc).splitlines()[0][:200])
            return web.Response(status=200)
        tries = self.tries.get(uid, 0) + 1
        try:
            result = await self.dp.feed_update(self.bot, update, final_try=tries >= MAX_TRIES, retry=tries > 1)
            raised = False
        except Exception:
            log.exception("update %s raised; answering 500 so Telegram sends it again", uid)
            result, raised = None, True
        if raised or self.retry(result):
            if tries >= MAX_TRIES:  # the middleware answered it as final; a raise is final too
                self.tries.pop(uid, None)
                return web.Response(status=200)
            self.tries[uid] = tries
            self.tries.move_to_end(uid)
            while len(self.tries) > TRIES_KEPT:
                self.tries.popitem(last=False)
            return web.Response(status=500, text="failed; send it again\n")
        self.tries.pop(uid, None)
        self.handled += 1
        return web.Response(status=200)

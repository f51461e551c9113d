"""Long polling that confirms an update only after its effect is committed.

aiogram's own polling moves the offset past an update as soon as it is read, so a crash
while the update is handled loses it. Here a batch from getUpdates is handled first
(concurrently: the ledger commits concurrent writes together; one user's updates in order),
and only then is the next getUpdates sent with the offset that confirms it. A crash before
that means Telegram sends the batch again, and every write is keyed by its update id, so the
second delivery changes nothing.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict

from aiogram import Bot, Dispatcher
from aiogram.exceptions import (
    TelegramConflictError, TelegramNetworkError, TelegramRetryAfter, TelegramServerError, TelegramUnauthorizedError,
)
from aiogram.methods import GetUpdates
from aiogram.types import Update

log = logging.getLogger("bot.polling")


def _owner(update: Update) -> int | None:
    event = update.event
    user = getattr(event, "from_user", None)
    return user.id if user is not None else None


class Poller:
    def __init__(self, bot: Bot, dp: Dispatcher, *, timeout: int = 25, limit: int = 100) -> None:
        self.bot, self.dp, self.timeout, self.limit = bot, dp, timeout, limit
        self.offset: int | None = None
        self.handled = 0

    async def _handle_user(self, updates: list[Update]) -> None:
        for update in updates:
            try:
                await self.dp.feed_update(self.bot, update)
            except Exception:  # the update middleware already answered; never stop the batch
                log.exception("update %s raised", update.update_id)
            self.handled += 1

    async def handle_batch(self, updates: list[Update]) -> None:
        by_user: dict[int | None, list[Update]] = defaultdict(list)
        for update in updates:
            by_user[_owner(update)].append(update)
        await asyncio.gather(*(self._handle_user(group) for group in by_user.values()))

    async def _fetch(self) -> list[Update]:
        request = GetUpdates(offset=self.offset, timeout=self.timeout, limit=self.limit,
                             allowed_updates=self.dp.resolve_used_update_types())
        return await self.bot(request, request_timeout=int(self.bot.session.timeout + self.timeout))

    async def run(self, stop: asyncio.Event) -> None:
        """Poll until `stop` is set; the batch in hand is finished and confirmed first."""
        backoff = 1.0
        stopping = asyncio.create_task(stop.wait())
        try:
            while not stop.is_set():
                fetch = asyncio.create_task(self._fetch())
                await asyncio.wait({fetch, stopping}, return_when=asyncio.FIRST_COMPLETED)
                if not fetch.done():  # stop asked while waiting for updates: nothing in hand
                    fetch.cancel()
                    await asyncio.gather(fetch, return_exceptions=True)
                    break
                try:
                    updates = fetch.result()
                except TelegramUnauthorizedError:
                    raise
                except TelegramRetryAfter as exc:
                    await self._pause(stop, exc.retry_after)
                    continue
                except (TelegramNetworkError, TelegramServerError, TelegramConflictError, asyncio.TimeoutError) as exc:
                    log.warning("getUpdates failed (%s); retrying in %.0fs", exc, backoff)
                    await self._pause(stop, backoff)
                    backoff = min(backoff * 2, 30.0)
                    continue
                backoff = 1.0
                if updates:
                    # Shielded: a stop signal lets the batch finish; it is confirmed below.
                    await asyncio.shield(self.handle_batch(updates))
                    self.offset = updates[-1].update_id + 1
        finally:
            stopping.cancel()
        await self.confirm()

    async def confirm(self) -> None:
        """Tell Telegram the last batch is done (the next getUpdates would do it too)."""
        if self.offset is None:
            return
        try:
            await self.bot(GetUpdates(offset=self.offset, timeout=0, limit=1))
        except Exception as exc:  # it will be redelivered and replayed harmlessly
            log.warning("could not confirm updates before %s: %s", self.offset, exc)

    @staticmethod
    async def _pause(stop: asyncio.Event, seconds: float) -> None:
        try:
            await asyncio.wait_for(stop.wait(), timeout=seconds)
        except asyncio.TimeoutError:
            pass

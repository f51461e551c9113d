"""Long polling that confirms an update only after its effect is committed.

aiogram's own polling moves the offset past an update as soon as it is read, so a crash
while the update is handled loses it. Here a batch from getUpdates is handled first
(concurrently: the ledger commits concurrent writes together; one user's updates in order),
and only then is the next getUpdates sent with the offset that confirms it. A crash before
that means Telegram sends the batch again, and every write is keyed by its update id, so the
second delivery changes nothing.

The poller never dies of an answer: any error from getUpdates (a proxy's HTML page, a
timeout, a 5xx) is logged in one line and retried with a growing pause, and an update that
cannot be decoded is logged by its id, confirmed and skipped. On a stop signal the batch in
hand gets a few seconds to finish; whatever is cut short is not confirmed (it is delivered
again and replayed), and the last confirmation is bounded too, so the process always exits.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.exceptions import ClientDecodeError, TelegramAPIError, TelegramRetryAfter, TelegramUnauthorizedError
from aiogram.methods import GetUpdates
from aiogram.types import Update
from pydantic import ValidationError

log = logging.getLogger("bot.polling")

#: Seconds the batch in hand may still take once a stop was asked for.
STOP_GRACE = 4.0
#: Seconds the confirming getUpdates may take when stopping.
CONFIRM_TIMEOUT = 2
MAX_BACKOFF = 30.0


def _owner(update: Update) -> int | None:
    try:
        event = update.event
    except Exception:  # noqa: BLE001 - a kind of update this aiogram does not know: no owner
        return None
    user = getattr(event, "from_user", None)
    return user.id if user is not None else None


def _why(exc: BaseException) -> str:
    """One short line about a failed getUpdates: never the answer's content (it may be updates,
    or a page echoing the request URL, which holds the token)."""
    if isinstance(exc, ClientDecodeError):
        return "the answer was not a Bot API response"
    if isinstance(exc, TelegramAPIError):
        return f"{type(exc).__name__}: {exc.message[:120]}"
    return type(exc).__name__


class Poller:
    def __init__(self, bot: Bot, dp: Dispatcher, *, timeout: int = 25, limit: int = 100) -> None:
        self.bot, self.dp, self.timeout, self.limit = bot, dp, timeout, limit
        self.offset: int | None = None
        self.handled = 0
        self.skipped = 0

    async def _handle_user(self, updates: list[Update]) -> None:
        for update in updates:
            try:
                update.event_type  # noqa: B018 - raises for a kind of update aiogram does not know
            except Exception:  # noqa: BLE001
                self.skipped += 1
                log.warning("update %s is of no kind this bot knows; skipped", update.update_id)
                continue
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

    def _decode_each(self, raw: list[Any]) -> tuple[list[Update], int | None]:
        """Updates one by one, when the batch as a whole did not decode: the bad ones are
        logged by id and skipped (their ids still move the offset past them)."""
        good: list[Update] = []
        last: int | None = None
        for item in raw:
            uid = item.get("update_id") if isinstance(item, dict) else None
            if isinstance(uid, int):
                last = uid if last is None else max(last, uid)
            try:
                good.append(Update.model_validate(item, context={"bot": self.bot}))
            except ValidationError as exc:
                self.skipped += 1
                log.warning("update %s cannot be decoded (%d errors); skipped", uid, exc.error_count())
        return good, last

    async def _fetch(self) -> tuple[list[Update], int | None]:
        """The next batch and the highest update id in it (None when empty)."""
        request = GetUpdates(offset=self.offset, timeout=self.timeout, limit=self.limit,
                             allowed_updates=self.dp.resolve_used_update_types())
        try:
            updates = await self.bot(request, request_timeout=int(self.bot.session.timeout + self.timeout))
        except ClientDecodeError as exc:
            data = exc.data
            if isinstance(data, dict) and data.get("ok") is True and isinstance(data.get("result"), list):
                return self._decode_each(data["result"])
            raise
        return updates, (updates[-1].update_id if updates else None)

    async def run(self, stop: asyncio.Event) -> None:
        """Poll until `stop` is set; the batch in hand is finished (within STOP_GRACE) and
        confirmed first."""
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
                    updates, last = fetch.result()
                except TelegramUnauthorizedError:
                    raise
                except TelegramRetryAfter as exc:
                    await self._pause(stop, exc.retry_after)
                    continue
                except Exception as exc:  # noqa: BLE001 - whatever the answer, poll again
                    log.warning("getUpdates failed (%s); retrying in %.0fs", _why(exc), backoff)
                    await self._pause(stop, backoff)
                    backoff = min(backoff * 2, MAX_BACKOFF)
                    continue
                backoff = 1.0
                if updates and not await self._finish(self.handle_batch(updates), stopping):
                    break  # cut short by a stop: not confirmed, so delivered again and replayed
                if last is not None:
                    self.offset = last + 1
        finally:
            stopping.cancel()
        await self.confirm()

    @staticmethod
    async def _finish(work: Any, stopping: asyncio.Task[Any]) -> bool:
        """Run a batch to its end; once a stop is asked, give it STOP_GRACE seconds more.
        False if it had to be cut short."""
        batch = asyncio.ensure_future(work)
        await asyncio.wait({batch, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if batch.done():
            if batch.exception() is not None:  # handle_batch catches every update's failure itself
                log.error("a batch failed outside its updates", exc_info=batch.exception())
            return True
        try:
            await asyncio.wait_for(asyncio.shield(batch), STOP_GRACE)
            return True
        except asyncio.TimeoutError:
            batch.cancel()
            await asyncio.gather(batch, return_exceptions=True)
            log.warning("stopping: the batch in hand did not finish within %.0fs; it will be delivered again",
                        STOP_GRACE)
            return False

    async def confirm(self) -> None:
        """Tell Telegram the last batch is done (the next getUpdates would do it too). Bounded:
        an unreachable API must not hold the exit, and an unconfirmed batch is only replayed."""
        if self.offset is None:
            return
        try:
            await asyncio.wait_for(self.bot(GetUpdates(offset=self.offset, timeout=0, limit=1),
                                            request_timeout=CONFIRM_TIMEOUT), CONFIRM_TIMEOUT + 1)
        except (Exception, asyncio.TimeoutError) as exc:  # noqa: BLE001 - redelivered and replayed harmlessly
            log.warning("could not confirm updates before %s (%s)", self.offset, _why(exc))

    @staticmethod
    async def _pause(stop: asyncio.Event, seconds: float) -> None:
        try:
            await asyncio.wait_for(stop.wait(), timeout=seconds)
        except asyncio.TimeoutError:
            pass

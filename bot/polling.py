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

A batch is waited for BATCH_WAIT seconds at most. An update still running then (one chat
waiting out its flood limit, a 429 with a long retry_after) goes on in the background while
the next batches are fetched and handled, so other chats are answered meanwhile. The offset
never passes it: getUpdates confirms everything below its offset, so it stays at the oldest
update still running; the updates Telegram then sends again are known (running, or done and
not yet confirmed) and skipped, and one user's updates still run in order.
"""

from __future__ import annotations

import asyncio
import logging
from functools import partial
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.exceptions import ClientDecodeError, TelegramRetryAfter, TelegramUnauthorizedError
from aiogram.methods import GetUpdates
from aiogram.types import Update
from pydantic import ValidationError

from bot.failures import classify
from bot.middlewares import RETRY

log = logging.getLogger("bot.polling")

#: Seconds the batch in hand may still take once a stop was asked for.
STOP_GRACE = 4.0
#: Seconds the confirming getUpdates may take when stopping.
CONFIRM_TIMEOUT = 2
MAX_BACKOFF = 30.0
#: Seconds a batch is waited for before the poller goes on; what still runs then continues
#: in the background, unconfirmed.
BATCH_WAIT = 1.0
#: Tries of an update whose handling fails for now (bot.middlewares.RETRY), and the pauses
#: between them; the last try's failure is final (answered, confirmed).
RETRY_TRIES = 5
RETRY_PAUSES = (1.0, 2.0, 4.0, 8.0)
#: Pause before polling again while updates still run and the last batch brought nothing new
#: (Telegram answers at once then: the running ones are not confirmed yet).
IDLE_POLL = 0.5


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
    return classify(exc).detail


class Poller:
    def __init__(self, bot: Bot, dp: Dispatcher, *, timeout: int = 25, limit: int = 100) -> None:
        self.bot, self.dp, self.timeout, self.limit = bot, dp, timeout, limit
        self.offset: int | None = None
        self.handled = 0
        self.skipped = 0
        #: updates being handled (id -> task), and those done but not confirmed yet
        self.running: dict[int, asyncio.Task[None]] = {}
        self.done: set[int] = set()
        #: each user's last update task: the next one of the same user waits for it
        self.tails: dict[int | None, asyncio.Task[None]] = {}
        self.highest: int | None = None

    async def _handle_one(self, update: Update) -> None:
        try:
            update.event_type  # noqa: B018 - raises for a kind of update aiogram does not know
        except Exception:  # noqa: BLE001
            self.skipped += 1
            log.warning("update %s is of no kind this bot knows; skipped", update.update_id)
            return
        for attempt in range(1, RETRY_TRIES + 1):
            try:
                outcome = await self.dp.feed_update(self.bot, update, final_try=attempt == RETRY_TRIES,
                                                    retry=attempt > 1)
            except Exception:  # past the update middleware (an outer one): as the webhook, tried again
                log.exception("update %s raised", update.update_id)
                outcome = RETRY
            if outcome != RETRY or attempt == RETRY_TRIES:
                break
            # A transient failure: the update stays unconfirmed (running) and is handled again
            # after a pause; a stop meanwhile leaves it to be delivered again after the restart.
            await asyncio.sleep(RETRY_PAUSES[attempt - 1])
        self.handled += 1

    def _start(self, updates: list[Update]) -> list[asyncio.Task[None]]:
        """A task for each update not already running or done; a user's in order."""
        started = []
        for update in updates:
            uid = update.update_id
            if uid in self.running or uid in self.done:
                continue  # sent again because an older one is still running
            owner = _owner(update)
            task = asyncio.create_task(self._after(self.tails.get(owner), update))
            self.running[uid] = self.tails[owner] = task
            task.add_done_callback(partial(self._finished, uid, owner))
            started.append(task)
        return started

    async def _after(self, before: asyncio.Task[None] | None, update: Update) -> None:
        if before is not None:
            await asyncio.wait({before})
        await self._handle_one(update)

    def _finished(self, uid: int, owner: int | None, task: asyncio.Task[None]) -> None:
        self.running.pop(uid, None)
        if not task.cancelled():
            self.done.add(uid)
        if self.tails.get(owner) is task:
            del self.tails[owner]

    def _confirmable(self) -> int | None:
        """The offset that confirms exactly what is done: below the oldest update running."""
        if self.running:
            offset = min(self.running)
        elif self.highest is not None:
            offset = self.highest + 1
        else:
            return self.offset
        self.done = {uid for uid in self.done if uid >= offset}
        return offset

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
                started = self._start(updates)
                if last is not None:
                    self.highest = last if self.highest is None else max(self.highest, last)
                if started:  # (gather, not wait: `stopping` must end the wait, not be waited for)
                    batch = asyncio.gather(*started, return_exceptions=True)
                    await asyncio.wait({batch, stopping}, timeout=BATCH_WAIT, return_when=asyncio.FIRST_COMPLETED)
                elif self.running:  # nothing new: poll again when one finishes, or a little later
                    await asyncio.wait({*self.running.values(), stopping}, timeout=IDLE_POLL,
                                       return_when=asyncio.FIRST_COMPLETED)
                self.offset = self._confirmable()
        finally:
            stopping.cancel()
            await self._finish_running()  # also when polling ends in an error (401): no task left behind
        await self.confirm()

    async def _finish_running(self) -> None:
        """On a stop: what still runs gets STOP_GRACE seconds; what is cut short then is not
        confirmed (it is delivered again and replayed)."""
        if self.running:
            await asyncio.wait(set(self.running.values()), timeout=STOP_GRACE)
        cut = sorted(self.running)
        self.offset = cut[0] if cut else self._confirmable()
        for task in list(self.running.values()):
            task.cancel()
        await asyncio.gather(*self.running.values(), return_exceptions=True)
        if cut:
            log.warning("stopping: %d updates did not finish within %.0fs; they will be delivered again",
                        len(cut), STOP_GRACE)

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

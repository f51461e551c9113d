"""Sending a broadcast: at most BROADCAST_RATE messages a second overall, every 429's
`retry_after` honoured by the whole broadcast (not only the chat that drew it), each recipient
claimed in the ledger before its send and its outcome recorded after (economy/broadcasts.py).

Never twice: a send is tried again only when Telegram surely did not take it (a 429, a
connection that was never made); an answer that never came (a timeout, a cut connection, a
5xx) may hide a message that arrived, so that recipient is recorded `unknown`. A crash leaves
the sends under way `sending`; whoever resumes the broadcast counts them `unknown`.

The admin's message shows the progress (edited every PROGRESS_EVERY seconds) and ends with the
summary. The runner resumes at start (a restart, a crash) and, with several webhook
instances, takes over a broadcast whose runner stopped renewing its claim.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections import deque
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramNetworkError,
    TelegramRetryAfter,
)
from aiogram.types import InlineKeyboardMarkup, MessageEntity
from aiohttp import ClientConnectorError

from bot.callbacks import Cast
from bot.failures import BLOCKED, classify
from bot.periodic import every
from bot.keyboards import button
from bot.texts import Texts, pick_language
from economy import StorageBusy
from economy.broadcasts import LEASE, Broadcast, Broadcasts

log = logging.getLogger("bot.broadcast")

#: Seconds between two edits of the admin's progress message.
PROGRESS_EVERY = 3.0
#: Seconds one send may take before its answer is given up (the recipient is then `unknown`).
SEND_TIMEOUT = 15.0
#: Tries of one send that Telegram surely did not take (429s, refused connections).
ATTEMPTS = 5
#: Seconds between two looks for broadcasts nobody runs (another instance died).
RESUME_EVERY = 30.0
#: Longest 429 wait honoured; a longer one stops the broadcast's sends for that long anyway,
#: in steps (Telegram's word is the rule).
MAX_PAUSE = 3600.0


class Pace:
    """Every send of this process's broadcasts goes through `slot()`, one at a time: on a grid
    1/rate apart (a late wake-up does not push the grid back), never closer than 0.9 of a step
    to the send before as it actually left, and never more than `rate` within any second
    (the hard limit: after a stalled event loop the backlog does not go at once). A 429
    pushes the next slot past its `retry_after`. `busiest`: the most slots given within one
    second so far (measured, for the log)."""

    def __init__(self, rate: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate, self.interval, self.clock = int(max(1, rate)), 1.0 / rate, clock
        self.sent: deque[float] = deque(maxlen=self.rate)
        self.next = 0.0
        self.paused_until = 0.0
        self.pauses = 0
        self.busiest = 0
        self._second: deque[float] = deque()
        self._turn = asyncio.Lock()

    async def slot(self) -> None:
        async with self._turn:
            while True:
                now = self.clock()
                wait = max(self.paused_until, self.next) - now
                if self.sent:
                    wait = max(wait, self.sent[-1] + self.interval * 0.9 - now)
                if len(self.sent) == self.rate:
                    wait = max(wait, self.sent[0] + 1.0 - now)
                if wait <= 0:
                    break
                await asyncio.sleep(wait)
            now = self.clock()
            self.sent.append(now)
            self.next = max(self.next, now - self.interval) + self.interval
            self._second.append(now)
            while self._second[0] <= now - 1.0:
                self._second.popleft()
            self.busiest = max(self.busiest, len(self._second))

    def paused(self) -> bool:
        return self.paused_until > self.clock()

    def pause(self, seconds: float) -> None:
        self.pauses += 1
        self.paused_until = max(self.paused_until, self.clock() + min(seconds, MAX_PAUSE))


def _entities(raw: list[dict[str, Any]]) -> list[MessageEntity] | None:
    out = []
    for e in raw:
        try:
            out.append(MessageEntity.model_validate(e))
        except ValueError:
            continue
    return out or None


async def deliver(bot: Bot, chat_id: int, b: Broadcast, markup: InlineKeyboardMarkup | None = None) -> int:
    """Send the broadcast's message to one chat as the admin wrote it (their formatting kept
    through entities, no parse mode); its message id."""
    entities = _entities(b.entities)
    common: dict[str, Any] = {"parse_mode": None, "request_timeout": int(SEND_TIMEOUT), "reply_markup": markup}
    if b.kind == "text":
        sent = await bot.send_message(chat_id, b.text, entities=entities, **common)
    else:
        send = {"photo": bot.send_photo, "video": bot.send_video}.get(b.kind, bot.send_document)
        sent = await send(chat_id, b.file_id, caption=b.text or None, caption_entities=entities, **common)
    return sent.message_id


def _surely_not_sent(exc: BaseException) -> bool:
    return isinstance(exc, TelegramNetworkError) and isinstance(exc.__cause__, ClientConnectorError)


class Broadcaster:
    """Runs the broadcasts of this process. `bot` sends them (app.py gives one without the
    RetryAfter session middleware, so a 429 reaches the pace here); None: the handler's bot."""

    def __init__(self, casts: Broadcasts, *, rate: float = 25.0, sole: bool = True, worker: str | None = None,
                 default_language: str = "tr", bot: Bot | None = None, concurrency: int | None = None) -> None:
        self.casts, self.sole, self.default_language, self.bot = casts, sole, default_language, bot
        self.worker = worker or uuid.uuid4().hex[:16]
        self.pace = Pace(rate)
        #: sends in flight at once: enough to hold the rate over a slow link, few enough that a
        #: crash leaves few `unknown`
        self.concurrency = concurrency or max(1, min(int(rate), 8))
        self.tasks: dict[int, asyncio.Task[Broadcast | None]] = {}
        #: broadcasts cancelled (seen here, or by the progress loop in the database): a recipient
        #: claimed but still waiting for its slot is then skipped, not sent
        self.stopped: set[int] = set()
        self.progress_every = PROGRESS_EVERY
        self.closing = False

    def stop(self, broadcast_id: int) -> None:
        """No send of this broadcast starts from now on (its cancel is committed)."""
        self.stopped.add(broadcast_id)

    def launch(self, broadcast_id: int, bot: Bot) -> asyncio.Task[Broadcast | None]:
        """Run the broadcast in the background (once per process)."""
        task = self.tasks.get(broadcast_id)
        if task is None or task.done():
            task = self.tasks[broadcast_id] = asyncio.create_task(self.run(broadcast_id, self.bot or bot))
        return task

    async def wait(self, broadcast_id: int) -> Broadcast | None:
        task = self.tasks.get(broadcast_id)
        return None if task is None else await asyncio.shield(task)

    async def resume(self, bot: Bot) -> list[int]:
        """Launch the broadcasts under way that nobody here runs (they are taken over only when
        this is the sole worker or their runner's claim ran out)."""
        started = []
        for broadcast_id in await self.casts.running():
            task = self.tasks.get(broadcast_id)
            if task is None or task.done():
                self.launch(broadcast_id, bot)
                started.append(broadcast_id)
        return started

    async def resume_every(self, bot: Bot, stop: asyncio.Event, seconds: float = RESUME_EVERY) -> None:
        await every(seconds, stop, lambda: self.resume(bot), "broadcast resume")

    async def close(self, grace: float = 5.0) -> None:
        """A stop: no new claims; the sends already claimed go and are recorded (within
        `grace` seconds, else they are cut and counted unknown at the restart)."""
        self.closing = True
        running = [t for t in self.tasks.values() if not t.done()]
        if running:
            await asyncio.wait(running, timeout=grace)
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)

    # -- one broadcast --
    async def run(self, broadcast_id: int, bot: Bot) -> Broadcast | None:
        # A worker id of this run's own: a send whose outcome an earlier run could not record
        # stays `sending` under that run's id, and this run's take counts it unknown (never sent
        # again) instead of leaving the broadcast unfinished for good.
        worker = f"{self.worker}.{uuid.uuid4().hex[:6]}"
        b = await self.casts.take(broadcast_id, worker=worker, take_over=self.sole)
        if not b.claimed:
            return None if b.state == "sending" else b
        log.info("broadcast %s: sending to %d of %d (%s)", b.id, b.left, b.total,
                 ", ".join(f"{k} {v}" for k, v in b.counts.items() if v))
        t = Texts(pick_language(await self.casts.language(b.admin_id), self.default_language))
        done = asyncio.Event()
        progress = asyncio.create_task(self._progress(b, bot, t, done, worker))
        workers = [asyncio.create_task(self._work(b, bot, worker)) for _ in range(self.concurrency)]
        try:
            await asyncio.gather(*workers)
        finally:
            done.set()
            for w in workers:
                w.cancel()
            await asyncio.gather(progress, *workers, return_exceptions=True)
        if self.closing:  # a stop: the broadcast goes on at the restart
            log.info("broadcast %s: paused by the stop", b.id)
            return None
        final = await self.casts.finish(b.id, worker=worker)
        if final.state in ("done", "cancelled"):
            log.info("broadcast %s %s: %s; most sends within one second: %d", b.id, final.state,
                     ", ".join(f"{k} {v}" for k, v in final.counts.items()), self.pace.busiest)
            await self._show(bot, final, t, summary=True)
        return final

    async def _work(self, b: Broadcast, bot: Bot, worker: str) -> None:
        while not self.closing:
            user_id = await self._retrying(lambda: self.casts.claim_next(b.id, worker=worker))
            if user_id is None:
                return
            state, message_id, reason = await self._send(bot, user_id, b)
            try:
                await self._retrying(partial(self.casts.record, b.id, user_id, state, message_id=message_id,
                                             reason=reason))
            except StorageBusy:  # it stays `sending`: counted unknown by whoever resumes it
                log.error("broadcast %s: the outcome for %s (%s) was not recorded", b.id, user_id, state)

    async def _send(self, bot: Bot, user_id: int, b: Broadcast) -> tuple[str, int | None, str]:
        attempt = 0
        while attempt < ATTEMPTS:
            await self.pace.slot()  # right before the send: the pace is kept as the sends leave
            if b.id in self.stopped:  # cancelled while this one waited for its turn
                return "skipped", None, "cancelled"
            try:
                return "sent", await asyncio.wait_for(deliver(bot, user_id, b), SEND_TIMEOUT + 2), ""
            except TelegramRetryAfter as exc:  # surely not taken: waited out, never counted as a try
                log.warning("broadcast %s: 429, every send waits %ss", b.id, exc.retry_after)
                self.pace.pause(float(exc.retry_after))
                continue
            except Exception as exc:
                failure = classify(exc)
                if failure.reason == BLOCKED:
                    return "blocked", None, BLOCKED
                if _surely_not_sent(exc) and attempt < ATTEMPTS - 1:
                    await asyncio.sleep(1.0 + attempt)
                    attempt += 1
                    continue
                if failure.bug:
                    log.error("broadcast %s to %s failed: %s", b.id, user_id, failure.detail, exc_info=exc)
                if failure.permanent:
                    return "failed", None, failure.reason
                log.warning("broadcast %s to %s: no answer (%s); not sent again", b.id, user_id, failure.detail)
                return "unknown", None, failure.reason
        return "failed", None, "unavailable"

    async def _retrying(self, call: Callable[[], Awaitable[Any]]) -> Any:
        for pause in (0.5, 2.0, 5.0, None):
            try:
                return await call()
            except StorageBusy:
                if pause is None:
                    raise
                await asyncio.sleep(pause)

    async def _progress(self, b: Broadcast, bot: Bot, t: Texts, done: asyncio.Event, worker: str) -> None:
        shown: tuple[int, ...] = ()
        while not done.is_set():
            try:
                await asyncio.wait_for(done.wait(), timeout=self.progress_every)
                return
            except TimeoutError:
                pass
            try:
                now = await self.casts.take(b.id, worker=worker, lease=LEASE)  # renews the claim
                if now.state != "sending" or not now.claimed:  # cancelled (maybe on another instance)
                    self.stop(b.id)
                    return
                figures = tuple(now.counts.values())
                if figures != shown:
                    shown = figures
                    await self._show(bot, now, t, summary=False)
            except Exception as exc:  # noqa: BLE001 - progress is a nicety; the sends go on
                log.warning("broadcast %s: progress not shown: %s", b.id, classify(exc).detail)

    async def _show(self, bot: Bot, b: Broadcast, t: Texts, *, summary: bool) -> None:
        if b.chat_id is None or b.message_id is None:
            return
        text = render_status(t, b)
        markup = None if summary else InlineKeyboardMarkup(inline_keyboard=[[
            button(t("bc_cancel"), Cast(action="x", id=b.id))]])
        await self.pace.slot()
        try:
            await bot.edit_message_text(text, chat_id=b.chat_id, message_id=b.message_id, reply_markup=markup)
        except TelegramRetryAfter as exc:
            self.pace.pause(float(exc.retry_after))
        except TelegramBadRequest as exc:
            if "not modified" not in exc.message:
                log.warning("broadcast %s: progress not shown: %s", b.id, exc.message[:120])
        except Exception as exc:  # noqa: BLE001
            log.warning("broadcast %s: progress not shown: %s", b.id, classify(exc).detail)


def render_status(t: Texts, b: Broadcast) -> str:
    c = b.counts
    key = {"draft": "bc_draft", "sending": "bc_progress", "done": "bc_done", "cancelled": "bc_cancelled"}[b.state]
    return t(key, id=b.id, segment=b.segment, total=b.total, done=b.total - b.left, sent=c.get("sent", 0),
             blocked=c.get("blocked", 0), failed=c.get("failed", 0), unknown=c.get("unknown", 0),
             pending=c.get("pending", 0) + c.get("sending", 0) + c.get("skipped", 0))

"""Running the bot: the start every mode shares (getMe, expired keys, command menus), long
polling until stopped, and the collector tuning. What is built and served is app.py's."""

from __future__ import annotations

import asyncio
import gc
import logging
import sys
from collections.abc import Coroutine
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.exceptions import TelegramUnauthorizedError
from aiogram.types import User

from bot.config import Settings
from bot.factory import set_commands
from bot.periodic import every
from bot.polling import Poller
from economy import Ledger

log = logging.getLogger("bot")

#: How often expired idempotency keys are deleted while the bot runs (they live 48 h).
PURGE_EVERY = 3600.0


async def start(bot: Bot, ledger: Ledger, settings: Settings, stop: asyncio.Event) -> User | None:
    """getMe (retried until the API answers), expired keys purged, the command menus set;
    None when stopped first (start-up talks to Telegram too: a stop signal ends it even when
    nothing answers). TelegramUnauthorizedError for a bad token."""
    return await until_stopped(_start(bot, ledger, settings, stop), stop)


async def poll(bot: Bot, dp: Dispatcher, stop: asyncio.Event) -> None:
    """Long polling until `stop`; the batch in hand is finished and confirmed first."""
    # A webhook left set would make getUpdates fail with 409; pending updates are kept.
    if not await until_stopped(bot.delete_webhook(drop_pending_updates=False), stop):
        return
    tune_interpreter()
    poller = Poller(bot, dp)
    await poller.run(stop)
    log.info("stopped after %d updates", poller.handled)


async def purge_keys_every(ledger: Ledger, stop: asyncio.Event, seconds: float = PURGE_EVERY) -> None:
    """Delete expired idempotency keys every `seconds` until `stop` (a bot that runs for
    weeks would otherwise keep every key since its start)."""
    async def purge() -> None:
        log.info("%d expired keys purged", await ledger.purge_keys())

    await every(seconds, stop, purge, "purging expired keys", at_start=False)


async def _start(bot: Bot, ledger: Ledger, settings: Settings, stop: asyncio.Event) -> User | None:
    me = await _get_me(bot, stop)
    if me is None:
        return None
    purged = await ledger.purge_keys()
    log.info("bot @%s (id %s) started: %s, %d expired keys purged", me.username, me.id, settings, purged)
    await set_commands(bot, settings)
    return me


async def until_stopped(work: Coroutine[Any, Any, Any], stop: asyncio.Event) -> Any:
    """`work`'s result, or None as soon as `stop` is set (the work is then cancelled)."""
    task, stopping = asyncio.ensure_future(work), asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({task, stopping}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopping.cancel()
    if task.done():
        return task.result()
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    return None


#: Seconds a thread holding the GIL runs before one waiting for it gets its turn (see tune_interpreter).
SWITCH_INTERVAL = 0.0005


def tune_interpreter() -> None:
    """Two settings for a bot that runs for long under load.

    The garbage collector: aiogram and pydantic leave ~190,000 long-lived objects behind (their
    models and validators), and the cycle collector walked them over and over: with the
    defaults it took over a third of the time of an update under load. Freeze what exists now
    (never collected again; it lives as long as the process anyway) and collect the young
    generation less often. bench/bot_bench.py measures the difference (~1.5x updates/s).

    The switch interval: aiosqlite runs each statement on its own thread and hands the result
    back by taking the GIL, which a busy event loop gives up only every switch interval (5 ms
    by default): a batch of a few statements waited that long for each while the handlers of
    other updates ran. bench/http_bench.py measures the bot with it against a bare aiogram bot
    (README, "Benchmarks")."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 10, 10)
    sys.setswitchinterval(SWITCH_INTERVAL)


async def _get_me(bot: Bot, stop: asyncio.Event) -> User | None:
    """getMe, retried while the network or the API server is not there yet."""
    delay = 1.0
    while not stop.is_set():
        try:
            return await bot.get_me()
        except TelegramUnauthorizedError:
            raise
        except Exception as exc:
            log.warning("getMe failed (%s); retrying in %.0fs", exc, delay)
            try:
                await asyncio.wait_for(stop.wait(), timeout=delay)
            except asyncio.TimeoutError:
                pass
            delay = min(delay * 2, 30.0)
    return None

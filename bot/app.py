"""Running the bot: long polling until SIGTERM/SIGINT, then a clean stop."""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
from collections.abc import Coroutine
from typing import Any

from aiogram import Bot
from aiogram.exceptions import TelegramUnauthorizedError

from bot.config import Settings
from bot.factory import build_bot, build_dispatcher, set_commands
from bot.polling import Poller
from economy import Ledger

log = logging.getLogger("bot")

#: How often expired idempotency keys are deleted while the bot runs (they live 48 h).
PURGE_EVERY = 3600.0


async def run(settings: Settings) -> int:
    ledger = await Ledger.open(settings.database_url, catalog=settings.catalog)
    bot = build_bot(settings)
    dp = build_dispatcher(settings, ledger)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        # Start-up talks to Telegram too: a stop signal ends it even when nothing answers.
        if not await _until_stopped(_start(bot, ledger, settings, stop), stop):
            return 0
        tune_gc()
        purger = asyncio.create_task(purge_keys_every(ledger, stop))
        poller = Poller(bot, dp)
        try:
            await poller.run(stop)
        finally:
            purger.cancel()
            await asyncio.gather(purger, return_exceptions=True)
        log.info("stopped after %d updates", poller.handled)
        return 0
    except TelegramUnauthorizedError:
        log.error("Telegram rejected BOT_TOKEN (401 Unauthorized): check it with @BotFather")
        return 2
    finally:
        await bot.session.close()
        await ledger.close()


async def purge_keys_every(ledger: Ledger, stop: asyncio.Event, seconds: float = PURGE_EVERY) -> None:
    """Delete expired idempotency keys every `seconds` until `stop` (a bot that runs for
    weeks would otherwise keep every key since its start)."""
    while not stop.is_set():
        try:
            await asyncio.wait_for(stop.wait(), timeout=seconds)
        except asyncio.TimeoutError:
            try:
                purged = await ledger.purge_keys()
            except Exception as exc:  # e.g. the disk is full: try again next time
                log.warning("purging expired keys failed: %s", exc)
            else:
                log.info("%d expired keys purged", purged)


async def _start(bot: Bot, ledger: Ledger, settings: Settings, stop: asyncio.Event) -> bool:
    me = await _get_me(bot, stop)
    if me is None:
        return False
    purged = await ledger.purge_keys()
    log.info("bot @%s (id %s) started: %s, %d expired keys purged", me.username, me.id, settings, purged)
    # A webhook left set would make getUpdates fail with 409; pending updates are kept.
    await bot.delete_webhook(drop_pending_updates=False)
    await set_commands(bot, settings)
    return True


async def _until_stopped(work: Coroutine[Any, Any, bool], stop: asyncio.Event) -> bool:
    """`work`'s result, or False as soon as `stop` is set (the work is then cancelled)."""
    task, stopping = asyncio.ensure_future(work), asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({task, stopping}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopping.cancel()
    if task.done():
        return task.result()
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    return False


def tune_gc() -> None:
    """aiogram and pydantic leave ~190,000 long-lived objects behind (their models and
    validators), and the cycle collector walked them over and over: with the defaults it took
    over a third of the time of an update under load. Freeze what exists now (never collected again;
    it lives as long as the process anyway) and collect the young generation less often.
    bench/bot_bench.py measures the difference (~1.5x updates/s)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 10, 10)


async def _get_me(bot, stop: asyncio.Event):  # type: ignore[no-untyped-def]
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

"""Work that repeats while the bot runs (the sweep, reminders, resuming broadcasts, purging
expired keys): one loop for all of them, stopped by the same event."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from bot.failures import classify

log = logging.getLogger("bot")


async def stopped_within(stop: asyncio.Event, seconds: float) -> bool:
    """Wait `seconds`, or less if `stop` is set meanwhile; whether it was."""
    try:
        await asyncio.wait_for(stop.wait(), timeout=seconds)
    except asyncio.TimeoutError:
        return False
    return True


async def every(seconds: float, stop: asyncio.Event, work: Callable[[], Awaitable[object]], what: str, *,
                at_start: bool = True) -> None:
    """`work()` every `seconds` until `stop` (the first at once, or after `seconds` when not
    `at_start`). A failure (e.g. the database busy) is one log line, classified by
    bot.failures, and the next round comes as usual."""
    if not at_start and await stopped_within(stop, seconds):
        return
    while not stop.is_set():
        try:
            await work()
        except Exception as exc:  # noqa: BLE001 - next time
            log.warning("%s failed: %s", what, classify(exc).detail)
        if await stopped_within(stop, seconds):
            return

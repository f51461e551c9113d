"""Expired idempotency keys are purged on a timer while the bot runs, not only at start."""

from __future__ import annotations

import asyncio

from bot.runtime import purge_keys_every
from economy import Key


async def _keys(ledger) -> int:
    return (await ledger.store.read(lambda db: db.execute("SELECT COUNT(*) FROM idempotency"))).fetchone()[0]


async def test_expired_keys_are_purged_on_a_timer(ledger, clock):
    await ledger.register(7, first_name="Z", key=Key("u:1", ttl=60))
    await ledger.daily(7, key=Key("u:2", ttl=600))
    assert await _keys(ledger) == 2
    stop = asyncio.Event()
    purger = asyncio.create_task(purge_keys_every(ledger, stop, seconds=0.01))
    try:
        await asyncio.sleep(0.1)
        assert await _keys(ledger) == 2  # nothing expired yet
        clock.advance(61)
        for _ in range(200):
            if await _keys(ledger) == 1:
                break
            await asyncio.sleep(0.01)
        assert await _keys(ledger) == 1
    finally:
        stop.set()
        await asyncio.wait_for(purger, 5)
    assert (await ledger.balance(7)).xp == 70

"""Hostile review 22 (low severity; failed until PgDb.together read what every step raised): a
batch cancelled during a trip leaves a step's exception unretrieved.

PgDb.together runs each step as a task. If together() is cancelled while the pipeline waits
(the batch's task cancelled, e.g. by the loop shutting down), its `finally` cancels only the steps
not yet done (economy/storage/postgres.py, together: `if not task.done()`). A step that had
already failed (here select_keys: a surrogate in a key) is never awaited, and asyncio logs
"Task exception was never retrieved" with a driver traceback when the task is collected.
The store stays usable (checked too).
"""

from __future__ import annotations

import asyncio
import gc
import logging

import pytest

from economy import Key, Ledger
from tests.pglocks import THE_BATCH_LOCK, holding, lock_waiters

pytestmark = pytest.mark.usefixtures("pg_cluster")


async def _noop(tx):  # type: ignore[no-untyped-def]
    return "done"


async def test_a_cancelled_trip_retrieves_every_steps_exception(pg_url, caplog) -> None:
    caplog.set_level(logging.ERROR, logger="asyncio")
    async with await Ledger.open(pg_url) as ledger:
        await ledger.register(1)
        with holding(pg_url, THE_BATCH_LOCK):
            # (the ledger refuses such a key before queueing it since this review: sent to the
            # store directly, it still makes select_keys fail in the first trip)
            grant = asyncio.ensure_future(ledger.store.write(_noop, Key("bad\ud800"), "", 1))
            await asyncio.to_thread(lock_waiters, pg_url, "advisory")
            batch = [t for t in asyncio.all_tasks() if t.get_coro().__qualname__.endswith("Store._run")]
            assert len(batch) == 1
            batch[0].cancel()  # as the loop's shutdown does
            await asyncio.gather(grant, return_exceptions=True)
            del batch
        assert (await ledger.grant(1, 7)).xp == 57  # the writer is usable again
    for _ in range(3):
        gc.collect()
        await asyncio.sleep(0)
    unretrieved = [r.getMessage() for r in caplog.records if "never retrieved" in r.getMessage()]
    assert unretrieved == [], unretrieved

"""Hostile review 21b: the store's pipelined reads, the group commit's cancellation and close()."""

from __future__ import annotations

import asyncio

import pytest

from economy import Ledger
from tests.review21.test_review21_cancel import (
    all_answered, close_or_force as _close, force_close, three_earns_queued,
)


@pytest.mark.parametrize("yields", [1, 3, 6])
async def test_a_flusher_cancelled_twice_still_answers_the_batch(db_url, yields):
    """The group commit's task cancelled while it waits out its shielded batch, then once more
    (asyncio.run's shutdown cancelling what a supervisor already cancelled; a TaskGroup; a
    second Ctrl-C): the second cancel reaches `await run` unshielded, so the batch task itself
    is cancelled half way and its requests' futures are never set: each caller waits forever."""
    ledger = await Ledger.open(db_url)
    try:
        callers, flusher = await three_earns_queued(ledger)
        await asyncio.sleep(0)
        flusher.cancel()
        for _ in range(yields):
            await asyncio.sleep(0)
        flusher.cancel()
        await all_answered(callers)
    finally:
        await _close(ledger)


async def test_two_closes_at_once_both_return(tmp_path):
    """close() called twice at once (a signal handler's shutdown beside `async with`'s exit):
    the first takes every reader connection out of the queue; the second waits for readers
    that never come back and hangs (before the reader pool each close popped and went on)."""
    ledger = await Ledger.open(tmp_path / "l.db")
    await ledger.register(1)
    first = asyncio.create_task(ledger.close())
    second = asyncio.create_task(ledger.close())
    done, pending = await asyncio.wait({first, second}, timeout=5)
    for task in pending:
        task.cancel()
    await asyncio.gather(first, second, return_exceptions=True)
    if pending:
        await force_close(ledger.store)
    assert not pending, "a second close() never returned"


async def test_a_close_cut_short_can_be_done_again(tmp_path):
    """A shutdown gives close() a time limit (wait_for) while a long read holds a reader; when
    it runs out, the shutdown closes again once the read is over: the cut-short close took
    readers out of the queue and never gave them back, so the second close waits for ever (and
    aiosqlite's non-daemon threads keep the process alive)."""
    ledger = await Ledger.open(tmp_path / "l.db")
    await ledger.register(1)
    release = asyncio.Event()

    async def long_read(db):  # type: ignore[no-untyped-def]
        await db.execute("SELECT 1")
        await release.wait()
        return 1

    reads = [asyncio.create_task(ledger.store.read(long_read)) for _ in range(2)]
    await asyncio.sleep(0.1)
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(ledger.close(), 0.2)
    release.set()
    await asyncio.gather(*reads, return_exceptions=True)
    again = asyncio.create_task(ledger.close())
    done, _ = await asyncio.wait({again}, timeout=5)
    if not done:
        again.cancel()
        await asyncio.gather(again, return_exceptions=True)
        await force_close(ledger.store)
    assert done, "close() after a cut-short close never returned"


async def test_a_read_single_cancelled_behind_a_queued_commit_leaves_no_open_snapshot(tmp_path):
    """A read's COMMIT is queued as a task, not sent yet, when the read returns its reader. A
    read_single that takes that reader awaits the COMMIT task (`_end_read`); cancelled there
    in the same loop turn (a sibling's cancel, a TaskGroup failing) the COMMIT task is
    cancelled before it ever sent COMMIT, and read_single's finally (unlike _read's) queues no
    ROLLBACK: the reader stays inside the old read transaction for good. Balances read on it
    are from the old snapshot (a grant that committed is not shown), the next `read` there
    fails with sqlite3's raw "cannot start a transaction within a transaction", and the WAL
    cannot be checkpointed past that snapshot. The cancel is tried a few loop turns apart;
    one of them lands in the window."""
    stale = {}
    for yields in range(5):
        ledger = await Ledger.open(tmp_path / f"l{yields}.db")
        try:
            seen = await _cancel_read_single(ledger, yields)
        finally:
            await _close(ledger)
        if seen != [55] * 6:
            stale[yields] = seen
    assert not stale, f"balances after a committed grant of 5 to 50 XP (by loop turns of the cancel): {stale}"


async def _cancel_read_single(ledger, yields: int) -> list[int]:
    await ledger.register(1)
    store = ledger.store
    release = asyncio.Event()
    held = asyncio.Event()

    async def hold(db):  # type: ignore[no-untyped-def]
        await db.execute("SELECT 1")
        held.set()
        await release.wait()

    # two readers busy: the third is the one the next read and read_single take in turn
    holders = []
    for _ in range(2):
        holders.append(asyncio.create_task(store.read(hold)))
        await held.wait()
        held.clear()
    woken = asyncio.get_running_loop().create_future()

    async def q(db):  # type: ignore[no-untyped-def]
        rows = (await db.execute("SELECT xp FROM wallets WHERE user_id = 1")).fetchall()
        asyncio.get_running_loop().call_soon(woken.set_result, None)
        return rows

    async def x() -> None:
        await store.read(q)
        await ledger.balance(1)  # read_single on the same reader, its COMMIT not sent yet

    task = asyncio.create_task(x())

    async def canceller() -> None:
        await woken
        for _ in range(yields):
            await asyncio.sleep(0)
        task.cancel()

    await asyncio.gather(canceller(), task, return_exceptions=True)
    release.set()
    await asyncio.gather(*holders, return_exceptions=True)
    await ledger.grant(1, 5)
    seen = []
    for _ in range(6):
        try:
            seen.append((await ledger.balance(1)).xp)
        except Exception as exc:  # noqa: BLE001 - the test shows it
            seen.append(repr(exc))
    for _ in range(3):
        try:
            await ledger.stats()
        except Exception as exc:  # noqa: BLE001
            seen.append(repr(exc))
    return seen

"""Hostile review 21: a task cancelled at an await of the store (a shutdown, a broadcast whose
worker failed, a live dashboard stopping) must leave the store usable on both backends."""

from __future__ import annotations

import asyncio

import pytest

from economy import Ledger
from economy.errors import EconomyError


async def _cancel_after(coro, yields: int):
    task = asyncio.create_task(coro)
    for _ in range(yields):
        await asyncio.sleep(0)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


@pytest.mark.parametrize("yields", [1, 2, 3, 5, 8])
async def test_a_cancelled_read_leaves_the_reader_usable(ledger, yields):
    """A read cancelled while its BEGIN is still on the driver's thread: the BEGIN runs anyway,
    the reader stays inside a transaction, and every later read fails with sqlite3's raw
    "cannot start a transaction within a transaction" until the process restarts."""
    await ledger.register(1)
    await _cancel_after(ledger.balance(1), yields)
    before = (await ledger.balance(1)).xp  # the next read works
    await ledger.earn(1, 5)
    assert (await ledger.balance(1)).xp == before + 5  # and sees the latest commit


async def force_close(store) -> None:
    """Close every connection behind a close() that hung (aiosqlite's threads are non-daemon:
    left open they keep the test process from exiting)."""
    store._flusher = None
    store._pending.clear()
    for db in list(getattr(store, "_dbs", {}).values()):
        try:
            await asyncio.wait_for(db.close(), 5)
        except BaseException:  # noqa: BLE001
            pass
    store._dbs.clear()


async def close_or_force(ledger) -> None:
    try:
        await asyncio.wait_for(ledger.close(), 10)
    except BaseException as exc:  # noqa: BLE001 - say what went wrong, never hang the process
        await force_close(ledger.store)
        raise AssertionError(f"Ledger.close() failed: {exc!r}") from None


async def three_earns_queued(ledger) -> tuple[list[asyncio.Task], asyncio.Task]:  # type: ignore[type-arg]
    """Users 1-3 registered, then an earn of each queued: the callers and the group commit's
    task that took them (the test plays the shutdown: it knows which task to cancel)."""
    for u in range(1, 4):
        await ledger.register(u)
    callers = [asyncio.create_task(ledger.earn(u, 7)) for u in (1, 2, 3)]
    await asyncio.sleep(0)
    flusher = ledger.store._flusher
    assert flusher is not None
    return callers, flusher


@pytest.mark.parametrize("yields", [0, 1, 5])
async def test_a_cancelled_flusher_answers_every_caller(db_url, yields):
    """The group commit's task cancelled mid-batch (asyncio.run cancelling what is left at a
    shutdown, a supervisor cancelling stray tasks): CancelledError is not an Exception, so
    Store._flush's handlers skip it and the batch's futures are never set: each caller waits
    forever (and cancelled before it ever ran, the task is never cleared: close() raises)."""
    ledger = await Ledger.open(db_url)
    try:
        callers, flusher = await three_earns_queued(ledger)
        for _ in range(yields):
            await asyncio.sleep(0)
        flusher.cancel()
        await all_answered(callers)
    finally:
        await close_or_force(ledger)


@pytest.mark.parametrize("yields", [0, 1, 5])
async def test_a_cancelled_flusher_leaves_the_writer_usable(db_url, yields):
    """After the group commit's task was cancelled mid-batch the next write must commit. On
    SQLite the cancelled BEGIN IMMEDIATE still runs on aiosqlite's thread: the writer stays in
    a transaction holding the file's write lock (every other process: "database is locked")
    and every later batch fails with "cannot start a transaction within a transaction"
    (StorageBusy for ever). Cancelled before it ran, the stale task blocks every later write."""
    ledger = await Ledger.open(db_url)
    try:
        callers, flusher = await three_earns_queued(ledger)
        for _ in range(yields):
            await asyncio.sleep(0)
        flusher.cancel()
        await asyncio.wait(callers, timeout=2)
        for task in callers:
            task.cancel()
        await asyncio.sleep(0.2)
        try:
            await asyncio.wait_for(ledger.earn(1, 1), 10)
        except BaseException as exc:  # noqa: BLE001
            raise AssertionError(f"the next write failed: {exc!r}") from None
        assert await ledger.verify() == []
    finally:
        await close_or_force(ledger)


async def all_answered(callers: list[asyncio.Task]) -> None:  # type: ignore[type-arg]
    """Every caller heard within 5 s, with a result or a refusal (never a raw error)."""
    done, pending = await asyncio.wait(callers, timeout=5)
    for task in pending:
        task.cancel()
    assert not pending, f"{len(pending)} of {len(callers)} callers were never answered"
    for task in done:
        exc = task.exception()
        assert exc is None or isinstance(exc, EconomyError), f"a raw error reached the caller: {exc!r}"

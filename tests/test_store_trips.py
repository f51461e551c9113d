"""The store's trips to the driver (economy/storage): one-statement reads with no transaction,
reads side by side on SQLite's reader connections, a read cancelled half way, and a batch
whose write lock another process holds for a while. Both backends where it applies."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest

from economy import Ledger
from economy.errors import NotFound, StorageBusy, Unstorable


async def _one_then_another(db):  # type: ignore[no-untyped-def]
    await db.execute("SELECT 1")
    await db.execute("SELECT 2")


async def test_read_single_refuses_a_second_statement(ledger) -> None:
    with pytest.raises(RuntimeError, match="one statement"):
        await ledger.store.read_single(_one_then_another)
    # the connection is fine for what comes next
    await ledger.register(1)
    assert (await ledger.balance(1)).xp == 50


async def test_a_balance_is_one_read_with_content_in_order(ledger) -> None:
    await ledger.register(1)
    await ledger.grant(1, 500)
    await ledger.convert(1, 400)
    for ref in ("b-2", "a-1", "c-3"):
        await ledger.add_content(ref, title=ref, media="document", file_ref="f")
        await ledger.buy(1, "content", ref)
    balance = await ledger.balance(1)
    assert balance.content == ("a-1", "b-2", "c-3") and balance.tokens == 400 - 30
    with pytest.raises(NotFound):
        await ledger.balance(2)


async def test_reads_side_by_side_each_see_one_snapshot(ledger) -> None:
    """Many reads at once (on SQLite spread over its reader connections) while writes commit:
    each read's figures are from one moment (XP issued = converted + outstanding)."""
    await asyncio.gather(*(ledger.register(u) for u in range(1, 41)))

    async def writes() -> None:
        for _ in range(5):
            await asyncio.gather(*(ledger.grant(u, 10) for u in range(1, 41)))
            await asyncio.gather(*(ledger.convert(u, 5) for u in range(1, 41)))

    async def reads() -> list[object]:
        return [s for s in await asyncio.gather(*(ledger.stats() for _ in range(60)))]

    _, stats = await asyncio.gather(writes(), reads())
    for s in stats:
        assert s.xp_issued == s.xp_converted + s.xp_outstanding  # type: ignore[attr-defined]
    assert await ledger.verify() == []


async def test_a_cancelled_read_leaves_its_connection_usable(ledger) -> None:
    await ledger.register(1)
    started = asyncio.Event()

    async def slow(db):  # type: ignore[no-untyped-def]
        await db.execute("SELECT 1")
        started.set()
        await asyncio.sleep(10)

    for _ in range(8):  # more than there are reader connections
        task = asyncio.create_task(ledger.store.read(slow))
        await started.wait()
        started.clear()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    reads = await asyncio.gather(*(ledger.balance(1) for _ in range(12)))
    assert {r.xp for r in reads} == {50}
    await ledger.grant(1, 5)
    assert (await ledger.balance(1)).xp == 55


async def test_a_refusal_in_a_read_is_raised_and_the_next_read_goes_on(ledger) -> None:
    async def refuses(db):  # type: ignore[no-untyped-def]
        await db.execute("SELECT 1")
        raise NotFound(what="thing", ref="x")

    for _ in range(5):
        with pytest.raises(NotFound):
            await ledger.store.read(refuses)
    await ledger.register(3)
    assert (await ledger.profile(3)).user_id == 3


async def test_top_spenders_stay_exact_when_a_request_of_the_batch_is_refused(ledger) -> None:
    """The batch reads top_spenders with its wallets and keeps it in memory: a request whose
    rows the database refuses (safe mode: rolled back to its SAVEPOINT after its place in the
    top was merged) must take that place back too. Here the top is full (50 spenders of 5
    tokens); the refused spend of 400 would push number 50 out in memory, and the next spender
    of the batch then pushed a real one out of the table."""
    users = range(1, 53)
    await asyncio.gather(*(ledger.register(u) for u in users))
    await asyncio.gather(*(ledger.grant(u, 1000) for u in users))
    await asyncio.gather(*(ledger.convert(u, 500) for u in users))
    await asyncio.gather(*(ledger.buy(u, "boost") for u in range(1, 51)))  # 1..50 spent 5 each

    def spend(user: int, amount: int, ref: str):  # type: ignore[no-untyped-def]
        async def op(tx):  # type: ignore[no-untyped-def]
            await tx.transfer("spend", "TOKEN", user * 4 + 2, -10, amount, user, ref)
        return ledger.store.write(op, None, f"spend|{user}", user)

    results = await asyncio.gather(spend(52, 400, "\ud800"),  # no driver stores a lone surrogate
                                   spend(51, 10, "boost"), return_exceptions=True)
    assert isinstance(results[0], Unstorable) and not isinstance(results[1], BaseException)
    top = [(t.user_id, t.spent) for t in await ledger.top_spenders(50)]
    assert top == [(51, 10), *((u, 5) for u in range(1, 50))]  # 50 is out (ties: the lower id first)
    assert (await ledger.balance(52)).tokens == 500
    assert await ledger.verify() == []


async def test_a_batch_waits_for_another_writer_then_commits(tmp_path) -> None:
    """Another process holds SQLite's write lock for a while: the batch (BEGIN IMMEDIATE sent
    with its reads) waits it out and commits; held past lock_wait_s, the callers hear busy."""
    path = tmp_path / "l.db"
    async with await Ledger.open(path, busy_timeout_ms=50, lock_wait_s=3) as ledger:
        await ledger.register(1)
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        grant = asyncio.create_task(ledger.grant(1, 5))
        await asyncio.sleep(0.5)
        assert not grant.done()
        other.execute("COMMIT")
        assert (await asyncio.wait_for(grant, 5)).xp == 55
        other.execute("BEGIN IMMEDIATE")
        try:
            with pytest.raises(StorageBusy):
                await ledger.grant(1, 5)
        finally:
            other.execute("COMMIT")
            other.close()
        assert (await ledger.balance(1)).xp == 55
        assert await ledger.verify() == []

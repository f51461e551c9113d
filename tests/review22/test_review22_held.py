"""Hostile review 22 (PASSING: attacks on the pipelined batch that held, on cases
tests/test_pg_trips.py does not cover). Each also checks that the writer is usable afterwards
(not left in pipeline mode or inside a transaction)."""

from __future__ import annotations

import asyncio
import time

import psycopg
import pytest
from psycopg.pq import PipelineStatus, TransactionStatus

from economy import Ledger
from economy.errors import StorageBusy
from economy.storage.postgres import BATCH_LOCK
from economy.storage.schema import XP, XP_ISSUER, account_id
from tests.pglocks import AN_ACCOUNT_ROW, THE_BATCH_LOCK, holding, lock_waiters

pytestmark = pytest.mark.usefixtures("pg_cluster")


async def _writer(ledger: Ledger):  # type: ignore[no-untyped-def]
    async def same(db):  # type: ignore[no-untyped-def]
        return db
    return await ledger.store.in_writer(same)


async def _idle(ledger: Ledger) -> None:
    conn = (await _writer(ledger)).conn
    assert conn.pgconn.pipeline_status == PipelineStatus.OFF
    assert conn.info.transaction_status == TransactionStatus.IDLE


async def test_a_connection_killed_between_the_two_trips_runs_the_batch_again(pg_url) -> None:
    """The backend is terminated while the operations run (after the read trip, before the
    write trip): the write pipeline fails, the batch runs again once on a new connection."""
    async with await Ledger.open(pg_url) as ledger:
        await ledger.register(1)
        pid = (await _writer(ledger)).conn.info.backend_pid
        runs: list[int] = []

        async def op(tx):  # type: ignore[no-untyped-def]
            runs.append(1)
            if len(runs) == 1:
                def kill() -> None:
                    with psycopg.connect(pg_url, autocommit=True) as admin:
                        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
                        while admin.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s",
                                            (pid,)).fetchone()[0]:
                            time.sleep(0.01)
                await asyncio.to_thread(kill)
            await tx.transfer("earn", "XP", XP_ISSUER, account_id(1, XP), 5, 1)
            return "ok"

        results = await asyncio.gather(ledger.store.write(op, None, "x", 1), ledger.grant(1, 3))
        assert results[0] == "ok" and len(runs) == 2
        assert (await ledger.balance(1)).xp == 58
        assert await ledger.verify() == []


async def test_a_connection_killed_while_the_write_trip_waits_runs_the_batch_again(pg_url) -> None:
    async with await Ledger.open(pg_url) as ledger:
        await ledger.register(1)
        with holding(pg_url, AN_ACCOUNT_ROW, (XP_ISSUER,)):
            grant = asyncio.ensure_future(ledger.grant(1, 5, key="k"))
            pids = await asyncio.to_thread(lock_waiters, pg_url, "transactionid")
            with psycopg.connect(pg_url, autocommit=True) as admin:
                admin.execute("SELECT pg_terminate_backend(pid) FROM unnest(%s::int[]) AS pid", (pids,))
            await asyncio.sleep(0.2)
        assert (await asyncio.wait_for(grant, 30)).xp == 55
        assert (await ledger.grant(1, 5, key="k")).xp == 55  # once only
        await _idle(ledger)


async def test_a_lock_timeout_in_the_write_trip_is_locked_and_the_writer_recovers(pg_url) -> None:
    async with await Ledger.open(pg_url, lock_wait_s=0.3) as ledger:
        await ledger.register(1)
        with holding(pg_url, AN_ACCOUNT_ROW, (XP_ISSUER,)):
            result = await asyncio.gather(ledger.grant(1, 5), return_exceptions=True)
        assert isinstance(result[0], StorageBusy) and result[0].reason == "locked", result
        await _idle(ledger)
        assert (await ledger.grant(1, 5)).xp == 55


async def test_a_deadlock_in_the_write_trip_runs_the_batch_again(pg_url, caplog) -> None:
    """A writer without the batch lock holds a system account, then asks for the batch lock
    while the batch waits for that account in its write trip: the server's DeadlockDetected
    (not "pipeline aborted") reaches the retry loop."""
    async with await Ledger.open(pg_url) as ledger:
        await ledger.register(1)
        other = psycopg.connect(pg_url, autocommit=True)
        try:
            other.execute("SET deadlock_timeout = '10s'")
            other.execute("BEGIN")
            other.execute("SELECT * FROM accounts WHERE id = %s FOR UPDATE", (XP_ISSUER,))
            grant = asyncio.ensure_future(ledger.grant(1, 5, key="dl"))
            await asyncio.to_thread(lock_waiters, pg_url, "transactionid")

            def take_the_lock() -> None:
                other.execute(f"SELECT pg_advisory_xact_lock({BATCH_LOCK})")
                other.execute("COMMIT")
            locker = asyncio.ensure_future(asyncio.to_thread(take_the_lock))
            assert (await asyncio.wait_for(grant, 30)).xp == 55
            await locker
        finally:
            other.close()
        assert any("DeadlockDetected; running it again" in r.getMessage() for r in caplog.records)
        assert await ledger.verify() == []


@pytest.mark.parametrize("where", ["advisory", "transactionid"], ids=["read_trip", "write_trip"])
async def test_a_batch_cancelled_mid_trip_leaves_the_writer_usable(pg_url, where) -> None:
    async with await Ledger.open(pg_url) as ledger:
        await ledger.register(1)
        lock = (THE_BATCH_LOCK, None) if where == "advisory" else (AN_ACCOUNT_ROW, (XP_ISSUER,))
        with holding(pg_url, *lock):
            grant = asyncio.ensure_future(ledger.grant(1, 5))
            await asyncio.to_thread(lock_waiters, pg_url, where)
            batch = [t for t in asyncio.all_tasks() if t.get_coro().__qualname__.endswith("Store._run")]
            assert len(batch) == 1
            batch[0].cancel()
            result = await asyncio.gather(grant, return_exceptions=True)
        assert isinstance(result[0], StorageBusy) and result[0].reason == "stopped", result
        await _idle(ledger)
        assert (await asyncio.wait_for(ledger.grant(1, 7), 10)).xp == 57
        assert await ledger.verify() == []


async def test_a_big_batch_of_many_wallet_shapes_commits_in_one_batch(pg_url) -> None:
    """512 requests (MAX_BATCH), keyed, over 300 wallets changed in different column sets."""
    async with await Ledger.open(pg_url) as ledger:
        users = range(1, 301)
        await asyncio.gather(*(ledger.register(u) for u in users))
        await asyncio.gather(*(ledger.grant(u, 100) for u in users))
        before = ledger.store.batches
        calls = [ledger.grant(u, 1, key=f"g{u}") for u in users]
        calls += [ledger.convert(u, 2, key=f"c{u}") for u in range(1, 213)]
        await asyncio.gather(*calls)
        assert ledger.store.batches == before + 1
        assert [(await ledger.balance(u)).xp for u in (1, 212, 213, 300)] == [149, 149, 151, 151]
        assert await ledger.verify() == []

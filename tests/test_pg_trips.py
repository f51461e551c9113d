"""PostgreSQL's batch in three round trips (economy/storage/postgres.py): BEGIN, the batch lock,
the server's clock and the batch's reads sent in one pipeline; the writes in a second; COMMIT.

What pipelining must not change: the reads run once the lock is held (two ledgers on one
database waiting for the same lock still take distinct transfer ids), a statement the server
refuses fails the trip with the server's own error (never "pipeline aborted"), a connection
lost half way through a trip is opened again and the batch runs again, and the BIGINT arrays
the batch sends refuse anything but integers in range, as a request's data refused.
"""

from __future__ import annotations

import asyncio

import psycopg
import pytest

from economy import Ledger
from economy.errors import Unstorable
from economy.storage.postgres import Bigints, BigintsDumper
from tests.pglocks import THE_BATCH_LOCK, holding, lock_waiters

pytestmark = pytest.mark.usefixtures("pg_cluster")


async def _same(db):  # type: ignore[no-untyped-def]
    return db


async def _count_trips(ledger: Ledger, monkeypatch) -> list[int]:  # type: ignore[no-untyped-def]
    """[pipelines entered, statements sent outside a pipeline] on the ledger's writer."""
    conn = (await ledger.store.in_writer(_same)).conn
    counts = [0, 0]
    pipeline, execute = psycopg.AsyncConnection.pipeline, psycopg.AsyncCursor.execute

    def counted_pipeline(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        counts[0] += self is conn
        return pipeline(self, *args, **kwargs)

    async def counted_execute(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        counts[1] += self.connection is conn and conn.pgconn.pipeline_status == psycopg.pq.PipelineStatus.OFF
        return await execute(self, *args, **kwargs)

    monkeypatch.setattr(psycopg.AsyncConnection, "pipeline", counted_pipeline)
    monkeypatch.setattr(psycopg.AsyncCursor, "execute", counted_execute)
    return counts


async def test_a_batch_is_two_pipelines_and_a_commit(pg_url, monkeypatch) -> None:
    async with await Ledger.open(pg_url) as ledger:
        await asyncio.gather(*(ledger.register(u) for u in range(1, 21)))
        await asyncio.gather(*(ledger.grant(u, 100) for u in range(1, 21)))
        counts = await _count_trips(ledger, monkeypatch)
        before = ledger.store.batches
        await asyncio.gather(*(ledger.convert(u, 40, key=f"c{u}") for u in range(1, 21)))
        assert ledger.store.batches == before + 1
        # the reads (with BEGIN, the lock and the clock) and the writes: two pipelines; COMMIT alone
        assert counts == [2, 1], counts
        assert [(await ledger.balance(u)).tokens for u in range(1, 21)] == [40] * 20
        assert await ledger.verify() == []


async def test_two_ledgers_waiting_for_one_lock_read_after_it(pg_url) -> None:
    """The reads go in the same pipeline as the lock, after it: each batch reads the journal's
    last id and the wallets once the other's batch committed (else two transfers would take one
    id, or a wallet would be written back from a stale read)."""
    async with await Ledger.open(pg_url) as a, await Ledger.open(pg_url) as b:
        await a.register(1)
        await a.grant(1, 1000)
        for _ in range(3):
            with holding(pg_url, THE_BATCH_LOCK) as holder:
                both = asyncio.gather(a.grant(1, 7), b.grant(1, 11), a.convert(1, 3), b.convert(1, 5))
                await asyncio.to_thread(lock_waiters, pg_url, "advisory", 2)
                holder.execute("COMMIT")
            await asyncio.wait_for(both, 30)
        balance = await a.balance(1)
        assert balance.xp == 50 + 1000 + 3 * (7 + 11 - 3 - 5)
        assert balance.tokens == 3 * (3 + 5)
        assert await a.verify() == [] and await b.verify() == []


async def test_the_server_refusing_a_write_is_its_own_error_and_only_its_request_fails(pg_url) -> None:
    """A CHECK refusing a wallet in the write pipeline aborts the statements after it: the
    batch sees the server's error (a refused request's data), runs again with savepoints, and
    only that request fails."""
    async with await Ledger.open(pg_url) as ledger:
        await asyncio.gather(*(ledger.register(u) for u in range(1, 11)))

        async def overdraw(tx):  # type: ignore[no-untyped-def]
            wallet = await tx.wallet(3)
            wallet.xp = -5  # past the ledger's own checks: the table's CHECK refuses it
            return "done"

        results = await asyncio.gather(*(ledger.grant(u, 10) for u in range(1, 11)),
                                       ledger.store.write(overdraw, None, "", user_id=3), return_exceptions=True)
        assert isinstance(results[-1], Unstorable), results[-1]
        assert "CheckViolation" in results[-1].reason
        assert all(not isinstance(r, BaseException) for r in results[:-1]), results
        assert [(await ledger.balance(u)).xp for u in range(1, 11)] == [60] * 10
        assert await ledger.verify() == []


@pytest.mark.parametrize("value", [True, 1.5, "7", 2**63, -(2**63) - 1], ids=["bool", "float", "str", "big", "small"])
async def test_a_wallet_value_that_is_not_a_bigint_fails_its_request_alone(pg_url, value) -> None:
    async with await Ledger.open(pg_url) as ledger:
        await asyncio.gather(*(ledger.register(u) for u in range(1, 6)))

        async def bad(tx):  # type: ignore[no-untyped-def]
            (await tx.wallet(2)).xp = value
            return "done"

        results = await asyncio.gather(*(ledger.grant(u, 10) for u in range(1, 6)),
                                       ledger.store.write(bad, None, "", user_id=2), return_exceptions=True)
        assert isinstance(results[-1], Unstorable), results[-1]
        assert all(not isinstance(r, BaseException) for r in results[:-1]), results
        assert (await ledger.balance(2)).xp == 60
        assert await ledger.verify() == []


def test_bigints_are_sent_as_the_array_text_postgresql_reads() -> None:
    dump = BigintsDumper(Bigints).dump
    assert dump(Bigints([1, -2, 2**63 - 1, -(2**63)])) == b"{1,-2,9223372036854775807,-9223372036854775808}"
    assert dump(Bigints([None, 5, None])) == b"{NULL,5,NULL}"
    assert dump(Bigints([None])) == b"{NULL}" and dump(Bigints([])) == b"{}"
    for bad in ([True], [1.0], ["1,2"], [b"1"], [2**63], [None, -(2**63) - 1]):
        with pytest.raises(psycopg.DataError):
            dump(Bigints(bad))


async def test_a_connection_lost_while_the_first_trip_waits_runs_the_batch_again(pg_url) -> None:
    async with await Ledger.open(pg_url) as ledger:
        await ledger.register(1)
        with holding(pg_url, THE_BATCH_LOCK):
            grant = asyncio.ensure_future(ledger.grant(1, 5, key="lost-once"))
            pids = await asyncio.to_thread(lock_waiters, pg_url)
            with psycopg.connect(pg_url, autocommit=True) as admin:  # as a server restart would
                admin.execute("SELECT pg_terminate_backend(pid) FROM unnest(%s::int[]) AS pid", (pids,))
        assert (await asyncio.wait_for(grant, 30)).xp == 55  # ran again on a new connection
        assert (await ledger.grant(1, 5, key="lost-once")).xp == 55  # and once only
        assert (await ledger.balance(1)).xp == 55
        assert await ledger.verify() == []

"""A delivery's claim is a lease stamped when its batch holds the write lock (issue 20, item
3): a batch that waited 25 s for the lock does not start its lease 25 s early, so a second
worker does not take over a send still under way — one send. On PostgreSQL the stamp is the
server's clock, read once the lock is held."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from contextlib import asynccontextmanager
from collections.abc import AsyncIterator

import psycopg
import pytest

from bot import delivery
from bot.delivery import Deliveries
from economy import Ledger
from economy.storage.schema_postgres import BATCH_LOCK


@asynccontextmanager
async def write_lock_held(ledger: Ledger) -> AsyncIterator[object]:
    """Hold the lock every batch takes first (SQLite's write lock, the advisory batch lock) from
    another connection, as a long batch of another process would."""
    store = ledger.store
    if store.backend == "postgresql":
        conn = psycopg.connect(store.url, autocommit=True)
        conn.execute(f"SELECT pg_advisory_lock({BATCH_LOCK})")
        try:
            yield conn
        finally:
            conn.execute(f"SELECT pg_advisory_unlock({BATCH_LOCK})")
            conn.close()
    else:
        conn = sqlite3.connect(store.path, isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        finally:
            conn.execute("COMMIT")
            conn.close()


async def _user_with_quota(ledger: Ledger) -> None:
    await ledger.register(1)
    await ledger.raise_quota(1, 100_000, actor=9)


async def test_a_25s_lock_wait_and_a_slow_send_deliver_once(db_url, clock):
    ledger = await Ledger.open(db_url, clock=clock, lock_wait_s=60)
    try:
        await _user_with_quota(ledger)
        first, second = Deliveries(ledger, sole=False, worker="first"), Deliveries(ledger, sole=False, worker="second")
        stamped = clock.now
        async with write_lock_held(ledger):
            charging = asyncio.create_task(ledger.charge(1, 15_000, actor=9, deliver=True, worker=first.worker,
                                                         key="u:1"))
            await asyncio.sleep(0.5)
            assert not charging.done()  # waiting for the lock
            clock.advance(25)  # the lock wait
        done = await charging
        claimed_at = (await ledger.store.read(lambda db: db.execute(
            "SELECT claimed_at FROM deliveries WHERE transfer_id = ?", (done.transfer_id,)))).fetchone()[0]
        assert claimed_at == stamped + 25
        sends: list[str] = []
        takeover: list[object] = []

        async def slow_send() -> int:
            sends.append("first")
            clock.advance(delivery.SEND_BUDGET)  # the longest send there can be
            # meanwhile Telegram sends the update again to the other instance
            takeover.append(asyncio.create_task(second.complete(done.transfer_id, other_send, first=False)))
            await asyncio.sleep(1.5)  # it asks for the claim while this send is under way
            return 77

        async def other_send() -> int:
            sends.append("second")
            return 78

        outcome = await first.complete(done.transfer_id, slow_send, first=True)
        assert outcome.state == "delivered" and outcome.message_id == 77
        replayed = await takeover[0]  # type: ignore[misc]
        assert replayed.state == "delivered" and replayed.message_id == 77
        assert sends == ["first"]
        assert (await ledger.balance(1)).credit_used == 15_000 and await ledger.verify() == []
    finally:
        await ledger.close()


def test_the_lease_covers_the_longest_send_and_its_record_by_construction():
    assert delivery.LEASE >= delivery.SEND_BUDGET + delivery.LOCK_WAIT
    assert delivery.SEND_BUDGET >= delivery.ATTEMPTS * delivery.SEND_TIMEOUT + sum(delivery.BACKOFF)


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
async def test_postgresql_stamps_claims_with_the_servers_clock_once_the_lock_is_held(db_url):
    ledger = await Ledger.open(db_url)  # no clock given: the database's own
    try:
        await _user_with_quota(ledger)
        async with write_lock_held(ledger) as holder:
            charging = asyncio.create_task(ledger.charge(1, 100, actor=9, deliver=True, worker="w", key="u:2"))
            await asyncio.sleep(2.5)
            released_at = holder.execute(  # type: ignore[attr-defined]
                "SELECT floor(extract(epoch FROM clock_timestamp()))::bigint").fetchone()[0]
        done = await charging
        claimed_at = (await ledger.store.read(lambda db: db.execute(
            "SELECT claimed_at FROM deliveries WHERE transfer_id = ?", (done.transfer_id,)))).fetchone()[0]
        assert claimed_at >= released_at
        assert abs(claimed_at - time.time()) < 5  # the server runs on this machine here
    finally:
        await ledger.close()

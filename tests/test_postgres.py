"""PostgreSQL only: several processes on one database, and a batch run again after a deadlock."""

from __future__ import annotations

import asyncio
import json
import logging
import subprocess
import sys
import time

import psycopg

from economy import Ledger
from economy.storage.schema_postgres import BATCH_LOCK
from tests.test_cli import ROOT

USERS = range(1, 11)
SPENDER = r"""
import asyncio, json, sys
from economy import InsufficientFunds, Ledger

async def main(url, tries):
    ok = {}
    other = []
    async with await Ledger.open(url) as ledger:
        async def spend(user):
            try:
                await ledger.buy(user, "boost")
                ok[user] = ok.get(user, 0) + 1
            except InsufficientFunds:
                pass
            except Exception as exc:  # a deadlock or serialization error must never get here
                other.append(repr(exc))
        await asyncio.gather(*(spend(u) for _ in range(tries) for u in range(1, 11)))
        retries = ledger.store.retries
    print(json.dumps({"ok": ok, "other": other, "retries": retries}))

asyncio.run(main(sys.argv[1], int(sys.argv[2])))
"""


async def test_two_processes_spending_from_the_same_wallets(pg_url):
    async with await Ledger.open(pg_url) as ledger:
        for user in USERS:
            await ledger.register(user)
            await ledger.grant(user, 950)
            await ledger.convert(user)  # 1,000 tokens: exactly 200 boosts of 5
        rows_before = len([r async for r in ledger.journal()])
    procs = [subprocess.Popen([sys.executable, "-c", SPENDER, pg_url, "150"], cwd=ROOT, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), [err for _, err in outs]
    results = [json.loads(out.strip().splitlines()[-1]) for out, _ in outs]
    assert [r["other"] for r in results] == [[], []]
    for user in USERS:  # 300 tries against 200 affordable: exactly 200 applied, none twice, none lost
        assert sum(r["ok"].get(str(user), 0) for r in results) == 200
    async with await Ledger.open(pg_url) as ledger:
        assert await ledger.verify() == []
        for user in USERS:
            assert (await ledger.balance(user)).tokens == 0
        stats = await ledger.stats()
        assert stats.spent_per_item["boost"] == stats.tokens_spent == 10 * 1000
        assert [(s.user_id, s.spent) for s in await ledger.top_spenders(10)] == [(u, 1000) for u in USERS]
        rows = [r async for r in ledger.journal()]
        assert len(rows) == rows_before + 10 * 200
        assert [r[0] for r in rows] == list(range(1, len(rows) + 1))  # ids unique, gapless, in commit order


async def test_a_batch_is_run_again_after_a_deadlock(pg_url, caplog):
    async with await Ledger.open(pg_url) as ledger:
        await ledger.register(1)
        other = psycopg.connect(pg_url, autocommit=True)
        try:
            other.execute("SET deadlock_timeout = '10s'")  # so the ledger's session is the one that sees it
            other.execute("BEGIN")
            other.execute("SELECT 1 FROM wallets WHERE user_id = 1 FOR UPDATE")
            caplog.set_level(logging.WARNING, logger="economy.storage.postgres")
            grant = asyncio.create_task(ledger.grant(1, 5))

            def close_the_cycle() -> None:
                deadline = time.monotonic() + 10
                while not other.execute("SELECT COUNT(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                                        " AND pid <> pg_backend_pid()").fetchone()[0]:
                    assert time.monotonic() < deadline, "the batch never waited for the wallet"
                    time.sleep(0.01)
                # The batch holds the batch lock and waits for wallet 1; we hold wallet 1 and now
                # wait for the batch lock: a deadlock, which PostgreSQL breaks by failing the batch.
                other.execute(f"SELECT pg_advisory_xact_lock({BATCH_LOCK})")
                other.execute("COMMIT")

            await asyncio.to_thread(close_the_cycle)
            earning = await asyncio.wait_for(grant, 30)
        finally:
            other.close()
        assert earning.xp == 55
        assert ledger.store.retries == 1
        assert any("DeadlockDetected; running it again (retry 1 of" in r.getMessage() for r in caplog.records)
        assert (await ledger.balance(1)).xp == 55
        assert await ledger.verify() == []


async def test_connections_the_server_dropped_are_opened_again_without_a_refusal(pg_url):
    async with await Ledger.open(pg_url) as ledger:
        await ledger.register(1)
        with psycopg.connect(pg_url, autocommit=True) as admin:  # as a restart or an idle-killing proxy would
            killed = admin.execute("SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity"
                                   " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                                   " AND backend_type = 'client backend'").fetchone()[0]
        assert killed >= 2  # the ledger's writer and reader
        assert (await ledger.grant(1, 5)).xp == 55  # the batch ran again on a new connection
        assert (await ledger.balance(1)).xp == 55  # so did the read
        assert await ledger.verify() == []


async def test_a_lock_held_longer_than_the_wait_is_a_clean_busy(pg_url):
    from economy import StorageBusy
    async with await Ledger.open(pg_url, lock_wait_s=0.3) as ledger:
        await ledger.register(1)
        holder = psycopg.connect(pg_url, autocommit=True)
        try:
            holder.execute("BEGIN")
            holder.execute(f"SELECT pg_advisory_xact_lock({BATCH_LOCK})")  # another process's batch that hangs
            started = time.monotonic()
            try:
                await ledger.grant(1, 5)
                raise AssertionError("the grant did not wait for the lock")
            except StorageBusy as exc:
                assert exc.reason == "locked" and time.monotonic() - started < 5
            assert (await ledger.balance(1)).xp == 50  # reads do not wait for writers
        finally:
            holder.close()
        assert (await ledger.grant(1, 5)).xp == 55  # recovers once the lock is gone
        assert await ledger.verify() == []


async def test_the_server_down_is_a_clean_busy_and_the_ledger_recovers_when_it_is_back(pg_cluster):
    # (pg_cluster: only so that LEDGER_BACKENDS=sqlite leaves this out like the others)
    from economy import StorageBusy
    from tests.pgcluster import Cluster
    with Cluster(fsync=False) as own:  # a cluster of its own: this test stops it
        async with await Ledger.open(own.url) as ledger:
            await ledger.register(1)
            own.stop_server()
            for call in (ledger.grant(1, 5), ledger.balance(1)):
                try:
                    await call
                    raise AssertionError("the server is down")
                except StorageBusy as exc:
                    assert exc.reason == "unavailable"
            own.start_server()
            assert (await ledger.grant(1, 5)).xp == 55
            assert (await ledger.balance(1)).xp == 55
            assert await ledger.verify() == []

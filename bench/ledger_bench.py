"""Spends per second through the public ledger API, against two references measured in the
same run: the seed's naive pattern and raw sqlite3 batching. Prints numbers; asserts nothing.

    python bench/ledger_bench.py [--ops 100000] [--users 10000] [--callers 100]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

import aiosqlite

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from economy import EconomyError, Ledger  # noqa: E402


def percentile(sorted_values: list[float], p: float) -> float:
    return sorted_values[min(len(sorted_values) - 1, int(len(sorted_values) * p))]


async def ledger_spends(path: Path, users: int, ops: int, callers: int) -> dict[str, float]:
    ledger = await Ledger.open(path, synchronous="FULL")
    try:
        for start in range(1, users + 1, 1000):
            batch = range(start, min(start + 1000, users + 1))
            await asyncio.gather(*(ledger.register(u) for u in batch))
            await asyncio.gather(*(ledger.grant(u, 10_000) for u in batch))
            await asyncio.gather(*(ledger.convert(u) for u in batch))
        latencies: list[float] = []
        refused = 0
        rng = random.Random(7)

        async def caller(n: int) -> None:
            nonlocal refused
            for _ in range(n):
                user = rng.randint(1, users)
                t0 = time.perf_counter()
                try:
                    await ledger.buy(user, "boost")
                except EconomyError:
                    refused += 1
                latencies.append(time.perf_counter() - t0)

        ledger.store.writer_s = 0.0
        t0 = time.perf_counter()
        await asyncio.gather(*(caller(ops // callers) for _ in range(callers)))
        elapsed = time.perf_counter() - t0
        latencies.sort()
        problems = await ledger.verify()
        return {
            "ops_per_s": len(latencies) / elapsed, "p50_ms": percentile(latencies, 0.5) * 1000,
            "p99_ms": percentile(latencies, 0.99) * 1000, "refused": refused,
            "batches": ledger.store.batches, "verify_ok": not problems,
            "writer_share": ledger.store.writer_s / elapsed,
        }
    finally:
        await ledger.close()


NAIVE_SCHEMA = """
CREATE TABLE IF NOT EXISTS balances (user_id TEXT PRIMARY KEY, balance INTEGER DEFAULT 0);
CREATE TABLE IF NOT EXISTS transactions (id INTEGER PRIMARY KEY AUTOINCREMENT, user_id TEXT NOT NULL,
    type TEXT NOT NULL, amount INTEGER NOT NULL, reason TEXT, timestamp TEXT DEFAULT CURRENT_TIMESTAMP);
"""


async def naive_spends(path: Path, users: int, seconds: float, callers: int) -> dict[str, float]:
    """The seed's code: a new aiosqlite connection per operation, read-check-write."""
    with sqlite3.connect(path) as db:
        db.executescript(NAIVE_SCHEMA)
        db.executemany("INSERT INTO balances VALUES (?, 10000)", [(str(u),) for u in range(1, users + 1)])
    done = errors = 0
    deadline = time.perf_counter() + seconds
    rng = random.Random(7)

    async def caller() -> None:
        nonlocal done, errors
        while time.perf_counter() < deadline:
            user = str(rng.randint(1, users))
            try:
                async with aiosqlite.connect(path) as conn:
                    row = await (await conn.execute("SELECT balance FROM balances WHERE user_id = ?", (user,))).fetchone()
                    if row[0] >= 5:
                        await conn.execute("UPDATE balances SET balance = balance - 5 WHERE user_id = ?", (user,))
                        await conn.execute("INSERT INTO transactions (user_id, type, amount, reason)"
                                           " VALUES (?, 'SPEND', -5, 'boost')", (user,))
                        await conn.commit()
                done += 1
            except sqlite3.OperationalError:
                errors += 1

    t0 = time.perf_counter()
    await asyncio.gather(*(caller() for _ in range(callers)))
    return {"ops_per_s": done / (time.perf_counter() - t0), "lock_errors": errors}


def raw_ceiling(path: Path, users: int, ops: int, per_commit: int = 100) -> float:
    """Raw sqlite3, one thread, WAL, synchronous=FULL, `per_commit` spends per transaction."""
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = FULL")
    db.executescript(NAIVE_SCHEMA)
    db.executemany("INSERT INTO balances VALUES (?, 1000000)", [(str(u),) for u in range(1, users + 1)])
    rng = random.Random(7)
    t0 = time.perf_counter()
    for _ in range(ops // per_commit):
        db.execute("BEGIN IMMEDIATE")
        for _ in range(per_commit):
            user = str(rng.randint(1, users))
            db.execute("UPDATE balances SET balance = balance - 5 WHERE user_id = ? AND balance >= 5", (user,))
            db.execute("INSERT INTO transactions (user_id, type, amount, reason) VALUES (?, 'SPEND', -5, 'boost')", (user,))
        db.execute("COMMIT")
    rate = (ops // per_commit) * per_commit / (time.perf_counter() - t0)
    db.close()
    return rate


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ops", type=int, default=100_000)
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--callers", type=int, default=100)
    parser.add_argument("--naive-seconds", type=float, default=5.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        ours = await ledger_spends(Path(tmp) / "ledger.db", args.users, args.ops, args.callers)
        naive = await naive_spends(Path(tmp) / "naive.db", args.users, args.naive_seconds, args.callers)
        ceiling = raw_ceiling(Path(tmp) / "raw.db", args.users, args.ops)
    print(f"ledger API   {ours['ops_per_s']:>10,.0f} spends/s  p50 {ours['p50_ms']:.2f} ms  p99 {ours['p99_ms']:.2f} ms"
          f"  ({args.callers} callers, {args.users} users, synchronous=FULL, {ours['batches']} commits,"
          f" writer thread busy {ours['writer_share']:.0%} of the time,"
          f" verify {'ok' if ours['verify_ok'] else 'FAILED'})")
    print(f"naive        {naive['ops_per_s']:>10,.0f} spends/s  {naive['lock_errors']} 'database is locked' errors"
          " (new aiosqlite connection per spend)")
    print(f"raw sqlite3  {ceiling:>10,.0f} spends/s  (100 per commit, synchronous=FULL, no journal of ours)")
    print(json.dumps({"ops_per_s": round(ours["ops_per_s"]), "p50_ms": round(ours["p50_ms"], 2),
                      "p99_ms": round(ours["p99_ms"], 2), "naive_ops_per_s": round(naive["ops_per_s"]),
                      "naive_lock_errors": naive["lock_errors"], "ceiling_ops_per_s": round(ceiling)}))


if __name__ == "__main__":
    asyncio.run(main())

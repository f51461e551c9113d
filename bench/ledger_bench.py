"""Spends per second through the public ledger API, against references measured in the same
run: on SQLite the seed's naive pattern and raw sqlite3 batching, on PostgreSQL the raw driver
doing the fewest statements a spend needs, and two processes writing at once. Both also replay
the writer's own statements of the run with the plain synchronous driver in one thread: what
this store's SQL allows any driver. SQLite prints the event loop's CPU a spend too. Prints
numbers; asserts nothing.

    python bench/ledger_bench.py [--db URL] [--ops 100000] [--users 10000] [--callers 100] [--processes 2]
                                 [--old-tree PATH]

--old-tree: another checkout of the project (e.g. `git worktree add /tmp/old-store <commit>`),
whose ledger is measured the same way in the same run, on its own database, right after ours
(its bench/ledger_bench.py's ledger_spends, run in a child process from that tree).

Without --db: a SQLite file in a temporary folder (--db sqlite:///path: that file, which should
not exist yet). With --db postgresql://...: that database, emptied first (its tables are
dropped: never point it at a database you care about); the replay makes a database
`bench_replay` beside it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiosqlite

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from economy import EconomyError, Ledger  # noqa: E402
from economy.storage import is_postgres  # noqa: E402


def percentile(sorted_values: list[float], p: float) -> float:
    return sorted_values[min(len(sorted_values) - 1, int(len(sorted_values) * p))]


async def ledger_spends(path: Path | str, users: int, ops: int, callers: int, seed: int = 7,
                        setup: bool = True, go: Any = None, record: Path | None = None,
                        record_pg: list[tuple[str, Any, Any, bool]] | None = None) -> dict[str, float]:
    """`record` (SQLite): a copy of the file as the spends begin is saved there, and the result's
    "statements" holds every statement the writer ran during them (for `replay`)."""
    ledger = await Ledger.open(path, synchronous="FULL")
    recorded: list[tuple[bool, str, Any]] = []
    try:
        for start in range(1, users + 1, 1000) if setup else ():
            batch = range(start, min(start + 1000, users + 1))
            await asyncio.gather(*(ledger.register(u) for u in batch))
            await asyncio.gather(*(ledger.grant(u, 10_000) for u in batch))
            await asyncio.gather(*(ledger.convert(u) for u in batch))
        latencies: list[float] = []
        refused = 0
        if ops == 0:
            return {}
        if record is not None:
            await start_recording(ledger, Path(path), record, recorded)
        if record_pg is not None:
            await start_recording_pg(ledger, record_pg)
        rng = random.Random(seed)
        if go is not None:
            go()

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
        t0, cpu0 = time.perf_counter(), time.thread_time()
        await asyncio.gather(*(caller(ops // callers) for _ in range(callers)))
        elapsed, loop_cpu = time.perf_counter() - t0, time.thread_time() - cpu0  # the event loop's thread
        latencies.sort()
        problems = await ledger.verify()
        return {
            "ops_per_s": len(latencies) / elapsed, "p50_ms": percentile(latencies, 0.5) * 1000,
            "p99_ms": percentile(latencies, 0.99) * 1000, "refused": refused,
            "batches": ledger.store.batches, "verify_ok": not problems,
            "writer_share": ledger.store.writer_s / elapsed, "ops": len(latencies), "elapsed": elapsed,
            "retries": ledger.store.retries, "loop_cpu_s": loop_cpu,
            **({"statements": recorded} if record is not None else {}),
        }
    finally:
        stop_recording()
        await ledger.close()


_PLAIN_DB: dict[str, Any] = {}


async def start_recording(ledger: Ledger, path: Path, copy: Path, into: list[tuple[bool, str, Any]]) -> None:
    """Save the file as it is now to `copy`, then note every statement of the writer connection
    from here on (SqliteDb's own methods, wrapped for the benchmark: each call costs one list append)."""
    from economy.storage.sqlite import SqliteDb

    async def the_writer(db: Any) -> Any:
        return db

    writer = await ledger.store.in_writer(the_writer)
    with sqlite3.connect(path) as src, sqlite3.connect(copy) as dst:
        src.backup(dst)
    plain_execute, plain_executemany = SqliteDb.execute, SqliteDb.executemany
    _PLAIN_DB.update(execute=plain_execute, executemany=plain_executemany)

    async def execute(self: Any, sql: str, params: Any = ()) -> Any:
        if self is writer:
            into.append((False, sql, params))
        return await plain_execute(self, sql, params)

    async def executemany(self: Any, sql: str, params: Any) -> None:
        if self is writer:
            into.append((True, sql, params))
        return await plain_executemany(self, sql, params)

    SqliteDb.execute, SqliteDb.executemany = execute, executemany  # type: ignore[method-assign]


def stop_recording() -> None:
    if "execute" in _PLAIN_DB:
        from economy.storage.sqlite import SqliteDb
        SqliteDb.execute, SqliteDb.executemany = _PLAIN_DB["execute"], _PLAIN_DB["executemany"]  # type: ignore[method-assign]
    if "pg_execute" in _PLAIN_DB:
        import psycopg
        psycopg.AsyncCursor.execute = _PLAIN_DB["pg_execute"]  # type: ignore[method-assign]
        psycopg.AsyncCursor.executemany = _PLAIN_DB["pg_executemany"]  # type: ignore[method-assign]
        psycopg.AsyncConnection.pipeline = _PLAIN_DB["pg_pipeline"]  # type: ignore[method-assign]
    _PLAIN_DB.clear()


async def start_recording_pg(ledger: Ledger, into: list[tuple[str, Any, Any, bool]]) -> None:
    """Note every statement psycopg sends on the writer's connection from here on, and where each
    pipeline begins (its cursor and connection methods wrapped for the benchmark)."""
    import psycopg
    from psycopg.pq import PipelineStatus

    async def the_writer(db: Any) -> Any:
        return db.conn

    writer = await ledger.store.in_writer(the_writer)
    plain_execute, plain_executemany = psycopg.AsyncCursor.execute, psycopg.AsyncCursor.executemany
    plain_pipeline = psycopg.AsyncConnection.pipeline
    _PLAIN_DB.update(pg_execute=plain_execute, pg_executemany=plain_executemany, pg_pipeline=plain_pipeline)

    def piped() -> bool:
        return writer.pgconn.pipeline_status != PipelineStatus.OFF  # type: ignore[no-any-return]

    async def execute(self: Any, query: Any, params: Any = None, **kw: Any) -> Any:
        if self.connection is writer:
            into.append(("one", query, params, piped()))
        return await plain_execute(self, query, params, **kw)

    async def executemany(self: Any, query: Any, params_seq: Any, **kw: Any) -> Any:
        if self.connection is writer:
            params_seq = list(params_seq)
            into.append(("many", query, params_seq, piped()))
        return await plain_executemany(self, query, params_seq, **kw)

    def pipeline(self: Any) -> Any:
        if self is writer:
            into.append(("pipeline", None, None, True))
        return plain_pipeline(self)

    psycopg.AsyncCursor.execute, psycopg.AsyncCursor.executemany = execute, executemany  # type: ignore[method-assign]
    psycopg.AsyncConnection.pipeline = pipeline  # type: ignore[method-assign]


def pg_template_copy(url: str, name: str) -> str:
    """A new database `name` on the same server, a copy of `url`'s (nobody may be connected to it)."""
    import psycopg
    from psycopg.conninfo import conninfo_to_dict, make_conninfo
    source = conninfo_to_dict(url)["dbname"]
    with psycopg.connect(make_conninfo(url, dbname="postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{source}"')
    return make_conninfo(url, dbname=name)


def replay_pg(url: str, statements: list[tuple[str, Any, Any, bool]]) -> float:
    """Seconds the recorded statements take sent again by synchronous psycopg (one connection,
    autocommit as the store's writer, the same automatic prepares, the store's dumper for BIGINT
    arrays), those the store pipelined in one pipeline each, the others in turn."""
    import psycopg
    from economy.storage.postgres import Bigints, BigintsDumper
    with psycopg.connect(url, autocommit=True) as conn:
        conn.adapters.register_dumper(Bigints, BigintsDumper)
        cur = conn.cursor()

        def run(kind: str, query: Any, params: Any) -> None:
            if kind == "many":
                cur.executemany(query, params)
            else:
                cur.execute(query, params)

        t0 = time.perf_counter()
        i = 0
        while i < len(statements):
            kind, query, params, _ = statements[i]
            i += 1
            if kind != "pipeline":
                run(kind, query, params)
                while cur.nextset():
                    pass
                continue
            with conn.pipeline():
                while i < len(statements) and statements[i][0] != "pipeline" and statements[i][3]:
                    run(*statements[i][:3])
                    i += 1
        took = time.perf_counter() - t0
    return took


def replay(copy: Path, statements: list[tuple[bool, str, Any]]) -> float:
    """Seconds the writer's statements of a run take run again in one thread by plain sqlite3,
    on the file as it was when they began (the same PRAGMAs as the store's writer): what this
    store's SQL costs with no event loop, no driver thread and no Python of the ledger's."""
    db = sqlite3.connect(copy, isolation_level=None)
    for pragma in ("journal_mode = WAL", "synchronous = FULL", "recursive_triggers = ON", "wal_autocheckpoint = 0"):
        db.execute(f"PRAGMA {pragma}")
    t0 = time.perf_counter()
    for many, sql, params in statements:
        if many:
            db.executemany(sql, params)
        else:
            db.execute(sql, params).fetchall()
    took = time.perf_counter() - t0
    db.close()
    return took


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


def old_spends(tree: Path, db: str, users: int, ops: int, callers: int) -> dict[str, float]:
    """The same spends through another checkout's ledger (a child process in that tree)."""
    code = ("import asyncio, json, sys\n"
            "from bench.ledger_bench import ledger_spends\n"
            "db, users, ops, callers = sys.argv[1], *map(int, sys.argv[2:])\n"
            "print(json.dumps(asyncio.run(ledger_spends(db, users, ops, callers))))\n")
    out = subprocess.run([sys.executable, "-c", code, db, str(users), str(ops), str(callers)], cwd=tree,
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def empty_pg(url: str) -> None:
    import psycopg
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")


def raw_pg_ceiling(url: str, users: int, ops: int, per_commit: int = 100) -> float:
    """psycopg alone, one connection, `per_commit` spends per transaction as one UPDATE and one
    INSERT over arrays (the fewest statements a batch can be), synchronous_commit as the server has it."""
    import psycopg
    empty_pg(url)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE balances (user_id BIGINT PRIMARY KEY, balance BIGINT NOT NULL CHECK (balance >= 0))")
        conn.execute("CREATE TABLE transactions (id BIGSERIAL PRIMARY KEY, user_id BIGINT NOT NULL,"
                     " amount BIGINT NOT NULL, reason TEXT)")
        conn.execute("INSERT INTO balances SELECT g, 1000000 FROM generate_series(1, %s) g", (users,))
        rng = random.Random(7)
        t0 = time.perf_counter()
        for _ in range(ops // per_commit):
            picked = [rng.randint(1, users) for _ in range(per_commit)]
            conn.execute("BEGIN")
            conn.execute("UPDATE balances b SET balance = b.balance - 5 * u.n FROM (SELECT id, COUNT(*) AS n"
                         " FROM unnest(%s::bigint[]) AS id GROUP BY id) AS u WHERE b.user_id = u.id", (picked,))
            conn.execute("INSERT INTO transactions (user_id, amount, reason) SELECT id, -5, 'boost'"
                         " FROM unnest(%s::bigint[]) AS id", (picked,))
            conn.execute("COMMIT")
        rate = (ops // per_commit) * per_commit / (time.perf_counter() - t0)
    empty_pg(url)
    return rate


async def two_processes(url: str, users: int, ops: int, callers: int) -> dict[str, float]:
    """Two OS processes spending on the same database at once, each with `callers` callers."""
    await ledger_spends(url, users, 0, callers)  # registers and funds the users
    start_at = time.time() + 3
    procs = [subprocess.Popen([sys.executable, __file__, "--db", url, "--worker", str(seed), "--ops", str(ops // 2),
                               "--users", str(users), "--callers", str(callers), "--start-at", str(start_at)],
                              stdout=subprocess.PIPE, text=True) for seed in (11, 12)]
    results = [json.loads(p.communicate()[0].strip().splitlines()[-1]) for p in procs]
    ledger = await Ledger.open(url)
    try:
        problems = await ledger.verify()
    finally:
        await ledger.close()
    done = sum(r["ops"] for r in results)
    elapsed = max(r["elapsed"] for r in results)
    return {"ops_per_s": done / elapsed, "p99_ms": max(r["p99_ms"] for r in results), "verify_ok": not problems,
            "retries": sum(r["retries"] for r in results)}


async def worker(args: argparse.Namespace) -> None:
    result = await ledger_spends(args.db, args.users, args.ops, args.callers, seed=args.worker, setup=False,
                                 go=lambda: time.sleep(max(0.0, args.start_at - time.time())))
    print(json.dumps(result))


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="a postgresql:// URL (emptied first!) or a sqlite:/// URL of a new file;"
                                     " default: a temporary SQLite file")
    parser.add_argument("--ops", type=int, default=100_000)
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--callers", type=int, default=100)
    parser.add_argument("--processes", type=int, default=2, choices=(1, 2),
                        help="PostgreSQL: also measure two processes writing at once (2, the default)")
    parser.add_argument("--naive-seconds", type=float, default=5.0)
    parser.add_argument("--old-tree", type=Path, help="another checkout whose ledger is measured too, in the same run")
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--start-at", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker is not None:
        return await worker(args)
    if args.db and is_postgres(args.db):
        return await main_pg(args)
    with tempfile.TemporaryDirectory() as tmp:
        ours = await ledger_spends(args.db or Path(tmp) / "ledger.db", args.users, args.ops, args.callers,
                                   record=Path(tmp) / "replay.db")
        statements = ours.pop("statements")
        replayed = ours["ops"] / replay(Path(tmp) / "replay.db", statements)
        old = (old_spends(args.old_tree, f"sqlite:///{Path(tmp) / 'old.db'}", args.users, args.ops, args.callers)
               if args.old_tree else None)
        naive = await naive_spends(Path(tmp) / "naive.db", args.users, args.naive_seconds, args.callers)
        ceiling = raw_ceiling(Path(tmp) / "raw.db", args.users, args.ops)
    print(f"sqlite ledger API   {ours['ops_per_s']:>10,.0f} spends/s  p50 {ours['p50_ms']:.2f} ms"
          f"  p99 {ours['p99_ms']:.2f} ms  ({args.callers} callers, {args.users} users, synchronous=FULL,"
          f" {ours['batches']} commits, batches in the database {ours['writer_share']:.0%} of the time,"
          f" verify {'ok' if ours['verify_ok'] else 'FAILED'})  {ours['ops_per_s'] / ceiling:.2f} of raw sqlite3")
    if old is not None:
        print(f"sqlite old store    {old['ops_per_s']:>10,.0f} spends/s  p50 {old['p50_ms']:.2f} ms"
              f"  p99 {old['p99_ms']:.2f} ms  ({args.old_tree}, the same run;"
              f" verify {'ok' if old['verify_ok'] else 'FAILED'})  {old['ops_per_s'] / ceiling:.2f} of raw sqlite3;"
              f" new/old {ours['ops_per_s'] / old['ops_per_s']:.2f}")
    print(f"sqlite naive        {naive['ops_per_s']:>10,.0f} spends/s  {naive['lock_errors']} 'database is locked'"
          " errors (new aiosqlite connection per spend)")
    print(f"raw sqlite3         {ceiling:>10,.0f} spends/s  (100 per commit, synchronous=FULL, no journal of ours)")
    print(f"our SQL, replayed   {replayed:>10,.0f} spends/s  {replayed / ceiling:.2f} of raw sqlite3: the writer's"
          f" {len(statements):,} statements of the run above, run again by plain sqlite3 in one thread (no event"
          f" loop, no driver thread, no ledger Python): the most any driver could do with this store's SQL;"
          f" the ledger API did {ours['ops_per_s'] / replayed:.2f} of it")
    loop_us, sql_us = ours["loop_cpu_s"] / ours["ops"] * 1e6, 1e6 / replayed
    turns = 1e6 / (loop_us + sql_us)
    print(f"the event loop      {loop_us:>10.1f} us of CPU a spend (the ledger's and the callers' Python, asyncio),"
          f" the SQL {sql_us:.1f} us a spend (replayed): a batch's operations run between its reads and its"
          f" writes, so the two take turns: at most {turns:,.0f} spends/s = {turns / ceiling:.2f} of raw sqlite3")
    print(json.dumps({"backend": "sqlite", "ops_per_s": round(ours["ops_per_s"]), "p50_ms": round(ours["p50_ms"], 2),
                      "p99_ms": round(ours["p99_ms"], 2), "naive_ops_per_s": round(naive["ops_per_s"]),
                      "naive_lock_errors": naive["lock_errors"], "ceiling_ops_per_s": round(ceiling),
                      "ceiling_ratio": round(ours["ops_per_s"] / ceiling, 2),
                      "replayed_ops_per_s": round(replayed), "replayed_ceiling_ratio": round(replayed / ceiling, 2),
                      "statements": len(statements), "loop_us_per_spend": round(loop_us, 1),
                      "turns_ceiling_ops_per_s": round(turns), "turns_ceiling_ratio": round(turns / ceiling, 2),
                      **({"old_ops_per_s": round(old["ops_per_s"]), "old_p99_ms": round(old["p99_ms"], 2),
                          "old_ceiling_ratio": round(old["ops_per_s"] / ceiling, 2)} if old else {})}))


async def main_pg(args: argparse.Namespace) -> None:
    import psycopg
    with psycopg.connect(args.db, autocommit=True) as conn:
        sync = conn.execute("SHOW synchronous_commit").fetchone()[0]
        fsync = conn.execute("SHOW fsync").fetchone()[0]
    empty_pg(args.db)
    await ledger_spends(args.db, args.users, 0, args.callers)  # the users, then a copy of the database as it is
    replay_url = pg_template_copy(args.db, "bench_replay")
    recorded: list[tuple[str, Any, Any, bool]] = []
    ours = await ledger_spends(args.db, args.users, args.ops, args.callers, setup=False,
                               record_pg=recorded)
    replayed = ours["ops"] / replay_pg(replay_url, recorded)
    print(f"postgresql ledger API {ours['ops_per_s']:>10,.0f} spends/s  p50 {ours['p50_ms']:.2f} ms"
          f"  p99 {ours['p99_ms']:.2f} ms  ({args.callers} callers, {args.users} users, synchronous_commit={sync},"
          f" fsync={fsync}, {ours['batches']} commits, batches in the database {ours['writer_share']:.0%} of the time,"
          f" verify {'ok' if ours['verify_ok'] else 'FAILED'})")
    out = {"backend": "postgresql", "ops_per_s": round(ours["ops_per_s"]), "p50_ms": round(ours["p50_ms"], 2),
           "p99_ms": round(ours["p99_ms"], 2)}
    if args.old_tree:
        empty_pg(args.db)
        old = old_spends(args.old_tree, args.db, args.users, args.ops, args.callers)
        print(f"postgresql old store  {old['ops_per_s']:>10,.0f} spends/s  p50 {old['p50_ms']:.2f} ms"
              f"  p99 {old['p99_ms']:.2f} ms  ({args.old_tree}, the same run;"
              f" verify {'ok' if old['verify_ok'] else 'FAILED'}); new/old {ours['ops_per_s'] / old['ops_per_s']:.2f}")
        out.update(old_ops_per_s=round(old["ops_per_s"]), old_p99_ms=round(old["p99_ms"], 2))
    if args.processes == 2:
        empty_pg(args.db)
        two = await two_processes(args.db, args.users, args.ops, args.callers)
        print(f"postgresql 2 processes {two['ops_per_s']:>9,.0f} spends/s together  p99 {two['p99_ms']:.2f} ms"
              f"  ({args.callers} callers each, {two['retries']} batches retried,"
              f" verify {'ok' if two['verify_ok'] else 'FAILED'})")
        out["two_processes_ops_per_s"] = round(two["ops_per_s"])
    ceiling = raw_pg_ceiling(args.db, args.users, args.ops)
    print(f"raw psycopg           {ceiling:>10,.0f} spends/s  (100 per commit as one UPDATE and one INSERT over arrays,"
          f" no journal of ours); the ledger API does {ours['ops_per_s'] / ceiling:.2f} of it")
    print(f"our SQL, replayed     {replayed:>10,.0f} spends/s  the writer's {len(recorded):,} statements of the run"
          f" above, run again by plain (synchronous) psycopg on a copy of the database as they found it, each"
          f" trip the store pipelined in one pipeline: the most any driver could do with this store's SQL from"
          f" one connection; the ledger API did {ours['ops_per_s'] / replayed:.2f} of it")
    loop_us = ours["loop_cpu_s"] / ours["ops"] * 1e6
    print(f"the event loop        {loop_us:>10.1f} us of CPU a spend (the ledger's and the callers' Python, asyncio,"
          f" psycopg): one process can do at most {1e6 / loop_us:,.0f} spends/s")
    out.update(replayed_ops_per_s=round(replayed), statements=len(recorded), loop_us_per_spend=round(loop_us, 1),
               loop_ceiling_ops_per_s=round(1e6 / loop_us))
    out["ceiling_ops_per_s"] = round(ceiling)
    out["ceiling_ratio"] = round(ours["ops_per_s"] / ceiling, 2)
    print(json.dumps(out))


if __name__ == "__main__":
    asyncio.run(main())

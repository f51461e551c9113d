"""`copy --force` onto a ledger in use: the target replaced whole, in one transaction.

The journal, deliveries and imported history are append-only by triggers on both backends, so
the old rows are never deleted one by one. Instead, on a connection of its own and inside one
transaction, the ledger's tables are dropped (SQLite and PostgreSQL drop a table without
running its row triggers) and created again at this code's schema, every row of the source is
inserted, and the target is verified and compared with the source, row by row. Only then is
it committed; a problem, an error or an interruption (the process killed: the transaction
never commits) leaves the target as it was.

- SQLite: `BEGIN IMMEDIATE` on the file; its views and the ledger's tables dropped,
  `user_version` set back to 0 and every migration run again.
- PostgreSQL: the migration and batch advisory locks (no bot batch and no migration runs
  meanwhile; a lock wait ends after 30 s); the ledger's tables dropped (CASCADE: the view over
  them too) with their trigger functions, then `schema_version` and every migration again.
  Tables of another application in the same schema are left as they are.

While it runs the target's writers wait (and give up after their lock wait): run it with the
bot stopped.
"""

from __future__ import annotations

import sqlite3
import time
from types import SimpleNamespace
from typing import Any, TextIO

from economy import copyrows, queries, schema
from economy.audit import CLI, Actor, record
from economy.copyrows import TABLES
from economy.ledger import Ledger
from economy.moving import CopyRefused, CopyReport, _say, after_copy, compare, storable
from economy.store import Found, Worker, is_postgres, redact_url, sqlite_path

LOCK_WAIT_S = 30


def _connect(url: str) -> Any:
    if is_postgres(url):
        from economy import pg
        db = pg.PgDb(pg.connect(url))
        db.execute(f"SET lock_timeout = {LOCK_WAIT_S * 1000}")
        return db
    db = sqlite3.connect(sqlite_path(url), isolation_level=None, timeout=LOCK_WAIT_S, check_same_thread=False)
    db.execute(f"PRAGMA busy_timeout = {LOCK_WAIT_S * 1000}")
    return db


def _rebuild_sqlite(db: sqlite3.Connection) -> None:
    db.execute("BEGIN IMMEDIATE")
    objects = db.execute("SELECT type, name FROM sqlite_master WHERE type IN ('view', 'table')"
                         " AND name NOT LIKE 'sqlite_%' ORDER BY type = 'table'").fetchall()
    for kind, name in objects:
        if kind == "view" or name in TABLES:
            db.execute(f'DROP {kind.upper()} "{name}"')
    db.execute("PRAGMA user_version = 0")
    schema.upgrade(db, 0)


def _rebuild_pg(db: Any) -> None:
    from economy import pg
    db.execute(f"BEGIN; SELECT pg_advisory_xact_lock({pg.MIGRATION_LOCK});"
               f" SELECT pg_advisory_xact_lock({pg.BATCH_LOCK})")
    ledger = sorted({*TABLES, "schema_version"} & {r[0] for r in db.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")})
    functions = [r[0] for r in db.execute(
        "SELECT DISTINCT p.oid::regprocedure::text FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid"
        " JOIN pg_class c ON c.oid = t.tgrelid WHERE NOT t.tgisinternal"
        " AND c.relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema())"
        " AND c.relname = ANY(?)", (ledger,))]
    if ledger:
        db.execute(f"DROP TABLE {', '.join(ledger)} CASCADE")
    if functions:
        db.execute(f"DROP FUNCTION {', '.join(functions)}")
    db.execute(pg.SCHEMA_VERSION_TABLE)
    pg.upgrade(db, 0)


def _audit(db: Any, actor: Actor, where: str, copied: dict[str, int]) -> int:
    """The replacement's audit row, inside its transaction (so it stands or falls with it)."""
    tx = SimpleNamespace(now=int(time.time()), write=db.execute)
    return record(tx, actor, "copy", amount=sum(copied.values()), unit="rows",
                  note=f"from {redact_url(where)} (replaced the target whole)")


def _end(db: Any, commit: bool) -> None:
    if isinstance(db, sqlite3.Connection):
        if db.in_transaction:
            db.execute("COMMIT" if commit else "ROLLBACK")
    elif commit:
        db.execute("COMMIT")
    else:
        db.rollback()


def _close(db: Any) -> None:
    (db if isinstance(db, sqlite3.Connection) else db.conn).close()


async def replace(src: Ledger, dst_url: str, found: Found, batch: int, progress: TextIO | None,
                  actor: Actor = CLI) -> CopyReport:
    """Replace the ledger at `dst_url` (`found` there) by the source's, whole or not at all."""
    _say(progress, f"replacing the ledger at {found.where} (schema {found.version}) whole, in one transaction")
    worker = Worker("replace")
    try:
        db = await worker.call(_connect, dst_url)
        try:
            return await _replace(src, worker, db, is_postgres(dst_url), batch, progress, actor)
        except CopyRefused:
            raise
        except Exception as exc:
            text = redact_url(str(exc).strip().splitlines()[0] if str(exc).strip() else "")
            raise CopyRefused(f"the target could not be replaced ({type(exc).__name__}: {text});"
                              " it was left as it was") from None
        finally:
            try:
                await worker.call(_end, db, False)
            finally:
                await worker.call(_close, db)
    finally:
        worker.stop()


async def _replace(src: Ledger, worker: Worker, db: Any, postgres: bool, batch: int,
                   progress: TextIO | None, actor: Actor) -> CopyReport:
    await worker.call(_rebuild_pg if postgres else _rebuild_sqlite, db)
    totals = await src.store.read(lambda d: {t: d.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in TABLES})
    copied: dict[str, int] = {}
    cleaned: list[str] = []
    for table in TABLES:
        names = await src.store.read(lambda d, t=table: copyrows.columns(d, t))
        sql = copyrows.insert(table, names)
        after: tuple[Any, ...] | None = None
        done = 0
        while rows := await src.store.read(lambda d, a=after, t=table, n=names: copyrows.page(d, t, n, a, batch)):
            await worker.call(db.executemany, sql, storable(table, names, rows, cleaned))
            done += len(rows)
            after = rows[-1][:len(TABLES[table])]
            _say(progress, f"{table}: {done:,}/{totals[table]:,}")
        copied[table] = done
    await worker.call(after_copy, db)
    where = src.store.found.where if src.store.found is not None else "the source"
    own = await worker.call(_audit, db, actor, where, copied)
    problems = [f"target: {p}" for p in await worker.call(queries.verify, db)]
    problems += await compare(src, lambda query: worker.call(query, db), batch, own)
    if problems:
        problems.append("the target was left as it was: the replacement was rolled back")
        return CopyReport(copied, problems, False, cleaned)
    started = time.monotonic()
    await worker.call(_end, db, True)
    _say(progress, f"committed in {time.monotonic() - started:.1f} s")
    return CopyReport(copied, [], False, cleaned, replaced=True)

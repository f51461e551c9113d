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

import time
from types import SimpleNamespace
from typing import Any, TextIO

from economy import copyrows, queries, storage
from economy.audit import CLI, Actor, record
from economy.copyrows import TABLES
from economy.ledger import Ledger
from economy.copying import CopyRefused, CopyReport, _counts, _say, after_copy, compare, storable
from economy.storage import Found, redact_url

LOCK_WAIT_S = 30


async def _audit(db: Any, actor: Actor, where: str, copied: dict[str, int]) -> int:
    """The replacement's audit row, inside its transaction (so it stands or falls with it)."""
    tx = SimpleNamespace(now=int(time.time()), write=db.execute)
    return await record(tx, actor, "copy", amount=sum(copied.values()), unit="rows",
                        note=f"from {redact_url(where)} (replaced the target whole)")


async def replace(src: Ledger, dst_url: str, found: Found, batch: int, progress: TextIO | None,
                  actor: Actor = CLI) -> CopyReport:
    """Replace the ledger at `dst_url` (`found` there) by the source's, whole or not at all."""
    _say(progress, f"replacing the ledger at {found.where} (schema {found.version}) whole, in one transaction")
    db = await storage.connect(dst_url, LOCK_WAIT_S)
    try:
        return await _replace(src, db, batch, progress, actor)
    except CopyRefused:
        raise
    except Exception as exc:  # noqa: BLE001 - the driver's: the transaction is rolled back
        text = redact_url(str(exc).strip().splitlines()[0] if str(exc).strip() else "")
        raise CopyRefused(f"the target could not be replaced ({type(exc).__name__}: {text});"
                          " it was left as it was") from None
    finally:
        try:
            await db.end(False)
        finally:
            await db.close()


async def _replace(src: Ledger, db: Any, batch: int, progress: TextIO | None, actor: Actor) -> CopyReport:
    await db.rebuild(set(TABLES))
    totals = await src.store.read(_counts)
    copied: dict[str, int] = {}
    cleaned: list[str] = []
    for table in TABLES:
        names = await src.store.read(lambda d, t=table: copyrows.columns(d, t))
        sql = copyrows.insert(table, names)
        after: tuple[Any, ...] | None = None
        done = 0
        while rows := await src.store.read(lambda d, a=after, t=table, n=names: copyrows.page(d, t, n, a, batch)):
            await db.executemany(sql, storable(table, names, rows, cleaned))
            done += len(rows)
            after = rows[-1][:len(TABLES[table])]
            _say(progress, f"{table}: {done:,}/{totals[table]:,}")
        copied[table] = done
    await after_copy(db)
    where = src.store.found.where if src.store.found is not None else "the source"
    own = await _audit(db, actor, where, copied)
    problems = [f"target: {p}" for p in await queries.verify(db)]

    async def read_target(query: Any) -> Any:
        return await query(db)

    problems += await compare(src, read_target, batch, own)
    if problems:
        problems.append("the target was left as it was: the replacement was rolled back")
        return CopyReport(copied, problems, False, cleaned)
    started = time.monotonic()
    await db.end(True)
    _say(progress, f"committed in {time.monotonic() - started:.1f} s")
    return CopyReport(copied, [], False, cleaned, replaced=True)

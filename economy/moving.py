"""Moving a whole ledger between backends: `python -m economy copy SRC_URL DST_URL`.

Every table is copied in primary-key order, in batches, each batch one write of the target's
group commit (so another process writing the target waits its turn, as for any batch). Rows
already in the target are left as they are (the journal is append-only) and cached rows
(wallets, system accounts, top spenders) take the source's values, so a copy that was
interrupted and is run again completes without doubling anything. A marker in the target
says a copy from this source is under way; a non-empty target without it is refused unless
`force`. At the end the target is verified and every balance and the journal count are
compared with the source's.

Run it with the bot stopped (or pointed elsewhere): a source that changes while it is copied
shows up as a difference at the end.
"""

from __future__ import annotations

import hashlib
import sys
from dataclasses import dataclass
from typing import Any, TextIO

from economy.ledger import Ledger
from economy.store import redact_url

#: table -> (primary key columns, what a row already in the target becomes: "keep" or "update").
#: Foreign keys point backwards in this order.
TABLES: dict[str, tuple[tuple[str, ...], str]] = {
    "users": (("user_id",), "keep"),
    "wallets": (("user_id",), "update"),
    "accounts": (("id",), "update"),
    "content": (("content_id",), "keep"),
    "entitlements": (("user_id", "item", "ref"), "keep"),
    "transfers": (("id",), "keep"),
    "deliveries": (("transfer_id",), "keep"),
    "support_messages": (("id",), "keep"),
    "idempotency": (("key",), "keep"),
    "top_spenders": (("user_id",), "update"),
    "api_keys": (("name",), "keep"),
    "legacy_imports": (("source", "old_id"), "keep"),
    "legacy_history": (("id",), "keep"),
}
#: Tables whose rows say the ledger is in use.
CONTENTFUL = ("users", "transfers", "content", "support_messages", "idempotency")


class CopyRefused(Exception):
    """The copy cannot start (a non-empty target, a table it does not know)."""


@dataclass
class CopyReport:
    rows: dict[str, int]
    problems: list[str]
    resumed: bool


def _marker(src: str) -> str:
    return "copy:" + hashlib.sha256(redact_url(str(src)).encode()).hexdigest()[:16]


def _tables(db: Any) -> set[str]:
    import sqlite3
    if isinstance(db, sqlite3.Connection):
        rows = db.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
    else:
        rows = db.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
    return {r[0] for r in rows} - {"schema_version"}


def _columns(db: Any, table: str) -> list[str]:
    cur = db.execute(f"SELECT * FROM {table} LIMIT 0")
    return [d[0] for d in cur.description]


async def copy_ledger(src_url: str, dst_url: str, *, force: bool = False, batch: int = 5000,
                      progress: TextIO | None = sys.stderr) -> CopyReport:
    src = await Ledger.open(src_url)
    try:
        dst = await Ledger.open(dst_url)
        try:
            return await _copy(src, dst, src_url, force, batch, progress)
        finally:
            await dst.close()
    finally:
        await src.close()


def _say(progress: TextIO | None, text: str) -> None:
    if progress is not None:
        print(text, file=progress, flush=True)


async def _copy(src: Ledger, dst: Ledger, src_url: str, force: bool, batch: int,
                progress: TextIO | None) -> CopyReport:
    marker = _marker(src_url)
    unknown = await src.store.read(_tables) - set(TABLES)
    if unknown:
        raise CopyRefused(f"the source has tables this copy does not know: {', '.join(sorted(unknown))}")

    def state(db: Any) -> tuple[int, bool]:
        used = sum(db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in CONTENTFUL)
        mine = db.execute("SELECT COUNT(*) FROM idempotency WHERE key = ?", (marker,)).fetchone()[0]
        return used - mine, bool(mine)

    used, resumed = await dst.store.read(state)
    if used and not resumed and not force:
        raise CopyRefused("the target is not empty (it has users or a journal); pass --force to copy into it anyway")
    if resumed:
        _say(progress, "resuming the copy this source had begun")
    else:
        await dst.store.write(lambda tx: tx.write("INSERT INTO idempotency VALUES (?, 'copy', '{}', ?, NULL)",
                                                  (marker, tx.now)), None, "copy-marker")
    totals = await src.store.read(lambda db: {t: db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in TABLES})
    copied: dict[str, int] = {}
    for table, (key, existing) in TABLES.items():
        columns = await src.store.read(lambda db, t=table: _columns(db, t))
        copied[table] = await _copy_table(src, dst, table, columns, key, existing, batch, totals[table], progress)
    await dst.store.write(_after_copy, None, "copy-done")
    await dst.store.write(lambda tx: tx.write("DELETE FROM idempotency WHERE key = ?", (marker,)), None, "copy-end")
    problems = [f"target: {p}" for p in await dst.verify()]
    problems += await compare(src, dst)
    return CopyReport(copied, problems, resumed)


async def _copy_table(src: Ledger, dst: Ledger, table: str, columns: list[str], key: tuple[str, ...],
                      existing: str, batch: int, total: int, progress: TextIO | None) -> int:
    names = ", ".join(columns)
    order = ", ".join(key)
    marks = ", ".join("?" * len(columns))
    if existing == "update":
        rest = [c for c in columns if c not in key]
        conflict = f"ON CONFLICT ({order}) DO UPDATE SET " + ", ".join(f"{c} = excluded.{c}" for c in rest)
    else:
        conflict = "ON CONFLICT DO NOTHING"
    insert = f"INSERT INTO {table} ({names}) VALUES ({marks}) {conflict}"
    positions = [columns.index(k) for k in key]
    after: tuple[Any, ...] | None = None
    done = 0
    while True:
        def page(db: Any, after: tuple[Any, ...] | None = after) -> list[tuple[Any, ...]]:
            where = ""
            if after is not None:
                where = f"WHERE ({order}) > ({', '.join('?' * len(key))})" if len(key) > 1 else f"WHERE {order} > ?"
            return [tuple(r) for r in db.execute(f"SELECT {names} FROM {table} {where} ORDER BY {order} LIMIT ?",
                                                 (*(after or ()), batch))]

        rows = await src.store.read(page)
        if not rows:
            break

        def write(tx: Any, rows: list[tuple[Any, ...]] = rows) -> int:
            tx.db.executemany(insert, rows)
            tx.dirty = True
            return len(rows)

        done += await dst.store.write(write, None, f"copy-{table}")
        after = tuple(rows[-1][p] for p in positions)
        _say(progress, f"{table}: {done:,}/{total:,}")
    return done


def _after_copy(tx: Any) -> None:
    """PostgreSQL hands out support message ids from a sequence: move it past the copied ones."""
    import sqlite3
    if not isinstance(tx.db, sqlite3.Connection):
        tx.write("SELECT setval(pg_get_serial_sequence('support_messages', 'id'),"
                 " GREATEST((SELECT MAX(id) FROM support_messages), 1))")


async def compare(src: Ledger, dst: Ledger) -> list[str]:
    """Every account's balance, debits and credits, and each table's row count, source vs target."""
    def figures(db: Any) -> tuple[list[tuple[Any, ...]], dict[str, int]]:
        accounts = [tuple(r) for r in db.execute(
            "SELECT id, balance, debits, credits FROM all_accounts ORDER BY id")]
        return accounts, {t: db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in TABLES}

    (a_src, n_src), (a_dst, n_dst) = await src.store.read(figures), await dst.store.read(figures)
    problems = [f"{t}: {n_src[t]} rows in the source, {n_dst[t]} in the target" for t in TABLES if n_src[t] != n_dst[t]]
    if a_src != a_dst:
        theirs = dict((r[0], r[1:]) for r in a_dst)
        diff = [r[0] for r in a_src if theirs.get(r[0]) != r[1:]]
        problems.append(f"{len(diff) or 'some'} accounts differ, e.g. {diff[:5]}")
    return problems


"""Moving a whole ledger between backends: `python -m economy copy SRC_URL DST_URL`.

The source is opened read only: it must be a ledger at this code's schema with something in
it (a missing, empty or foreign source is refused, never created). The target is one of:

- **missing or empty** (or a ledger with nothing in it): every table is copied in key order,
  in batches, each batch one write of the target's group commit. A marker in the target says
  a copy from this source is under way; run again after an interruption, it resumes: every row
  is written again as an upsert, so a row the source changed since (a key revoked, a delivery
  settled, a ticket answered, a username changed) takes the source's values, and a row the
  source dropped (an expired key, an entitlement) goes; only append-only rows (the journal,
  imported history) are never rewritten.
- **a ledger in use**: refused unless `force`, which replaces it whole in one transaction
  (economy/replacing.py): its tables dropped and created again at this code's schema, every
  row copied, then verified and compared with the source before COMMIT; any problem and it
  rolls back, the target left as it was. Never a merge of two journals.
- **not a ledger** (another application's tables) or a ledger at a newer schema: refused.

At the end the target is verified and every table compared with the source by a digest of
every row (economy/copyrows.py). Text neither backend can store (a NUL, a lone surrogate in an
old SQLite file) is replaced by U+FFFD and each such row reported.

Run it with the bot stopped (or pointed elsewhere): a source that changes while it is copied
shows up as a difference at the end.
"""

from __future__ import annotations

import hashlib
import sys
from dataclasses import dataclass, field
from typing import Any, TextIO

from economy import copyrows, queries
from economy.audit import CLI, Actor, record
from economy.copyrows import CONTENTFUL, PRUNED, TABLES
from economy.ledger import Ledger
from economy.schema import SchemaMismatch
from economy.store import Found, is_postgres, look, redact_url, sqlite_path

__all__ = ["TABLES", "CopyRefused", "CopyReport", "copy_ledger"]


class CopyRefused(Exception):
    """The copy cannot start (a missing or empty source, a target in use, not a ledger ...)."""


@dataclass
class CopyReport:
    rows: dict[str, int]
    problems: list[str]
    resumed: bool
    #: rows whose text was cleaned to be stored: one line each
    cleaned: list[str] = field(default_factory=list)
    #: the target was a ledger in use, replaced whole (`force`)
    replaced: bool = False


def _marker(src: str) -> str:
    return "copy:" + hashlib.sha256(redact_url(str(src)).encode()).hexdigest()[:16]


def _tables(db: Any) -> set[str]:
    import sqlite3
    if isinstance(db, sqlite3.Connection):
        rows = db.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
    else:
        rows = db.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
    return {r[0] for r in rows} - {"schema_version"}


def _used(db: Any, marker: str | None = None) -> int:
    """Rows that say the ledger is in use (the copy's own marker not counted)."""
    used = sum(db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in CONTENTFUL)
    if marker is not None:
        used -= db.execute("SELECT COUNT(*) FROM idempotency WHERE key = ?", (marker,)).fetchone()[0]
    return used  # type: ignore[no-any-return]


def _same(a: str, b: str) -> bool:
    if is_postgres(a) or is_postgres(b):
        return is_postgres(a) and is_postgres(b) and redact_url(a) == redact_url(b)
    return sqlite_path(a).resolve() == sqlite_path(b).resolve()


def _say(progress: TextIO | None, text: str) -> None:
    if progress is not None:
        print(text, file=progress, flush=True)


async def copy_ledger(src_url: str, dst_url: str, *, force: bool = False, batch: int = 5000,
                      progress: TextIO | None = sys.stderr, actor: Actor = CLI) -> CopyReport:
    """The copy is audited in the target (`actor`, "cli" by default), in the transaction that
    completes it; compare() leaves that one row out (the source has no such row)."""
    if _same(src_url, dst_url):
        raise CopyRefused("the source and the target are the same database")
    try:
        src = await Ledger.open(src_url, read_only=True)
    except SchemaMismatch as exc:
        raise CopyRefused(f"the source: {exc}") from None
    try:
        unknown = await src.store.read(_tables) - set(TABLES)
        if unknown:
            raise CopyRefused(f"the source has tables this copy does not know: {', '.join(sorted(unknown))}")
        if not await src.store.read(_used):
            raise CopyRefused(f"the source {src.store.found.where if src.store.found else redact_url(src_url)} is a ledger"
                              " with nothing in it (no users, journal, content or keys): nothing to copy")
        found = await look(dst_url)
        _check_target(found, force)
        if found.kind == "ledger" and force:
            from economy.replacing import replace
            return await replace(src, dst_url, found, batch, progress, actor)
        dst = await Ledger.open(dst_url)
        try:
            return await _copy(src, dst, src_url, batch, progress, actor)
        finally:
            await dst.close()
    finally:
        await src.close()


def _check_target(found: Found, force: bool) -> None:
    if found.kind == "foreign":
        raise CopyRefused(f"the target: {found.problem()}; copy never writes over another application's database")
    if found.kind == "ledger" and found.version > found.current:
        raise CopyRefused(f"the target: {found.problem()}")
    if found.kind == "ledger" and found.version < found.current and not force:
        # (a copy this code began is at its schema: only a ledger of an older bot is here)
        raise CopyRefused(f"the target {found.where} is a ledger of an older version (schema {found.version},"
                          f" this code's {found.current}): pass --force to replace it whole")


async def _copy(src: Ledger, dst: Ledger, src_url: str, batch: int, progress: TextIO | None,
                actor: Actor) -> CopyReport:
    marker = _marker(src_url)

    def state(db: Any) -> tuple[int, bool]:
        mine = db.execute("SELECT COUNT(*) FROM idempotency WHERE key = ?", (marker,)).fetchone()[0]
        return _used(db, marker), bool(mine)

    used, resumed = await dst.store.read(state)
    if used and not resumed:
        raise CopyRefused("the target is not empty (it has users or a journal); pass --force to replace it whole")
    if resumed:
        _say(progress, "resuming the copy this source had begun")
        # A username may have moved from one user to another on the source since: let go of
        # the target's, each takes the source's again with its row (usernames are unique).
        await dst.store.write(lambda tx: tx.write("UPDATE users SET username = NULL WHERE username IS NOT NULL"),
                              None, "copy-usernames")
    else:
        await dst.store.write(lambda tx: tx.write("INSERT INTO idempotency VALUES (?, 'copy', '{}', ?, NULL)",
                                                  (marker, tx.now)), None, "copy-marker")
    totals = await src.store.read(lambda db: {t: db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in TABLES})
    copied: dict[str, int] = {}
    cleaned: list[str] = []
    for table in TABLES:
        names = await src.store.read(lambda db, t=table: copyrows.columns(db, t))
        copied[table] = await _copy_table(src, dst, table, names, batch, totals[table], cleaned, progress)
        await _drop_gone(src, dst, table, batch, marker)
    await dst.store.write(lambda tx: after_copy(tx.db), None, "copy-done")

    def end(tx: Any) -> int:
        tx.write("DELETE FROM idempotency WHERE key = ?", (marker,))
        return audit_copy(tx, actor, src_url, copied, resumed)

    own = await dst.store.write(end, None, "copy-end")
    problems = [f"target: {p}" for p in await dst.store.read(queries.verify)]
    problems += await compare(src, lambda query: dst.store.read(query), batch, own)
    return CopyReport(copied, problems, resumed, cleaned)


async def _copy_table(src: Ledger, dst: Ledger, table: str, names: list[str], batch: int, total: int,
                      cleaned: list[str], progress: TextIO | None) -> int:
    sql = copyrows.insert(table, names)
    after: tuple[Any, ...] | None = None
    done = 0
    while rows := await src.store.read(lambda db, a=after: copyrows.page(db, table, names, a, batch)):
        clean = storable(table, names, rows, cleaned)

        def write(tx: Any, clean: list[tuple[Any, ...]] = clean) -> int:
            tx.db.executemany(sql, clean)
            tx.dirty = True
            return len(clean)

        done += await dst.store.write(write, None, f"copy-{table}")
        after = rows[-1][:len(TABLES[table])]
        _say(progress, f"{table}: {done:,}/{total:,}")
    return done


def storable(table: str, names: list[str], rows: list[tuple[Any, ...]], cleaned: list[str]) -> list[tuple[Any, ...]]:
    """The rows with their texts cleaned (copyrows.clean), each cleaned row noted in `cleaned`."""
    cols = copyrows.ordered(table, names)
    width = len(TABLES[table])
    out = []
    for row in rows:
        row2, notes = copyrows.clean(row)
        for i, why in notes:
            cleaned.append(f"cleaned: {table} {copyrows.shown(row2[:width])} {cols[i]}: {why} replaced by U+FFFD")
        out.append(row2)
    return out


async def _drop_gone(src: Ledger, dst: Ledger, table: str, batch: int, marker: str) -> None:
    """Rows of the target the source no longer has (an expired key, a lost entitlement, a
    top-spender who dropped out), found by key when the target has more rows than the source.
    Other tables never lose rows: a difference there is reported by compare()."""
    if table not in PRUNED:
        return
    count = f"SELECT COUNT(*) FROM {table}"
    skip = 1 if table == "idempotency" else 0  # the marker
    if await dst.store.read(lambda db: db.execute(count).fetchone()[0]) - skip <= \
            await src.store.read(lambda db: db.execute(count).fetchone()[0]):
        return
    theirs = await src.store.read(lambda db: copyrows.keys(db, table, batch))
    ours = await dst.store.read(lambda db: copyrows.keys(db, table, batch))
    gone = sorted(k for k in ours - theirs if not (table == "idempotency" and k == (marker,)))
    key = TABLES[table]
    sql = f"DELETE FROM {table} WHERE {' AND '.join(f'{c} = ?' for c in key)}"
    for start in range(0, len(gone), batch):
        def delete(tx: Any, keys: list[tuple[Any, ...]] = gone[start:start + batch]) -> None:
            tx.db.executemany(sql, keys)
            tx.dirty = True
        await dst.store.write(delete, None, f"copy-{table}-gone")


def after_copy(db: Any) -> None:
    """PostgreSQL hands out support message, audit and broadcast ids from sequences: move them
    past the copied ones."""
    import sqlite3
    if not isinstance(db, sqlite3.Connection):
        for table in ("support_messages", "audit", "broadcasts"):
            db.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                       f" GREATEST((SELECT MAX(id) FROM {table}), 1))")


def audit_copy(tx: Any, actor: Actor, src_url: str, copied: dict[str, int], resumed: bool) -> int:
    """The copy's own audit row in the target; returns its id (left out of compare())."""
    rows = sum(copied.values())
    return record(tx, actor, "copy", amount=rows, unit="rows",
                  note=f"from {redact_url(str(src_url))}{' (resumed)' if resumed else ''}")


async def compare(src: Ledger, read_target: Any, batch: int, own_audit: int | None = None) -> list[str]:
    """Every table of the target against the source's, row by row (a digest of every row);
    `own_audit`: the id of the copy's own audit row in the target, left out."""
    problems = []
    for table in TABLES:
        skip = (own_audit,) if table == "audit" and own_audit is not None else None
        names = await src.store.read(lambda db, t=table: copyrows.columns(db, t))
        theirs = await src.store.read(lambda db, t=table: copyrows.digest(db, t, names, batch))
        ours = await read_target(lambda db, t=table, s=skip: copyrows.digest(db, t, names, batch, s))
        if theirs[0] != ours[0]:
            problems.append(f"{table}: {theirs[0]} rows in the source, {ours[0]} in the target")
        elif theirs != ours:
            problems.append(f"{table}: {theirs[0]} rows on both sides, but some differ")
    return problems

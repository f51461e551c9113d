"""The rows `copy` moves: which tables, read in key order and in pages, their text made storable
on either backend, written with an upsert, and compared by a digest of every row.

A digest is computed the same way from both backends: each row (its columns by name, the
values as Python reads them: int, str or None) hashed on its own and the hashes added up, so
the order in which each database sorts its keys (collations) does not matter.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from economy.storage import Db

#: table -> primary key columns. Foreign keys point backwards in this order.
TABLES: dict[str, tuple[str, ...]] = {
    "users": ("user_id",),
    "wallets": ("user_id",),
    "accounts": ("id",),
    "content": ("content_id",),
    "entitlements": ("user_id", "item", "ref"),
    "transfers": ("id",),
    "deliveries": ("transfer_id",),
    "notices": ("transfer_id",),
    "support_messages": ("id",),
    "idempotency": ("key",),
    "top_spenders": ("user_id",),
    "api_keys": ("name",),
    "legacy_imports": ("source", "old_id"),
    "legacy_history": ("id",),
    "audit": ("id",),
    "gifts": ("transfer_id",),
    "reminders": ("kind", "user_id", "ref"),
    "broadcasts": ("id",),
    "broadcast_recipients": ("broadcast_id", "user_id"),
}
#: Rows the database never lets change or go (triggers): copied once, never rewritten.
APPEND_ONLY = frozenset({"transfers", "legacy_history", "audit", "gifts"})
#: Rows that may change only while this holds in the target (a delivery's outcome is final).
CHANGEABLE_WHILE = {"deliveries": "deliveries.state = 'pending'", "notices": "notices.state = 'pending'",
                    "reminders": "reminders.state = 'pending'",
                    "broadcast_recipients": "broadcast_recipients.state IN ('pending', 'sending')"}
#: Tables the ledger itself deletes rows from (expired keys, entitlements, top spenders who
#: dropped out): a resumed copy deletes there what the source no longer has.
PRUNED = frozenset({"entitlements", "idempotency", "top_spenders"})
#: Tables whose rows say a ledger is in use.
CONTENTFUL = ("users", "transfers", "content", "support_messages", "idempotency", "api_keys", "legacy_history",
              "audit")

_MOD = 1 << 128
_SURROGATE = re.compile("[\ud800-\udfff]")
Row = tuple[Any, ...]


class _Mended(str):
    """A text that was not valid UTF-8 as the file held it (a lone surrogate's bytes)."""


def _lenient(data: bytes) -> str:
    """SQLite's text as str even when it is not valid UTF-8: a lone surrogate becomes U+FFFD."""
    try:
        return data.decode()
    except UnicodeDecodeError:
        pass
    try:
        text = _SURROGATE.sub("\ufffd", data.decode("utf-8", "surrogatepass"))
    except UnicodeDecodeError:
        text = data.decode("utf-8", "replace")
    return _Mended(text)


async def rows(db: Db, sql: str, params: tuple[Any, ...] = ()) -> list[Row]:
    """The rows of one query, SQLite's texts read leniently (see _lenient)."""
    return await db.lenient(sql, params, _lenient)


def clean(row: Row) -> tuple[Row, list[tuple[int, str]]]:
    """The row with every text either backend can store (a NUL or a lone surrogate replaced by
    U+FFFD: PostgreSQL refuses the first, neither driver writes the second), and what was
    replaced: (column position, why)."""
    out: list[Any] = []
    notes: list[tuple[int, str]] = []
    for i, value in enumerate(row):
        if isinstance(value, str):
            why = []
            if isinstance(value, _Mended):
                why.append("bytes that are not UTF-8 (a lone surrogate)")
                value = str.__str__(value)
            if "\x00" in value:
                why.append("a NUL")
                value = value.replace("\x00", "\ufffd")
            if why:
                notes.append((i, " and ".join(why)))
        out.append(value)
    return tuple(out), notes


async def columns(db: Db, table: str) -> list[str]:
    return await db.columns(table)


async def page(db: Any, table: str, names: list[str], after: Row | None, limit: int) -> list[Row]:
    """The next `limit` rows after key `after`, in key order (the key columns first)."""
    key = TABLES[table]
    order = ", ".join(key)
    where = ""
    if after is not None:
        where = f"WHERE ({order}) > ({', '.join('?' * len(key))})" if len(key) > 1 else f"WHERE {order} > ?"
    wanted = ", ".join([*key, *(n for n in names if n not in key)])
    return await rows(db, f"SELECT {wanted} FROM {table} {where} ORDER BY {order} LIMIT ?", (*(after or ()), limit))


def ordered(table: str, names: list[str]) -> list[str]:
    """The column names as `page` returns them: the key first."""
    key = TABLES[table]
    return [*key, *(n for n in names if n not in key)]


def insert(table: str, names: list[str]) -> str:
    """An upsert of rows as `page` returns them: a row already there takes the source's values
    (a revoked key, a settled delivery, an answered ticket), unless the table is append-only."""
    key = TABLES[table]
    cols = ordered(table, names)
    head = f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
    rest = [c for c in cols if c not in key]
    if table in APPEND_ONLY or not rest:
        return f"{head} ON CONFLICT DO NOTHING"
    changed = " OR ".join(f"{table}.{c} IS DISTINCT FROM excluded.{c}" for c in rest)
    guard = f" AND {CHANGEABLE_WHILE[table]}" if table in CHANGEABLE_WHILE else ""
    return (f"{head} ON CONFLICT ({', '.join(key)}) DO UPDATE SET {', '.join(f'{c} = excluded.{c}' for c in rest)}"
            f" WHERE ({changed}){guard}")


def row_hash(row: Row) -> int:
    return int.from_bytes(hashlib.blake2b(repr(row).encode("utf-8", "surrogatepass"), digest_size=16).digest(), "big")


async def digest(db: Any, table: str, names: list[str], batch: int, skip: Row | None = None) -> tuple[int, int]:
    """(rows, digest) of a table, read whole in pages (run it inside one read transaction),
    each row as the copy writes it (cleaned); `skip`: a key left out (the copy's marker)."""
    count = total = 0
    after: Row | None = None
    width = len(TABLES[table])
    while chunk := await page(db, table, names, after, batch):
        for row in chunk:
            if skip is not None and row[:width] == skip:
                continue
            count += 1
            total = (total + row_hash(clean(row)[0])) % _MOD
        after = chunk[-1][:width]
    return count, total


async def keys(db: Any, table: str, batch: int) -> set[Row]:
    """Every key of a table."""
    key = TABLES[table]
    found: set[Row] = set()
    after: Row | None = None
    while chunk := await page(db, table, list(key), after, batch):
        found.update(clean(r)[0] for r in chunk)
        after = chunk[-1]
    return found


def shown(key: Row) -> str:
    """A row's key for a message: 5, 'v1' or (7, 'vip', '')."""
    return repr(key[0]) if len(key) == 1 else repr(key)

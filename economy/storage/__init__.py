"""Where the ledger lives: SQLite (the embedded default, on aiosqlite) or PostgreSQL (on
psycopg's AsyncConnection), behind one Store. Nothing outside this package knows which one:
it opens a store, a plain connection (`connect`) or a look (`look`) from a DATABASE_URL.

base.py    the group commit and the reader, both backends  batch.py   one batch's transaction
sqlite.py  aiosqlite, public API only                      postgres.py  psycopg's AsyncConnection
schema.py  what both schemas share; schema_sqlite.py and schema_postgres.py their DDL per version
urls.py    what a DATABASE_URL names
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from economy.storage.base import DatabaseUnavailable, Db, Found, Rows, Store
from economy.storage.batch import Moved, Tx
from economy.storage.schema import SchemaMismatch
from economy.storage.urls import DEFAULT_URL, is_postgres, path_from_url, redact_url, same_database, sqlite_path

__all__ = [
    "DEFAULT_URL", "DatabaseUnavailable", "Db", "FileError", "damaged", "Found", "Moved", "Rows", "SchemaMismatch", "Store", "Tx",
    "check_url", "connect", "look", "open_failure", "open_store", "redact_url", "same_database",
]


def check_url(url: str) -> str:
    """Refuse a DATABASE_URL neither store can open (ValueError, password never in it)."""
    if is_postgres(url):
        from economy.storage.postgres import check_pg_url
        check_pg_url(url)
    else:
        path_from_url(url)
    return url


def open_store(where: str | Path, **options: Any) -> Store:
    """A store for `where`: a `postgresql://`/`postgres://` URL, a `sqlite:///` URL or a path.
    `read_only=True`: a reader only, on a ledger at this code's schema (SchemaMismatch if not).
    Each backend is imported when it is asked for (a SQLite bot never loads psycopg)."""
    if is_postgres(where):
        from economy.storage.postgres import PgStore
        options.pop("busy_timeout_ms", None)
        options.pop("synchronous", None)
        return PgStore(str(where), **options)
    from economy.storage.sqlite import SqliteStore
    return SqliteStore(sqlite_path(where), **options)


async def look(where: str | Path) -> Found:
    """What is at `where`, read without writing a byte (nor creating a file or a table)."""
    if is_postgres(where):
        from economy.storage import postgres
        return await postgres.look(str(where))
    from economy.storage import sqlite
    return await sqlite.look(sqlite_path(where))


async def connect(where: str | Path, lock_wait_s: float = 30.0) -> Any:
    """A plain connection (a Db, in autocommit, waiting at most `lock_wait_s` for a lock), for
    tools that work beside the group commit (copy --force: its `rebuild(tables)` and `end(commit)`)."""
    if is_postgres(where):
        from economy.storage import postgres
        return await postgres.connect(str(where), lock_wait_s)
    from economy.storage import sqlite
    return await sqlite.connect(sqlite_path(where), int(lock_wait_s * 1000))


#: what a database file that cannot be opened or read raises (SQLite's; PostgreSQL's own
#: failures to start are DatabaseUnavailable)
FileError = sqlite3.DatabaseError


def damaged(exc: BaseException) -> bool:
    """A file whose pages are damaged (not one that cannot be opened)."""
    return isinstance(exc, sqlite3.DatabaseError) and not isinstance(exc, sqlite3.OperationalError)


def open_failure(where: str, exc: BaseException) -> str:
    """One line about a database file that cannot be opened or read (for a start-up error)."""
    if not damaged(exc):
        return f"cannot open the database {where}: {exc}"
    return (f"the database {where} is damaged ({exc}): restore it from a backup"
            " (`python -m economy verify` tells what is wrong)")

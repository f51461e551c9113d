"""The SQLite store: one file in WAL mode, on aiosqlite's public API.

Three connections (aiosqlite runs each in a thread of its own): the writer, which runs the
group commit's batches and the migrations; the reader; and a checkpointer that copies the WAL
back into the file beside the commits, so they never stop for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

from economy.errors import StorageBusy
from economy.storage import schema_sqlite
from economy.storage.base import Found, OneStatement, Rows, Store, retry_locked
from economy.storage.batch import Dialect, NeedSavepoints, Request, run_batch
from economy.storage.schema import SchemaMismatch

log = logging.getLogger(__name__)
T = TypeVar("T")

#: Small pages: a batch dirties one page per touched account, and the WAL (and its fsync)
#: carries whole pages, so smaller pages mean fewer bytes per commit.
CHECKPOINT_EVERY = 4
RESET_WAL_EVERY = 16
PAGE_SIZE = 1024
#: Reader connections: reads run side by side (WAL lets readers go on beside the writer).
READERS = 3
VERSION = schema_sqlite.VERSION

_ROWS: dict[str, bool] = {}


def _returns_rows(sql: str) -> bool:
    """Whether a statement gives rows back (read in the same hop as it runs)."""
    found = _ROWS.get(sql)
    if found is None:
        head = sql.lstrip()[:7].upper()
        found = _ROWS[sql] = head.startswith(("SELECT", "WITH", "PRAGMA", "VALUES")) or "RETURNING" in sql.upper()
    return found


def is_locked(exc: BaseException) -> bool:
    return isinstance(exc, sqlite3.OperationalError) and ("locked" in str(exc) or "busy" in str(exc))


class SqliteDialect(Dialect):
    integrity_errors = (sqlite3.IntegrityError,)
    #: a surrogate cannot be encoded; SQLITE_TOOBIG; an int past 64 bits. Never a lock or a lost file.
    data_errors = (sqlite3.DataError, UnicodeError, OverflowError)


SQLITE = SqliteDialect()


def _lenient_text(data: bytes) -> str:
    return data.decode("utf-8", "surrogatepass")


class SqliteDb:
    """An aiosqlite connection as the batch code, queries and migrations see it: each
    statement one hop to the driver's thread (rows read in that hop)."""

    __slots__ = ("conn",)
    #: how the batch code spells its bulk statements here
    dialect: Dialect = SQLITE

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self.conn = conn

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> Rows:
        if _returns_rows(sql):
            return Rows(await self.conn.execute_fetchall(sql, params))  # type: ignore[arg-type]
        cur = await self.conn.execute(sql, params)
        return Rows((), cur.rowcount)

    async def executemany(self, sql: str, params: Sequence[Sequence[Any]]) -> None:
        await self.conn.executemany(sql, params)

    async def together(self, steps: Sequence[Awaitable[T]]) -> list[T]:
        """Run these statements (coroutines of this connection, not started yet) back to back
        on the driver's thread: each is queued as its task starts, in order, so the thread goes
        from one to the next without waiting for the event loop. All run even if one fails;
        then the first failure is raised."""
        done = await asyncio.gather(*steps, return_exceptions=True)
        for outcome in done:
            if isinstance(outcome, BaseException):
                raise outcome
        return done  # type: ignore[return-value]

    async def executescript(self, script: str) -> None:
        """Statement by statement (sqlite3's executescript would COMMIT first): the steps of a
        migration stay inside its transaction."""
        for stmt in split(script):
            await self.conn.execute(stmt)

    @property
    def in_transaction(self) -> bool:
        return self.conn.in_transaction

    async def tables(self) -> set[str]:
        rows = await self.conn.execute_fetchall(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
        return {r[0] for r in rows}

    #: what the driver raises reading a damaged page
    damage: tuple[type[BaseException], ...] = (sqlite3.DatabaseError,)

    async def schema_version(self) -> int:
        return (await self.execute("PRAGMA user_version")).fetchone()[0]  # type: ignore[no-any-return]

    async def integrity_check(self) -> list[str]:
        check = (await self.execute("PRAGMA integrity_check")).fetchall()
        return [] if check == [("ok",)] else [line for (row,) in check for line in str(row).splitlines()]

    async def lenient(self, sql: str, params: Sequence[Any] = (),
                      text: Callable[[bytes], str] = _lenient_text) -> list[tuple[Any, ...]]:
        """Rows whose text may not be UTF-8 (a lone surrogate in an old file): read by `text`,
        never refused."""
        self.conn.text_factory = text
        try:
            return [tuple(r) for r in await self.conn.execute_fetchall(sql, params)]
        finally:
            self.conn.text_factory = str

    async def columns(self, table: str) -> list[str]:
        return [r[1] for r in await self.execute(f"PRAGMA table_info({table})")]

    async def reset_sequences(self) -> None:
        """Nothing to do: SQLite hands out the next id from the table itself."""

    async def rebuild(self, ledger_tables: set[str]) -> None:
        await rebuild(self, ledger_tables)

    async def end(self, commit: bool) -> None:
        if self.in_transaction:
            await self.execute("COMMIT" if commit else "ROLLBACK")

    async def close(self) -> None:
        await self.conn.close()



def split(script: str) -> list[str]:
    """A script's statements, trigger bodies (BEGIN ... END;) kept whole."""
    out: list[str] = []
    buf = ""
    for part in script.split(";"):
        buf += part + ";"
        if sqlite3.complete_statement(buf):
            if buf.strip(" \n;"):
                out.append(buf.strip())
            buf = ""
    return out


async def connect(path: Path, busy_timeout_ms: int = 5000, *, read_only: bool = False,
                  synchronous: str | None = None) -> SqliteDb:
    """A connection to the file; `read_only`: one that cannot write it (nor create it, nor
    change its journal mode)."""
    where: str | Path = f"{path.resolve().as_uri()}?mode=ro" if read_only else path
    conn = await aiosqlite.connect(where, uri=read_only, isolation_level=None, timeout=busy_timeout_ms / 1000,
                                   check_same_thread=False)
    db = SqliteDb(conn)
    try:
        await db.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        # REPLACE deletes a row without firing its DELETE triggers unless recursive triggers are
        # on: with them on, the append-only triggers refuse `INSERT OR REPLACE` over a kept row too.
        await db.execute("PRAGMA recursive_triggers = ON")
        if synchronous is not None:
            await db.execute(f"PRAGMA page_size = {PAGE_SIZE}")  # only takes effect on a new, empty file
            await retry_locked(lambda: db.execute("PRAGMA journal_mode = WAL"), is_locked, busy_timeout_ms / 1000)
            await db.execute(f"PRAGMA synchronous = {synchronous}")
    except BaseException:
        await conn.close()
        raise
    return db


async def look_at(db: SqliteDb, where: str) -> Found:
    """The schema version and tables of an open file, in one read transaction."""
    await db.execute("BEGIN")
    try:
        version = (await db.execute("PRAGMA user_version")).fetchone()[0]
        tables = await db.tables()
    finally:
        await db.execute("COMMIT")
    return Found(where, True, version, frozenset(tables), VERSION)


async def look(path: Path) -> Found:
    if not path.is_file():
        return Found(str(path), False, current=VERSION)
    db = await connect(path, read_only=True)
    try:
        return await look_at(db, str(path))
    finally:
        await db.close()


class SqliteStore(Store):
    """One file in WAL mode: a writer, a reader and a checkpointer connection."""

    backend = "sqlite"
    version = VERSION
    #: what the driver raises when a constraint refuses a write
    IntegrityError: tuple[type[BaseException], ...] = (sqlite3.IntegrityError,)

    def __init__(
        self, path: Path | str, *, synchronous: str = "FULL", busy_timeout_ms: int = 5000,
        lock_wait_s: float = 30.0, clock: Callable[[], float] | None = None, read_only: bool = False,
    ) -> None:
        if synchronous.upper() not in ("OFF", "NORMAL", "FULL", "EXTRA"):
            raise ValueError(f"synchronous must be OFF, NORMAL, FULL or EXTRA, not {synchronous!r}")
        super().__init__(clock=clock, lock_wait_s=lock_wait_s, read_only=read_only)
        self.path = Path(path)
        self.synchronous = synchronous.upper()
        self.busy_timeout_ms = busy_timeout_ms
        self._dbs: dict[str, SqliteDb] = {}
        self._checkpoint: asyncio.Future[Any] | None = None
        #: the reader connections not in use, and each one's last COMMIT (not waited for)
        self._readers: asyncio.Queue[SqliteDb] = asyncio.Queue()
        self._commits: dict[SqliteDb, asyncio.Future[Any]] = {}
        self._closing: asyncio.Future[None] | None = None
        self._committed = 0
        self._batches_since_checkpoint = 0

    async def open(self) -> SqliteStore:
        if self.read_only:
            return await self._open_read_only()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            for name in ("writer", "checkpointer", *(f"reader{i}" for i in range(READERS))):
                db = self._dbs[name] = await connect(self.path, self.busy_timeout_ms, synchronous=self.synchronous)
                if name == "writer":
                    await retry_locked(lambda db=db: schema_sqlite.migrate(db), is_locked, self.lock_wait_s)
                    await db.execute("PRAGMA wal_autocheckpoint = 0")
                elif name.startswith("reader"):
                    self._readers.put_nowait(db)
        except BaseException:
            await self.close()
            raise
        self._open = True
        return self

    async def _open_read_only(self) -> SqliteStore:
        if not self.path.is_file():
            raise SchemaMismatch(Found(str(self.path), False, current=VERSION).problem())
        try:
            db = self._dbs["reader0"] = await connect(self.path, self.busy_timeout_ms, read_only=True)
            self._readers.put_nowait(db)
            self.found = await look_at(db, str(self.path))
            if (problem := self.found.problem()) is not None:
                raise SchemaMismatch(problem)
        except BaseException:
            await self.close()
            raise
        self._open = True
        return self

    async def close(self) -> None:
        """Once every read and write in flight has ended. One closing, whoever asks: a second
        close (or one again after a caller gave up waiting) waits for the same."""
        if self._closing is None:
            self._closing = asyncio.ensure_future(self._close())
        await asyncio.shield(self._closing)

    async def _close(self) -> None:
        await self._drain()
        self._open = False
        if self._checkpoint is not None:
            try:
                await self._checkpoint
            except Exception as exc:  # noqa: BLE001
                log.warning("checkpoint failed: %s", exc)
            self._checkpoint = None
        readers = [name for name in self._dbs if name.startswith("reader")]
        taken = []
        for _ in readers:  # each once its read is over
            taken.append(await self._readers.get())
        for db in taken:
            await self._end_read(db)
        for name in ("checkpointer", *readers, "writer"):
            db = self._dbs.pop(name, None)
            if db is not None:
                async with self._writing if name == "writer" else contextlib.nullcontext():
                    await db.close()

    async def _writer_db(self) -> SqliteDb:
        return self._dbs["writer"]

    def _after_batch(self) -> None:
        """Copy the WAL back into the database on the checkpointer's connection, so commits
        never stop for it; the writer only waits when the WAL has grown very large."""
        if self._checkpoint is not None and not self._checkpoint.done():
            return
        if self._checkpoint is not None and self._checkpoint.exception() is not None:
            log.warning("checkpoint failed: %s", self._checkpoint.exception())
        self._checkpoint = None
        self._batches_since_checkpoint += 1
        db = self._dbs.get("checkpointer")
        if self._batches_since_checkpoint >= CHECKPOINT_EVERY and db is not None:
            self._batches_since_checkpoint = 0
            self._checkpoint = asyncio.ensure_future(db.execute("PRAGMA wal_checkpoint(PASSIVE)"))

    def _reason(self, exc: BaseException) -> str:
        text = str(exc).lower()
        for word in ("full", "readonly", "locked", "disk i/o"):
            if word.replace(" ", "") in text.replace(" ", ""):
                return word
        return "error"

    async def _commit(self, batch: list[Request]) -> list[Any]:
        db = self._dbs["writer"]
        for safe in (False, True):
            try:
                # BEGIN IMMEDIATE goes in the batch's first trip to the driver, with its reads;
                # the batch's time is read once they are back, so once the write lock is held (a
                # claim stamped before a lock wait would start its lease early).
                outcomes = await self._begin_and_run(db, batch, safe)
                await db.execute("COMMIT")
            except NeedSavepoints:
                await db.execute("ROLLBACK")
                self.safe_batches += 1
                continue
            except BaseException:
                # Queued behind whatever the batch sent (a BEGIN may still be on its way to the
                # driver's thread), so the next batch starts with no transaction open.
                end = asyncio.ensure_future(db.execute("ROLLBACK"))
                end.add_done_callback(_seen)
                raise
            self._committed += 1
            if self._committed % RESET_WAL_EVERY == 0:
                # The background checkpoints copy most frames while we write; this one, queued
                # behind the COMMIT with no write in progress, finishes the copy so the WAL can
                # start over (the next batch's BEGIN waits for it on the writer's thread).
                done = asyncio.ensure_future(db.execute("PRAGMA wal_checkpoint(PASSIVE)"))
                done.add_done_callback(_checkpointed)
            return outcomes
        raise AssertionError("unreachable: safe mode never raises NeedSavepoints")

    async def _begin_and_run(self, db: SqliteDb, batch: list[Request], safe: bool) -> list[Any]:
        """run_batch with BEGIN IMMEDIATE sent along; "database is locked" (another process
        writing) waited out for up to lock_wait_s in all, then StorageBusy."""
        clock = self.clock
        deadline = asyncio.get_running_loop().time() + self.lock_wait_s
        pause = 0.01
        while True:
            try:
                return await run_batch(db, batch, lambda _: int(clock()), safe, db.dialect,
                                       begin=db.execute("BEGIN IMMEDIATE"))
            except sqlite3.OperationalError as exc:
                if not is_locked(exc) or db.in_transaction:
                    raise
                if asyncio.get_running_loop().time() >= deadline:
                    raise StorageBusy(reason="locked") from None
                await asyncio.sleep(pause)
                pause = min(pause * 2, 0.5)

    async def _read(self, query: Callable[[SqliteDb], Awaitable[T]]) -> T:
        """On one of the READERS connections (reads run side by side, each in a transaction of
        its own: one snapshot). BEGIN goes with the query's first statement and COMMIT is not
        waited for, so a one-statement read is one trip to the driver's thread: the connection's
        next read is queued behind that COMMIT."""
        db = await self._readers.get()
        ended = False  # the transaction is ended, or its end is queued
        try:
            await self._end_read(db)
            begun, result = await asyncio.gather(db.execute("BEGIN"), query(db), return_exceptions=True)
            failure = begun if isinstance(begun, BaseException) else result
            if isinstance(failure, BaseException):
                await self._rollback(db)
                ended = True
                if is_locked(failure):
                    raise StorageBusy(reason="locked") from None
                raise failure
            self._end(db, "COMMIT")
            ended = True
            return result  # type: ignore[return-value]
        finally:
            if not ended:  # cancelled: after what it queued already
                self._end(db, "ROLLBACK")
            self._readers.put_nowait(db)

    async def _read_single(self, query: Callable[[Any], Awaitable[T]]) -> T:
        db = await self._readers.get()
        try:
            await self._end_read(db)
            try:
                return await query(OneStatement(db))
            except sqlite3.OperationalError as exc:
                if is_locked(exc):
                    raise StorageBusy(reason="locked") from None
                raise
        finally:
            self._readers.put_nowait(db)

    def _end(self, db: SqliteDb, how: str) -> None:
        """Queue the end of the read's transaction, not waited for (the next read on `db` waits)."""
        self._commits[db] = end = asyncio.ensure_future(db.execute(how))
        end.add_done_callback(_seen)

    async def _end_read(self, db: SqliteDb) -> None:
        """The connection's last read fully ended (its COMMIT, or a ROLLBACK if that failed).
        Shielded: a caller cancelled while it waits must not cancel that COMMIT (it stays owed)."""
        end = self._commits.get(db)
        if end is None:
            return
        try:
            await asyncio.shield(end)
        except sqlite3.DatabaseError:  # a read keeps nothing: end it
            await self._rollback(db)
        if self._commits.get(db) is end:
            del self._commits[db]

    @staticmethod
    async def _rollback(db: SqliteDb) -> None:
        if db.in_transaction:
            try:
                await db.execute("ROLLBACK")
            except sqlite3.DatabaseError as exc:  # a damaged file: the read's own error stands
                log.warning("a read's ROLLBACK failed: %s", exc)


def _checkpointed(done: asyncio.Future[Any]) -> None:
    if not done.cancelled() and done.exception() is not None:
        log.warning("checkpoint after commit failed: %s", done.exception())


def _seen(done: asyncio.Future[Any]) -> None:
    """A read's COMMIT nobody waits for: its failure is taken here (and handled at the next read)."""
    if not done.cancelled():
        done.exception()


async def rebuild(db: SqliteDb, ledger_tables: set[str]) -> None:
    """`copy --force`: in one BEGIN IMMEDIATE, the views and the ledger's tables dropped and
    every migration run again (the caller commits or rolls back)."""
    await db.execute("BEGIN IMMEDIATE")
    objects = (await db.execute("SELECT type, name FROM sqlite_master WHERE type IN ('view', 'table')"
                                " AND name NOT LIKE 'sqlite_%' ORDER BY type = 'table'")).fetchall()
    for kind, name in objects:
        if kind == "view" or name in ledger_tables:
            await db.execute(f'DROP {kind.upper()} "{name}"')
    await db.execute("PRAGMA user_version = 0")
    await schema_sqlite.upgrade(db, 0)

"""Where the ledger lives: SQLite (the embedded default) or PostgreSQL, behind one Store.

Both run the same group commit: concurrent write requests queue up, and a whole batch of them
runs in one hop to the writer thread, in one transaction with one commit, through the
synchronous batch code of economy/journal.py; while a batch is being committed the next
requests queue up and go together in the next one. Reads run whole in a reader thread, in one
read transaction (a consistent snapshot).

Each connection lives in a thread of its own (a one-thread executor), so a batch costs one
hop between the event loop and that thread, not one per statement. This file holds the shared
part and the SQLite store; economy/pg.py holds the PostgreSQL one.
"""

from __future__ import annotations

import asyncio
import logging
import re
import sqlite3
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

from economy import schema
from economy.errors import StorageBusy
from economy.journal import RETRY, SQLITE, NeedSavepoints, Request, run_batch
from economy.schema import SchemaMismatch, newer

log = logging.getLogger(__name__)
T = TypeVar("T")

MAX_BATCH = 512
#: Small pages: a batch dirties one page per touched account, and the WAL (and its fsync)
#: carries whole pages, so smaller pages mean fewer bytes per commit.
CHECKPOINT_EVERY = 4
RESET_WAL_EVERY = 16
PAGE_SIZE = 1024
DEFAULT_URL = "sqlite:///data/economy.db"
PG_SCHEMES = ("postgresql", "postgres")


class DatabaseUnavailable(RuntimeError):
    """The database cannot be reached at start (the message never holds a password)."""


def path_from_url(url: str) -> Path:
    """`sqlite:///relative.db` or `sqlite:////absolute.db` (SQLAlchemy's spelling) -> a Path."""
    prefix = "sqlite:///"
    if not url.startswith(prefix) or len(url) == len(prefix):
        raise ValueError(f"DATABASE_URL must look like sqlite:///data/economy.db or"
                         f" postgresql://user:password@host:5432/dbname, got {redact_url(url)!r}")
    return Path(url[len(prefix):])


def is_postgres(url: str) -> bool:
    return isinstance(url, str) and url.split(":", 1)[0].lower() in PG_SCHEMES and "://" in url


def redact_url(url: str) -> str:
    """The URL with its password replaced by ***, for logs and error messages."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return re.sub(r"://([^:/@]*):[^@]*@", r"://\1:***@", url)
    if parts.password is None:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit(parts._replace(netloc=f"{parts.username or ''}:***@{host}"))


def check_url(url: str) -> str:
    """Refuse a DATABASE_URL neither store can open (ValueError, password never in it)."""
    if is_postgres(url):
        from economy.pg import check_pg_url
        check_pg_url(url)
    else:
        path_from_url(url)
    return url


def sqlite_path(where: str | Path) -> Path:
    """The file a `sqlite:///` URL or a plain path names."""
    return path_from_url(where) if isinstance(where, str) and ":" in where.split("/")[0] else Path(where)


def open_store(where: str | Path, **options: Any) -> Store:
    """A store for `where`: a `postgresql://`/`postgres://` URL, a `sqlite:///` URL or a path.
    `read_only=True`: a reader only, on a ledger at this code's schema (SchemaMismatch if not)."""
    if isinstance(where, str) and is_postgres(where):
        from economy.pg import PgStore
        options.pop("busy_timeout_ms", None)
        options.pop("synchronous", None)
        return PgStore(where, **options)
    return SqliteStore(sqlite_path(where), **options)


#: Tables every ledger has: a database without them holds no ledger, whatever else it holds.
CORE_TABLES = frozenset({"users", "wallets", "accounts", "transfers"})


@dataclass(frozen=True)
class Found:
    """What a look at a database found, without changing anything there."""

    where: str  #: for messages: a path, or a URL with its password masked
    exists: bool
    version: int = 0
    tables: frozenset[str] = frozenset()
    current: int = schema.VERSION

    @property
    def kind(self) -> str:
        """"missing", "empty" (no tables at all), "foreign" (tables, but no ledger) or "ledger"."""
        if not self.exists:
            return "missing"
        if not self.tables - {"schema_version"}:
            return "empty"
        return "ledger" if self.version and CORE_TABLES <= self.tables else "foreign"

    def problem(self) -> str | None:
        """Why a reader cannot use it as it is (one line), or None: a ledger at this code's schema."""
        kind = self.kind
        if kind == "missing":
            return f"no database at {self.where}: check --db or DATABASE_URL (reading never creates one)"
        if kind == "empty":
            return f"{self.where} holds no ledger (it is empty); reading never creates one"
        if kind == "foreign":
            names = sorted(self.tables)
            shown = ", ".join(names[:6]) + (f" and {len(names) - 6} more" if len(names) > 6 else "")
            return f"{self.where} is not a ledger (its tables: {shown}); it is left as it is"
        if self.version < self.current:
            return (f"the ledger at {self.where} is at schema {self.version}, older than this code's {self.current}:"
                    " reading never migrates it (the bot of this version does when it starts)")
        if self.version > self.current:
            return newer(self.where, self.version, self.current)
        return None


def look_at_sqlite(db: sqlite3.Connection, where: str) -> Found:
    """The schema version and tables of an open file, in one read transaction."""
    db.execute("BEGIN")
    try:
        version = db.execute("PRAGMA user_version").fetchone()[0]
        tables = {r[0] for r in db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")}
    finally:
        db.execute("COMMIT")
    return Found(where, True, version, frozenset(tables))


def connect_read_only(path: Path, busy_timeout_ms: int = 5000) -> sqlite3.Connection:
    """A connection that cannot write the file (nor create it, nor change its journal mode)."""
    db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, isolation_level=None,
                         timeout=busy_timeout_ms / 1000, check_same_thread=False)
    db.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
    # REPLACE deletes a row without firing its DELETE triggers unless recursive triggers are on:
    # with them on, the append-only triggers refuse `INSERT OR REPLACE` over a kept row too.
    db.execute("PRAGMA recursive_triggers = ON")
    return db


def look_sqlite(path: Path) -> Found:
    if not path.is_file():
        return Found(str(path), False)
    db = connect_read_only(path)
    try:
        return look_at_sqlite(db, str(path))
    finally:
        db.close()


async def look(where: str | Path) -> Found:
    """What is at `where`, read without writing a byte (nor creating a file or a table)."""
    if isinstance(where, str) and is_postgres(where):
        from economy.pg import look as look_pg
        return await asyncio.to_thread(look_pg, where)
    return await asyncio.to_thread(look_sqlite, sqlite_path(where))


class Worker:
    """One thread that owns one connection; `await call(fn, *args)` runs fn there."""

    def __init__(self, name: str) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)

    async def call(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)

    def stop(self) -> None:
        self._pool.shutdown(wait=True)


class Store:
    """Group commit and reads; a backend supplies `_commit(batch)` and `_read(query)`, both
    run in their threads."""

    #: what this backend's driver raises when a constraint refuses a write
    IntegrityError: tuple[type[BaseException], ...] = (sqlite3.IntegrityError,)
    backend = "?"

    def __init__(self, *, clock: Callable[[], float] | None = None, lock_wait_s: float = 30.0,
                 read_only: bool = False) -> None:
        #: the batches' clock: None is the database's own (this machine's for SQLite, the
        #: server's for PostgreSQL, so instances on several machines stamp claims alike); a
        #: test passes one it moves. Reads use `clock` (this machine's unless given).
        self.clock = clock or time.time
        self.own_clock = clock is None
        self.lock_wait_s = lock_wait_s
        #: a reader only: never creates, migrates or writes the database (the CLI's reading commands)
        self.read_only = read_only
        #: what the read-only open found there
        self.found: Found | None = None
        self._pending: list[Request] = []
        self._flusher: asyncio.Task[None] | None = None
        self._writer: Worker | None = None
        self._reader: Worker | None = None
        self.batches = 0
        self.safe_batches = 0
        #: batches run again after a deadlock or serialization failure (PostgreSQL)
        self.retries = 0
        #: seconds the event loop spent waiting on the writer thread (for the benchmark)
        self.writer_s = 0.0
        #: called after each batch with its size and seconds (the web app's metrics)
        self.on_batch: Callable[[int, float], None] | None = None

    async def __aenter__(self) -> Store:
        return await self.open()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def open(self) -> Store:
        raise NotImplementedError

    async def close(self) -> None:
        raise NotImplementedError

    async def _drain(self) -> None:
        while self._flusher is not None:
            await asyncio.shield(self._flusher)

    # -- writes --
    async def write(self, op: Callable[..., T], key: Any, fingerprint: str, user_id: int | None = None) -> T:
        """Run `op(tx)` in the next group commit; return its result or raise its refusal.
        `user_id` (a hint) lets the batch read that wallet together with the others."""
        if self.read_only:
            raise RuntimeError("the store was opened read only")
        if self._writer is None:
            raise RuntimeError("the store is closed")
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending.append(Request(op, key, fingerprint, future, user_id))
        if self._flusher is None:
            self._flusher = asyncio.create_task(self._flush())
        outcome = await future
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome  # type: ignore[no-any-return]

    async def _flush(self) -> None:
        try:
            while self._pending:
                batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
                started = time.perf_counter()
                try:
                    outcomes = await self._writer.call(self._commit, batch)  # type: ignore[union-attr]
                except StorageBusy as exc:
                    outcomes = [exc] * len(batch)
                except Exception as exc:  # noqa: BLE001 - the driver's errors: nothing was written
                    reason = self._reason(exc)
                    log.error("write batch of %d failed: %s", len(batch), exc)
                    outcomes = [StorageBusy(reason=reason)] * len(batch)
                self.batches += 1
                took = time.perf_counter() - started
                self.writer_s += took
                if self.on_batch is not None:
                    self.on_batch(len(batch), took)
                self._after_batch()
                for req, outcome in zip(batch, outcomes):
                    if outcome is RETRY:
                        self._pending.append(req)
                    elif not req.future.done():
                        req.future.set_result(outcome)
        finally:
            self._flusher = None

    def _after_batch(self) -> None:
        pass

    def _reason(self, exc: BaseException) -> str:
        return "error"

    def _commit(self, batch: list[Request]) -> list[Any]:
        raise NotImplementedError

    # -- reads --
    async def read(self, query: Callable[[Any], T]) -> T:
        """Run `query(db)` in one read transaction (a consistent snapshot), in one hop."""
        if self._reader is None:
            raise RuntimeError("the store is closed")
        return await self._reader.call(self._read, query)

    def _read(self, query: Callable[[Any], T]) -> T:
        raise NotImplementedError


def _is_locked(exc: BaseException) -> bool:
    return isinstance(exc, sqlite3.OperationalError) and (
        "locked" in str(exc) or "busy" in str(exc)
    )


class SqliteStore(Store):
    """One file in WAL mode: a writer, a reader and a checkpointer connection, each in its
    own thread, on the standard library's sqlite3."""

    backend = "sqlite"

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
        self._dbs: dict[str, sqlite3.Connection] = {}
        self._checkpointer: Worker | None = None
        self._checkpoint: asyncio.Future[Any] | None = None
        self._commits = 0
        self._batches_since_checkpoint = 0

    async def open(self) -> SqliteStore:
        if self.read_only:
            return await self._open_read_only()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._writer, self._reader, self._checkpointer = Worker("writer"), Worker("reader"), Worker("checkpointer")
        try:
            for name, worker in (("writer", self._writer), ("reader", self._reader),
                                 ("checkpointer", self._checkpointer)):
                self._dbs[name] = await worker.call(self._connect)
                if name == "writer":
                    db = self._dbs[name]
                    await worker.call(schema.migrate, db)
                    await worker.call(lambda: db.execute("PRAGMA wal_autocheckpoint = 0").fetchone())
        except BaseException:
            await self.close()
            raise
        return self

    async def _open_read_only(self) -> SqliteStore:
        if not self.path.is_file():
            raise SchemaMismatch(Found(str(self.path), False).problem())
        self._reader = Worker("reader")
        try:
            db = self._dbs["reader"] = await self._reader.call(connect_read_only, self.path, self.busy_timeout_ms)
            self.found = await self._reader.call(look_at_sqlite, db, str(self.path))
            if (problem := self.found.problem()) is not None:
                raise SchemaMismatch(problem)
        except BaseException:
            await self.close()
            raise
        return self

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, isolation_level=None, timeout=self.busy_timeout_ms / 1000,
                             check_same_thread=False)
        db.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout_ms)}")
        db.execute("PRAGMA recursive_triggers = ON")  # see connect(): REPLACE over a kept row refused
        db.execute(f"PRAGMA page_size = {PAGE_SIZE}")  # only takes effect on a new, empty file
        self._retry_locked(lambda: db.execute("PRAGMA journal_mode = WAL").fetchone())
        db.execute(f"PRAGMA synchronous = {self.synchronous}")
        return db

    async def close(self) -> None:
        await self._drain()
        if self._checkpoint is not None:
            try:
                await self._checkpoint
            except Exception as exc:  # noqa: BLE001
                log.warning("checkpoint failed: %s", exc)
            self._checkpoint = None
        for name, worker in (("checkpointer", self._checkpointer), ("reader", self._reader),
                             ("writer", self._writer)):
            db = self._dbs.pop(name, None)
            if worker is not None:
                if db is not None:
                    await worker.call(db.close)
                worker.stop()
        self._checkpointer = self._reader = self._writer = None

    async def in_writer(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run `fn(db)` on the writer connection, in its thread, between batches (operators'
        and tests' tool: PRAGMAs on the file)."""
        await self._drain()
        return await self._writer.call(fn, self._dbs["writer"])  # type: ignore[union-attr]

    def _after_batch(self) -> None:
        """Copy the WAL back into the database on the checkpointer's own thread, so commits
        never stop for it; the writer only waits when the WAL has grown very large."""
        if self._checkpoint is not None and not self._checkpoint.done():
            return
        if self._checkpoint is not None and self._checkpoint.exception() is not None:
            log.warning("checkpoint failed: %s", self._checkpoint.exception())
        self._checkpoint = None
        self._batches_since_checkpoint += 1
        if self._batches_since_checkpoint >= CHECKPOINT_EVERY and self._checkpointer is not None:
            self._batches_since_checkpoint = 0
            db = self._dbs["checkpointer"]
            self._checkpoint = asyncio.ensure_future(
                self._checkpointer.call(lambda: db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone())
            )

    def _reason(self, exc: BaseException) -> str:
        text = str(exc).lower()
        for word in ("full", "readonly", "locked", "disk i/o"):
            if word.replace(" ", "") in text.replace(" ", ""):
                return word
        return "error"

    def _commit(self, batch: list[Request]) -> list[Any]:
        db = self._dbs["writer"]
        for safe in (False, True):
            self._retry_locked(lambda: db.execute("BEGIN IMMEDIATE"))
            # The batch's time is read once the write lock is held: a claim stamped before a
            # lock wait would start its lease early (and another worker take over a live send).
            now = int(self.clock())
            try:
                outcomes = run_batch(db, batch, now, safe, SQLITE)
                db.execute("COMMIT")
            except NeedSavepoints:
                db.execute("ROLLBACK")
                self.safe_batches += 1
                continue
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise
            self._commits += 1
            if self._commits % RESET_WAL_EVERY == 0:
                # The background checkpoints copy most frames while we write; this one, with
                # no write in progress, finishes the copy so the WAL can start over.
                try:
                    db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                except sqlite3.Error as exc:
                    log.warning("checkpoint after commit failed: %s", exc)
            return outcomes
        raise AssertionError("unreachable: safe mode never raises NeedSavepoints")

    def _retry_locked(self, step: Callable[[], T]) -> T:
        """Run `step`, waiting out "database is locked" for up to lock_wait_s in all."""
        deadline = time.monotonic() + self.lock_wait_s
        pause = 0.01
        while True:
            try:
                return step()
            except sqlite3.OperationalError as exc:
                if not _is_locked(exc) or time.monotonic() >= deadline:
                    if _is_locked(exc):
                        raise StorageBusy(reason="locked") from None
                    raise
                time.sleep(pause)
                pause = min(pause * 2, 0.5)

    def _read(self, query: Callable[[sqlite3.Connection], T]) -> T:
        db = self._dbs["reader"]
        try:
            self._retry_locked(lambda: db.execute("BEGIN"))
            try:
                return query(db)
            finally:
                try:
                    db.execute("COMMIT")
                except sqlite3.DatabaseError:  # a read keeps nothing: a damaged file's own error stands
                    if db.in_transaction:
                        db.execute("ROLLBACK")
        except sqlite3.OperationalError as exc:
            if _is_locked(exc):
                raise StorageBusy(reason="locked") from None
            raise


def open_failure(where: str, exc: sqlite3.DatabaseError) -> str:
    """One line about a database that cannot be opened or read (for a start-up error)."""
    if isinstance(exc, sqlite3.OperationalError):
        return f"cannot open the database {where}: {exc}"
    return (f"the database {where} is damaged ({exc}): restore it from a backup"
            " (`python -m economy verify` tells what is wrong)")

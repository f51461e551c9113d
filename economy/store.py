"""SQLite access: one writer connection doing group commit, one reader, both on aiosqlite.

A whole batch of writes (or a whole read) runs in one hop to aiosqlite's worker thread
(`Connection._execute`), not one hop per statement. While a batch is being committed the
next requests queue up and go together in the next one, so a commit (and its fsync) is
shared by everyone who was waiting for it.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

from economy import schema
from economy.errors import StorageBusy
from economy.journal import RETRY, NeedSavepoints, Request, run_batch

log = logging.getLogger(__name__)
T = TypeVar("T")

MAX_BATCH = 512
#: Small pages: a batch dirties one page per touched account, and the WAL (and its fsync)
#: carries whole pages, so smaller pages mean fewer bytes per commit.
CHECKPOINT_EVERY = 4
RESET_WAL_EVERY = 16
PAGE_SIZE = 1024
DEFAULT_URL = "sqlite:///data/economy.db"


def path_from_url(url: str) -> Path:
    """`sqlite:///relative.db` or `sqlite:////absolute.db` (SQLAlchemy's spelling) -> a Path."""
    prefix = "sqlite:///"
    if not url.startswith(prefix) or len(url) == len(prefix):
        raise ValueError(f"DATABASE_URL must look like sqlite:///data/economy.db, got {url!r}")
    return Path(url[len(prefix):])


def _is_locked(exc: BaseException) -> bool:
    return isinstance(exc, sqlite3.OperationalError) and (
        "locked" in str(exc) or "busy" in str(exc)
    )


class Store:
    def __init__(
        self, path: Path | str, *, synchronous: str = "FULL", busy_timeout_ms: int = 5000,
        lock_wait_s: float = 30.0, clock: Callable[[], float] = time.time,
    ) -> None:
        if synchronous.upper() not in ("OFF", "NORMAL", "FULL", "EXTRA"):
            raise ValueError(f"synchronous must be OFF, NORMAL, FULL or EXTRA, not {synchronous!r}")
        self.path = Path(path)
        self.synchronous = synchronous.upper()
        self.busy_timeout_ms = busy_timeout_ms
        self.lock_wait_s = lock_wait_s
        self.clock = clock
        self._writer: aiosqlite.Connection | None = None
        self._reader: aiosqlite.Connection | None = None
        self._pending: list[Request] = []
        self._flusher: asyncio.Task[None] | None = None
        self._checkpointer: aiosqlite.Connection | None = None
        self._checkpoint: asyncio.Future[Any] | None = None
        self._commits = 0
        self._batches_since_checkpoint = 0
        self.batches = 0
        self.safe_batches = 0
        #: seconds the event loop spent waiting on the writer thread (for the benchmark)
        self.writer_s = 0.0
        #: called after each batch with its size and seconds (the web app's metrics)
        self.on_batch: Callable[[int, float], None] | None = None

    async def open(self) -> Store:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._writer = await self._connect()
            await self._writer._execute(schema.migrate, self._writer._conn)
            await self._writer._execute(self._writer._conn.execute, "PRAGMA wal_autocheckpoint = 0")
            self._reader = await self._connect()
            self._checkpointer = await self._connect()
        except BaseException:
            # e.g. a damaged file: a connection left open keeps its thread, and the process, alive
            await self.close()
            raise
        return self

    async def _connect(self) -> aiosqlite.Connection:
        conn = await aiosqlite.connect(self.path, isolation_level=None, timeout=self.busy_timeout_ms / 1000)
        try:
            await conn._execute(self._setup, conn)
        except BaseException:
            await conn.close()
            raise
        return conn

    def _setup(self, conn: aiosqlite.Connection) -> None:
        db = conn._conn
        db.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout_ms)}")
        db.execute(f"PRAGMA page_size = {PAGE_SIZE}")  # only takes effect on a new, empty file
        self._retry_locked(lambda: db.execute("PRAGMA journal_mode = WAL").fetchone())
        db.execute(f"PRAGMA synchronous = {self.synchronous}")

    async def close(self) -> None:
        while self._flusher is not None:
            await asyncio.shield(self._flusher)
        if self._checkpoint is not None:
            await self._checkpoint
        for conn in (self._checkpointer, self._reader, self._writer):
            if conn is not None:
                await conn.close()
        self._checkpointer = self._reader = self._writer = None

    async def __aenter__(self) -> Store:
        return await self.open()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- writes --
    async def write(self, op: Callable[..., T], key: Any, fingerprint: str, user_id: int | None = None) -> T:
        """Run `op(tx)` in the next group commit; return its result or raise its refusal.
        `user_id` (a hint) lets the batch read that wallet together with the others."""
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
                    outcomes = await self._writer._execute(self._commit, batch)  # type: ignore[union-attr]
                except StorageBusy as exc:
                    outcomes = [exc] * len(batch)
                except sqlite3.Error as exc:
                    log.error("write batch of %d failed: %s", len(batch), exc)
                    outcomes = [StorageBusy(reason=_reason(exc))] * len(batch)
                self.batches += 1
                took = time.perf_counter() - started
                self.writer_s += took
                if self.on_batch is not None:
                    self.on_batch(len(batch), took)
                self._maybe_checkpoint()
                for req, outcome in zip(batch, outcomes):
                    if outcome is RETRY:
                        self._pending.append(req)
                    elif not req.future.done():
                        req.future.set_result(outcome)
        finally:
            self._flusher = None

    def _maybe_checkpoint(self) -> None:
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
            conn = self._checkpointer
            self._checkpoint = asyncio.ensure_future(
                conn._execute(lambda: conn._conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone())
            )

    def _commit(self, batch: list[Request]) -> list[Any]:
        db = self._writer._conn  # type: ignore[union-attr]
        now = int(self.clock())
        for safe in (False, True):
            self._retry_locked(lambda: db.execute("BEGIN IMMEDIATE"))
            try:
                outcomes = run_batch(db, batch, now, safe)
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

    # -- reads --
    async def read(self, query: Callable[[sqlite3.Connection], T]) -> T:
        """Run `query(db)` in one read transaction (a consistent snapshot), in one hop."""
        if self._reader is None:
            raise RuntimeError("the store is closed")

        def run() -> T:
            db = self._reader._conn  # type: ignore[union-attr]
            self._retry_locked(lambda: db.execute("BEGIN"))
            try:
                return query(db)
            finally:
                try:
                    db.execute("COMMIT")
                except sqlite3.DatabaseError:  # a read keeps nothing: a damaged file's own error stands
                    if db.in_transaction:
                        db.execute("ROLLBACK")

        try:
            return await self._reader._execute(run)
        except sqlite3.OperationalError as exc:
            if _is_locked(exc):
                raise StorageBusy(reason="locked") from None
            raise


def _reason(exc: sqlite3.Error) -> str:
    text = str(exc).lower()
    for word in ("full", "readonly", "locked", "disk i/o"):
        if word.replace(" ", "") in text.replace(" ", ""):
            return word
    return "error"


def open_failure(where: str, exc: sqlite3.DatabaseError) -> str:
    """One line about a database that cannot be opened or read (for a start-up error)."""
    if isinstance(exc, sqlite3.OperationalError):
        return f"cannot open the database {where}: {exc}"
    return (f"the database {where} is damaged ({exc}): restore it from a backup"
            " (`python -m economy verify` tells what is wrong)")

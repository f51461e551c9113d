"""The part of the store both backends share: the group commit, the reader, and what a look at
a database found.

Concurrent write requests queue up, and a whole batch of them runs in one transaction with one
commit, through the async batch code of economy/storage/batch.py; while a batch is being
committed the next requests queue up and go together in the next one. Reads run whole in one
read transaction (a consistent snapshot), one at a time on the reader connection.

A backend (sqlite.py on aiosqlite, postgres.py on psycopg's AsyncConnection) supplies
`_commit(batch)` and `_read(query)`; the connections it hands to operations and queries take
`await db.execute(sql, params)` with `?` placeholders and give back `Rows`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from functools import partial
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from economy.errors import StorageBusy
from economy.storage.batch import RETRY, Request
from economy.storage.schema import newer

log = logging.getLogger(__name__)
T = TypeVar("T")

MAX_BATCH = 512

#: Tables every ledger has: a database without them holds no ledger, whatever else it holds.
CORE_TABLES = frozenset({"users", "wallets", "accounts", "transfers"})


class DatabaseUnavailable(RuntimeError):
    """The database cannot be reached at start (the message never holds a password)."""


class Rows:
    """What a statement gave back, already read: fetchone(), fetchall(), iteration, rowcount."""

    __slots__ = ("_rows", "rowcount")

    def __init__(self, rows: Sequence[Any], rowcount: int = -1) -> None:
        self._rows = iter(rows)
        self.rowcount = rowcount

    def fetchone(self) -> Any:
        return next(self._rows, None)

    def fetchall(self) -> list[Any]:
        return list(self._rows)

    def __iter__(self) -> Iterator[Any]:
        return self._rows


class Db(Protocol):
    """A connection as operations, queries and migrations see it, on either backend."""

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> Rows: ...

    async def executemany(self, sql: str, params: Sequence[Sequence[Any]]) -> None: ...

    async def together(self, steps: Sequence[Awaitable[T]]) -> list[T]:
        """Run these statements of this connection (not started yet) in order, as few round
        trips to the driver as it allows; raise the first failure once all have ended."""
        ...

    async def tables(self) -> set[str]: ...

    async def schema_version(self) -> int: ...

    async def integrity_check(self) -> list[str]:
        """What the database finds wrong with its own pages (PostgreSQL checks them as it reads)."""
        ...

    #: what the driver raises reading a damaged page
    damage: tuple[type[BaseException], ...]

    async def lenient(self, sql: str, params: Sequence[Any] = (),
                      text: Callable[[bytes], str] | None = None) -> list[tuple[Any, ...]]:
        """Rows whose text the driver may not decode (an old SQLite file's lone surrogate),
        read by `text`."""
        ...

    async def columns(self, table: str) -> list[str]:
        """The table's column names, in their order."""
        ...


@dataclass(frozen=True)
class Found:
    """What a look at a database found, without changing anything there."""

    where: str  #: for messages: a path, or a URL with its password masked
    exists: bool
    version: int = 0
    tables: frozenset[str] = frozenset()
    current: int = 0

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


class Store:
    """Group commit and reads; a backend supplies `_commit(batch)` and `_read(query)`."""

    backend = "?"
    #: the schema version this backend's migrations reach
    version = 0

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
        self._open = False
        #: one batch (or operator's call) at a time on the writer connection, one read at a
        #: time on a reader's
        self._writing = asyncio.Lock()
        self._reading = asyncio.Lock()
        self.batches = 0
        self.safe_batches = 0
        #: batches run again after a deadlock or serialization failure (PostgreSQL)
        self.retries = 0
        #: seconds spent committing batches (for the benchmark)
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
        while self._flusher is not None and not self._flusher.done():
            await asyncio.wait({self._flusher})

    # -- writes --
    async def write(self, op: Callable[[Any], Awaitable[T]], key: Any, fingerprint: str,
                    user_id: int | None = None) -> T:
        """Run `await op(tx)` in the next group commit; return its result or raise its refusal.
        `user_id` (a hint) lets the batch read that wallet together with the others."""
        if self.read_only:
            raise RuntimeError("the store was opened read only")
        if not self._open:
            raise RuntimeError("the store is closed")
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending.append(Request(op, key, fingerprint, future, user_id))
        if self._flusher is None:
            self._flusher = asyncio.create_task(self._flush())
            self._flusher.add_done_callback(self._flusher_done)
        outcome = await future
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome  # type: ignore[no-any-return]

    async def _flush(self) -> None:
        while self._pending:
            batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
            # The batch runs as a task of its own: once its statements are on the driver's
            # thread they run whatever happens here, so a cancelled flusher (the loop shutting
            # down, once or twice) never cuts a batch in half; its callers are answered here,
            # or, if the flusher was cancelled, by the batch's own end.
            run = asyncio.ensure_future(self._run(batch))
            try:
                outcomes = await asyncio.shield(run)
            except asyncio.CancelledError:  # the batch's own end answers them, however often we are cancelled
                if run.done():
                    self._ended(batch, run)
                else:
                    run.add_done_callback(partial(self._ended, batch))
                raise
            self._answer(batch, outcomes)

    def _ended(self, batch: list[Request], run: asyncio.Future[list[Any]]) -> None:
        if run.cancelled():  # the batch itself was cancelled (the loop shutting down)
            outcomes: list[Any] = [StorageBusy(reason="stopped")] * len(batch)
        elif run.exception() is not None:
            outcomes = [StorageBusy(reason="error")] * len(batch)
        else:
            outcomes = run.result()
        self._answer(batch, outcomes)
        if self._pending and (self._flusher is None or self._flusher.done()):  # a retry, its flusher gone
            self._flusher = asyncio.get_running_loop().create_task(self._flush())
            self._flusher.add_done_callback(self._flusher_done)

    async def _run(self, batch: list[Request]) -> list[Any]:
        started = time.perf_counter()
        try:
            async with self._writing:
                outcomes = await self._commit(batch)
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
        return outcomes

    def _answer(self, batch: list[Request], outcomes: list[Any]) -> None:
        for req, outcome in zip(batch, outcomes):
            if outcome is RETRY:
                self._pending.append(req)
            elif not req.future.done():
                req.future.set_result(outcome)

    def _flusher_done(self, task: asyncio.Task[None]) -> None:
        """The group commit ended: with nothing left, or cancelled (the loop shutting down).
        What was still waiting for a batch was not written: its callers hear so."""
        if self._flusher is task:
            self._flusher = None
        if task.cancelled() or task.exception() is not None:
            if not task.cancelled():
                log.error("the group commit failed: %s", task.exception())
            left, self._pending = self._pending, []
            for req in left:
                if not req.future.done():
                    req.future.set_result(StorageBusy(reason="stopped"))
        elif self._pending:  # queued after the last batch began its end: a new flusher takes them
            self._flusher = asyncio.get_running_loop().create_task(self._flush())
            self._flusher.add_done_callback(self._flusher_done)

    def _after_batch(self) -> None:
        pass

    def _reason(self, exc: BaseException) -> str:
        return "error"

    async def _commit(self, batch: list[Request]) -> list[Any]:
        raise NotImplementedError

    async def in_writer(self, fn: Callable[[Any], Awaitable[T]]) -> T:
        """`await fn(db)` on the writer connection, between batches, in autocommit (operators'
        and tests' tool: PRAGMAs on the file, SQL behind the ledger's back)."""
        if self.read_only or not self._open:
            raise RuntimeError("the store is closed" if not self._open else "the store was opened read only")
        await self._drain()
        async with self._writing:
            return await fn(await self._writer_db())

    async def _writer_db(self) -> Any:
        raise NotImplementedError

    # -- reads --
    async def read(self, query: Callable[[Any], Awaitable[T]]) -> T:
        """`await query(db)` in one read transaction (a consistent snapshot)."""
        if not self._open:
            raise RuntimeError("the store is closed")
        return await self._read(query)

    async def _read(self, query: Callable[[Any], Awaitable[T]]) -> T:
        raise NotImplementedError

    async def read_single(self, query: Callable[[Any], Awaitable[T]]) -> T:
        """`await query(db)` where the query runs exactly one statement (a second one is
        refused: RuntimeError): one statement is a snapshot of its own, so no transaction is
        begun or ended around it. For the hot reads (a balance, a profile): each statement is a
        trip to the driver that the event loop pays for."""
        if not self._open:
            raise RuntimeError("the store is closed")
        return await self._read_single(query)

    async def _read_single(self, query: Callable[[Any], Awaitable[T]]) -> T:
        raise NotImplementedError

    # -- changes --
    #: whether `changes()` hears of other processes' commits (PostgreSQL's LISTEN); where it
    #: does not (SQLite), a watcher reads the ledger now and then instead
    announces_changes = False

    def changes(self) -> AsyncIterator[None]:
        """Yields once when it starts listening, then after each commit that added to the
        journal or changed a broadcast, in any process; ends by raising when its connection is
        lost (the caller listens again). Only where `announces_changes`."""
        raise NotImplementedError(f"the {self.backend} store announces no changes")


class OneStatement:
    """A connection that runs one statement (read_single's)."""

    __slots__ = ("db", "used")

    def __init__(self, db: Any) -> None:
        self.db, self.used = db, False

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> Rows:
        if self.used:
            raise RuntimeError("read_single runs one statement: use Store.read for more")
        self.used = True
        return await self.db.execute(sql, params)  # type: ignore[no-any-return]


async def retry_locked(step: Callable[[], Awaitable[T]], is_locked: Callable[[BaseException], bool],
                       wait_s: float) -> T:
    """Run `step`, waiting out "database is locked" for up to `wait_s` in all (StorageBusy after)."""
    deadline = time.monotonic() + wait_s
    pause = 0.01
    while True:
        try:
            return await step()
        except Exception as exc:
            if not is_locked(exc):
                raise
            if time.monotonic() >= deadline:
                raise StorageBusy(reason="locked") from None
            await asyncio.sleep(pause)
            pause = min(pause * 2, 0.5)

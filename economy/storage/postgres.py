"""The PostgreSQL store: psycopg 3's AsyncConnection, a writer and a reader, running the same
async batch code (economy/storage/batch.py) and reads (economy/queries.py) as on SQLite.

Several processes may write one database at once (bot instances, the CLI, an HTTP API):

- Each batch takes a transaction-level advisory lock first, so batches of all processes commit
  one after the other, as on SQLite: transfer ids (MAX(id) + 1) stay unique and grow in commit
  order, and the cached aggregates (top spenders, system accounts) are read and rewritten by
  one batch at a time, so they stay exact.
- A batch's wallets are read `FOR UPDATE` in user id order, and system accounts are updated
  in id order, so a writer that does not take the advisory lock (manual SQL, a tool) cannot
  change them under the batch, and lock waits always go the same way.
- A deadlock or serialization failure rolls the whole batch back and runs it again (at most
  MAX_RETRIES times, each logged); past that every request gets StorageBusy ("try again"),
  never the driver's error.

`?` placeholders are turned into psycopg's `%s` once per statement text (PgDb), so operations
and queries are written once for both backends. The schema's DDL is schema_postgres.py.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from decimal import Decimal
from typing import Any, TypeVar

import psycopg
from psycopg import errors as pg_errors
from psycopg.adapt import Dumper, Loader
from psycopg.conninfo import conninfo_to_dict
from psycopg.pq import TransactionStatus

from economy.errors import StorageBusy
from economy.storage import schema_postgres
from economy.storage.base import DatabaseUnavailable, Found, OneStatement, Rows, Store
from economy.storage.batch import Dialect, NeedSavepoints, Request, run_batch
from economy.storage.schema import WALLET_COLUMNS, SchemaMismatch
from economy.storage.schema_postgres import BATCH_LOCK, CHANGES_CHANNEL, MIGRATION_LOCK
from economy.storage.urls import redact_url

log = logging.getLogger(__name__)
T = TypeVar("T")

__all__ = ["BATCH_LOCK", "MIGRATION_LOCK", "PgDb", "PgStore", "connect", "look"]
VERSION = schema_postgres.VERSION
MAX_RETRIES = 8

_WALLETS = ", ".join(WALLET_COLUMNS)
_TRANSFER_TYPES = ("bigint", "bigint", "text", "text", "bigint", "bigint", "bigint", "bigint", "text", "bigint", "bigint")
_KEY_TYPES = ("text", "text", "text", "bigint", "bigint")


def _unnest(types: tuple[str, ...]) -> str:
    """Arrays of text go in binary (no quoting to do: a third of the time in text)."""
    return "unnest(" + ", ".join(f"%b::{t}[]" if t == "text" else f"%s::{t}[]" for t in types) + ")"


class PgDialect(Dialect):
    """Each bulk statement of a batch is one statement over arrays (`unnest`), whatever the
    batch's size, so its text never changes (sent in a trip, it is planned each time: see
    PgDb._run)."""

    integrity_errors = (psycopg.IntegrityError,)
    #: a value the server (or psycopg, dumping it) cannot take: NUL in text, a character not in
    #: the encoding, a number out of range (class 22); a surrogate (UnicodeEncodeError); an
    #: index row too large (54000). Locks, deadlocks and lost connections are not among them.
    data_errors = (psycopg.DataError, UnicodeError, pg_errors.ProgramLimitExceeded)
    _select_wallets = (f"SELECT user_id, {_WALLETS} FROM wallets WHERE user_id = ANY(%s::bigint[])"
                       " ORDER BY user_id FOR UPDATE")
    _insert_transfers = f"INSERT INTO transfers SELECT * FROM {_unnest(_TRANSFER_TYPES)}"
    _upsert_keys = (
        f"INSERT INTO idempotency SELECT * FROM {_unnest(_KEY_TYPES)}"
        " ON CONFLICT (key) DO UPDATE SET fingerprint = excluded.fingerprint, result = excluded.result,"
        " created_at = excluded.created_at, expires_at = excluded.expires_at"
    )
    _upsert_top = (f"INSERT INTO top_spenders SELECT * FROM {_unnest(('bigint', 'bigint'))}"
                   " ON CONFLICT (user_id) DO UPDATE SET spent = excluded.spent")
    _update: dict[tuple[int, ...], str] = {}

    async def select_wallets(self, db: Any, user_ids: list[int]) -> list[tuple[Any, ...]]:
        """Read and lock them in user id order: every writer waits for wallets the same way."""
        return await db.fetch(self._select_wallets, (Bigints(user_ids),))  # type: ignore[no-any-return]

    async def select_keys(self, db: Any, keys: list[str]) -> list[tuple[Any, ...]]:
        return await db.fetch(  # type: ignore[no-any-return]
            "SELECT key, fingerprint, result, expires_at, created_at FROM idempotency WHERE key = ANY(%b::text[])",
            (keys,))

    async def update_wallets(self, db: Any, columns: tuple[int, ...], rows: list[tuple[Any, ...]]) -> None:
        """Wallet columns are all BIGINTs."""
        sql = self._update.get(columns)
        if sql is None:
            names = [WALLET_COLUMNS[i] for i in columns]
            sql = self._update[columns] = (
                f"UPDATE wallets w SET {', '.join(f'{n} = v.{n}' for n in names)}"
                f" FROM {_unnest(('bigint',) * (len(names) + 1))} AS v({', '.join(names)}, user_id)"
                " WHERE w.user_id = v.user_id"
            )
        await db.send(sql, [Bigints(col) for col in zip(*rows)])

    async def insert_transfers(self, db: Any, rows: list[tuple[Any, ...]]) -> None:
        await db.send(self._insert_transfers, _arrays(_TRANSFER_TYPES, rows))

    async def upsert_keys(self, db: Any, rows: list[tuple[Any, ...]]) -> None:
        await db.send(self._upsert_keys, _arrays(_KEY_TYPES, rows))

    async def delete_top(self, db: Any, user_ids: list[int]) -> None:
        await db.send("DELETE FROM top_spenders WHERE user_id = ANY(%s::bigint[])", (Bigints(user_ids),))

    async def upsert_top(self, db: Any, rows: list[tuple[int, int]]) -> None:
        await db.send(self._upsert_top, _arrays(("bigint", "bigint"), rows))


def _arrays(types: tuple[str, ...], rows: list[tuple[Any, ...]]) -> list[list[Any]]:
    """The rows' columns as arrays for `unnest`, BIGINT ones as Bigints."""
    return [Bigints(col) if t == "bigint" else list(col) for t, col in zip(types, zip(*rows))]


class Bigints(list):  # type: ignore[type-arg]
    """A list of ints (or None) sent as one BIGINT[] (`BigintsDumper`)."""

    __slots__ = ()


_INT_OR_NONE = frozenset((int, type(None)))
_BIGINT_MIN, _BIGINT_MAX = -(2**63), 2**63 - 1


class BigintsDumper(Dumper):
    """Bigints as the array's text: psycopg's own list dumper looks at every element twice in
    Python (to pick the smallest integer type, then to dump it), which was a fifth of the
    writer's time in a batch of spends. Anything but an int or None (a bool, a float, a
    string that could spell two elements) or an int out of BIGINT's range is refused here, as
    the server would refuse it: as a request's data refused (DataError, 22003)."""

    oid = psycopg.postgres.types["int8"].array_oid

    def dump(self, obj: Any) -> bytes:
        kinds = set(map(type, obj))
        if not kinds <= _INT_OR_NONE:
            raise psycopg.DataError(f"not an integer for a BIGINT column: {sorted(k.__name__ for k in kinds)}")
        ints = [v for v in obj if v is not None] if type(None) in kinds else obj
        if ints and (min(ints) < _BIGINT_MIN or max(ints) > _BIGINT_MAX):
            raise pg_errors.NumericValueOutOfRange("a number out of BIGINT's range")
        if ints is obj:
            return ("{" + ",".join(map(str, obj)) + "}").encode()
        return ("{" + ",".join(["NULL" if v is None else str(v) for v in obj]) + "}").encode()


PG = PgDialect()


def check_pg_url(url: str) -> dict[str, Any]:
    try:
        params = conninfo_to_dict(url)
    except psycopg.Error as exc:
        raise ValueError(f"DATABASE_URL is not a valid PostgreSQL URL ({_scrub(str(exc), url)}):"
                         f" {redact_url(url)!r}") from None
    port = str(params.get("port") or "")
    if port and not all(part.isascii() and part.isdigit() for part in port.split(",")):
        raise ValueError(f"DATABASE_URL has a port that is not a number: {redact_url(url)!r}")
    if not params.get("dbname"):
        raise ValueError(f"DATABASE_URL must name a database (postgresql://user:password@host:5432/dbname),"
                         f" got {redact_url(url)!r}")
    return params


def _scrub(text: str, url: str) -> str:
    """A driver message without the password of `url` in it, first line only."""
    try:
        password = conninfo_to_dict(url).get("password")
    except psycopg.Error:
        password = None
    if password:
        text = text.replace(password, "***")
    return text.strip().splitlines()[0] if text.strip() else text


class _IntNumeric(Loader):
    """SUM() of BIGINTs is NUMERIC in PostgreSQL; every amount here is an integer, so load
    NUMERIC as int (as SQLite gives it)."""

    def load(self, data: Any) -> Any:
        text = bytes(data).decode()
        try:
            return int(text)
        except ValueError:
            return Decimal(text)


_CACHE: dict[str, str] = {}


def _pg_sql(sql: str) -> str:
    """`?` placeholders as psycopg's `%s` (and a literal % doubled)."""
    out = _CACHE.get(sql)
    if out is None:
        out = _CACHE[sql] = sql.replace("%", "%%").replace("?", "%s")
    return out


class _Aborted(Exception):
    """A trip's statement that did not run (the trip failed): its step ends with this, and
    PgDb.together raises the trip's own error."""


class _Trip:
    """The statements of several steps (coroutines of one connection), sent in step order in
    one pipeline and answered by one sync: one round trip to the server for them all.

    A step sends in its turn. Its turn ends when it needs an answer (it waits for the sync
    then) or when it ends, and the next step's turn begins. Once every turn is over the
    pipeline is synced and the steps read their answers; a statement a step sends after that
    is answered at once, as outside a trip."""

    __slots__ = ("turns", "over", "current", "synced")

    def __init__(self, steps: int) -> None:
        loop = asyncio.get_running_loop()
        #: step i may send once turns[i] is done; the last one: every turn is over
        self.turns = [loop.create_future() for _ in range(steps + 1)]
        self.turns[0].set_result(None)
        self.over = [False] * steps
        self.current = 0
        #: True once the answers are in, False if the trip failed
        self.synced: asyncio.Future[bool] = loop.create_future()

    def end_turn(self, step: int) -> None:
        self.over[step] = True
        while self.current < len(self.over) and self.over[self.current]:
            self.current += 1
            if not self.turns[self.current].done():
                self.turns[self.current].set_result(None)


def _ended(task: asyncio.Future[Any]) -> None:
    """A step of a cancelled trip: its failure is the trip's (nobody else reads it)."""
    if not task.cancelled():
        task.exception()


#: the trip (and which of its steps) the running task is a step of
_STEP: contextvars.ContextVar[tuple[_Trip, int] | None] = contextvars.ContextVar("pg_trip_step", default=None)


class PgDb:
    """The connection as the batch code, queries and migrations see it: execute() and
    executemany() with `?` placeholders, awaited; several statements sent in one round trip
    with together() (psycopg's pipeline mode)."""

    __slots__ = ("conn", "_trip")
    #: how the batch code spells its bulk statements here
    dialect: Dialect = PG

    def __init__(self, conn: psycopg.AsyncConnection[Any]) -> None:
        self.conn = conn
        self._trip: _Trip | None = None

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> Rows:
        return await self._run(_pg_sql(sql) if params else sql, params or None, True)  # type: ignore[return-value]

    async def fetch(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        """The rows of `sql` (psycopg's own %s placeholders)."""
        return (await self._run(sql, params, True)).fetchall()  # type: ignore[union-attr]

    async def send(self, sql: str, params: Sequence[Any] | None = None) -> None:
        """A statement whose answer nobody reads (psycopg's own %s placeholders): in a trip it
        is only sent (its failure is the trip's), elsewhere it is awaited."""
        await self._run(sql, params, False)

    async def executemany(self, sql: str, params: Sequence[Sequence[Any]]) -> None:
        await self._turn()
        await self.conn.cursor().executemany(_pg_sql(sql), params)

    async def _turn(self) -> tuple[_Trip, int] | None:
        """If the running task is a step of this connection's trip under way: its turn to send
        (awaited), and the step."""
        step = _STEP.get()
        if step is None or step[0] is not self._trip or step[0].synced.done():
            return None
        await step[0].turns[step[1]]
        return step

    async def _run(self, sql: str, params: Sequence[Any] | None, answer: bool) -> Rows | None:
        step = await self._turn()
        cur = self.conn.cursor()
        # Never prepared in a trip: psycopg records a statement it prepares in a pipeline as
        # prepared before the server has run the Parse, and keeps it so when an earlier
        # statement's failure makes the server skip it; every later use would then fail
        # ("prepared statement ... does not exist") until the connection is closed.
        await cur.execute(sql, params, prepare=False if step is not None else None)
        if not answer:
            return None
        if step is not None:
            trip, i = step
            trip.end_turn(i)
            if not await asyncio.shield(trip.synced):
                raise _Aborted
        return Rows(await cur.fetchall() if cur.description is not None else (), cur.rowcount)

    async def together(self, steps: Sequence[Awaitable[T]]) -> list[T]:
        """Run these steps (coroutines of this connection, not started yet): their statements
        are sent in step order in one pipeline and answered together, one round trip for all
        that need no answer before sending the next. All run even if one fails (a failed
        statement aborts the transaction, and the statements after it do not run); then the
        first failure is raised."""
        if len(steps) < 2 or _STEP.get() is not None or not psycopg.AsyncPipeline.is_supported():
            return await self._in_turn(steps)
        loop = asyncio.get_running_loop()
        trip = _Trip(len(steps))
        tasks: list[asyncio.Task[T]] = []
        failure: BaseException | None = None
        self._trip = trip
        try:
            try:
                async with self.conn.pipeline():
                    for i, step in enumerate(steps):
                        context = contextvars.copy_context()
                        context.run(_STEP.set, (trip, i))
                        task = loop.create_task(step, context=context)  # type: ignore[arg-type]
                        task.add_done_callback(lambda _, i=i: trip.end_turn(i))  # type: ignore[misc]
                        tasks.append(task)
                    await trip.turns[-1]
            except Exception as exc:  # the server's refusal of a statement, a lost connection
                failure = exc
            finally:
                if not trip.synced.done():
                    trip.synced.set_result(failure is None)
            done = await asyncio.gather(*tasks, return_exceptions=True)
        finally:
            self._trip = None
            for task in tasks:  # together() itself was cancelled: the steps still waiting end
                if not task.done():
                    task.cancel()
                task.add_done_callback(_ended)  # what they raised is the trip's, read above or dropped
        errors = [e for e in (failure, *done) if isinstance(e, BaseException)]
        # A failed statement's error is raised where its answer was read (the sync, or a later
        # step sending); the statements after it only report that the pipeline was aborted.
        for error in errors:
            if not isinstance(error, (_Aborted, pg_errors.PipelineAborted)):
                raise error
        if errors:
            raise errors[0]
        return done  # type: ignore[return-value]

    async def _in_turn(self, steps: Sequence[Awaitable[T]]) -> list[T]:
        """Run these steps one after the other; the first failure stops them."""
        done: list[T] = []
        try:
            for step in steps:
                done.append(await step)
        finally:
            for step in steps[len(done) + 1:]:
                step.close()  # type: ignore[attr-defined]  # never started
        return done

    async def executescript(self, script: str) -> None:
        await self.conn.execute(script)

    @property
    def in_transaction(self) -> bool:
        return self.conn.info.transaction_status != TransactionStatus.IDLE

    async def begin_locked(self, lock: int, clock: bool = True) -> int | None:
        """BEGIN, the advisory lock `lock`, then (`clock`) the server's clock in whole seconds:
        the statements run in turn, so the time is read once the lock is held. Sent in a trip
        (together) with the batch's reads, they take no round trip of their own."""
        await self.send("BEGIN")
        await self.send(f"SELECT pg_advisory_xact_lock({int(lock)})")
        if not clock:
            return None
        row = (await self.execute(_SERVER_NOW)).fetchone()
        return int(row[0])

    async def rollback(self) -> None:
        if self.conn.closed:
            return
        if self.conn.info.transaction_status != TransactionStatus.IDLE:
            await self.conn.execute("ROLLBACK")

    async def tables(self) -> set[str]:
        rows = await self.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
        return {r[0] for r in rows}

    damage: tuple[type[BaseException], ...] = ()

    async def schema_version(self) -> int:
        return (await self.execute("SELECT COALESCE(MAX(version), 0) FROM schema_version")).fetchone()[0]  # type: ignore[no-any-return]

    async def integrity_check(self) -> list[str]:
        return []  # the server checks its pages as it reads them

    async def lenient(self, sql: str, params: Sequence[Any] = (), text: Any = None) -> list[tuple[Any, ...]]:
        """The rows (the server's text is always valid: `text` is for SQLite's)."""
        return [tuple(r) for r in await self.execute(sql, params)]

    async def columns(self, table: str) -> list[str]:
        return [r[0] for r in await self.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema()"
            " AND table_name = ? ORDER BY ordinal_position", (table,))]

    async def reset_sequences(self) -> None:
        """Support message, audit and broadcast ids come from sequences: move them past the rows
        copied in."""
        for table in ("support_messages", "audit", "broadcasts"):
            await self.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                               f" GREATEST((SELECT MAX(id) FROM {table}), 1))")

    async def rebuild(self, ledger_tables: set[str]) -> None:
        await rebuild(self, ledger_tables)

    async def end(self, commit: bool) -> None:
        if commit:
            await self.execute("COMMIT")
        else:
            await self.rollback()

    async def close(self) -> None:
        await self.conn.close()


async def connect(url: str, lock_wait_s: float | None = None) -> PgDb:
    """A connection in autocommit; `lock_wait_s`: the longest it waits for a lock."""
    params = check_pg_url(url)
    extra = {} if "connect_timeout" in params else {"connect_timeout": 10}
    try:
        conn = await psycopg.AsyncConnection.connect(url, autocommit=True, **extra)
    except psycopg.Error as exc:
        raise DatabaseUnavailable(f"cannot connect to PostgreSQL at {redact_url(url)}: {_scrub(str(exc), url)}") from None
    conn.adapters.register_loader("numeric", _IntNumeric)
    conn.adapters.register_dumper(Bigints, BigintsDumper)
    if lock_wait_s is not None:
        await conn.execute(f"SET lock_timeout = {max(1, int(lock_wait_s * 1000))}")
    return PgDb(conn)


_SERVER_NOW = "SELECT floor(extract(epoch FROM clock_timestamp()))::bigint"


class PgStore(Store):
    backend = "postgresql"
    version = VERSION
    IntegrityError: tuple[type[BaseException], ...] = (psycopg.IntegrityError,)

    def __init__(self, url: str, *, clock: Callable[[], float] | None = None, lock_wait_s: float = 30.0,
                 read_only: bool = False) -> None:
        super().__init__(clock=clock, lock_wait_s=lock_wait_s, read_only=read_only)
        check_pg_url(url)
        self.url = url
        self._dbs: dict[str, PgDb] = {}

    def __repr__(self) -> str:
        return f"PgStore({redact_url(self.url)!r})"

    announces_changes = True

    async def changes(self) -> AsyncIterator[None]:
        """LISTEN on a connection of its own (never the ledger's: a notice must not wait for a
        batch) to what schema v10's triggers announce with each commit."""
        async with await psycopg.AsyncConnection.connect(self.url, autocommit=True) as conn:
            await conn.execute(f"LISTEN {CHANGES_CHANNEL}")
            yield  # listening: what changed before LISTEN took effect is for the caller to read
            async for _ in conn.notifies():
                yield

    async def open(self) -> PgStore:
        try:
            if self.read_only:  # a reader only, on a ledger at this code's schema
                self._dbs["reader"] = await connect(self.url)
                self.found = await look_at(self._dbs["reader"], redact_url(self.url))
                if (problem := self.found.problem()) is not None:
                    raise SchemaMismatch(problem)
            else:
                self._dbs["writer"] = await connect(self.url, self.lock_wait_s)
                await schema_postgres.migrate(self._dbs["writer"])
                self._dbs["reader"] = await connect(self.url)
        except BaseException:
            await self.close()
            raise
        self._open = True
        return self

    async def close(self) -> None:
        await self._drain()
        self._open = False
        for name in ("reader", "writer"):
            db = self._dbs.pop(name, None)
            if db is not None:
                async with self._writing if name == "writer" else self._reading:
                    await db.close()

    async def _writer_db(self) -> PgDb:
        return await self._db("writer")

    async def _db(self, name: str) -> PgDb:
        """The connection, opened again if the server dropped it."""
        db = self._dbs.get(name)
        if db is None or db.conn.closed or db.conn.broken:
            if db is not None:
                log.warning("the %s connection to PostgreSQL was lost; connecting again", name)
            try:
                db = self._dbs[name] = await connect(self.url, self.lock_wait_s if name == "writer" else None)
            except DatabaseUnavailable as exc:
                log.error("%s", exc)
                raise StorageBusy(reason="unavailable") from None
        return db

    def _reason(self, exc: BaseException) -> str:
        if isinstance(exc, pg_errors.LockNotAvailable):
            return "locked"
        if isinstance(exc, psycopg.OperationalError):
            return "unavailable"
        if isinstance(exc, pg_errors.DiskFull):
            return "full"
        if isinstance(exc, pg_errors.ReadOnlySqlTransaction):
            return "readonly"
        return "error"

    async def _commit(self, batch: list[Request]) -> list[Any]:
        safe = False
        attempt = reconnects = 0
        while True:
            db = await self._db("writer")
            committing = False
            try:
                # In the batch's first round trip, with its reads: the transaction, the lock every
                # writer takes first and, once it is held, the batch's time (see Store.own_clock):
                # the server's, so every instance stamps and compares claims on one clock (a
                # test's clock is read once the lock is held).
                own = self.own_clock
                outcomes = await run_batch(db, batch, (lambda t: t) if own else (lambda _: int(self.clock())),
                                           safe, PG, begin=db.begin_locked(BATCH_LOCK, clock=own))
                committing = True
                await db.execute("COMMIT")
                return outcomes
            except NeedSavepoints:
                await db.rollback()
                self.safe_batches += 1
                safe = True
            except (pg_errors.DeadlockDetected, pg_errors.SerializationFailure) as exc:
                await db.rollback()
                attempt += 1
                self.retries += 1
                if attempt > MAX_RETRIES:
                    log.error("batch of %d gave up after %d retries: %s", len(batch), MAX_RETRIES,
                              type(exc).__name__)
                    raise StorageBusy(reason="busy") from None
                pause = min(0.5, 0.005 * 2 ** attempt) * random.uniform(0.5, 1.5)
                log.warning("batch of %d: %s; running it again (retry %d of %d) in %.0f ms", len(batch),
                            type(exc).__name__, attempt, MAX_RETRIES, pause * 1000)
                await asyncio.sleep(pause)
            except psycopg.OperationalError as exc:  # after its subclasses DeadlockDetected and co.
                # The connection was lost (a server restart, a proxy closing idle connections).
                # Before COMMIT was sent nothing of the batch can have been kept: connect again
                # and run it again, once. Lost during COMMIT, the outcome is unknown: refuse.
                if committing or not db.conn.broken or reconnects:
                    if not db.conn.broken:  # e.g. a lock wait past lock_timeout: end the transaction
                        try:
                            await db.rollback()
                        except psycopg.Error:
                            pass
                    raise
                reconnects += 1
                log.warning("batch of %d: the connection to PostgreSQL was lost (%s); running it again",
                            len(batch), _scrub(str(exc), self.url))
            except BaseException:
                try:
                    await db.rollback()
                except psycopg.Error:
                    pass
                raise

    async def _read(self, query: Callable[[PgDb], Awaitable[T]]) -> T:
        async with self._reading:
            return await self._read_once(query)

    async def _read_single(self, query: Callable[[Any], Awaitable[T]]) -> T:
        async with self._reading:
            return await self._read_once(query, single=True)

    async def _read_once(self, query: Callable[[Any], Awaitable[T]], single: bool = False) -> T:
        for attempt in (1, 2):  # a read is safe to run again on a new connection
            db = await self._db("reader")
            try:
                if single:  # one statement, in autocommit: a snapshot of its own
                    return await query(OneStatement(db))
                await db.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                try:
                    return await query(db)
                finally:
                    if not db.conn.broken:
                        await db.rollback()
            except psycopg.OperationalError as exc:
                if attempt == 2 or not db.conn.broken:
                    log.error("read failed: %s", _scrub(str(exc), self.url))
                    raise StorageBusy(reason="unavailable") from None
                log.warning("the reader's connection to PostgreSQL was lost; connecting again")
        raise AssertionError("unreachable")


async def look_at(db: PgDb, where: str) -> Found:
    """The schema version and tables of the connection's schema, in a read-only transaction."""
    await db.execute("BEGIN READ ONLY")
    try:
        tables = await db.tables()
        version = ((await db.execute("SELECT COALESCE(MAX(version), 0) FROM schema_version")).fetchone()[0]
                   if "schema_version" in tables else 0)
    finally:
        await db.rollback()
    return Found(where, True, version, frozenset(tables), VERSION)


async def look(url: str) -> Found:
    db = await connect(url)
    try:
        return await look_at(db, redact_url(url))
    finally:
        await db.close()


async def rebuild(db: PgDb, ledger_tables: set[str]) -> None:
    """`copy --force`: under the migration and batch locks (no bot batch and no migration runs
    meanwhile), the ledger's tables dropped (CASCADE: the view over them too) with their
    trigger functions, then `schema_version` and every migration again (the caller commits or
    rolls back). Tables of another application in the same schema are left as they are."""
    await db.execute(f"BEGIN; SELECT pg_advisory_xact_lock({MIGRATION_LOCK});"
                     f" SELECT pg_advisory_xact_lock({BATCH_LOCK})")
    ledger = sorted({*ledger_tables, "schema_version"} & await db.tables())
    functions = [r[0] for r in await db.execute(
        "SELECT DISTINCT p.oid::regprocedure::text FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid"
        " JOIN pg_class c ON c.oid = t.tgrelid WHERE NOT t.tgisinternal"
        " AND c.relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema())"
        " AND c.relname = ANY(?)", (ledger,))]
    if ledger:
        await db.execute(f"DROP TABLE {', '.join(ledger)} CASCADE")
    if functions:
        await db.execute(f"DROP FUNCTION {', '.join(functions)}")
    await db.execute(schema_postgres.SCHEMA_VERSION_TABLE)
    await schema_postgres.upgrade(db, 0)

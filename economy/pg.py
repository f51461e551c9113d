"""The PostgreSQL store: psycopg 3 connections in the writer and reader threads, running the same
synchronous batch code (economy/journal.py) and reads (economy/queries.py) as on SQLite.

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
and queries are written once for both backends.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any, TypeVar

import psycopg
from psycopg import errors as pg_errors
from psycopg.adapt import Loader
from psycopg.conninfo import conninfo_to_dict
from psycopg.pq import TransactionStatus

from economy.errors import StorageBusy
from economy.journal import Dialect, NeedSavepoints, Request, run_batch
from economy.catalog import FREEZE_MAX
from economy.schema import (
    ACCOUNT_COLUMNS, AUDIT_VIAS, BALANCE_COLUMNS, BROADCAST_KINDS, BROADCAST_STATES, DAILY_AT, DAILY_AT_FALLBACK,
    DELIVERY_STATES, ENGAGE_ACCOUNTS, LEGACY_ACCOUNTS, NOTICE_STATES, RECIPIENT_STATES, SEGMENTS, SYSTEM_ACCOUNTS,
    USER_ACCOUNTS, WALLET_COLUMNS, SchemaMismatch, _quoted, engage_tables, newer,
)
from economy.store import DatabaseUnavailable, Found, Store, Worker, redact_url

log = logging.getLogger(__name__)
T = TypeVar("T")

#: Advisory lock keys (any constants unlikely to clash with another application's).
BATCH_LOCK = 0x1ED9E1
MIGRATION_LOCK = 0x1ED9E2
MAX_RETRIES = 8

_WALLETS = ", ".join(WALLET_COLUMNS)
_TRANSFER_TYPES = ("bigint", "bigint", "text", "text", "bigint", "bigint", "bigint", "bigint", "text", "bigint", "bigint")


def _unnest(types: tuple[str, ...]) -> str:
    return "unnest(" + ", ".join(f"%s::{t}[]" for t in types) + ")"


class PgDialect(Dialect):
    """Each bulk statement of a batch is one statement over arrays (`unnest`), whatever the
    batch's size, so its text never changes and psycopg prepares it once."""

    integrity_errors = (psycopg.IntegrityError,)
    #: a value the server (or psycopg, dumping it) cannot take: NUL in text, a character not in
    #: the encoding, a number out of range (class 22); a surrogate (UnicodeEncodeError); an
    #: index row too large (54000). Locks, deadlocks and lost connections are not among them.
    data_errors = (psycopg.DataError, UnicodeError, pg_errors.ProgramLimitExceeded)
    _select_wallets = (f"SELECT user_id, {_WALLETS} FROM wallets WHERE user_id = ANY(%s::bigint[])"
                       " ORDER BY user_id FOR UPDATE")
    _insert_transfers = f"INSERT INTO transfers SELECT * FROM {_unnest(_TRANSFER_TYPES)}"
    _upsert_keys = (
        f"INSERT INTO idempotency SELECT * FROM {_unnest(('text', 'text', 'text', 'bigint', 'bigint'))}"
        " ON CONFLICT (key) DO UPDATE SET fingerprint = excluded.fingerprint, result = excluded.result,"
        " created_at = excluded.created_at, expires_at = excluded.expires_at"
    )
    _update: dict[tuple[int, ...], str] = {}

    def select_wallets(self, db: Any, user_ids: list[int]) -> Any:
        """Read and lock them in user id order: every writer waits for wallets the same way."""
        return db.conn.execute(self._select_wallets, (user_ids,))

    def select_keys(self, db: Any, keys: list[str]) -> Any:
        return db.conn.execute(
            "SELECT key, fingerprint, result, expires_at, created_at FROM idempotency WHERE key = ANY(%s::text[])",
            (keys,))

    def update_wallets(self, db: Any, columns: tuple[int, ...], rows: list[tuple[Any, ...]]) -> None:
        sql = self._update.get(columns)
        if sql is None:
            names = [WALLET_COLUMNS[i] for i in columns]
            sql = self._update[columns] = (
                f"UPDATE wallets w SET {', '.join(f'{n} = v.{n}' for n in names)}"
                f" FROM {_unnest(('bigint',) * (len(names) + 1))} AS v({', '.join(names)}, user_id)"
                " WHERE w.user_id = v.user_id"
            )
        db.conn.execute(sql, [list(col) for col in zip(*rows)])

    def insert_transfers(self, db: Any, rows: list[tuple[Any, ...]]) -> None:
        db.conn.execute(self._insert_transfers, [list(col) for col in zip(*rows)])

    def upsert_keys(self, db: Any, rows: list[tuple[Any, ...]]) -> None:
        db.conn.execute(self._upsert_keys, [list(col) for col in zip(*rows)])


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


class PgDb:
    """The connection as the batch code and the queries see it: sqlite3's execute(),
    executemany() (pipelined by psycopg: one round trip) with `?` placeholders."""

    __slots__ = ("conn",)

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.conn = conn

    def execute(self, sql: str, params: Any = None) -> psycopg.Cursor[Any]:
        cur = self.conn.cursor()
        if params:
            cur.execute(_pg_sql(sql), params)
        else:
            cur.execute(sql)
        return cur

    def executemany(self, sql: str, params: Any) -> psycopg.Cursor[Any]:
        cur = self.conn.cursor()
        cur.executemany(_pg_sql(sql), params)
        return cur

    @property
    def in_transaction(self) -> bool:
        return self.conn.info.transaction_status != TransactionStatus.IDLE

    def rollback(self) -> None:
        if self.conn.closed:
            return
        if self.conn.info.transaction_status != TransactionStatus.IDLE:
            self.conn.execute("ROLLBACK")


def connect(url: str) -> psycopg.Connection[Any]:
    params = check_pg_url(url)
    extra = {} if "connect_timeout" in params else {"connect_timeout": 10}
    try:
        conn = psycopg.connect(url, autocommit=True, **extra)
    except psycopg.Error as exc:
        raise DatabaseUnavailable(f"cannot connect to PostgreSQL at {redact_url(url)}: {_scrub(str(exc), url)}") from None
    conn.adapters.register_loader("numeric", _IntNumeric)
    return conn


_SERVER_NOW = "SELECT floor(extract(epoch FROM clock_timestamp()))::bigint"


class PgStore(Store):
    backend = "postgresql"
    IntegrityError = (psycopg.IntegrityError,)

    def __init__(self, url: str, *, clock: Callable[[], float] | None = None, lock_wait_s: float = 30.0,
                 read_only: bool = False) -> None:
        super().__init__(clock=clock, lock_wait_s=lock_wait_s, read_only=read_only)
        check_pg_url(url)
        self.url = url
        self._dbs: dict[str, PgDb] = {}

    def __repr__(self) -> str:
        return f"PgStore({redact_url(self.url)!r})"

    async def open(self) -> PgStore:
        if self.read_only:  # a reader only, on a ledger at this code's schema
            self._reader = Worker("pg-reader")
            try:
                self._dbs["reader"] = PgDb(await self._reader.call(connect, self.url))
                self.found = await self._reader.call(look_at, self._dbs["reader"], redact_url(self.url))
                if (problem := self.found.problem()) is not None:
                    raise SchemaMismatch(problem)
            except BaseException:
                await self.close()
                raise
            return self
        self._writer, self._reader = Worker("pg-writer"), Worker("pg-reader")
        try:
            self._dbs["writer"] = PgDb(await self._writer.call(self._connect_writer))
            await self._writer.call(migrate, self._dbs["writer"])
            self._dbs["reader"] = PgDb(await self._reader.call(connect, self.url))
        except BaseException:
            await self.close()
            raise
        return self

    async def close(self) -> None:
        await self._drain()
        for name, worker in (("reader", self._reader), ("writer", self._writer)):
            db = self._dbs.pop(name, None)
            if worker is not None:
                if db is not None:
                    await worker.call(db.conn.close)
                worker.stop()
        self._reader = self._writer = None

    async def in_writer(self, fn: Callable[[PgDb], T]) -> T:
        """Run `fn(db)` on the writer connection, in its thread, between batches."""
        await self._drain()
        return await self._writer.call(fn, self._db("writer"))  # type: ignore[union-attr]

    def _connect_writer(self) -> psycopg.Connection[Any]:
        """The writer waits for a lock (another process's batch) at most lock_wait_s, as on SQLite."""
        conn = connect(self.url)
        conn.execute(f"SET lock_timeout = {max(1, int(self.lock_wait_s * 1000))}")
        return conn

    def _db(self, name: str) -> PgDb:
        """The connection, opened again if the server dropped it."""
        db = self._dbs.get(name)
        if db is None or db.conn.closed or db.conn.broken:
            if db is not None:
                log.warning("the %s connection to PostgreSQL was lost; connecting again", name)
            try:
                db = self._dbs[name] = PgDb(self._connect_writer() if name == "writer" else connect(self.url))
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

    def _commit(self, batch: list[Request]) -> list[Any]:
        safe = False
        attempt = reconnects = 0
        while True:
            db = self._db("writer")
            committing = False
            try:
                # One round trip: the transaction and the lock every writer takes first.
                db.execute(f"BEGIN; SELECT pg_advisory_xact_lock({BATCH_LOCK})")
                # The batch's time, read once the lock is held (see Store.own_clock): the
                # server's, so every instance stamps and compares claims on one clock.
                now = db.execute(_SERVER_NOW).fetchone()[0] if self.own_clock else int(self.clock())
                outcomes = run_batch(db, batch, now, safe, PG)
                committing = True
                db.execute("COMMIT")
                return outcomes
            except NeedSavepoints:
                db.rollback()
                self.safe_batches += 1
                safe = True
            except (pg_errors.DeadlockDetected, pg_errors.SerializationFailure) as exc:
                db.rollback()
                attempt += 1
                self.retries += 1
                if attempt > MAX_RETRIES:
                    log.error("batch of %d gave up after %d retries: %s", len(batch), MAX_RETRIES,
                              type(exc).__name__)
                    raise StorageBusy(reason="busy") from None
                pause = min(0.5, 0.005 * 2 ** attempt) * random.uniform(0.5, 1.5)
                log.warning("batch of %d: %s; running it again (retry %d of %d) in %.0f ms", len(batch),
                            type(exc).__name__, attempt, MAX_RETRIES, pause * 1000)
                time.sleep(pause)
            except psycopg.OperationalError as exc:  # after its subclasses DeadlockDetected and co.
                # The connection was lost (a server restart, a proxy closing idle connections).
                # Before COMMIT was sent nothing of the batch can have been kept: connect again
                # and run it again, once. Lost during COMMIT, the outcome is unknown: refuse.
                if committing or not db.conn.broken or reconnects:
                    if not db.conn.broken:  # e.g. a lock wait past lock_timeout: end the transaction
                        try:
                            db.rollback()
                        except psycopg.Error:
                            pass
                    raise
                reconnects += 1
                log.warning("batch of %d: the connection to PostgreSQL was lost (%s); running it again",
                            len(batch), _scrub(str(exc), self.url))
            except BaseException:
                try:
                    db.rollback()
                except psycopg.Error:
                    pass
                raise

    def _read(self, query: Callable[[PgDb], T]) -> T:
        for attempt in (1, 2):  # a read is safe to run again on a new connection
            db = self._db("reader")
            try:
                db.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                try:
                    return query(db)
                finally:
                    if not db.conn.broken:
                        db.rollback()
            except psycopg.OperationalError as exc:
                if attempt == 2 or not db.conn.broken:
                    log.error("read failed: %s", _scrub(str(exc), self.url))
                    raise StorageBusy(reason="unavailable") from None
                log.warning("the reader's connection to PostgreSQL was lost; connecting again")
        raise AssertionError("unreachable")


def look_at(db: PgDb, where: str) -> Found:
    """The schema version and tables of the connection's schema, in a read-only transaction."""
    db.execute("BEGIN READ ONLY")
    try:
        tables = {r[0] for r in db.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")}
        version = (db.execute("SELECT COALESCE(MAX(version), 0) FROM schema_version").fetchone()[0]
                   if "schema_version" in tables else 0)
    finally:
        db.rollback()
    return Found(where, True, version, frozenset(tables), VERSION)


def look(url: str) -> Found:
    db = PgDb(connect(url))
    try:
        return look_at(db, redact_url(url))
    finally:
        db.conn.close()


# -- schema --

def _baseline(db: PgDb) -> None:
    """Versions 1-3 of the SQLite schema as they stand at v3 (a PostgreSQL database starts there)."""
    balances = " ".join(f"{c} BIGINT NOT NULL DEFAULT 0 CHECK ({c} >= 0)," for c in BALANCE_COLUMNS)
    sums = ", ".join(f"CHECK ({bal} = {credits} - {debits})" for bal, debits, credits in ACCOUNT_COLUMNS.values())
    views = " UNION ALL ".join(
        f"SELECT user_id * 4 + {n}, user_id, '{asset}', '{name}', {', '.join(ACCOUNT_COLUMNS[n])} FROM wallets"
        for n, (name, asset) in USER_ACCOUNTS.items()
    )
    db.execute(f"""
        CREATE TABLE users (
            user_id BIGINT PRIMARY KEY CHECK (user_id > 0),
            username TEXT,
            first_name TEXT NOT NULL DEFAULT '',
            language TEXT,
            registered_at BIGINT NOT NULL,
            active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1))
        );
        CREATE INDEX users_username ON users(username) WHERE username IS NOT NULL;

        CREATE TABLE accounts (
            id BIGINT PRIMARY KEY,
            user_id BIGINT,
            asset TEXT NOT NULL CHECK (asset IN ('XP', 'TOKEN', 'CREDIT')),
            name TEXT NOT NULL,
            balance BIGINT NOT NULL DEFAULT 0,
            debits BIGINT NOT NULL DEFAULT 0 CHECK (debits >= 0),
            credits BIGINT NOT NULL DEFAULT 0 CHECK (credits >= 0),
            CHECK (balance = credits - debits),
            CHECK (user_id IS NULL OR balance >= 0)
        );

        CREATE TABLE transfers (
            id BIGINT PRIMARY KEY,
            ts BIGINT NOT NULL,
            kind TEXT NOT NULL,
            asset TEXT NOT NULL,
            debit_id BIGINT NOT NULL,
            credit_id BIGINT NOT NULL,
            amount BIGINT NOT NULL CHECK (amount > 0),
            user_id BIGINT,
            ref TEXT NOT NULL DEFAULT '',
            actor BIGINT,
            user_prev BIGINT,
            CHECK (debit_id <> credit_id)
        );
        CREATE FUNCTION journal_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION 'the journal is append-only' USING ERRCODE = 'integrity_constraint_violation'; END $$;
        CREATE TRIGGER transfers_no_update BEFORE UPDATE OR DELETE ON transfers
            FOR EACH ROW EXECUTE FUNCTION journal_append_only();
        CREATE TRIGGER transfers_no_truncate BEFORE TRUNCATE ON transfers
            FOR EACH STATEMENT EXECUTE FUNCTION journal_append_only();

        CREATE TABLE entitlements (
            user_id BIGINT NOT NULL,
            item TEXT NOT NULL,
            ref TEXT COLLATE "C" NOT NULL DEFAULT '',
            since BIGINT NOT NULL,
            until BIGINT,
            PRIMARY KEY (user_id, item, ref)
        );

        CREATE TABLE content (
            content_id TEXT COLLATE "C" PRIMARY KEY,
            title TEXT NOT NULL,
            media TEXT NOT NULL,
            file_ref TEXT NOT NULL,
            price BIGINT NOT NULL CHECK (price > 0),
            added_by BIGINT,
            added_at BIGINT NOT NULL
        );

        CREATE TABLE idempotency (
            key TEXT PRIMARY KEY,
            fingerprint TEXT NOT NULL,
            result TEXT NOT NULL,
            created_at BIGINT NOT NULL,
            expires_at BIGINT
        );
        CREATE INDEX idempotency_expiry ON idempotency(expires_at) WHERE expires_at IS NOT NULL;

        CREATE TABLE support_messages (
            id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
            user_id BIGINT NOT NULL,
            text TEXT NOT NULL,
            priority INTEGER NOT NULL CHECK (priority IN (0, 1)),
            created_at BIGINT NOT NULL,
            answered_at BIGINT
        );
        CREATE INDEX support_open ON support_messages(priority DESC, id) WHERE answered_at IS NULL;

        CREATE TABLE wallets (
            user_id BIGINT PRIMARY KEY REFERENCES users(user_id),
            {balances}
            vip_since BIGINT,
            badge_since BIGINT,
            boost_until BIGINT,
            dm_until BIGINT,
            last_daily_day BIGINT,
            last_transfer BIGINT,
            transfers BIGINT NOT NULL DEFAULT 0 CHECK (transfers >= 0),
            {sums}
        );
        CREATE INDEX wallets_credit ON wallets(user_id) WHERE credit_credits > 0;
        CREATE INDEX wallets_used ON wallets(credit_used) WHERE credit_used > 0;

        CREATE TABLE top_spenders (
            user_id BIGINT PRIMARY KEY REFERENCES users(user_id),
            spent BIGINT NOT NULL CHECK (spent > 0)
        );

        CREATE VIEW all_accounts(id, user_id, asset, name, balance, debits, credits) AS
            SELECT id, user_id, asset, name, balance, debits, credits FROM accounts UNION ALL {views};
    """)
    db.executemany(
        "INSERT INTO accounts(id, user_id, asset, name) VALUES (?, NULL, ?, ?)",
        [(acc, asset, name) for acc, (name, asset) in SYSTEM_ACCOUNTS.items()],
    )


def _v4(db: PgDb) -> None:
    """Deliveries (see economy/schema.py), and a username belongs to one user at a time."""
    states = ", ".join(f"'{s}'" for s in DELIVERY_STATES)
    db.execute(f"""
        CREATE TABLE deliveries (
            transfer_id BIGINT PRIMARY KEY,
            user_id BIGINT NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('file_charge', 'content')),
            state TEXT NOT NULL CHECK (state IN ({states})),
            claimed_at BIGINT NOT NULL,
            claimed_by TEXT NOT NULL DEFAULT '',
            message_id BIGINT,
            refund_id BIGINT UNIQUE,
            reason TEXT NOT NULL DEFAULT '',
            updated_at BIGINT NOT NULL,
            CHECK ((state = 'delivered') = (message_id IS NOT NULL)),
            CHECK (state = 'refunded' OR refund_id IS NULL),
            CHECK (state <> 'refunded' OR refund_id IS NOT NULL OR reason = 'by_hand')
        );
        CREATE INDEX deliveries_pending ON deliveries(claimed_at) WHERE state = 'pending';
        CREATE FUNCTION deliveries_final() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION 'a delivery outcome is final' USING ERRCODE = 'integrity_constraint_violation'; END $$;
        CREATE TRIGGER deliveries_final BEFORE UPDATE ON deliveries
            FOR EACH ROW WHEN (OLD.state <> 'pending') EXECUTE FUNCTION deliveries_final();
        CREATE FUNCTION deliveries_kept() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION 'deliveries are kept' USING ERRCODE = 'integrity_constraint_violation'; END $$;
        CREATE TRIGGER deliveries_no_delete BEFORE DELETE ON deliveries
            FOR EACH ROW EXECUTE FUNCTION deliveries_kept();
        CREATE TRIGGER deliveries_no_truncate BEFORE TRUNCATE ON deliveries
            FOR EACH STATEMENT EXECUTE FUNCTION deliveries_kept();

        UPDATE users SET username = NULL WHERE user_id IN (SELECT user_id FROM (SELECT user_id, ROW_NUMBER()
            OVER (PARTITION BY username ORDER BY registered_at DESC, user_id DESC) AS n FROM users
            WHERE username IS NOT NULL) AS held WHERE n > 1);
        DROP INDEX users_username;
        CREATE UNIQUE INDEX users_username ON users(username) WHERE username IS NOT NULL;
    """)


def _v5(db: PgDb) -> None:
    """Keys of the HTTP API (see economy/schema.py)."""
    db.execute("""
        CREATE TABLE api_keys (
            name TEXT PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 64),
            scope TEXT NOT NULL CHECK (scope IN ('read', 'write')),
            key_hash TEXT NOT NULL UNIQUE CHECK (length(key_hash) = 64),
            created_at BIGINT NOT NULL,
            revoked_at BIGINT
        );
    """)


def _v6(db: PgDb) -> None:
    """The legacy import (see economy/schema.py)."""
    db.execute("""
        CREATE TABLE legacy_imports (
            source TEXT NOT NULL CHECK (source IN ('tokens', 'credits')),
            old_id TEXT NOT NULL,
            user_id BIGINT NOT NULL,
            imported_at BIGINT NOT NULL,
            PRIMARY KEY (source, old_id)
        );
        CREATE TABLE legacy_history (
            id BIGINT PRIMARY KEY,
            user_id BIGINT NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('EARN', 'SPEND')),
            amount BIGINT NOT NULL,
            reason TEXT NOT NULL DEFAULT '',
            ts BIGINT NOT NULL
        );
        CREATE INDEX legacy_history_user ON legacy_history(user_id, id);
        CREATE FUNCTION legacy_history_read_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION 'imported history is read-only' USING ERRCODE = 'integrity_constraint_violation'; END $$;
        CREATE TRIGGER legacy_history_no_update BEFORE UPDATE OR DELETE ON legacy_history
            FOR EACH ROW EXECUTE FUNCTION legacy_history_read_only();
        CREATE TRIGGER legacy_history_no_truncate BEFORE TRUNCATE ON legacy_history
            FOR EACH STATEMENT EXECUTE FUNCTION legacy_history_read_only();
    """)
    db.executemany(
        "INSERT INTO accounts(id, user_id, asset, name) VALUES (?, NULL, ?, ?)",
        [(acc, asset, name) for acc, (name, asset) in LEGACY_ACCOUNTS.items()],
    )


def _v7(db: PgDb) -> None:
    """Deliveries' source and the notices owed to users (see economy/schema.py)."""
    states = ", ".join(f"'{s}'" for s in NOTICE_STATES)
    db.execute(f"""
        ALTER TABLE deliveries ADD COLUMN source TEXT NOT NULL DEFAULT '';
        CREATE TABLE notices (
            transfer_id BIGINT PRIMARY KEY,
            user_id BIGINT NOT NULL,
            kind TEXT NOT NULL,
            data TEXT NOT NULL,
            state TEXT NOT NULL CHECK (state IN ({states})),
            claimed_at BIGINT NOT NULL,
            claimed_by TEXT NOT NULL DEFAULT '',
            message_id BIGINT,
            reason TEXT NOT NULL DEFAULT '',
            updated_at BIGINT NOT NULL,
            CHECK ((state = 'sent') = (message_id IS NOT NULL))
        );
        CREATE INDEX notices_pending ON notices(claimed_at) WHERE state = 'pending';
        CREATE FUNCTION notices_final() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION 'a notice outcome is final' USING ERRCODE = 'integrity_constraint_violation'; END $$;
        CREATE TRIGGER notices_final BEFORE UPDATE ON notices
            FOR EACH ROW WHEN (OLD.state <> 'pending') EXECUTE FUNCTION notices_final();
        CREATE FUNCTION notices_kept() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION 'notices are kept' USING ERRCODE = 'integrity_constraint_violation'; END $$;
        CREATE TRIGGER notices_no_delete BEFORE DELETE ON notices
            FOR EACH ROW EXECUTE FUNCTION notices_kept();
        CREATE TRIGGER notices_no_truncate BEFORE TRUNCATE ON notices
            FOR EACH STATEMENT EXECUTE FUNCTION notices_kept();
    """)


def _v8(db: PgDb) -> None:
    """The audit trail (see economy/schema.py): append-only, TRUNCATE refused too."""
    vias = ", ".join(f"'{v}'" for v in AUDIT_VIAS)
    db.execute(f"""
        CREATE TABLE audit (
            id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
            ts BIGINT NOT NULL,
            via TEXT NOT NULL CHECK (via IN ({vias})),
            actor_id BIGINT,
            actor TEXT NOT NULL,
            action TEXT NOT NULL,
            user_id BIGINT,
            amount BIGINT,
            unit TEXT NOT NULL DEFAULT '',
            before TEXT NOT NULL DEFAULT '{{}}',
            after TEXT NOT NULL DEFAULT '{{}}',
            note TEXT NOT NULL DEFAULT '',
            transfer_id BIGINT
        );
        CREATE INDEX audit_user ON audit(user_id, id) WHERE user_id IS NOT NULL;
        CREATE INDEX audit_actor ON audit(actor_id, id) WHERE actor_id IS NOT NULL;
        CREATE INDEX audit_actor_name ON audit(actor, id);
        CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION 'the audit trail is append-only' USING ERRCODE = 'integrity_constraint_violation'; END $$;
        CREATE TRIGGER audit_no_update BEFORE UPDATE OR DELETE ON audit
            FOR EACH ROW EXECUTE FUNCTION audit_append_only();
        CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit
            FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
    """)


def _v9(db: PgDb) -> None:
    """Streaks, /notify, gifts and reminders (see economy/schema.py)."""
    db.execute(f"""
        ALTER TABLE wallets ADD COLUMN daily_at BIGINT;
        ALTER TABLE wallets ADD COLUMN streak BIGINT NOT NULL DEFAULT 0 CHECK (streak >= 0);
        ALTER TABLE wallets ADD COLUMN freezes BIGINT NOT NULL DEFAULT 0 CHECK (freezes BETWEEN 0 AND {FREEZE_MAX});
        ALTER TABLE wallets ADD COLUMN tokens_given BIGINT NOT NULL DEFAULT 0
            CHECK (tokens_given BETWEEN 0 AND token_debits);
        ALTER TABLE users ADD COLUMN notify INTEGER NOT NULL DEFAULT 1 CHECK (notify IN (0, 1));
    """)
    db.execute(DAILY_AT)
    db.execute(DAILY_AT_FALLBACK)
    db.execute("ALTER TABLE wallets DROP COLUMN last_daily_day")
    db.execute(engage_tables("BIGINT", ""))
    db.execute("""
        CREATE FUNCTION gifts_kept() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION 'gifts are kept as given' USING ERRCODE = 'integrity_constraint_violation'; END $$;
        CREATE TRIGGER gifts_no_update BEFORE UPDATE OR DELETE ON gifts
            FOR EACH ROW EXECUTE FUNCTION gifts_kept();
        CREATE TRIGGER gifts_no_truncate BEFORE TRUNCATE ON gifts
            FOR EACH STATEMENT EXECUTE FUNCTION gifts_kept();
        CREATE FUNCTION reminders_final() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION 'a reminder outcome is final' USING ERRCODE = 'integrity_constraint_violation'; END $$;
        CREATE TRIGGER reminders_final BEFORE UPDATE ON reminders
            FOR EACH ROW WHEN (OLD.state <> 'pending') EXECUTE FUNCTION reminders_final();
        CREATE FUNCTION reminders_kept() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION 'reminders are kept' USING ERRCODE = 'integrity_constraint_violation'; END $$;
        CREATE TRIGGER reminders_no_delete BEFORE DELETE ON reminders
            FOR EACH ROW EXECUTE FUNCTION reminders_kept();
        CREATE TRIGGER reminders_no_truncate BEFORE TRUNCATE ON reminders
            FOR EACH STATEMENT EXECUTE FUNCTION reminders_kept();
    """)
    db.executemany(
        "INSERT INTO accounts(id, user_id, asset, name) VALUES (?, NULL, ?, ?)",
        [(acc, asset, name) for acc, (name, asset) in ENGAGE_ACCOUNTS.items()],
    )


#: The channel a change is announced on (web/live.py listens): every statement that adds to the
#: journal or changes a broadcast notifies it in its own transaction, so the notice comes with
#: the commit (and not at all without one); PostgreSQL folds a transaction's notices into one.
CHANGES_CHANNEL = "ledger_changes"


def _v10(db: PgDb) -> None:
    """Broadcasts and their recipients (see economy/schema.py), and the change notices."""
    db.execute(f"""
        CREATE TABLE broadcasts (
            id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
            admin_id BIGINT NOT NULL,
            segment TEXT NOT NULL CHECK (segment IN ({_quoted(SEGMENTS)})),
            kind TEXT NOT NULL CHECK (kind IN ({_quoted(BROADCAST_KINDS)})),
            file_id TEXT NOT NULL DEFAULT '',
            text TEXT NOT NULL DEFAULT '',
            entities TEXT NOT NULL DEFAULT '[]',
            state TEXT NOT NULL CHECK (state IN ({_quoted(BROADCAST_STATES)})),
            chat_id BIGINT,
            message_id BIGINT,
            total BIGINT NOT NULL DEFAULT 0 CHECK (total >= 0),
            rev BIGINT NOT NULL DEFAULT 0,
            claimed_by TEXT NOT NULL DEFAULT '',
            claimed_at BIGINT NOT NULL DEFAULT 0,
            created_at BIGINT NOT NULL,
            started_at BIGINT,
            finished_at BIGINT,
            updated_at BIGINT NOT NULL
        );
        CREATE INDEX broadcasts_running ON broadcasts(id) WHERE state = 'sending';
        CREATE TABLE broadcast_recipients (
            broadcast_id BIGINT NOT NULL REFERENCES broadcasts(id),
            user_id BIGINT NOT NULL,
            state TEXT NOT NULL CHECK (state IN ({_quoted(RECIPIENT_STATES)})),
            message_id BIGINT,
            reason TEXT NOT NULL DEFAULT '',
            updated_at BIGINT NOT NULL,
            PRIMARY KEY (broadcast_id, user_id),
            CHECK ((state = 'sent') = (message_id IS NOT NULL))
        );
        CREATE INDEX broadcast_pending ON broadcast_recipients(broadcast_id, user_id) WHERE state = 'pending';
        CREATE FUNCTION broadcast_recipient_final() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION 'a recipient claimed for a send is never sent it again'
                USING ERRCODE = 'integrity_constraint_violation'; END $$;
        CREATE TRIGGER broadcast_recipient_final BEFORE UPDATE ON broadcast_recipients
            FOR EACH ROW WHEN (OLD.state NOT IN ('pending', 'sending') OR (OLD.state = 'sending' AND NEW.state = 'pending'))
            EXECUTE FUNCTION broadcast_recipient_final();
        CREATE FUNCTION broadcast_recipient_kept() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION 'broadcast recipients are kept' USING ERRCODE = 'integrity_constraint_violation'; END $$;
        CREATE TRIGGER broadcast_recipient_no_delete BEFORE DELETE ON broadcast_recipients
            FOR EACH ROW EXECUTE FUNCTION broadcast_recipient_kept();
        CREATE TRIGGER broadcast_recipient_no_truncate BEFORE TRUNCATE ON broadcast_recipients
            FOR EACH STATEMENT EXECUTE FUNCTION broadcast_recipient_kept();
        CREATE FUNCTION ledger_changed() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN PERFORM pg_notify('{CHANGES_CHANNEL}', TG_TABLE_NAME); RETURN NULL; END $$;
        CREATE TRIGGER transfers_changed AFTER INSERT ON transfers
            FOR EACH STATEMENT EXECUTE FUNCTION ledger_changed();
        CREATE TRIGGER broadcasts_changed AFTER INSERT OR UPDATE OF rev, state ON broadcasts
            FOR EACH STATEMENT EXECUTE FUNCTION ledger_changed();
    """)


#: version reached -> the step that reaches it from the version before (the first from nothing).
#: The numbers are SQLite's (economy/schema.py): a PostgreSQL database starts at 3.
MIGRATIONS: dict[int, Callable[[PgDb], None]] = {3: _baseline, 4: _v4, 5: _v5, 6: _v6, 7: _v7, 8: _v8, 9: _v9,
                                                 10: _v10}
VERSION = max(MIGRATIONS)


SCHEMA_VERSION_TABLE = ("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY,"
                        " applied_at BIGINT NOT NULL)")


def migrate(db: PgDb) -> int:
    """Bring the database to VERSION in one transaction (under a lock, so two processes
    starting at once do it once); return the version it had."""
    db.execute(f"BEGIN; SELECT pg_advisory_xact_lock({MIGRATION_LOCK})")
    try:
        db.execute(SCHEMA_VERSION_TABLE)
        start = db.execute("SELECT COALESCE(MAX(version), 0) FROM schema_version").fetchone()[0]
        if start > VERSION:
            raise SchemaMismatch(newer(None, start, VERSION))
        upgrade(db, start)
        db.execute("COMMIT")
    except BaseException:
        db.rollback()
        raise
    return start


def upgrade(db: PgDb, start: int) -> None:
    """The steps from version `start` to VERSION, inside the caller's transaction (the
    schema_version table exists)."""
    for version in sorted(v for v in MIGRATIONS if v > start):
        MIGRATIONS[version](db)
        db.execute("INSERT INTO schema_version VALUES (?, ?)", (version, int(time.time())))


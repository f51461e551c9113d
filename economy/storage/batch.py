"""One write transaction holding many requests (group commit), on the writer connection.

A user's accounts and perks are one `wallets` row. The batch reads each wallet it needs once,
operations change it in Python, and the changed wallets are written back together at the end
(their changed columns only, one statement per set of columns changed: an executemany on
SQLite, one statement over arrays on PostgreSQL — see Dialect), with the batch's journal rows,
system-account totals, top-spenders table and idempotency keys. The same async code runs on both backends: `db` is
sqlite.py's SqliteDb or postgres.py's PgDb, both taking `await db.execute(sql, params)` with
`?` placeholders; only the awaits differ from the synchronous batch it replaces. Balances are
checked in Python before anything changes, and the table's CHECKs refuse a negative balance
again at write-back.

A refusal undoes its request's wallet changes in Python, so no SAVEPOINT is needed for them.
A request that fails after an SQL write of its own (or a write-back the database refuses)
makes the batch run again in safe mode: one SAVEPOINT per request, and each request's wallets,
journal rows and idempotency key written at the end of that request, so a failure undoes only
its request. A driver error caused by a request's own data (a constraint, text the database
cannot store, a number out of range) is such a failure: that request is refused alone
(Unstorable) and the rest of the batch commits. Errors of the database itself (locked, busy,
a deadlock, a lost connection) are not caught here: the store retries or refuses the batch.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field, make_dataclass
from itertools import compress
from operator import attrgetter, ne
from typing import Any, NamedTuple

from economy.errors import EconomyError, IdempotencyConflict, InsufficientFunds, NotFound, Unstorable
from economy.models import Key, decode_outcome, encode_outcome
from economy.storage.schema import ACCOUNT_COLUMNS, TOP_KEEP, WALLET_COLUMNS

log = logging.getLogger(__name__)


class Moved(NamedTuple):
    """A transfer's id and the new balances of its user-side accounts (None for system ones)."""

    id: int
    debit_balance: int | None
    credit_balance: int | None


#: A request that must wait for the next batch (its key is already used in this one).
RETRY = object()

_values = attrgetter(*WALLET_COLUMNS)
_TOKEN_DEBITS = WALLET_COLUMNS.index("token_debits")
#: tokens given away as gifts are debits but not spending (top spenders rank what was spent)
_TOKENS_GIVEN = WALLET_COLUMNS.index("tokens_given")
_ALL = tuple(range(len(WALLET_COLUMNS)))
#: UPDATE statements by the wallet columns they set (indexes into WALLET_COLUMNS)
_UPDATE: dict[tuple[int, ...], str] = {}


def update_sql(columns: tuple[int, ...]) -> str:
    sql = _UPDATE.get(columns)
    if sql is None:
        sql = _UPDATE[columns] = (f"UPDATE wallets SET {', '.join(f'{WALLET_COLUMNS[i]} = ?' for i in columns)}"
                                  " WHERE user_id = ?")
    return sql


_UPSERT_TOP = "INSERT INTO top_spenders VALUES (?, ?) ON CONFLICT (user_id) DO UPDATE SET spent = excluded.spent"
_SELECT_WALLETS = f"SELECT user_id, {', '.join(WALLET_COLUMNS)} FROM wallets WHERE user_id IN "
_INSERT_TRANSFERS = "INSERT INTO transfers VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
_UPSERT_KEYS = (
    "INSERT INTO idempotency VALUES (?, ?, ?, ?, ?) ON CONFLICT (key) DO UPDATE SET"
    " fingerprint = excluded.fingerprint, result = excluded.result, created_at = excluded.created_at,"
    " expires_at = excluded.expires_at"
)


class Dialect:
    """How a batch's bulk statements are spelled. This plain one is SQLite's (sqlite.py adds
    its driver's errors): in-process statements are cheap,
    so `IN (?, ...)` lists and executemany. PostgreSQL's (postgres.py) sends each kind as
    one statement over arrays, since there every statement costs a parse and a plan."""

    #: what the driver raises when a constraint refuses a write (each backend names its own)
    integrity_errors: tuple[type[BaseException], ...] = ()
    #: what the driver raises for a value it cannot store (a surrogate cannot be encoded;
    #: SQLITE_TOOBIG; an int past 64 bits) — never for a lock or a lost database
    data_errors: tuple[type[BaseException], ...] = (UnicodeError, OverflowError)

    @property
    def refused_errors(self) -> tuple[type[BaseException], ...]:
        """A request's own data refused by the database: that request fails, not the batch."""
        return (*self.integrity_errors, *self.data_errors)

    async def select_wallets(self, db: Any, user_ids: list[int]) -> list[tuple[Any, ...]]:
        rows: list[tuple[Any, ...]] = []
        for i in range(0, len(user_ids), 500):
            chunk = user_ids[i : i + 500]
            rows += await db.execute(_SELECT_WALLETS + f"({','.join('?' * len(chunk))})", chunk)
        return rows

    async def select_keys(self, db: Any, keys: list[str]) -> list[tuple[Any, ...]]:
        rows: list[tuple[Any, ...]] = []
        for i in range(0, len(keys), 500):
            chunk = keys[i : i + 500]
            rows += await db.execute(
                "SELECT key, fingerprint, result, expires_at, created_at FROM idempotency"
                f" WHERE key IN ({','.join('?' * len(chunk))})",
                chunk,
            )
        return rows

    async def update_wallets(self, db: Any, columns: tuple[int, ...], rows: list[tuple[Any, ...]]) -> None:
        """rows: the values of WALLET_COLUMNS[i] for i in columns, then the user id."""
        await db.executemany(update_sql(columns), rows)

    async def insert_transfers(self, db: Any, rows: list[tuple[Any, ...]]) -> None:
        await db.executemany(_INSERT_TRANSFERS, rows)

    async def upsert_keys(self, db: Any, rows: list[tuple[Any, ...]]) -> None:
        await db.executemany(_UPSERT_KEYS, rows)

    async def delete_top(self, db: Any, user_ids: list[int]) -> None:
        """These users out of top_spenders."""
        await db.executemany("DELETE FROM top_spenders WHERE user_id = ?", [(u,) for u in user_ids])

    async def upsert_top(self, db: Any, rows: list[tuple[int, int]]) -> None:
        """(user id, tokens spent) into top_spenders."""
        await db.executemany(_UPSERT_TOP, rows)


class Wallet(make_dataclass("WalletColumns", ["user_id", *WALLET_COLUMNS], slots=True, eq=False)):  # type: ignore[misc]
    """One user's balances and perks as the current batch sees them (attributes named as
    the `wallets` columns)."""

    __slots__ = ()

    def _set(self, values: Sequence[Any]) -> None:
        for name, value in zip(WALLET_COLUMNS, values):
            setattr(self, name, value)


@dataclass(slots=True)
class Request:
    op: Callable[[Tx], Awaitable[Any]]
    key: Key | None
    fingerprint: str
    future: Any = None
    user_id: int | None = None


@dataclass(slots=True)
class Tx:
    """What an operation sees: the connection, the batch's clock, wallets and the journal."""

    db: Any
    now: int
    next_id: int
    dialect: Dialect = field(default_factory=Dialect)
    rows: list[tuple[Any, ...]] = field(default_factory=list)
    system: dict[int, list[int]] = field(default_factory=dict)
    wallets: dict[int, Wallet] = field(default_factory=dict)
    #: each cached wallet's values as the database has them
    _stored: dict[int, tuple[Any, ...]] = field(default_factory=dict)
    #: each wallet the current request looked at, as it was when the request began
    _before: dict[int, tuple[Any, ...]] = field(default_factory=dict)
    _req_rows: list[tuple[Any, ...]] = field(default_factory=list)
    _req_system: list[tuple[int, int, int]] = field(default_factory=list)
    dirty: bool = False
    #: top_spenders as the database has it (user id -> tokens spent), and as it was when the
    #: current request began (safe mode: a request rolled back to its SAVEPOINT takes it back)
    top: dict[int, int] = field(default_factory=dict)
    _top_before: dict[int, int] = field(default_factory=dict)

    async def wallet(self, user_id: int) -> Wallet:
        """The user's wallet (NotFound for a stranger); changes to it are kept if the request
        succeeds and undone if it fails."""
        w = self.wallets.get(user_id)
        if w is None:
            await self.load((user_id,))
            w = self.wallets.get(user_id)
            if w is None:
                raise NotFound(what="user", ref=str(user_id))
        if user_id not in self._before:
            self._before[user_id] = _values(w)
        return w

    async def load(self, user_ids: Sequence[int]) -> None:
        """Read these users' wallets (those not read yet), in as few statements as possible."""
        wanted = [u for u in dict.fromkeys(user_ids) if u not in self.wallets]
        if wanted:
            for row in await self.dialect.select_wallets(self.db, wanted):
                self.wallets[row[0]] = Wallet(*row)
                self._stored[row[0]] = row[1:]

    async def transfer(
        self, kind: str, asset: str, debit: int, credit: int, amount: int,
        user_id: int | None, ref: str = "", actor: int | None = None,
    ) -> Moved:
        """Move `amount` from `debit` to `credit`; user accounts (id > 0) cannot overdraw.

        The debit side is checked before anything changes, so a refusal leaves nothing to undo.
        """
        debit_balance = credit_balance = None
        if debit > 0:
            w = await self.wallet(debit // 4)
            bal, debits, _ = ACCOUNT_COLUMNS[debit % 4]
            have = getattr(w, bal)
            if have < amount:
                raise InsufficientFunds(asset=asset, needed=amount, available=have)
            debit_balance = have - amount
            setattr(w, bal, debit_balance)
            setattr(w, debits, getattr(w, debits) + amount)
        else:
            self._req_system.append((debit, amount, 0))
        if credit > 0:
            w = await self.wallet(credit // 4)
            bal, _, credits = ACCOUNT_COLUMNS[credit % 4]
            credit_balance = getattr(w, bal) + amount
            setattr(w, bal, credit_balance)
            setattr(w, credits, getattr(w, credits) + amount)
        else:
            self._req_system.append((credit, 0, amount))
        tid = self.next_id
        self.next_id += 1
        prev = None
        if user_id is not None:
            # The user's chain through the journal: each transfer points at their previous one.
            w = await self.wallet(user_id)
            prev, w.last_transfer = w.last_transfer, tid
            w.transfers += 1
        self._req_rows.append((tid, self.now, kind, asset, debit, credit, amount, user_id, ref, actor, prev))
        return Moved(tid, debit_balance, credit_balance)

    async def write(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """Every SQL write of an operation goes through here so a refusal raised after it is
        known to need a SAVEPOINT to undo."""
        self.dirty = True
        return await self.db.execute(sql, params)

    async def balance(self, account: int) -> int:
        """A user account's balance (account > 0)."""
        return getattr(await self.wallet(account // 4), ACCOUNT_COLUMNS[account % 4][0])  # type: ignore[no-any-return]

    # -- request boundaries (called by run_batch) --
    def _begin(self) -> int:
        self._top_before = self.top
        self.dirty = False
        self._req_rows.clear()
        self._req_system.clear()
        self._before.clear()
        return self.next_id

    def _undo(self, start: int, safe: bool = False) -> None:
        for user_id, values in self._before.items():
            self.wallets[user_id]._set(values)
        if safe:  # rolled back to the request's SAVEPOINT: the database has them as they were
            self._stored.update(self._before)
            self.top = self._top_before
        self.next_id = start

    async def _write_request(self) -> None:
        """Safe mode: write this request's wallets and journal rows now, inside its SAVEPOINT."""
        rows = [self.dialect.insert_transfers(self.db, self._req_rows)] if self._req_rows else []
        await self._write_back(self._before, rows)
        self._req_rows.clear()

    def _keep(self) -> None:
        self.rows.extend(self._req_rows)
        for acc, debit, credit in self._req_system:
            totals = self.system.setdefault(acc, [0, 0])
            totals[0] += debit
            totals[1] += credit

    async def _write_back(self, user_ids: Iterable[int], also: Sequence[Awaitable[Any]] = ()) -> None:
        """Write the changed columns of these wallets, and `also` (more writes of the batch),
        sent together (Db.together); remember the wallets as stored."""
        # Each wallet's changed columns only: a purchase does not rewrite its credit columns
        # (nor their indexes), and fewer values travel. Wallets changed alike share a statement.
        shapes: dict[tuple[int, ...], list[tuple[Any, ...]]] = {}
        top: dict[int, int] = {}
        written: dict[int, tuple[Any, ...]] = {}
        for user_id in user_ids:
            now, stored = _values(self.wallets[user_id]), self._stored[user_id]
            if now == stored:
                continue
            changed = list(map(ne, now, stored))
            shape = shapes.get(cols := tuple(compress(_ALL, changed)))
            if shape is None:
                shape = shapes[cols] = []
            shape.append((*compress(now, changed), user_id))
            spent = now[_TOKEN_DEBITS] - now[_TOKENS_GIVEN]
            if spent != stored[_TOKEN_DEBITS] - stored[_TOKENS_GIVEN]:
                top[user_id] = spent
            written[user_id] = now
        writes = [self.dialect.update_wallets(self.db, cols, params) for cols, params in shapes.items()]
        if top:
            writes += self._merge_top(top)
        await self.db.together([*writes, *also])
        self._stored.update(written)  # only once the database has taken all of it

    def _merge_top(self, spent: dict[int, int]) -> list[Awaitable[Any]]:
        """Keep `top_spenders` exactly the TOP_KEEP biggest: tokens spent only ever grow, so
        the new top is found among the old top (`self.top`, read with the batch's wallets) and
        the wallets that just spent. Returns the writes (not sent yet)."""
        old = self.top
        if len(old) >= TOP_KEEP:  # only who now beats the last place, or already had one, matters
            floor = max((-s, u) for u, s in old.items())
            spent = {u: s for u, s in spent.items() if u in old or (-s, u) < floor}
            if not spent:
                return []
        merged = {**old, **spent}
        if len(merged) > TOP_KEEP:
            merged = dict(sorted(merged.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_KEEP])
        writes: list[Awaitable[Any]] = []
        gone = [u for u in old if u not in merged]
        if gone:
            writes.append(self.dialect.delete_top(self.db, gone))
        changed = [(u, s) for u, s in merged.items() if old.get(u) != s]
        if changed:
            writes.append(self.dialect.upsert_top(self.db, changed))
        self.top = merged  # as the database has it once these writes are in (undone with the request)
        return writes

    async def _flush(self, keys: list[tuple[Any, ...]]) -> None:
        """The batch's writes (and its idempotency `keys`), sent together."""
        db = self.db
        also: list[Awaitable[Any]] = []
        if self.rows:
            also.append(self.dialect.insert_transfers(db, self.rows))
        if self.system:  # in id order, as every writer locks them
            also.append(db.executemany(
                "UPDATE accounts SET balance = balance - ? + ?, debits = debits + ?, credits = credits + ? WHERE id = ?",
                [(d, c, d, c, acc) for acc, (d, c) in sorted(self.system.items())],
            ))
        if keys:
            also.append(self.dialect.upsert_keys(db, keys))
        await self._write_back(self.wallets, also)


class Kept(NamedTuple):
    fingerprint: str
    result: str
    created_at: int


async def _nothing() -> list[Any]:
    return []


def _kept(rows: Iterable[tuple[Any, ...]], now: int) -> dict[str, Kept]:
    """The idempotency keys found, those not expired at `now`."""
    return {key: Kept(fp, result, created) for key, fp, result, expires, created in rows
            if expires is None or expires > now}


def _kept_for(key: Key, fingerprint: str, known: dict[str, Kept]) -> Kept | None:
    """What is kept for `key`: under its own spelling, else under its former one when that
    entry is from `former_since` on and was made by the same operation (the first field of a
    fingerprint). Another operation's entry there is not this key's: the old spelling may have
    let one key's stored answer and another key meet."""
    kept = known.get(key.value)
    if kept is not None or key.former is None:
        return kept
    old = known.get(key.former)
    if old is None or old.created_at < key.former_since:
        return None
    return old if old.fingerprint.partition("|")[0] == fingerprint.partition("|")[0] else None


class NeedSavepoints(Exception):
    """A request failed after it had written: roll the batch back and run it in safe mode."""


def _refused(exc: BaseException, dialect: Dialect) -> BaseException:
    """A request's failure as its caller gets it: a driver's refusal of its data becomes
    Unstorable (a clear refusal, not "busy"; the driver's message stays in the log)."""
    if isinstance(exc, EconomyError) or not isinstance(exc, dialect.refused_errors):
        return exc  # a refusal, or a bug confined to the request (raised to its caller as it is)
    code = getattr(getattr(exc, "diag", None), "sqlstate", None)
    reason = type(exc).__name__ + (f" {code}" if code else "")
    log.error("a request's data was refused by the database (%s): %s", reason, exc)
    refusal = Unstorable(text="", reason=reason)
    refusal.__cause__ = exc
    return refusal


async def run_batch(db: Any, requests: Sequence[Request], now: Callable[[Any], int], safe: bool, dialect: Dialect,
                    begin: Awaitable[Any] | None = None) -> list[Any]:
    """Apply `requests` in one transaction (the caller holds BEGIN IMMEDIATE and commits).

    Operations refuse before their first SQL write, and wallet changes are undone in Python,
    so by default no SAVEPOINT is paid for. A request that fails after an SQL write, or a
    write the database refuses (its data: dialect.refused_errors), raises NeedSavepoints; the
    caller rolls back and calls again with `safe=True`, where each request has its own
    SAVEPOINT and writes its own rows, so a refused one is undone alone.
    Returns one outcome per request: a result, an exception instance, or RETRY.
    """
    refused = dialect.refused_errors
    failures = (EconomyError, *refused, ValueError, TypeError, KeyError, AttributeError)
    keyed = [k for r in requests if r.key is not None for k in (r.key.value, r.key.former) if k is not None]
    tx = Tx(db, 0, 0, dialect)
    # What the batch reads first, in one trip to the driver: `begin` (the write lock, if the
    # caller sends it along), the keys kept, the next transfer id, the wallets, the top spenders.
    began, keys, last, _, top = await db.together([
        begin if begin is not None else _nothing(),
        dialect.select_keys(db, keyed) if keyed else _nothing(),
        db.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM transfers"),
        tx.load([r.user_id for r in requests if r.user_id is not None]),
        db.execute("SELECT user_id, spent FROM top_spenders"),
    ])
    # The batch's time, read once the write lock is held (see Store.own_clock); `now` is given
    # what `begin` answered (PostgreSQL sends the server's clock with its lock).
    tx.now = at = now(began)
    known = _kept(keys, at)
    tx.next_id = last.fetchone()[0]
    tx.top = dict(top)
    seen: set[str] = set()
    outcomes: list[Any] = []
    remembered: list[tuple[Any, ...]] = []
    for req in requests:
        key = req.key
        if key is not None:
            if key.value in seen:
                outcomes.append(RETRY)
                continue
            seen.add(key.value)
            kept = _kept_for(key, req.fingerprint, known)
            if kept is not None:
                same = kept.fingerprint == req.fingerprint
                outcomes.append(decode_outcome(kept.result) if same else IdempotencyConflict(key=key.value[:64]))
                continue
        start = tx._begin()
        if safe:
            await db.execute("SAVEPOINT request")
        try:
            outcome: Any = await req.op(tx)
            ok = True
        except failures as exc:
            # A refusal, or a bug confined to this request: undo it, keep the neighbours.
            if not safe and (tx.dirty or not isinstance(exc, EconomyError)):
                raise NeedSavepoints from exc
            if safe:
                await db.execute("ROLLBACK TO request")
            tx._undo(start, safe)
            outcome, ok = _refused(exc, dialect), False
        row = None
        # A refusal is kept with its key, so a repeat gets it again; not one of the database's
        # (Unstorable): nothing of that request is written, its key neither.
        if key is not None and (ok or (key.keep_refusals and isinstance(outcome, EconomyError)
                                       and not isinstance(outcome, Unstorable))):
            expires = at + key.ttl if key.ttl is not None else None
            row = (key.value, req.fingerprint, encode_outcome(outcome), at, expires)
        if safe:
            try:
                if ok:
                    await tx._write_request()
                if row is not None:
                    await dialect.upsert_keys(db, [row])
            except failures as exc:  # the database refused this request's rows: undo it alone
                await db.execute("ROLLBACK TO request")
                tx._undo(start, safe)
                outcome, ok, row = _refused(exc, dialect), False, None
            await db.execute("RELEASE request")
        elif row is not None:
            remembered.append(row)
        if ok:
            tx._keep()
        outcomes.append(outcome)
    try:
        await tx._flush(remembered)
    except refused as exc:
        if safe:
            raise
        raise NeedSavepoints from exc  # the database refused a request's rows: find whose, in safe mode
    return outcomes

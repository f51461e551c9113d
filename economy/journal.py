"""One write transaction holding many requests (group commit), run in the writer thread.

Each request runs in its own SAVEPOINT: a refusal rolls back only that request. User account
rows are updated at once with conditional UPDATEs (that is where overdraft is refused);
journal rows, system-account totals and idempotency keys are collected in Python and written
once per batch, so the per-request cost stays a few statements.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from economy.errors import EconomyError, IdempotencyConflict, InsufficientFunds, NotFound
from economy.models import Key, decode_outcome, encode_outcome

class Moved(NamedTuple):
    """A transfer's id and the new balances of its user-side accounts (None for system ones)."""

    id: int
    debit_balance: int | None
    credit_balance: int | None


#: A request that must wait for the next batch (its key is already used in this one).
RETRY = object()


@dataclass(slots=True)
class Request:
    op: Callable[[Tx], Any]
    key: Key | None
    fingerprint: str
    future: Any = None


@dataclass(slots=True)
class Tx:
    """What an operation sees: the connection, the batch's clock and the journal."""

    db: sqlite3.Connection
    now: int
    next_id: int
    rows: list[tuple[Any, ...]] = field(default_factory=list)
    system: dict[int, list[int]] = field(default_factory=dict)
    _req_rows: list[tuple[Any, ...]] = field(default_factory=list)
    _req_system: list[tuple[int, int, int]] = field(default_factory=list)
    dirty: bool = False

    def transfer(
        self, kind: str, asset: str, debit: int, credit: int, amount: int,
        user_id: int | None, ref: str = "", actor: int | None = None,
    ) -> Moved:
        """Move `amount` from `debit` to `credit`; user accounts (id > 0) cannot overdraw.

        The balance is read before anything is written, so a refusal here leaves nothing to
        undo; the UPDATE stays conditional (and the table has a CHECK) all the same.
        """
        debit_balance = credit_balance = None
        if debit > 0:
            debit_balance = self.balance(debit) - amount
            if debit_balance < 0:
                raise InsufficientFunds(asset=asset, needed=amount, available=debit_balance + amount)
            self.dirty = True
            if self.db.execute(
                "UPDATE accounts SET balance = balance - ?1, debits = debits + ?1 WHERE id = ?2 AND balance >= ?1",
                (amount, debit),
            ).rowcount != 1:
                raise sqlite3.IntegrityError(f"account {debit} changed under the write lock")
        else:
            self._req_system.append((debit, amount, 0))
        if credit > 0:
            credit_balance = self.balance(credit) + amount
            self.dirty = True
            self.db.execute(
                "UPDATE accounts SET balance = balance + ?1, credits = credits + ?1 WHERE id = ?2", (amount, credit)
            )
        else:
            self._req_system.append((credit, 0, amount))
        tid = self.next_id
        self.next_id += 1
        self._req_rows.append((tid, self.now, kind, asset, debit, credit, amount, user_id, ref, actor))
        return Moved(tid, debit_balance, credit_balance)

    def write(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        """Every write of an operation goes through here (or transfer) so a refusal raised
        after it is known to need undoing."""
        self.dirty = True
        return self.db.execute(sql, params)

    def balance(self, account: int) -> int:
        row = self.db.execute("SELECT balance FROM accounts WHERE id = ?", (account,)).fetchone()
        if row is None:
            raise NotFound(what="user", ref=str(account // 4))
        return row[0]

    # -- request boundaries (called by run_batch) --
    def _begin(self) -> int:
        self.dirty = False
        self._req_rows.clear()
        self._req_system.clear()
        return self.next_id

    def _keep(self) -> None:
        self.rows.extend(self._req_rows)
        for acc, debit, credit in self._req_system:
            totals = self.system.setdefault(acc, [0, 0])
            totals[0] += debit
            totals[1] += credit

    def _flush(self) -> None:
        db = self.db
        if self.rows:
            db.executemany("INSERT INTO transfers VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", self.rows)
        for acc, (debit, credit) in self.system.items():
            db.execute(
                "UPDATE accounts SET balance = balance - ?1 + ?2, debits = debits + ?1,"
                " credits = credits + ?2 WHERE id = ?3",
                (debit, credit, acc),
            )


def _lookup_keys(db: sqlite3.Connection, keys: list[str], now: int) -> dict[str, tuple[str, str]]:
    found: dict[str, tuple[str, str]] = {}
    for i in range(0, len(keys), 500):
        chunk = keys[i : i + 500]
        marks = ",".join("?" * len(chunk))
        for key, fp, result, expires in db.execute(
            f"SELECT key, fingerprint, result, expires_at FROM idempotency WHERE key IN ({marks})", chunk
        ):
            if expires is None or expires > now:
                found[key] = (fp, result)
    return found


class NeedSavepoints(Exception):
    """A request failed after it had written: roll the batch back and run it in safe mode."""


def run_batch(db: sqlite3.Connection, requests: Sequence[Request], now: int, safe: bool = False) -> list[Any]:
    """Apply `requests` in one transaction (the caller holds BEGIN IMMEDIATE and commits).

    Operations refuse before their first write, so by default no SAVEPOINT is paid for. A
    request that fails after writing raises NeedSavepoints; the caller rolls back and calls
    again with `safe=True`, where each request has its own SAVEPOINT.
    Returns one outcome per request: a result, an exception instance, or RETRY.
    """
    keyed = [r.key.value for r in requests if r.key is not None]
    known = _lookup_keys(db, keyed, now) if keyed else {}
    seen: set[str] = set()
    tx = Tx(db, now, (db.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM transfers").fetchone()[0]))
    outcomes: list[Any] = []
    remembered: list[tuple[Any, ...]] = []
    for req in requests:
        key = req.key
        if key is not None:
            if key.value in seen:
                outcomes.append(RETRY)
                continue
            seen.add(key.value)
            if key.value in known:
                fp, stored = known[key.value]
                same = fp == req.fingerprint
                outcomes.append(decode_outcome(stored) if same else IdempotencyConflict(key=key.value[:64]))
                continue
        start = tx._begin()
        if safe:
            db.execute("SAVEPOINT request")
        try:
            outcome: Any = req.op(tx)
            ok = True
        except (EconomyError, sqlite3.IntegrityError, ValueError, TypeError, KeyError, AttributeError) as exc:
            # A refusal, or a bug confined to this request: undo it, keep the neighbours.
            if not safe and (tx.dirty or not isinstance(exc, EconomyError)):
                raise NeedSavepoints from exc
            if safe:
                db.execute("ROLLBACK TO request")
            tx.next_id = start
            outcome, ok = exc, False
        if safe:
            db.execute("RELEASE request")
        if ok:
            tx._keep()
        if key is not None and (ok or (key.keep_refusals and isinstance(outcome, EconomyError))):
            expires = now + key.ttl if key.ttl is not None else None
            remembered.append((key.value, req.fingerprint, encode_outcome(outcome), now, expires))
        outcomes.append(outcome)
    tx._flush()
    if remembered:
        db.executemany("INSERT OR REPLACE INTO idempotency VALUES (?, ?, ?, ?, ?)", remembered)
    return outcomes

"""Writing an import-legacy plan (economy/legacy.py) into the ledger, in chunks that take turns
with the bot.

Each chunk is one write through the ledger's group commit: one transaction under the write lock
every batch of the bot takes (SQLite's BEGIN IMMEDIATE, PostgreSQL's advisory lock), so the bot's
batches go between two chunks and wait for one chunk at most (a fraction of a second), never for
the whole import. After each chunk the import pauses about as long as the chunk took, so it holds
the lock about half the time at most: PostgreSQL queues the waiting batches, but SQLite's waiting
writers poll, and an importer that asked again at once could beat them to the lock every time.

Each old row brought in is recorded in the same transaction as what it brought (legacy_imports
for a balance or a quota, the old transaction's id in legacy_history): a run cut short anywhere
— an error, a kill -9, a lost connection — and run again skips what was committed and brings the
rest, so nothing is brought in twice; the sums and history checks after it read the ledger.
"""

from __future__ import annotations

import asyncio
import random
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any, TextIO

from economy.audit import CLI, Actor, record
from economy.ledger import Ledger
from economy.storage import Tx
from economy.storage.schema import CREDIT, LEGACY_CREDIT, LEGACY_TOKENS, TOKEN, USED, account_id

if TYPE_CHECKING:
    from economy.legacy import Plan

#: Rows per transaction: a chunk holds the lock for tens of milliseconds.
CHUNK = 500
#: The longest pause between two chunks (a slow chunk, e.g. one that waited for the lock).
MAX_PAUSE = 0.5
MAX_REF = 200
_ROWS = 500  # rows per INSERT statement
_HISTORY = "SELECT id, user_id, kind, amount, reason, ts FROM legacy_history"

#: Called after each committed chunk with (chunks done, chunks in all).
Progress = Callable[[int, int], None]


@dataclass
class Applied:
    users: int
    #: users' rows (balances, quotas) an earlier run brought in, left as they are
    already: int
    history: int
    chunks: int = 0
    chunk: int = CHUNK


def ref(source: str, old: str) -> str:
    """The journal ref of an opening transfer: which old row it brought in."""
    return f"{'tokens.db' if source == 'tokens' else 'credits'}:{old}"[:MAX_REF]


async def _insert_new(db: Any, into: str, rows: Sequence[tuple[Any, ...]], returning: str) -> list[Any]:
    """INSERT the rows whose key is not there yet, one statement per few hundred rows (the
    primary key finds them, whatever the table's size); return `returning` of those written."""
    written: list[Any] = []
    for i in range(0, len(rows), _ROWS):
        part = rows[i : i + _ROWS]
        values = ",".join(["(" + ",".join("?" * len(part[0])) + ")"] * len(part))
        written += (await db.execute(f"{into} VALUES {values} ON CONFLICT DO NOTHING RETURNING {returning}",
                              [v for row in part for v in row])).fetchall()
    return written


async def _users(rows: list[tuple[str, int, tuple[Any, ...]]], audit_as: Actor | None,
                 tx: Tx) -> tuple[set[int], int]:
    """Bring in these users' opening balances and quotas (those not brought in before), each
    recorded in legacy_imports; return the users written and how many rows were already in."""
    tx.dirty = True
    done = {(s, old) for s, old in await _insert_new(
        tx.db, "INSERT INTO legacy_imports", [(s, e[0], tid, tx.now) for s, tid, e in rows], "source, old_id")}
    new = [(s, tid, entry) for s, tid, entry in rows if (s, entry[0]) in done]
    if not new:
        return set(), len(rows)
    tids = list(dict.fromkeys(tid for _, tid, _ in new))
    fresh = await _insert_new(tx.db, "INSERT INTO users(user_id, registered_at)", [(u, tx.now) for u in tids],
                              "user_id")
    if fresh:
        await _insert_new(tx.db, "INSERT INTO wallets(user_id)", fresh, "user_id")
    await tx.load(tids)
    for source, tid, entry in new:
        if source == "tokens":
            if entry[1]:
                await tx.transfer("legacy_open", "TOKEN", LEGACY_TOKENS, account_id(tid, TOKEN), entry[1], tid,
                            ref(source, entry[0]))
            continue
        old, quota, used = entry
        if quota:
            await tx.transfer("legacy_quota", "CREDIT", LEGACY_CREDIT, account_id(tid, CREDIT), quota, tid,
                              ref(source, old))
        if used:
            await tx.transfer("legacy_used", "CREDIT", account_id(tid, CREDIT), account_id(tid, USED), used, tid,
                        ref(source, old))
    if audit_as is not None:
        await record(tx, audit_as, "import_legacy", amount=len(new), unit="rows",
               note=f"balances and quotas of {len(tids)} users")
    return set(tids), len(rows) - len(new)


async def _history(rows: list[tuple[int, int, str, int, str, int]], audit_as: Actor | None, tx: Tx) -> int:
    """Keep these old transactions (those not kept before); return how many were written."""
    tx.dirty = True
    written = len(await _insert_new(tx.db, "INSERT INTO legacy_history", rows, "id"))
    if written and audit_as is not None:
        await record(tx, audit_as, "import_legacy", amount=written, unit="rows", note="old transactions (history)")
    return written


async def apply(ledger: Ledger, plan: Plan, *, chunk: int = CHUNK, progress: Progress | None = None,
                audit_as: Actor | None = CLI) -> Applied:
    """Write the plan, `chunk` rows per transaction, taking turns with other writers; rows
    brought in before (by a run that finished or was cut short) are left alone. Each chunk that
    brings something in is audited in its own transaction (`audit_as`, the CLI by default); a
    run that brings nothing new writes no audit row."""
    if chunk < 1:
        raise ValueError("a chunk must hold at least one row")
    rows = [("tokens", tid, e) for tid, e in plan.tokens.items()] + [("credits", tid, e) for tid, e in plan.credits.items()]
    pieces: list[Callable[[Tx], Awaitable[Any]]] = [partial(_users, rows[i : i + chunk], audit_as)
                                                    for i in range(0, len(rows), chunk)]
    pieces += [partial(_history, plan.history[i : i + chunk], audit_as) for i in range(0, len(plan.history), chunk)]
    applied = Applied(0, 0, 0, len(pieces), chunk)
    users: set[int] = set()
    for n, piece in enumerate(pieces, 1):
        started = time.perf_counter()
        done = await ledger.store.write(piece, None, "import-legacy")
        took = time.perf_counter() - started
        if isinstance(done, int):
            applied.history += done
        else:
            users |= done[0]
            applied.already += done[1]
        if progress is not None:
            progress(n, len(pieces))
        if n < len(pieces):  # the other writers' turn
            await asyncio.sleep(min(took, MAX_PAUSE) * random.uniform(0.5, 1.5))
    applied.users = len(users)
    return applied


def print_progress(done: int, total: int, out: TextIO | None = None) -> None:
    """About twenty lines on stderr for a whole import, for the operator watching it."""
    if done == total or done % max(1, total // 20) == 0:
        print(f"import-legacy: chunk {done} of {total} committed", file=out or sys.stderr, flush=True)


async def already_imported(ledger: Ledger, plan: Plan) -> set[tuple[str, str]]:
    """The rows of the plan an earlier run brought in: ("tokens" or "credits", old id) and
    ("history", old transaction id). An old transaction whose id the ledger already keeps with
    other content (another file's) is moved from the plan to its rejected rows."""
    from economy.legacy import Rejected

    async def query(db: Any) -> tuple[set[tuple[str, str]], dict[int, tuple[Any, ...]]]:
        return ({(s, o) for s, o in await db.execute("SELECT source, old_id FROM legacy_imports")},
                {row[0]: tuple(row) for row in await db.execute(_HISTORY)})

    done, kept = await ledger.store.read(query)
    wanted = {("tokens", old) for old, _ in plan.tokens.values()} | {("credits", c[0]) for c in plan.credits.values()}
    found = done & wanted
    history = []
    for row in plan.history:
        there = kept.get(row[0])
        if there is None:
            history.append(row)
        elif there == tuple(row):
            history.append(row)
            found.add(("history", str(row[0])))
        else:
            plan.rejected.append(Rejected(f"{plan.tokens_name} transactions id={row[0]}",
                                          "the ledger already keeps another old transaction with this id"))
    plan.history = history
    return found


async def ledger_sums(ledger: Ledger, plan: Plan) -> dict[str, int]:
    """What the ledger holds for this plan's rows (whichever runs wrote them), to set against
    plan.sums(): its opening transfers' sums, and how many of the old transactions it keeps as
    they are in the files."""
    tokens = {ref("tokens", old) for old, _ in plan.tokens.values()}
    credits = {ref("credits", c[0]) for c in plan.credits.values()}
    history = {row[0]: tuple(row) for row in plan.history}

    async def query(db: Any) -> dict[str, int]:
        sums = {"tokens": 0, "credit_quota": 0, "credit_used": 0, "history": 0}
        for kind, at, amount in await db.execute(
            "SELECT kind, ref, amount FROM transfers WHERE kind IN ('legacy_open', 'legacy_quota', 'legacy_used')"
        ):
            if kind == "legacy_open" and at in tokens:
                sums["tokens"] += amount
            elif kind == "legacy_quota" and at in credits:
                sums["credit_quota"] += amount
            elif kind == "legacy_used" and at in credits:
                sums["credit_used"] += amount
        sums["history"] = sum(1 for row in await db.execute(_HISTORY) if history.get(row[0]) == tuple(row))
        return sums

    return await ledger.store.read(query)

"""The audit trail: who did what to whom through which door, written by the operation itself in
the transaction of its effect (so a refused operation leaves no row, and a replayed one, answered
from its idempotency key without running, adds none), and never changed afterwards (triggers
refuse UPDATE, DELETE and, on PostgreSQL, TRUNCATE: economy/storage/schema_sqlite.py and
schema_postgres.py).

A row: when, who (`actor_id` a Telegram id, or None; `actor` the admin's name, the API key's
name, or "cli"), through what (`via`: bot, dashboard, api, cli), the action, the user it was
about, the amount (kuruş for TL actions, XP or tokens otherwise: `unit`), the user's figures
before and after (JSON: xp, tokens, quota, used), the note, and the journal transfer it made.
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, TextIO

from economy.amounts import format_money
from economy.export import cell
from economy.text import clean_text

VIAS = ("bot", "dashboard", "api", "cli")
#: The units an amount is in (TL amounts in kuruş, shown as "12.50").
UNITS = ("TL", "XP", "tokens")
MAX_NOTE = 500
MAX_PER_PAGE = 100


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acts and through what: `Actor("bot", "Ayşe", 42)`, `Actor("api", "crm")`, `CLI`."""

    via: str
    name: str
    id: int | None = None

    def __post_init__(self) -> None:
        if self.via not in VIAS:
            raise ValueError(f"via must be one of {VIAS}, not {self.via!r}")


CLI = Actor("cli", "cli")


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    ts: int
    via: str
    actor_id: int | None
    actor: str
    action: str
    user_id: int | None
    amount: int | None
    unit: str
    before: dict[str, Any] = field(default_factory=dict)
    after: dict[str, Any] = field(default_factory=dict)
    note: str = ""
    transfer_id: int | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready, TL amounts and quota figures as money strings ("12.50"), as the API shows money."""
        return {
            "id": self.id, "ts": self.ts, "at": datetime.fromtimestamp(self.ts, UTC).isoformat(),
            "via": self.via, "actor_id": self.actor_id, "actor": self.actor, "action": self.action,
            "user_id": self.user_id, "amount": _amount(self.amount, self.unit), "unit": self.unit,
            "before": _money_figures(self.before), "after": _money_figures(self.after), "note": self.note,
            "transfer_id": self.transfer_id,
        }


def _amount(amount: int | None, unit: str) -> Any:
    return format_money(amount) if amount is not None and unit == "TL" else amount


def _money_figures(figures: dict[str, Any]) -> dict[str, Any]:
    return {k: format_money(v) if k in ("quota", "used", "available") and isinstance(v, int) else v
            for k, v in figures.items()}


async def figures(tx: Any, user_id: int) -> dict[str, int]:
    """A user's figures inside the transaction (NotFound for a stranger)."""
    w = await tx.wallet(user_id)
    return {"xp": w.xp, "tokens": w.token, "quota": w.credit + w.credit_used, "used": w.credit_used}


_INSERT = ("INSERT INTO audit(ts, via, actor_id, actor, action, user_id, amount, unit, before, after, note,"
           " transfer_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id")


async def record(tx: Any, actor: Actor, action: str, *, user_id: int | None = None, amount: int | None = None,
           unit: str = "", before: dict[str, Any] | None = None, after: dict[str, Any] | None = None,
           note: str = "", transfer_id: int | None = None) -> int:
    """Write one audit row in the operation's transaction (`tx`: economy.storage.Tx); return its
    id. Called last in an operation, after every check, so a refusal has written nothing."""
    row = await tx.write(_INSERT, (tx.now, actor.via, actor.id, clean_text(actor.name)[:64], action, user_id, amount,
                                   unit, json.dumps(before or {}, sort_keys=True),
                                   json.dumps(after or {}, sort_keys=True), clean_text(note)[:MAX_NOTE], transfer_id))
    return row.fetchone()[0]  # type: ignore[no-any-return]


# -- reads --

_COLUMNS = "id, ts, via, actor_id, actor, action, user_id, amount, unit, before, after, note, transfer_id"
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2})?)?(Z|[+-]\d{2}:?\d{2})?", re.ASCII)


def _entry(row: tuple[Any, ...]) -> AuditEntry:
    return AuditEntry(*row[:9], json.loads(row[9]), json.loads(row[10]), *row[11:])  # type: ignore[misc]


def since(text: str) -> int:
    """`--since 2026-12-01` (UTC midnight) or an ISO date and time (UTC unless it says) as epoch seconds."""
    text = text.strip()
    bad = ValueError(f"a date must be 2026-12-01 or an ISO time such as 2026-12-01T18:30, got {text[:32]!r}")
    if not _DATE.fullmatch(text):
        raise bad
    try:
        if len(text) == 10:
            return int(datetime.combine(date.fromisoformat(text), datetime.min.time(), UTC).timestamp())
        moment = datetime.fromisoformat(text.replace(" ", "T"))
    except ValueError:
        raise bad from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())


@dataclass(frozen=True, slots=True)
class AuditFilter:
    """Rows about `user_id`, by `actor` (a Telegram id as digits, else an actor's name: an API
    key's name, "cli"), from `since` (epoch seconds) on."""

    user_id: int | None = None
    actor: str | None = None
    since: int | None = None

    def where(self) -> tuple[str, list[Any]]:
        parts: list[str] = []
        params: list[Any] = []
        if self.user_id is not None:
            parts.append("user_id = ?")
            params.append(self.user_id)
        if self.actor is not None:
            if self.actor.isascii() and self.actor.isdigit() and len(self.actor) <= 16:
                parts.append("actor_id = ?")
                params.append(int(self.actor))
            else:
                parts.append("actor = ?")
                params.append(self.actor)
        if self.since is not None:
            parts.append("ts >= ?")
            params.append(self.since)
        return (" WHERE " + " AND ".join(parts)) if parts else "", params


async def entries(db: Any, flt: AuditFilter, offset: int, limit: int) -> tuple[list[AuditEntry], int]:
    """Rows matching `flt`, newest first, from position `offset`; and how many match."""
    where, params = flt.where()
    total = (await db.execute(f"SELECT COUNT(*) FROM audit{where}", params)).fetchone()[0]
    rows = (await db.execute(f"SELECT {_COLUMNS} FROM audit{where} ORDER BY id DESC LIMIT ? OFFSET ?",
                      (*params, limit, offset))).fetchall()
    return [_entry(r) for r in rows], total


async def after_id(db: Any, flt: AuditFilter, before: int | None, limit: int) -> list[AuditEntry]:
    """Rows matching `flt`, newest first, with ids below `before` (keyset paging for a full walk)."""
    where, params = flt.where()
    if before is not None:
        where += (" AND " if where else " WHERE ") + "id < ?"
        params.append(before)
    rows = (await db.execute(f"SELECT {_COLUMNS} FROM audit{where} ORDER BY id DESC LIMIT ?",
                             (*params, limit))).fetchall()
    return [_entry(r) for r in rows]


async def check(db: Any) -> list[str]:
    """verify's look at the trail: every transfer an audit row names exists."""
    problems = []
    for aid, tid in await db.execute("SELECT a.id, a.transfer_id FROM audit a"
                                     " LEFT JOIN transfers t ON t.id = a.transfer_id"
                               " WHERE a.transfer_id IS NOT NULL AND t.id IS NULL ORDER BY a.id LIMIT 10"):
        problems.append(f"audit row {aid} names transfer {tid}, which does not exist")
    return problems


class AuditLog:
    """The trail's reads, on a ledger's store."""

    def __init__(self, store: Any) -> None:
        self.store = store

    async def page(self, flt: AuditFilter, page: int = 0,
                   per_page: int = 20) -> tuple[list[AuditEntry], int, int, int]:
        """(rows, page, pages, total) of `flt`, newest first; a page past the end is the last one."""
        per_page = max(1, min(per_page, MAX_PER_PAGE))
        found, total = await self.store.read(lambda db: entries(db, flt, max(0, page) * per_page, per_page))
        pages = max(1, -(-total // per_page))
        if page >= pages and total:
            return await self.page(flt, pages - 1, per_page)
        return found, min(max(0, page), pages - 1), pages, total

    async def add(self, actor: Actor, action: str, *, amount: int | None = None, unit: str = "",
                  note: str = "") -> int:
        """An audit row for an action whose effect is outside the ledger (a backup file): written
        once the effect is done, in a transaction of its own; returns its id."""
        return await self.store.write(  # type: ignore[no-any-return]
            lambda tx: record(tx, actor, action, amount=amount, unit=unit, note=note), None, "audit")

    async def recent(self, user_id: int, limit: int = 5) -> list[AuditEntry]:
        return (await self.store.read(lambda db: entries(db, AuditFilter(user_id=user_id), 0, limit)))[0]

    async def walk(self, flt: AuditFilter = AuditFilter(), chunk: int = 1000) -> Any:
        """Every matching row, newest first, in chunks (one read each)."""
        before: int | None = None
        while rows := await self.store.read(lambda db, b=before: after_id(db, flt, b, chunk)):
            for row in rows:
                yield row
            before = rows[-1].id

    async def export_csv(self, out: TextIO) -> int:
        """The trail as CSV, oldest first is not needed: newest first, as `audit` prints it."""
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(CSV_COLUMNS)
        n = 0
        async for e in self.walk():
            d = e.as_dict()
            writer.writerow([cell(v if not isinstance(v, dict) else json.dumps(v, sort_keys=True, ensure_ascii=False))
                             for v in (d[c] for c in CSV_COLUMNS)])
            n += 1
        return n


CSV_COLUMNS = ("id", "at", "via", "actor_id", "actor", "action", "user_id", "amount", "unit", "before", "after",
               "note", "transfer_id")

__all__ = ["CLI", "Actor", "AuditEntry", "AuditFilter", "AuditLog", "figures", "record", "since"]

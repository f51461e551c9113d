"""The journal as CSV, made to be opened in a spreadsheet: every amount in its unit (TL with
two decimals, XP, tokens), and no text cell that a spreadsheet would run as a formula."""

from __future__ import annotations

import csv
from collections.abc import AsyncIterator
from typing import Any, TextIO

from economy.amounts import format_money
from economy.localdays import LocalDays

COLUMNS = ("id", "ts", "kind", "asset", "debit_account", "credit_account", "amount", "unit", "user_id", "ref",
           "actor")
UNITS = {"CREDIT": "TL", "XP": "XP", "TOKEN": "tokens"}
#: What makes a spreadsheet read a cell as a formula (OWASP's CSV injection list).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def cell(value: Any) -> Any:
    """Text starting like a formula gets a leading `'` (shown as text, never run)."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def row(transfer: tuple[Any, ...], days: LocalDays | None = None) -> list[Any]:
    """A journal row's cells; with `days`, its time in the community's zone after `ts` (UTC)."""
    tid, ts, kind, asset, debit, credit, amount, user, ref, actor = transfer
    shown = format_money(amount) if asset == "CREDIT" else amount
    local = (days.label(ts),) if days is not None else ()
    return [cell(v) for v in (tid, ts, *local, kind, asset, debit, credit, shown, UNITS.get(asset, asset), user, ref,
                              actor)]


def columns(days: LocalDays | None = None) -> tuple[str, ...]:
    """The header: with `days`, a `local_time` column that names its zone."""
    return COLUMNS if days is None else (COLUMNS[0], COLUMNS[1], f"local_time ({days.name})", *COLUMNS[2:])


async def write_csv(transfers: AsyncIterator[tuple[Any, ...]], out: TextIO, days: LocalDays | None = None) -> int:
    """Write `transfers` (journal rows in id order) to `out`; return how many. Lines end in
    CRLF (RFC 4180), so a CR inside a text is quoted like a newline. With `days` (TIMEZONE),
    each row's time is also given in the community's zone."""
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns(days))
    rows = 0
    async for transfer in transfers:
        writer.writerow(row(transfer, days))
        rows += 1
    return rows

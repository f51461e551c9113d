"""Bringing in the seeds' old systems: `python -m economy import-legacy`.

- `--tokens tokens.db`: the old token engine (`balances(user_id TEXT, balance INTEGER, ...)`,
  `transactions(id, user_id, type 'EARN'|'SPEND', amount, reason, timestamp)`). Each balance
  becomes an opening transfer from the `legacy_tokens` system account; the old transactions
  are kept read-only in `legacy_history` and shown in the user's history marked as imported.
- `--credits credits.csv`: the old credit system's users: `id` plus `credits` (which becomes
  the quota, nothing used, as the seed's migration steps say) or `credit_quota` and
  `credit_used` (carried over). Amounts are TL with at most two decimals. The quota comes from
  the `legacy_credit` system account, the credit used is then moved to `used`.
- `--map ids.csv` (old_id,telegram_id): old ids that are not Telegram ids. Any other id that is
  not a plain number is reported and skipped.

Nothing is written without `apply`: the plan (users, sums per asset, every rejected row with
its reason) is reported first, the same in a dry run and an applied one. Applying
(economy/importing.py) writes it in chunks that take turns with the bot's writes, each old row
recorded with what it brought in, so a run cut short and run again brings in nothing twice.
"""

from __future__ import annotations

import csv
import math
import re
import sqlite3
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from economy.amounts import MAX_AMOUNT, check_user_id, format_money, parse_money
from economy.errors import EconomyError
from economy.importing import Applied, already_imported, apply, ledger_sums, print_progress
from economy.text import clean_text

__all__ = ["Applied", "LegacyError", "Plan", "Rejected", "already_imported", "apply", "ledger_sums", "make_plan",
           "print_progress", "report"]

_ID = re.compile(r"[0-9]{1,16}", re.ASCII)
_ZERO = re.compile(r"0+(?:[.,]0{1,2})?", re.ASCII)
_SECONDS = re.compile(r"[0-9]{1,20}(?:\.[0-9]+)?", re.ASCII)
MAX_REASON = 200
#: An old transaction's time must fall between these: 2000-01-01 00:00:00 UTC and a day past
#: now (the clock of the machine that reads the files), in seconds. A millisecond stamp, a
#: stray huge integer or a date before the old systems existed is a rejected row, not a year
#: 55840 that /history cannot show.
EARLIEST = 946_684_800
LATEST_AHEAD = 86_400


class LegacyError(Exception):
    """A legacy file cannot be read at all (missing, not the expected shape)."""


@dataclass(frozen=True)
class Rejected:
    where: str
    reason: str

    def __str__(self) -> str:
        return f"{self.where}: {self.reason}"


@dataclass
class Plan:
    #: telegram id -> (old id, opening token balance)
    tokens: dict[int, tuple[str, int]] = field(default_factory=dict)
    #: (old transaction id, telegram id, 'EARN'|'SPEND', signed amount, reason, unix time)
    history: list[tuple[int, int, str, int, str, int]] = field(default_factory=list)
    #: telegram id -> (old id, quota, used), in kuruş
    credits: dict[int, tuple[str, int, int]] = field(default_factory=dict)
    rejected: list[Rejected] = field(default_factory=list)
    #: users whose old transactions do not add up to their balance (reported, imported as is)
    mismatched: list[int] = field(default_factory=list)
    #: the tokens.db file's name, for the rejected rows' places
    tokens_name: str = "tokens.db"

    def sums(self) -> dict[str, int]:
        return {"tokens": sum(b for _, b in self.tokens.values()),
                "credit_quota": sum(q for _, q, _ in self.credits.values()),
                "credit_used": sum(u for _, _, u in self.credits.values()),
                "history": len(self.history)}


def read_map(path: Path) -> tuple[dict[str, int], list[Rejected]]:
    """old_id,telegram_id per line (a header line is allowed)."""
    out: dict[str, int] = {}
    rejected: list[Rejected] = []
    for n, row in enumerate(_csv_rows(path), 1):
        if len(row) != 2:
            rejected.append(Rejected(f"{path.name} line {n}", "expected old_id,telegram_id"))
            continue
        old, new = row[0].strip(), row[1].strip()
        if n == 1 and not _ID.fullmatch(new):
            continue  # a header
        tid = _telegram_id(new)
        if tid is None:
            rejected.append(Rejected(f"{path.name} line {n}", f"telegram id {new[:32]!r} is not a Telegram id"))
        elif old in out and out[old] != tid:
            rejected.append(Rejected(f"{path.name} line {n}", f"old id {old[:32]!r} is mapped twice"))
        else:
            out[old] = tid
    return out, rejected


def _csv_rows(path: Path) -> Iterable[list[str]]:
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            reader = csv.reader(f)
            while True:
                start = reader.line_num + 1
                try:
                    yield next(reader)
                except StopIteration:
                    return
                except csv.Error as exc:  # a field past csv's limit, a NUL: the rest cannot be trusted
                    raise LegacyError(f"{path} cannot be read from line {start} on: {exc} (a quote that is never"
                                      " closed there makes the rest of the file one field)") from None
    except OSError as exc:
        raise LegacyError(f"cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise LegacyError(f"{path} is not UTF-8 text") from None


def _telegram_id(text: str) -> int | None:
    if not _ID.fullmatch(text):
        return None
    try:
        return check_user_id(int(text))
    except EconomyError:
        return None


def _resolve(old: Any, idmap: dict[str, int]) -> int | None:
    key = str(old).strip() if old is not None else ""
    if key in idmap:
        return idmap[key]
    return _telegram_id(key)


def _shown(value: Any) -> str:
    return repr(value)[:40]


def read_tokens(path: Path, idmap: dict[str, int], plan: Plan, now: float) -> None:
    if not path.is_file():
        raise LegacyError(f"cannot read {path}: no such file")
    plan.tokens_name = path.name
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        try:
            balances = db.execute("SELECT user_id, balance FROM balances ORDER BY rowid").fetchall()
            transactions = db.execute(
                "SELECT id, user_id, type, amount, reason, timestamp FROM transactions ORDER BY id, rowid").fetchall()
        except sqlite3.DatabaseError as exc:
            raise LegacyError(f"{path} is not the token engine's tokens.db ({exc})") from None
    finally:
        db.close()
    origin: dict[int, str] = {}
    for old, balance in balances:
        where = f"{path.name} balances user_id={_shown(old)}"
        tid = _resolve(old, idmap)
        if tid is None:
            plan.rejected.append(Rejected(where, "not a Telegram id (map it with --map ids.csv)"))
        elif tid in origin:
            plan.rejected.append(Rejected(where, f"duplicate: Telegram id {tid} already comes from"
                                                 f" user_id={_shown(origin[tid])}"))
        elif type(balance) is not int:  # noqa: E721 - SQLite keeps text or reals in an INTEGER column
            plan.rejected.append(Rejected(where, f"balance {_shown(balance)} is not a whole number"))
        elif balance < 0:
            plan.rejected.append(Rejected(where, f"balance {balance} is negative"))
        elif balance > MAX_AMOUNT:
            plan.rejected.append(Rejected(where, f"balance {balance} is too large"))
        else:
            origin[tid] = str(old)
            plan.tokens[tid] = (str(old).strip(), balance)
    by_old = {old: tid for tid, old in origin.items()}
    moved: dict[int, int] = {}
    kept: set[int] = set()
    for tx_id, old, kind, amount, reason, stamp in transactions:
        where = f"{path.name} transactions id={_shown(tx_id)}"
        tid = by_old.get(str(old)) if old is not None else None
        if tid is None:
            plan.rejected.append(Rejected(where, f"user_id={_shown(old)} was not imported"))
            continue
        kind = kind.upper() if isinstance(kind, str) else kind
        ts, wrong_time = _timestamp(stamp, now)
        if type(tx_id) is not int:  # noqa: E721
            plan.rejected.append(Rejected(where, "id is not a whole number"))
        elif tx_id in kept:
            plan.rejected.append(Rejected(where, f"duplicate id: an earlier row with id {tx_id} is the one kept"))
        elif kind not in ("EARN", "SPEND"):
            plan.rejected.append(Rejected(where, f"type {_shown(kind)} is neither EARN nor SPEND"))
        elif type(amount) is not int or amount == 0 or abs(amount) > MAX_AMOUNT:  # noqa: E721
            plan.rejected.append(Rejected(where, f"amount {_shown(amount)} is not a whole non-zero number"))
        elif ts is None:
            plan.rejected.append(Rejected(where, wrong_time))
        else:
            kept.add(tx_id)
            delta = abs(amount) if kind == "EARN" else -abs(amount)
            # a NUL says nothing, and PostgreSQL cannot keep one in a text: dropped; a lone
            # surrogate cannot be stored by either backend: replaced (economy.text)
            reason_text = clean_text(str(reason).replace("\x00", ""))[:MAX_REASON] if reason is not None else ""
            plan.history.append((tx_id, tid, kind, delta, reason_text, ts))
            moved[tid] = moved.get(tid, 0) + delta
    plan.mismatched = sorted(t for t, (_, b) in plan.tokens.items() if t in moved and moved[t] != b)


def _timestamp(value: Any, now: float) -> tuple[int | None, str]:
    """Unix seconds (an integer, a real, or digits in a text column) or an ISO 8601 text (UTC
    unless it says otherwise), within EARLIEST..now + LATEST_AHEAD; else None and the reason."""
    shown = f"timestamp {_shown(value)}"
    seconds: float | None = None
    if type(value) is int or (type(value) is float and math.isfinite(value)):  # not a bool
        seconds = value
    elif isinstance(value, str) and _SECONDS.fullmatch(value.strip()):
        seconds = float(value) if "." in value else int(value)
    elif isinstance(value, str):
        try:
            stamp = datetime.fromisoformat(value.strip())
            if stamp.tzinfo is None:
                stamp = stamp.replace(tzinfo=timezone.utc)  # SQLite's CURRENT_TIMESTAMP is UTC
            seconds = stamp.timestamp()
        except (ValueError, OverflowError):
            pass
    if seconds is None:
        return None, f"{shown} is not a date and time"
    latest = int(now) + LATEST_AHEAD
    if not EARLIEST <= seconds <= latest:
        hint = " (milliseconds? seconds are expected)" if EARLIEST * 1000 <= seconds <= latest * 1000 else ""
        return None, (f"{shown} is outside 2000-01-01..{_day(latest)}{hint}")
    return int(seconds), ""


def _day(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m-%d")


def _money(text: str | None) -> int:
    raw = (text or "").strip()
    if not raw or _ZERO.fullmatch(raw):
        return 0
    return parse_money(raw)


def read_credits(path: Path, idmap: dict[str, int], plan: Plan) -> None:
    rows = iter(_csv_rows(path))
    header = [h.strip().lower() for h in next(rows, [])]
    if "id" not in header or not ({"credits", "credit_quota"} & set(header)):
        raise LegacyError(f"{path} needs an id column and credits, or credit_quota (and credit_used)")
    seen: set[str] = set()
    for n, values in enumerate(rows, 2):
        if not any(v.strip() for v in values):
            continue
        row = dict(zip(header, values))
        old = (row.get("id") or "").strip()
        where = f"{path.name} line {n} id={old[:32]!r}"
        tid = _resolve(old, idmap)
        if len(values) != len(header):
            plan.rejected.append(Rejected(where, f"{len(values)} fields, the header has {len(header)}"))
            continue
        if tid is None:
            plan.rejected.append(Rejected(where, "not a Telegram id (map it with --map ids.csv)"))
            continue
        if old in seen or tid in plan.credits:
            plan.rejected.append(Rejected(where, "duplicate id"))
            continue
        seen.add(old)
        texts = {name: (row.get(name) or "").strip() for name in ("credits", "credit_quota", "credit_used")}
        try:
            given = {name: _money(text) for name, text in texts.items() if text}
        except EconomyError:
            shown = " / ".join(repr(t[:20]) for t in texts.values() if t)
            plan.rejected.append(Rejected(where, f"amount {shown} is not TL with at most two decimals"))
            continue
        problem = _credit_problem(given)
        if problem:
            plan.rejected.append(Rejected(where, problem))
            continue
        quota = given.get("credit_quota", given.get("credits", 0))
        used = given.get("credit_used", 0)
        if used > quota:
            plan.rejected.append(Rejected(where, f"credit used {format_money(used)} is above the quota"
                                                 f" {format_money(quota)}"))
            continue
        plan.credits[tid] = (old, quota, used)


def _credit_problem(given: dict[str, int]) -> str:
    """Why a credits row's amounts cannot be read one way only ('' if they can): `credits` is a
    quota with nothing used (the seed's migration); `credit_quota` with `credit_used` is carried
    over; a credit used with no credit_quota next to it says neither."""
    if given.get("credit_used") and "credit_quota" not in given:
        return (f"credit_used {format_money(given['credit_used'])} without a credit_quota"
                " (credits is a quota with nothing used)")
    if "credits" not in given and "credit_quota" not in given:
        return "no credits or credit_quota"
    if "credits" in given and "credit_quota" in given and given["credits"] != given["credit_quota"]:
        return (f"credits {format_money(given['credits'])} and credit_quota {format_money(given['credit_quota'])}"
                " disagree")
    return ""


def make_plan(tokens: Path | None, credits: Path | None, idmap_path: Path | None,
              now: float | None = None) -> Plan:
    """Read the files; `now` (default: the clock) bounds the old transactions' times."""
    plan = Plan()
    idmap: dict[str, int] = {}
    if idmap_path is not None:
        idmap, plan.rejected = read_map(idmap_path)
    if tokens is not None:
        read_tokens(tokens, idmap, plan, time.time() if now is None else now)
    if credits is not None:
        read_credits(credits, idmap, plan)
    return plan


def report(plan: Plan, already: set[tuple[str, str]], applied: Applied | None,
           after: dict[str, int] | None = None) -> list[str]:
    sums = plan.sums()
    lines = ["import-legacy: " + (f"applied in {applied.chunks} transactions of up to {applied.chunk} rows,"
                                  " taking turns with other writers" if applied else
                                  "dry run, nothing written (--apply writes it)")]
    if plan.tokens or plan.history:
        lines.append(f"tokens: {len(plan.tokens)} users, {sums['tokens']:,} tokens in opening balances,"
                     f" {len(plan.history)} old transactions kept as history")
    if plan.credits:
        lines.append(f"credits: {len(plan.credits)} users, quota {format_money(sums['credit_quota'])} TL,"
                     f" used {format_money(sums['credit_used'])} TL")
    if already:
        old = sum(1 for source, _ in already if source == "history")
        lines.append(f"already imported by an earlier run (left as they are): {len(already) - old} users' rows,"
                     f" {old} old transactions")
    if applied:
        lines.append(f"written: {applied.users} users, {applied.history} history rows")
    if after is not None:
        same = after == sums
        lines.append(f"{'sums in the ledger equal the files' if same else 'SUMS DIFFER'}: tokens {after['tokens']:,}"
                     f" (files {sums['tokens']:,}), quota {format_money(after['credit_quota'])} TL"
                     f" (files {format_money(sums['credit_quota'])}), used {format_money(after['credit_used'])} TL"
                     f" (files {format_money(sums['credit_used'])}), old transactions kept {after['history']:,}"
                     f" (files {sums['history']:,})")
    if plan.mismatched:
        lines.append(f"note: the old transactions of {len(plan.mismatched)} users do not add up to their balance"
                     f" (the balance is what is imported), e.g. {plan.mismatched[:5]}")
    lines.append(f"rejected: {len(plan.rejected)} rows")
    lines += [f"  {r}" for r in plan.rejected]
    return lines

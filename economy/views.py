"""Results as plain JSON-ready dicts, the same for the operator CLI and the HTTP API: money
(kuruş) as strings with two decimals, everything else as the ledger has it."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from economy.amounts import format_money
from economy.models import Balance, CreditChange, Page, Stats

#: Fields of write results that are money (kuruş), shown as "1000.00".
MONEY_FIELDS = frozenset({"credit_quota", "credit_used", "credit_available", "amount", "quota", "used", "available"})


def balance(b: Balance) -> dict[str, Any]:
    out = asdict(b)
    for name in ("credit_quota", "credit_used"):
        out[name] = format_money(out[name])
    out["credit_available"] = format_money(b.credit_available)
    out["content"] = list(b.content)
    return out


def history(page: Page) -> dict[str, Any]:
    return {"page": page.page, "pages": page.pages, "total": page.total,
            "entries": [asdict(e) for e in page.items]}


def stats(s: Stats) -> dict[str, Any]:
    out = asdict(s)
    for name in ("credit_quota", "credit_used"):
        out[name] = format_money(out[name])
    out["credit_available"] = format_money(s.credit_available)
    return out


def result(outcome: object) -> dict[str, Any]:
    """A write's result (Earning, Conversion, Purchase, CreditChange); credit amounts as money."""
    out = asdict(outcome)  # type: ignore[call-overload]
    out.pop("replayed", None)
    if isinstance(outcome, CreditChange):
        out["available"] = outcome.available
        out = {k: format_money(v) if k in MONEY_FIELDS else v for k, v in out.items()}
    return out

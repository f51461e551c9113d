"""Errors as `application/problem+json` (RFC 9457): one stable `type` per kind of refusal,
with the figures a client needs as extension members (money as "12.50")."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from economy.amounts import format_money
from economy.errors import (
    AlreadyClaimed,
    AlreadyExists,
    AlreadyOwned,
    EconomyError,
    FreezeLimit,
    StreakEnded,
    GiftRefused,
    IdempotencyConflict,
    InsufficientFunds,
    InvalidAmount,
    InvalidInput,
    InvalidText,
    NotFound,
    QuotaBelowUsage,
    QuotaExceeded,
    RefundTooLarge,
    StorageBusy,
    Unstorable,
)
from economy.views import MONEY_FIELDS

CONTENT_TYPE = "application/problem+json"
TYPE_BASE = "/api/v1/problems/"

#: slug -> (status, title). A slug never changes meaning; clients may branch on `type`.
PROBLEMS: dict[str, tuple[int, str]] = {
    "invalid-request": (400, "The request is malformed"),
    "idempotency-key-missing": (400, "POST needs an Idempotency-Key header (1-255 visible ASCII characters)"),
    "unauthorized": (401, "Valid credentials are needed (an API key; the dashboard: Telegram's initData)"),
    "forbidden": (403, "Not allowed (the API key's scope; the dashboard: admins only)"),
    "not-found": (404, "Not found"),
    "method-not-allowed": (405, "Method not allowed"),
    "insufficient-funds": (409, "Insufficient funds"),
    "quota-exceeded": (409, "Credit limit would be exceeded"),
    "refund-too-large": (409, "The refund is more than the credit used"),
    "quota-below-usage": (409, "The quota would fall below the credit used"),
    "already-owned": (409, "Already owned"),
    "already-claimed": (409, "Already claimed today"),
    "already-exists": (409, "Already exists"),
    "idempotency-conflict": (409, "This Idempotency-Key was used with another request"),
    "gift-refused": (409, "The gift is not allowed (to oneself, past a daily cap, or from a new member)"),
    "freeze-limit": (409, "The most streak freezes are held already"),
    "streak-ended": (409, "The streak ended already: a freeze covers days to come"),
    "payload-too-large": (413, "The request body is too large"),
    "unsupported-media-type": (415, "The body must be application/json"),
    "invalid-amount": (422, "Not a valid amount"),
    "invalid-input": (422, "Not a valid value"),
    "internal-error": (500, "Internal error"),
    "storage-busy": (503, "The ledger is busy; try again (a write: with the same Idempotency-Key)"),
}

_REFUSALS: dict[type[EconomyError], str] = {
    InsufficientFunds: "insufficient-funds", QuotaExceeded: "quota-exceeded", RefundTooLarge: "refund-too-large",
    QuotaBelowUsage: "quota-below-usage", NotFound: "not-found", AlreadyOwned: "already-owned",
    AlreadyClaimed: "already-claimed", AlreadyExists: "already-exists", InvalidAmount: "invalid-amount",
    InvalidInput: "invalid-input", IdempotencyConflict: "idempotency-conflict", StorageBusy: "storage-busy",
    GiftRefused: "gift-refused", FreezeLimit: "freeze-limit", StreakEnded: "streak-ended",
}
_BY_STATUS = {404: "not-found", 405: "method-not-allowed", 413: "payload-too-large", 415: "unsupported-media-type"}


class Problem(Exception):
    def __init__(self, slug: str, detail: str | None = None, *, headers: dict[str, str] | None = None,
                 **extensions: Any) -> None:
        super().__init__(detail or slug)
        self.slug, self.detail, self.headers, self.extensions = slug, detail, headers or {}, extensions
        self.status, self.title = PROBLEMS[slug]

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": TYPE_BASE + self.slug, "title": self.title, "status": self.status}
        if self.detail:
            out["detail"] = self.detail
        out.update(self.extensions)
        return out

    def response(self) -> web.Response:
        return web.Response(status=self.status, text=json.dumps(self.body()), content_type=CONTENT_TYPE,
                            headers=self.headers)


def refusal(exc: EconomyError, *, detail: str | None = None) -> Problem:
    """The problem for a ledger refusal: its figures as extension members; a refusal given
    again for a repeated Idempotency-Key says so (Idempotent-Replayed: true)."""
    slug = next((_REFUSALS[cls] for cls in type(exc).__mro__ if cls in _REFUSALS), "internal-error")
    fields = exc.to_dict()
    if isinstance(exc, (QuotaExceeded, RefundTooLarge, QuotaBelowUsage)):
        if isinstance(exc, QuotaExceeded):
            fields["available"] = exc.available
        fields = {k: format_money(v) if k in MONEY_FIELDS else v for k, v in fields.items()}
    if isinstance(exc, InsufficientFunds):
        fields["shortfall"] = exc.shortfall
    if isinstance(exc, IdempotencyConflict):
        fields = {}  # the stored key carries our own prefix
    headers = {"Retry-After": "1"} if isinstance(exc, StorageBusy) else {}
    if exc.replayed:
        headers["Idempotent-Replayed"] = "true"
    return Problem(slug, detail or _detail(exc), headers=headers, refusal=type(exc).__name__, **fields)


def _detail(exc: EconomyError) -> str | None:
    match exc:
        case InsufficientFunds():
            return f"{exc.needed} {exc.asset} needed, {exc.available} available"
        case NotFound():
            return f"no {exc.what} {exc.ref!r}"
        case InvalidText():
            return (f"{exc.field} holds a character that cannot be stored ({exc.reason}; shown as U+FFFD:"
                    f" {exc.text!r}); nothing was written")
        case Unstorable():
            return f"the database refused to store this request's data ({exc.reason}); nothing of it was written"
        case InvalidInput():
            return f"{exc.text!r} is not valid ({exc.reason})"
    return None


def for_status(exc: web.HTTPException) -> Problem:
    """aiohttp's own 4xx (no route, wrong method, body too large) as problems."""
    slug = _BY_STATUS.get(exc.status, "invalid-request")
    headers = {"Allow": exc.headers["Allow"]} if "Allow" in exc.headers else None
    return Problem(slug, exc.reason, headers=headers)

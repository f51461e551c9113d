"""The OpenAPI 3.1 document of /api/v1 (served at /api/v1/openapi.json). Tests run
schemathesis against the running code with it, so it must say exactly what the code does."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from economy.amounts import MAX_AMOUNT, MAX_USER_ID
from economy.models import Conversion, Earning, Entry, Gift, Purchase
from web.body import MAX_BODY, MONEY_PATTERN
from web.problems import PROBLEMS, TYPE_BASE

INT = {"type": "integer"}
MONEY = {"type": "string", "pattern": r"^-?[0-9]+\.[0-9]{2}$", "examples": ["1000.00"]}
USER_ID = {"type": "integer", "minimum": 1, "maximum": MAX_USER_ID - 1}
AMOUNT = {"type": "integer", "minimum": 1, "maximum": MAX_AMOUNT}
NULLABLE_INT = {"type": ["integer", "null"]}


def _object(props: dict[str, Any], required: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    return {"type": "object", "properties": props, "required": list(props) if required is None else required,
            "additionalProperties": False, **extra}


BALANCE = {
    "user_id": INT, "xp": INT, "tokens": INT, "credit_quota": MONEY, "credit_used": MONEY,
    "credit_available": MONEY, "vip": {"type": "boolean"}, "badge": {"type": "boolean"},
    "boost_until": NULLABLE_INT, "dm_until": NULLABLE_INT, "content": {"type": "array", "items": {"type": "string"}},
    "streak": INT, "freezes": INT, "claimed_today": {"type": "boolean"},
}
RESULTS = {
    "earn": Earning, "convert": Conversion, "spend": Purchase, "gift": Gift,
    "credit": {"user_id": INT, "kind": {"type": "string"}, "amount": MONEY, "quota": MONEY, "used": MONEY,
               "transfer_id": INT, "available": MONEY},
}
MONEY_IN = {"type": "string", "pattern": MONEY_PATTERN.replace("^-?", "^"), "examples": ["50.00"],
            "description": "TL, at most two decimals, not zero"}
REQUESTS = {
    "earn": _object({"user_id": USER_ID, "xp": AMOUNT, "reason": {"type": "string", "maxLength": 200}},
                    ["user_id", "xp"], examples=[{"user_id": 42, "xp": 20, "reason": "task 7"}]),
    "convert": _object({"user_id": USER_ID, "amount": {"oneOf": [AMOUNT, {"const": "all"}]}},
                       examples=[{"user_id": 42, "amount": 20}]),
    "spend": {"oneOf": [
        _object({"user_id": USER_ID, "item": {"enum": ["vip", "boost", "badge", "dm", "freeze"]}}),
        _object({"user_id": USER_ID, "item": {"const": "content"},
                 "content_id": {"type": "string", "pattern": "^[A-Za-z0-9_.-]{1,40}$"}}),
    ], "examples": [{"user_id": 42, "item": "vip"}]},
    "quota": _object({"user_id": USER_ID, "amount": {**MONEY_IN, "pattern": MONEY_PATTERN,
                                                     "description": "TL; a leading - lowers the quota"}},
                     examples=[{"user_id": 42, "amount": "1000.00"}]),
    "refund": _object({"user_id": USER_ID, "amount": MONEY_IN}, examples=[{"user_id": 42, "amount": "50.00"}]),
    "gift": _object({"sender": USER_ID, "recipient": USER_ID, "amount": AMOUNT},
                    examples=[{"sender": 42, "recipient": 43, "amount": 10}]),
}
SUMMARIES = {
    "earn": "Give XP (creates the user if new, without the registration bonus)",
    "convert": "Convert XP to tokens 1:1 (an amount, or \"all\")",
    "spend": "Buy an item with tokens (vip, boost, badge, dm, or content with a content_id)",
    "quota": "Raise a credit quota (a leading - lowers it)",
    "refund": "Take an amount off the credit used",
    "gift": "Give tokens to another user (the bot's rules: not to oneself, daily caps per sender and recipient,"
            " a minimum membership age); the answer is the sender's balance",
}


_TYPES = {"int": INT, "str": {"type": "string"}, "bool": {"type": "boolean"}, "int | None": NULLABLE_INT}


def _from_dataclass(cls: type) -> dict[str, Any]:
    """The schema of a result the API renders as it is (asdict), so the two cannot drift."""
    return _object({f.name: _TYPES[str(f.type)] for f in fields(cls) if f.name != "replayed"})


REPLAYED = {"Idempotent-Replayed": {
    "description": "Sent (true) on the answer to a repeat of a request: the first answer again, whether it was"
                   " a success or a refusal; never on the request that applied the operation",
    "schema": {"type": "string", "const": "true"}}}
RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait before trying again", "required": True,
                               "schema": {"type": "string", "pattern": "^[0-9]+$"}}}


def _problems(*statuses: int, headers: dict[int, dict[str, Any]] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for status in statuses:
        slugs = sorted(s for s, (st, _) in PROBLEMS.items() if st == status)
        out[str(status)] = {"description": ", ".join(slugs), "content": {
            "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}
        if extra := (headers or {}).get(status):
            out[str(status)]["headers"] = extra
    return out


def _ok(schema: dict[str, Any], description: str = "OK", headers: dict[str, Any] | None = None) -> dict[str, Any]:
    ok: dict[str, Any] = {"description": description, "content": {"application/json": {"schema": schema}}}
    return {"200": {**ok, "headers": headers} if headers else ok}


USER_PARAM = {"name": "user_id", "in": "path", "required": True, "schema": USER_ID}
READ_ERRORS = (400, 401, 404, 405, 422, 503)
WRITE_ERRORS = (400, 401, 403, 404, 405, 409, 413, 415, 422, 503)
#: A refusal the ledger kept with the operation (not found, 409s, an amount it refused) is given
#: again to a repeat, marked; a 503 says when to try again.
READ_HEADERS = {503: RETRY_AFTER}
WRITE_HEADERS = {404: REPLAYED, 409: REPLAYED, 422: REPLAYED, 503: RETRY_AFTER}


def document() -> dict[str, Any]:
    paths: dict[str, Any] = {
        "/api/v1/users/{user_id}/balance": {"get": {
            "operationId": "balance", "summary": "A user's balances, quota and perks (as `python -m economy balance`)",
            "parameters": [USER_PARAM],
            "responses": {**_ok({"$ref": "#/components/schemas/Balance"}),
                          **_problems(*READ_ERRORS, headers=READ_HEADERS)}}},
        "/api/v1/users/{user_id}/history": {"get": {
            "operationId": "history", "summary": "A user's journal, newest first, paged (page 0 is the newest)",
            "parameters": [USER_PARAM,
                           {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 0,
                                                                       "maximum": 10**9}},
                           {"name": "per_page", "in": "query", "schema": {"type": "integer", "minimum": 1,
                                                                           "maximum": 50}}],
            "responses": {**_ok({"$ref": "#/components/schemas/History"}),
                          **_problems(*READ_ERRORS, headers=READ_HEADERS)}}},
        "/api/v1/stats": {"get": {
            "operationId": "stats", "summary": "System figures (as `python -m economy stats`)",
            "responses": {**_ok({"$ref": "#/components/schemas/Stats"}),
                          **_problems(401, 405, 503, headers=READ_HEADERS)}}},
        "/api/v1/openapi.json": {"get": {
            "operationId": "openapi", "summary": "This document", "security": [],
            "responses": _ok({"type": "object"})}},
        "/api/v1/problems/{slug}": {"get": {
            "operationId": "problem_type", "summary": "What a problem type means", "security": [],
            "parameters": [{"name": "slug", "in": "path", "required": True, "schema": {"type": "string"}}],
            "responses": {**_ok(_object({"type": {"type": "string"}, "title": {"type": "string"},
                                         "status": INT})), **_problems(404, 405)}}},
    }
    for name, request in REQUESTS.items():
        result = RESULTS["credit" if name in ("quota", "refund") else name]
        operation = _object(result) if isinstance(result, dict) else _from_dataclass(result)
        answer = _object({**BALANCE, "operation": operation})
        paths[f"/api/v1/{name}"] = {"post": {
            "operationId": name, "summary": SUMMARIES[name],
            "description": "Needs a write key. The same Idempotency-Key and body give the first answer again,"
                           " success or refusal, with the header Idempotent-Replayed: true; the same key with"
                           " another body is refused (409). A 503 may come after the operation was applied:"
                           " send the request again with the same Idempotency-Key, it is applied at most once.",
            "parameters": [{"name": "Idempotency-Key", "in": "header", "required": True,
                            "description": "Kept 7 days for this API key (not for its name: a new key given a"
                                           " revoked key's name starts afresh)",
                            "schema": {"type": "string", "minLength": 1, "maxLength": 255,
                                       "pattern": "^[!-~]+$"}}],
            "requestBody": {"required": True, "content": {"application/json": {"schema": request}}},
            "responses": {**_ok(answer, "The new balance, with what the operation returned as `operation`",
                                REPLAYED),
                          **_problems(*WRITE_ERRORS, headers=WRITE_HEADERS)}}}
    return {
        "openapi": "3.1.0",
        "info": {"title": "Token economy and credit desk API", "version": "1.0.0",
                 "description": "Money (TL) travels as strings with two decimals, XP and tokens as integers. "
                                f"Errors are application/problem+json; `type` is one of {TYPE_BASE}<slug>. "
                                f"Request bodies are at most {MAX_BODY} bytes."},
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                           "description": "python -m economy apikey create NAME --scope read|write"}},
            "schemas": {
                "Balance": _object(BALANCE),
                "History": _object({"page": INT, "pages": INT, "total": INT,
                                    "entries": {"type": "array", "items": _from_dataclass(Entry)}}),
                "Stats": _object({
                    **{k: INT for k in ("users", "active_users", "credit_users", "xp_issued", "xp_converted",
                                        "xp_outstanding", "tokens_minted", "tokens_spent", "tokens_in_circulation",
                                        "freeze_spent")},
                    "spent_per_item": {"type": "object", "additionalProperties": INT},
                    "credit_quota": MONEY, "credit_used": MONEY, "credit_available": MONEY}),
                "Problem": {"type": "object", "required": ["type", "title", "status"], "properties": {
                    "type": {"type": "string"}, "title": {"type": "string"}, "status": INT,
                    "detail": {"type": "string"}, "refusal": {"type": "string"}}},
            },
        },
    }

"""Reading a JSON request strictly: the media type, a size cap, no duplicate keys, no NaN, only
the fields the operation names, each of its type. Anything else is a 4xx problem, never 500."""

from __future__ import annotations

import json
import re
from typing import Any

from aiohttp import web

from economy.errors import InvalidAmount
from web.problems import Problem

MAX_BODY = 16 * 1024
IDEMPOTENCY_KEY = re.compile(r"[\x21-\x7e]{1,255}", re.ASCII)
#: Money in the API: TL with at most two decimals, "1000.00", not zero, at most 10 digits before
#: the point (so it stays under economy.amounts.MAX_AMOUNT); a quota change may start with "-".
#: MONEY_PATTERN is the same rule in the OpenAPI document's (ECMA 262) spelling.
MONEY = re.compile(r"-?(?!0+(?:\.0+)?\Z)[0-9]{1,10}(?:\.[0-9]{1,2})?", re.ASCII)
MONEY_PATTERN = r"^-?(?!0+(\.0+)?$)[0-9]{1,10}(\.[0-9]{1,2})?$"


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        raise ValueError("a key appears twice")
    return out


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


async def read_object(request: web.Request) -> dict[str, Any]:
    if request.content_type != "application/json":
        raise Problem("unsupported-media-type", f"got {request.content_type!r}")
    if request.content_length is not None and request.content_length > MAX_BODY:
        raise Problem("payload-too-large", f"at most {MAX_BODY} bytes")
    raw = bytearray()
    while chunk := await request.content.read(MAX_BODY + 1 - len(raw)):
        raw += chunk
        if len(raw) > MAX_BODY:
            raise Problem("payload-too-large", f"at most {MAX_BODY} bytes")
    try:
        body = json.loads(raw, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
    except (ValueError, RecursionError) as exc:
        raise Problem("invalid-request", f"the body is not JSON: {str(exc)[:120]}") from None
    if not isinstance(body, dict):
        raise Problem("invalid-request", "the body must be a JSON object")
    return body


class Fields:
    """The fields of one request body: unknown or missing ones and wrong types are refused."""

    def __init__(self, body: dict[str, Any], required: tuple[str, ...], optional: tuple[str, ...] = ()) -> None:
        unknown = sorted(set(body) - set(required) - set(optional))
        if unknown:
            raise Problem("invalid-request", f"unknown field {unknown[0][:40]!r}")
        missing = [name for name in required if name not in body]
        if missing:
            raise Problem("invalid-request", f"missing field {missing[0]!r}")
        self.body = body

    def has(self, name: str) -> bool:
        return name in self.body

    def integer(self, name: str) -> int:
        """A JSON integer; 20.0 is one too (JSON Schema's rule), 20.5 or "20" are not."""
        value = self.body[name]
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise Problem("invalid-request", f"{name} must be an integer")
        return value

    def string(self, name: str, max_length: int, default: str | None = None) -> str:
        if name not in self.body and default is not None:
            return default
        value = self.body[name]
        if not isinstance(value, str):
            raise Problem("invalid-request", f"{name} must be a string")
        if len(value) > max_length:
            raise Problem("invalid-request", f"{name} is longer than {max_length} characters")
        return value

    def money(self, name: str, signed: bool = False) -> str:
        """The text of an amount of money, as "12.50" (leading "-" only if `signed`)."""
        value = self.string(name, 24)
        if not MONEY.fullmatch(value) or (value.startswith("-") and not signed):
            raise InvalidAmount(text=value[:32], reason="not_money")
        return value


def idempotency_key(request: web.Request) -> str:
    key = request.headers.get("Idempotency-Key")
    if key is None or not IDEMPOTENCY_KEY.fullmatch(key):
        raise Problem("idempotency-key-missing")
    return key

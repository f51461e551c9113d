"""The HTTP API, /api/v1/...: as thin as the bot's handlers (parse, one ledger call, render
JSON), with the same ledger calls and refusals. Keys: `python -m economy apikey`."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from economy import Ledger, views
from economy.amounts import parse_money
from economy.apikeys import ApiKey, ApiKeys
from economy.audit import Actor
from economy.errors import StorageBusy
from economy.models import Key
from web import openapi
from web.body import Fields, idempotency_key, read_object
from web.idempotency import APPLIED, MAYBE_APPLIED, REPLAYED, Entries
from web.problems import PROBLEMS, TYPE_BASE, Problem, refusal
from web.query import BadQuery, read_query
ITEMS = ("vip", "boost", "badge", "dm", "freeze", "content")

Call = Callable[[Key], Awaitable[Any]]


class Api:
    def __init__(self, ledger: Ledger, keys: ApiKeys) -> None:
        self.ledger, self.keys = ledger, keys
        self._openapi = json.dumps(openapi.document()).encode()

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/api/v1/openapi.json", self.openapi, allow_head=False),
            web.get("/api/v1/problems/{slug}", self.problem_type, allow_head=False),
            web.get("/api/v1/users/{user_id}/balance", self.balance, allow_head=False),
            web.get("/api/v1/users/{user_id}/history", self.history, allow_head=False),
            web.get("/api/v1/stats", self.stats, allow_head=False),
            *(web.post(f"/api/v1/{name}", self._post(name, parse)) for name, parse in (
                ("earn", self._earn), ("convert", self._convert), ("spend", self._spend),
                ("quota", self._quota), ("refund", self._refund), ("gift", self._gift))),
        ]

    # -- auth --
    async def _key(self, request: web.Request, scope: str) -> ApiKey:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Problem("unauthorized", "send Authorization: Bearer <key>",
                          headers={"WWW-Authenticate": 'Bearer realm="api"'})
        key = await self.keys.find(token.strip())
        if key is None or not key.active:
            raise Problem("unauthorized", "unknown or revoked key",
                          headers={"WWW-Authenticate": 'Bearer realm="api", error="invalid_token"'})
        if not key.allows(scope):
            raise Problem("forbidden", f"a {key.scope} key cannot {scope}",
                          headers={"WWW-Authenticate": 'Bearer realm="api", error="insufficient_scope"'})
        return key

    # -- reads --
    async def openapi(self, request: web.Request) -> web.Response:
        return web.Response(body=self._openapi, content_type="application/json")

    async def problem_type(self, request: web.Request) -> web.Response:
        slug = request.match_info["slug"]
        if slug not in PROBLEMS:
            raise Problem("not-found", "no such problem type")
        status, title = PROBLEMS[slug]
        return web.json_response({"type": TYPE_BASE + slug, "title": title, "status": status})

    async def balance(self, request: web.Request) -> web.Response:
        await self._key(request, "read")
        return web.json_response(views.balance(await self.ledger.balance(_user(request))))

    async def history(self, request: web.Request) -> web.Response:
        await self._key(request, "read")
        user = _user(request)
        page = _query_int(request, "page", 0, 0, 10**9)
        per_page = _query_int(request, "per_page", 20, 1, 50)
        return web.json_response(views.history(await self.ledger.history(user, page, per_page)))

    async def stats(self, request: web.Request) -> web.Response:
        await self._key(request, "read")
        return web.json_response(views.stats(await self.ledger.stats()))

    # -- writes --
    def _post(self, name: str, parse: Callable[[dict[str, Any], str], tuple[int, Call]]
              ) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def handle(request: web.Request) -> web.Response:
            key = await self._key(request, "write")
            idem = idempotency_key(request)
            body = await read_object(request)
            user, call = parse(body, key.name)
            kept = Entries(key, idem)
            try:
                result = await call(kept.operation)
            except StorageBusy as exc:
                raise refusal(exc, detail=MAYBE_APPLIED.format(reason=exc.reason)) from None
            # The first answer for this key is kept, and given again to every repeat. Only the
            # operation says whether this request applied it: a repeat may keep its answer first.
            try:
                answer = {**views.balance(await self.ledger.balance(user)), "operation": views.result(result)}
                fingerprint = json.dumps([name, body], sort_keys=True)
                first = await self.ledger.remember(kept.answer(result.replayed), fingerprint, json.dumps(answer))
            except StorageBusy as exc:
                raise refusal(exc, detail=APPLIED.format(reason=exc.reason)) from None
            return web.Response(text=first.text, content_type="application/json",
                                headers=REPLAYED if result.replayed else None)

        handle.__name__ = name
        return handle

    def _earn(self, body: dict[str, Any], by: str) -> tuple[int, Call]:
        f = Fields(body, ("user_id", "xp"), ("reason",))
        user, xp, reason = f.integer("user_id"), f.integer("xp"), f.string("reason", 200, "")
        return user, lambda key: self.ledger.earn(user, xp, reason=reason, key=key, audit_as=_by(by))

    def _convert(self, body: dict[str, Any], by: str) -> tuple[int, Call]:
        f = Fields(body, ("user_id", "amount"))
        user = f.integer("user_id")
        amount = None if f.body["amount"] == "all" else f.integer("amount")
        return user, lambda key: self.ledger.convert(user, amount, key=key, audit_as=_by(by))

    def _spend(self, body: dict[str, Any], by: str) -> tuple[int, Call]:
        content = body.get("item") == "content"
        f = Fields(body, ("user_id", "item", "content_id") if content else ("user_id", "item"))
        user, item = f.integer("user_id"), f.string("item", 16)
        ref = f.string("content_id", 40) if content else ""
        return user, lambda key: self.ledger.buy(user, item, ref, key=key, audit_as=_by(by))

    def _gift(self, body: dict[str, Any], by: str) -> tuple[int, Call]:
        """Tokens from one user to another, by the bot's rules (caps, minimum age); the answer is
        the sender's balance. The recipient is told by the bot (a kept notice)."""
        f = Fields(body, ("sender", "recipient", "amount"))
        sender, recipient, amount = f.integer("sender"), f.integer("recipient"), f.integer("amount")
        return sender, lambda key: self.ledger.gift(sender, recipient, amount, key=key, audit_as=_by(by))

    def _quota(self, body: dict[str, Any], by: str) -> tuple[int, Call]:
        f = Fields(body, ("user_id", "amount"))
        user, text = f.integer("user_id"), f.money("amount", signed=True)
        amount = parse_money(text.lstrip("-"))
        change = self.ledger.lower_quota if text.startswith("-") else self.ledger.raise_quota
        return user, lambda key: change(user, amount, note=f"api:{by}", key=key, audit_as=_by(by))

    def _refund(self, body: dict[str, Any], by: str) -> tuple[int, Call]:
        f = Fields(body, ("user_id", "amount"))
        user, amount = f.integer("user_id"), parse_money(f.money("amount"))
        return user, lambda key: self.ledger.refund(user, amount, note=f"api:{by}", key=key, audit_as=_by(by))


def _by(key_name: str) -> Actor:
    """Every write through the API is audited with the name of the key that made it."""
    return Actor("api", key_name)


def _user(request: web.Request) -> int:
    raw = request.match_info["user_id"]
    if not raw.isascii() or not raw.isdigit() or len(raw) > 20:
        raise Problem("invalid-request", "the user id must be a positive integer")
    return int(raw)


def _query_int(request: web.Request, name: str, default: int, low: int, high: int) -> int:
    try:
        raw = read_query(request.rel_url.raw_query_string, {name: 10}).get(name)
    except BadQuery as exc:
        raise Problem("invalid-request", str(exc)) from None
    if raw is None:
        return default
    if not raw.isascii() or not raw.isdigit() or len(raw) > 10 or not low <= int(raw) <= high:
        raise Problem("invalid-request", f"{name} must be an integer from {low} to {high}")
    return int(raw)

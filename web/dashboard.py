"""The admin dashboard (a Telegram Mini App): the page, its JSON reads and its credit actions.

Thin like the handlers: check who asks (signed initData, an admin), one ledger call, JSON.
The page is static (web/static/); everything it shows comes from these endpoints, so a
request without a valid admin's initData gets 401/403 and no figure at all.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Protocol

from aiohttp import web

from economy import EconomyError, Key, Ledger, format_money, parse_money
from economy.amounts import MAX_USER_ID
from economy.models import Balance, CreditChange, CreditUser, Entry, Page, Profile, Stats
from web.initdata import Forbidden, Unauthorized, Viewer, viewer_from
from web.query import BadQuery, read_query

log = logging.getLogger("web.dashboard")
STATIC = Path(__file__).parent / "static"
PREFIX = "/dashboard"
#: The page's own files, and Telegram's script (https://core.telegram.org/bots/webapps#initializing-mini-apps).
CSP = ("default-src 'none'; script-src 'self' https://telegram.org; style-src 'self'; img-src 'self' data:;"
       " connect-src 'self'; base-uri 'none'; form-action 'none'")
PER_PAGE = 10
DAYS = 30
#: One confirm click's key, made by the page: kept two days (a double click comes within seconds).
CLIENT_KEY = re.compile(r"[A-Za-z0-9-]{16,64}", re.ASCII)
KEY_TTL = 2 * 86400
MAX_BODY = 1024
ACTIONS = ("raise", "lower", "refund")
#: Each query parameter's longest value (the ledger has its own, shorter limit for a search).
QUERY = {"q": 256, "sort": 16, "page": 16}
STATUS = {"InvalidAmount": 400, "InvalidInput": 400, "NotFound": 404, "StorageBusy": 503}

Notify = Callable[[CreditChange], Awaitable[None]]


class DashboardSettings(Protocol):
    """What the dashboard needs of the bot's settings (bot.config.Settings has it)."""

    @property
    def bot_token(self) -> str: ...
    @property
    def admin_ids(self) -> frozenset[int]: ...
    @property
    def default_language(self) -> str: ...


def _json(data: Any, status: int = 200) -> web.Response:
    return web.json_response(data, status=status, headers={"Cache-Control": "no-store"})


def _user(p: CreditUser) -> dict[str, Any]:
    return {"id": p.user_id, "name": p.name, "username": p.username, "quota": p.quota, "used": p.used,
            "available": p.available}


def _stats(s: Stats) -> dict[str, Any]:
    return {"users": s.users, "active_users": s.active_users, "credit_users": s.credit_users,
            "credit_quota": s.credit_quota, "credit_used": s.credit_used, "credit_available": s.credit_available,
            "tokens_minted": s.tokens_minted, "tokens_spent": s.tokens_spent,
            "tokens_in_circulation": s.tokens_in_circulation, "xp_issued": s.xp_issued,
            "xp_converted": s.xp_converted, "xp_outstanding": s.xp_outstanding, "spent_per_item": s.spent_per_item}


def _card(who: Profile, b: Balance, history: Page) -> dict[str, Any]:
    entries: list[Entry] = list(history.items)
    return {
        "id": who.user_id, "name": who.first_name, "username": who.username, "language": who.language,
        "active": who.active, "registered_at": who.registered_at,
        "xp": b.xp, "tokens": b.tokens, "quota": b.credit_quota, "used": b.credit_used,
        "available": b.credit_available, "vip": b.vip, "badge": b.badge, "boost_until": b.boost_until,
        "dm_until": b.dm_until, "content": list(b.content),
        "history": {"page": history.page, "pages": history.pages, "total": history.total,
                    "entries": [{"id": e.id, "ts": e.ts, "kind": e.kind, "asset": e.asset, "delta": e.delta,
                                 "ref": e.ref, "title": e.title} for e in entries]},
    }


def _int(text: str, default: int = 0, limit: int = MAX_USER_ID) -> int:
    if text.isascii() and text.isdigit() and len(text) <= 16 and int(text) < limit:
        return int(text)
    if text == "":
        return default
    raise web.HTTPBadRequest(text='{"error": "bad_number"}', content_type="application/json")


class Dashboard:
    def __init__(self, ledger: Ledger, settings: DashboardSettings, notify: Notify,
                 clock: Callable[[], float] = time.time) -> None:
        self.ledger, self.settings, self.notify, self.clock = ledger, settings, notify, clock

    def language(self, viewer: Viewer) -> str:
        code = (viewer.language or "").lower()
        return next((lang for lang in ("tr", "en") if code == lang or code.startswith(lang + "-")),
                    self.settings.default_language)

    @web.middleware
    async def headers(self, request: web.Request, handler: Any) -> web.StreamResponse:
        response = await handler(request)
        if request.path in (PREFIX + "/", PREFIX + "/index.html"):
            response.headers["Content-Security-Policy"] = CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        return response

    def admin(self, work: Callable[[web.Request, Viewer], Awaitable[web.Response]]) -> Any:
        """An API handler that runs only for an admin's valid initData, before anything is read."""
        async def handler(request: web.Request) -> web.Response:
            try:
                viewer = viewer_from(request.headers.get("Authorization"), self.settings.bot_token,
                                     self.settings.admin_ids, self.clock())
            except Unauthorized:
                return _json({"error": "unauthorized"}, 401)
            except Forbidden:
                return _json({"error": "forbidden"}, 403)
            try:
                return await work(request, viewer)
            except BadQuery as exc:
                return _json({"error": "bad_query", "detail": str(exc)}, 400)
            except EconomyError as exc:
                return _json({"error": type(exc).__name__, **exc.to_dict()}, STATUS.get(type(exc).__name__, 409))

        return handler

    async def page(self, request: web.Request) -> web.StreamResponse:
        return web.FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})

    async def to_page(self, request: web.Request) -> web.StreamResponse:
        raise web.HTTPPermanentRedirect(PREFIX + "/")

    async def overview(self, request: web.Request, viewer: Viewer) -> web.Response:
        stats = await self.ledger.stats()
        days = await self.ledger.daily_tokens(DAYS)
        top = await self.ledger.top_spenders(10)
        flows = await self.ledger.gift_flows(7, 10)
        return _json({
            "lang": self.language(viewer), "admin": {"id": viewer.user_id, "name": viewer.name},
            "stats": _stats(stats),
            "prices": {code: item.price for code, item in self.ledger.catalog.items.items()},
            "days": [{"day": d.day, "earned": d.earned, "spent": d.spent} for d in days],
            "top": [{"id": s.user_id, "name": s.name, "username": s.username, "spent": s.spent, "vip": s.vip}
                    for s in top],
            # the biggest sender -> recipient flows of 7 days: alt accounts funnelling rewards show here
            "gifts": [{"sender": f.sender, "sender_name": f.sender_name, "recipient": f.recipient,
                       "recipient_name": f.recipient_name, "gifts": f.gifts, "amount": f.amount} for f in flows],
        })

    async def users(self, request: web.Request, viewer: Viewer) -> web.Response:
        q = read_query(request.rel_url.raw_query_string, QUERY)
        order = q.get("sort", "used")
        found = await self.ledger.search_users(q.get("q", ""), order, _int(q.get("page", ""), limit=10**6), PER_PAGE)
        return _json({"page": found.page, "pages": found.pages, "total": found.total,
                      "users": [_user(u) for u in found.items]})

    async def user(self, request: web.Request, viewer: Viewer) -> web.Response:
        uid = _int(request.match_info["user_id"])
        page = _int(read_query(request.rel_url.raw_query_string, QUERY).get("page", ""), limit=10**6)
        who = await self.ledger.profile(uid)
        balance = await self.ledger.balance(uid)
        history = await self.ledger.history(uid, page, PER_PAGE)
        return _json(_card(who, balance, history))

    async def credit(self, request: web.Request, viewer: Viewer) -> web.Response:
        """raise / lower the quota or refund usage: the ledger calls of /quota and /refund, with
        the page's key for this confirm click, so a second identical request changes nothing."""
        uid = _int(request.match_info["user_id"])
        body = await self._body(request)
        action, amount, key = body.get("action"), body.get("amount"), body.get("key")
        if action not in ACTIONS or not isinstance(amount, str) or not isinstance(key, str) \
                or not CLIENT_KEY.fullmatch(key) or set(body) != {"action", "amount", "key"}:
            return _json({"error": "bad_request"}, 400)
        kurus = parse_money(amount)
        call = {"raise": self.ledger.raise_quota, "lower": self.ledger.lower_quota, "refund": self.ledger.refund}[action]
        done = await call(uid, kurus, actor=viewer.user_id, note="dashboard", notify=True,
                          key=Key(f"dash:{viewer.user_id}:{key}", ttl=KEY_TTL, keep_refusals=False))
        log.info("dashboard: admin %s %s %s for user %s: transfer %s%s", viewer.user_id, action,
                 format_money(done.amount), uid, done.transfer_id, " (replayed)" if done.replayed else "")
        # The notice is recorded with the change: sent now, once (a replayed click sends it only
        # if it is still owed; the bot's sweep sends it if this process dies first).
        try:
            await self.notify(done)
        except Exception:  # the change is made and must be reported as made
            log.exception("dashboard: could not notify user %s", uid)
        return _json({"action": action, "amount": done.amount, "quota": done.quota, "used": done.used,
                      "available": done.available, "transfer_id": done.transfer_id, "replayed": done.replayed})

    async def _body(self, request: web.Request) -> dict[str, Any]:
        if request.content_length is None or request.content_length > MAX_BODY:
            raise web.HTTPRequestEntityTooLarge(max_size=MAX_BODY, actual_size=request.content_length or 0)
        try:
            body = json.loads(await request.read())
        except (ValueError, UnicodeDecodeError):
            raise web.HTTPBadRequest(text='{"error": "bad_json"}', content_type="application/json") from None
        if not isinstance(body, dict):
            raise web.HTTPBadRequest(text='{"error": "bad_json"}', content_type="application/json")
        return body


def dashboard_app(ledger: Ledger, settings: DashboardSettings, notify: Notify,
                  clock: Callable[[], float] = time.time) -> web.Application:
    """The dashboard as a sub-application: `app.add_subapp("/dashboard", dashboard_app(...))`.
    `notify(change)` tells the user in Telegram about a credit change (as /quota and /refund do)."""
    d = Dashboard(ledger, settings, notify, clock)
    app = web.Application(middlewares=[d.headers])
    app.router.add_get("", d.to_page)
    app.router.add_get("/", d.page)
    app.router.add_static("/static", STATIC, append_version=False)
    app.router.add_get("/api/overview", d.admin(d.overview))
    app.router.add_get("/api/users", d.admin(d.users))
    app.router.add_get("/api/users/{user_id}", d.admin(d.user))
    app.router.add_post("/api/users/{user_id}/credit", d.admin(d.credit))
    return app


def install(app: web.Application, ledger: Ledger, settings: DashboardSettings, notify: Notify,
            clock: Callable[[], float] = time.time) -> None:
    """Mount the dashboard at /dashboard/ on the bot's web server."""
    app.add_subapp(PREFIX, dashboard_app(ledger, settings, notify, clock))

"""The admin dashboard (a Telegram Mini App): the page, its JSON reads and its credit actions.

Thin like the handlers: check who asks (signed initData, an admin), one ledger call, JSON.
The page is static (web/static/); everything it shows comes from these endpoints, so a
request without a valid admin's initData gets 401/403 and no figure at all.

One HTTP convention with /api/v1: errors are problem documents (RFC 9457, web/problems.py,
the same `type`s and extension members), money (TL) is a string with two decimals ("12.50")
and the figures are economy/views.py's, so one client reads both.
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

from economy import EconomyError, Key, Ledger, format_money, parse_money, views
from economy.amounts import MAX_USER_ID
from economy.audit import Actor
from economy.models import Balance, CreditChange, CreditUser, Page, Profile
from web.dashboard_audit import AuditView
from web.initdata import Forbidden, Unauthorized, Viewer, viewer_from
from web.problems import Problem, for_status, refusal
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
SORTS = ("used", "available")
#: Each query parameter's longest value (the ledger has its own, shorter limit for a search).
QUERY = {"q": 256, "sort": 16, "page": 16}

Notify = Callable[[CreditChange], Awaitable[None]]
UNAUTHORIZED = ("send Authorization: tma <initData>, as Telegram signed it for this bot less than an hour ago"
                " (open the dashboard from the bot's /dashboard button)")


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
    return {"id": p.user_id, "name": p.name, "username": p.username, "quota": format_money(p.quota),
            "used": format_money(p.used), "available": format_money(p.available)}


def _card(who: Profile, b: Balance, history: Page) -> dict[str, Any]:
    """A user's card: the profile, the balance as the API's (money as strings), the history page
    as the API's (`delta` in the asset's smallest unit: kuruş for CREDIT)."""
    balance = views.balance(b)
    return {
        "id": who.user_id, "name": who.first_name, "username": who.username, "language": who.language,
        "active": who.active, "registered_at": who.registered_at,
        "xp": b.xp, "tokens": b.tokens, "quota": balance["credit_quota"], "used": balance["credit_used"],
        "available": balance["credit_available"], "vip": b.vip, "badge": b.badge, "boost_until": b.boost_until,
        "dm_until": b.dm_until, "content": list(b.content), "history": views.history(history),
    }


def _int(text: str, name: str, default: int = 0, limit: int = MAX_USER_ID, low: int = 0) -> int:
    if text.isascii() and text.isdigit() and len(text) <= 16 and low <= int(text) < limit:
        return int(text)
    if text == "":
        return default
    raise Problem("invalid-request", f"{name} must be a whole number from {low} to {limit - 1}")


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
        try:
            response = await handler(request)
        except web.HTTPException as exc:  # aiohttp's own 404/405/413 as problems too, served alone or not
            if exc.status < 400:
                raise
            response = for_status(exc).response()
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
                return Problem("unauthorized", UNAUTHORIZED, headers={"WWW-Authenticate": "tma"}).response()
            except Forbidden:
                return Problem("forbidden", "the dashboard serves the bot's admins only").response()
            try:
                return await work(request, viewer)
            except Problem as exc:
                return exc.response()
            except BadQuery as exc:
                return Problem("invalid-request", str(exc)).response()
            except EconomyError as exc:
                return refusal(exc).response()

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
            # the community's zone (TIMEZONE): the page shows every time and day in it
            "timezone": self.ledger.catalog.days.name,
            "stats": views.stats(stats),
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
        if order not in SORTS:
            raise Problem("invalid-request", f"sort must be one of {', '.join(SORTS)}")
        found = await self.ledger.search_users(q.get("q", ""), order, _int(q.get("page", ""), "page", limit=10**6),
                                               PER_PAGE)
        return _json({"page": found.page, "pages": found.pages, "total": found.total,
                      "users": [_user(u) for u in found.items]})

    async def user(self, request: web.Request, viewer: Viewer) -> web.Response:
        uid = _int(request.match_info["user_id"], "the user id", low=1)
        page = _int(read_query(request.rel_url.raw_query_string, QUERY).get("page", ""), "page", limit=10**6)
        who = await self.ledger.profile(uid)
        balance = await self.ledger.balance(uid)
        history = await self.ledger.history(uid, page, PER_PAGE)
        return _json(_card(who, balance, history))

    async def credit(self, request: web.Request, viewer: Viewer) -> web.Response:
        """raise / lower the quota or refund usage: the ledger calls of /quota and /refund, with
        the page's key for this confirm click, so a second identical request changes nothing."""
        uid = _int(request.match_info["user_id"], "the user id", low=1)
        body = await self._body(request)
        action, amount, key = body.get("action"), body.get("amount"), body.get("key")
        if action not in ACTIONS or not isinstance(amount, str) or not isinstance(key, str) \
                or not CLIENT_KEY.fullmatch(key) or set(body) != {"action", "amount", "key"}:
            raise Problem("invalid-request", f"the body must be {{\"action\": one of {', '.join(ACTIONS)},"
                          " \"amount\": \"12.50\", \"key\": 16-64 of A-Z a-z 0-9 -}")
        kurus = parse_money(amount)
        call = {"raise": self.ledger.raise_quota, "lower": self.ledger.lower_quota, "refund": self.ledger.refund}[action]
        done = await call(uid, kurus, actor=viewer.user_id, note="dashboard", notify=True,
                          key=Key(f"dash:{viewer.user_id}:{key}", ttl=KEY_TTL, keep_refusals=False),
                          audit_as=Actor("dashboard", viewer.name or str(viewer.user_id), viewer.user_id))
        log.info("dashboard: admin %s %s %s for user %s: transfer %s%s", viewer.user_id, action,
                 format_money(done.amount), uid, done.transfer_id, " (replayed)" if done.replayed else "")
        # The notice is recorded with the change: sent now, once (a replayed click sends it only
        # if it is still owed; the bot's sweep sends it if this process dies first).
        try:
            await self.notify(done)
        except Exception:  # the change is made and must be reported as made
            log.exception("dashboard: could not notify user %s", uid)
        return _json({"action": action, **views.result(done), "replayed": done.replayed})

    async def _body(self, request: web.Request) -> dict[str, Any]:
        if request.content_length is None or request.content_length > MAX_BODY:
            raise Problem("payload-too-large", f"a body of at most {MAX_BODY} bytes, with its Content-Length")
        try:
            body = json.loads(await request.read())
        except (ValueError, UnicodeDecodeError):
            raise Problem("invalid-request", "the body is not JSON") from None
        if not isinstance(body, dict):
            raise Problem("invalid-request", "the body must be a JSON object")
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
    app.router.add_get("/api/audit", d.admin(AuditView(ledger).list))
    return app


def install(app: web.Application, ledger: Ledger, settings: DashboardSettings, notify: Notify,
            clock: Callable[[], float] = time.time) -> None:
    """Mount the dashboard at /dashboard/ on the bot's web server."""
    app.add_subapp(PREFIX, dashboard_app(ledger, settings, notify, clock))

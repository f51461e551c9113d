"""The dashboard's Audit view: the admin actions (economy/audit.py), newest first, paged, filtered
by the admin (a Telegram id, an API key's name, "cli") and by the user. Read-only: the view is
checked like every dashboard read (an admin's initData, web/dashboard.py's `admin`)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from economy import Ledger
from economy.amounts import MAX_USER_ID
from economy.audit import AuditFilter, AuditLog
from web.initdata import Viewer
from web.problems import Problem
from web.query import read_query

PER_PAGE = 20
QUERY = {"user": 20, "actor": 64, "page": 16}


def _number(text: str, name: str, limit: int) -> int | None:
    if text == "":
        return None
    if text.isascii() and text.isdigit() and len(text) <= 16 and int(text) < limit:
        return int(text)
    raise Problem("invalid-request", f"{name} must be a whole number from 0 to {limit - 1}")


class AuditView:
    def __init__(self, ledger: Ledger) -> None:
        self.log = AuditLog(ledger.store)

    async def list(self, request: web.Request, viewer: Viewer) -> web.Response:
        q = read_query(request.rel_url.raw_query_string, QUERY)
        user = _number(q.get("user", "").strip(), "user", MAX_USER_ID)
        page = _number(q.get("page", ""), "page", 10**6) or 0
        actor = q.get("actor", "").strip().lstrip("@") or None
        rows, page, pages, total = await self.log.page(AuditFilter(user_id=user, actor=actor), page, PER_PAGE)
        body: dict[str, Any] = {"page": page, "pages": pages, "total": total, "entries": [r.as_dict() for r in rows]}
        return web.json_response(body, headers={"Cache-Control": "no-store"})

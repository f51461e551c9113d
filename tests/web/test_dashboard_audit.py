"""The dashboard's own actions are audited (the admin's Telegram id and name, via "dashboard"),
and its Audit view lists the trail newest first, filtered by admin or user, paged; read like
every dashboard endpoint (an admin's initData, else 401/403 and nothing)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import aiohttp
import pytest

from economy.audit import Actor, AuditFilter, AuditLog
from tests.conftest import Clock
from tests.web.dashsite import ADMIN_EN, ADMIN_TR, STRANGER, Site, auth, init_data, seed, start_site


@pytest.fixture
async def site(tmp_path, db_url) -> AsyncIterator[Site]:
    s = await start_site(tmp_path, Clock(time.time()), db=db_url)
    await seed(s.ledger, s.clock)
    try:
        yield s
    finally:
        await s.close()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def _act(http, site, body, who=ADMIN_EN) -> tuple[int, dict]:  # type: ignore[no-untyped-def]
    async with http.post(site.url + "api/users/1002/credit", headers=auth(init_data(who)), json=body) as r:
        return r.status, await r.json()


async def _audit(http, site, query: str = "", who=ADMIN_EN) -> tuple[int, dict]:  # type: ignore[no-untyped-def]
    async with http.get(site.url + "api/audit" + query, headers=auth(init_data(who))) as r:
        return r.status, await r.json(content_type=None)


async def test_dashboard_actions_are_audited_once_refusals_not(site, http):
    log = AuditLog(site.ledger.store)
    body = {"action": "raise", "amount": "10", "key": "a" * 32}
    assert (await _act(http, site, body))[0] == 200
    assert (await _act(http, site, body))[0] == 200  # the double click: replayed
    assert (await _act(http, site, {"action": "lower", "amount": "600", "key": "b" * 32}))[0] == 409
    assert (await _act(http, site, {"action": "refund", "amount": "2.50", "key": "c" * 32}, ADMIN_TR))[0] == 200
    rows = [r async for r in log.walk(AuditFilter())]
    assert [(r.action, r.via, r.actor_id, r.actor, r.user_id, r.amount) for r in rows] == [
        ("refund", "dashboard", ADMIN_TR.id, ADMIN_TR.first_name, 1002, 250),
        ("quota_raise", "dashboard", ADMIN_EN.id, ADMIN_EN.first_name, 1002, 1000)]
    assert (rows[1].before["quota"], rows[1].after["quota"]) == (250_000, 251_000)


async def test_the_audit_view_filters_by_admin_and_user_newest_first_and_pages(site, http):
    for i in range(23):
        await site.ledger.grant(1001 + i % 2, 1, audit_as=Actor("bot", "Admin", ADMIN_EN.id))
    await site.ledger.raise_quota(1004, 500, audit_as=Actor("api", "crm"))
    status, first = await _audit(http, site)
    assert status == 200 and (first["page"], first["pages"], first["total"]) == (0, 2, 24)
    assert len(first["entries"]) == 20 and first["entries"][0]["action"] == "quota_raise"
    ids = [e["id"] for e in first["entries"]]
    assert ids == sorted(ids, reverse=True)
    assert first["entries"][0]["amount"] == "5.00" and first["entries"][0]["after"]["quota"] == "505.00"
    status, second = await _audit(http, site, "?page=1")
    assert len(second["entries"]) == 4 and second["entries"][-1]["id"] < ids[-1]
    assert (await _audit(http, site, "?page=9"))[1]["page"] == 1  # past the end: the last page
    status, by_admin = await _audit(http, site, f"?actor={ADMIN_EN.id}")
    assert by_admin["total"] == 23 and {e["actor_id"] for e in by_admin["entries"]} == {ADMIN_EN.id}
    assert [e["user_id"] for e in (await _audit(http, site, "?actor=crm"))[1]["entries"]] == [1004]
    status, by_user = await _audit(http, site, "?user=1002")
    assert by_user["total"] == 11 and {e["user_id"] for e in by_user["entries"]} == {1002}
    assert (await _audit(http, site, f"?user=1001&actor={ADMIN_EN.id}"))[1]["total"] == 12
    assert (await _audit(http, site, "?user=1001&actor=nobody"))[1]["entries"] == []
    status, bad = await _audit(http, site, "?user=abc")
    assert status == 400 and bad["type"] == "/api/v1/problems/invalid-request" and "user" in bad["detail"]


@pytest.mark.parametrize("who, status", [(STRANGER, 403), (None, 401)])
async def test_the_audit_view_is_for_admins_only(site, http, who, status):
    await site.ledger.grant(1001, 1, audit_as=Actor("bot", "Admin", ADMIN_EN.id))
    headers = auth(init_data(who)) if who is not None else {}
    async with http.get(site.url + "api/audit", headers=headers) as r:
        assert r.status == status and "entries" not in await r.json(content_type=None)

"""Query parameters no database can take as text — a NUL (PostgreSQL refuses it), an escaped
lone surrogate or other bytes that are not UTF-8 — or longer than any real value are bad input:
the dashboard and the API answer 400, on both backends, never 500 (issue 20, item 19)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer
from yarl import URL

from economy import Ledger
from economy.apikeys import ApiKeys
from tests.conftest import Clock
from tests.web.apiharness import Api
from tests.web.dashsite import ADMIN_EN, Site, auth, init_data, seed, start_site
from web.metrics import Metrics
from web.server import Health, build_web_app

#: Already percent-encoded, as a client sends them.
BAD = {"NUL": "a%00b", "lone surrogate": "%ED%A0%80", "not UTF-8": "%FF", "a control character": "a%1Bb",
       "over-long": "a" * 300}
DASHBOARD = ["api/audit?user={}", "api/audit?actor={}", "api/audit?page={}", "api/users?q={}", "api/users?q=@{}", "api/users?sort={}", "api/users?page={}",
             "api/users/1001?page={}", "api/users/{}", "api/users?q=ali&page=0&sort={}"]
API = ["/api/v1/users/42/history?page={}", "/api/v1/users/42/history?per_page={}", "/api/v1/users/{}/balance",
       "/api/v1/users/{}/history"]


@pytest.fixture
async def site(tmp_path, db_url) -> AsyncIterator[Site]:
    s = await start_site(tmp_path, Clock(time.time()), db=db_url)
    await seed(s.ledger, s.clock)
    try:
        yield s
    finally:
        await s.close()


@pytest.fixture
async def api(db_url, clock) -> AsyncIterator[Api]:
    ledger = await Ledger.open(db_url, clock=clock)
    keys = ApiKeys(ledger.store)
    made = {scope: (await keys.create(scope, scope))[1] for scope in ("read", "write")}
    health = Health(ledger, None)
    client = TestClient(TestServer(build_web_app(ledger, Metrics(ledger), health=health), host="127.0.0.1"))
    await client.start_server()
    try:
        await ledger.earn(42, 10)
        yield Api(client, ledger, made, health)
    finally:
        await client.close()
        await ledger.close()


@pytest.mark.parametrize("bad", list(BAD))
async def test_the_dashboard_answers_400_to_a_query_no_database_takes(site, bad):
    headers = auth(init_data(ADMIN_EN))
    async with aiohttp.ClientSession() as http:
        for path in DASHBOARD:
            url = URL(site.url + path.format(BAD[bad]), encoded=True)
            async with http.get(url, headers=headers) as r:
                assert r.status == 400, (path, r.status, await r.text())
                assert r.content_type == "application/problem+json" and (await r.json())["detail"]
        # the same search, well formed, is answered
        async with http.get(site.url + "api/users?q=ali", headers=headers) as r:
            assert r.status == 200 and [u["id"] for u in (await r.json())["users"]] == [1001]


async def test_a_search_of_the_longest_length_the_page_sends_is_answered(site):
    async with aiohttp.ClientSession() as http:
        async with http.get(site.url + "api/users", params={"q": "ş" * 64},
                            headers=auth(init_data(ADMIN_EN))) as r:
            assert r.status == 200 and (await r.json())["total"] == 0


@pytest.mark.parametrize("bad", list(BAD))
async def test_the_api_answers_400_to_a_query_no_database_takes(api, bad):
    for path in API:
        async with api.client.get(URL(path.format(BAD[bad]), encoded=True), headers=api.auth("read")) as r:
            assert r.status == 400, (path, r.status, await r.text())
            assert (await r.json(content_type=None))["type"] == "/api/v1/problems/invalid-request"
    assert (await api.get("/api/v1/users/42/history?page=0&per_page=5"))[0] == 200


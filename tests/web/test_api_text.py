"""A `reason` the database cannot store (a NUL, a lone surrogate) is a 422 invalid-input for
that request alone, on both backends; it was a 503 storage-busy forever that also failed the
unrelated requests of its group commit (issue 20, item 6)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from aiohttp.test_utils import TestClient, TestServer

from economy import Ledger
from economy.apikeys import ApiKeys
from tests.web.apiharness import Api
from web.metrics import Metrics
from web.server import Health, build_web_app

BAD = {"nul": "a\u0000b", "surrogate": "\ud800", "surrogate_inside": "task \udcff 7"}


@pytest.fixture
async def api_on(db_url, clock) -> AsyncIterator[Api]:
    """The API served on a ledger of each backend (tests/web/apiharness.py's is SQLite's)."""
    ledger = await Ledger.open(db_url, clock=clock)
    keys = ApiKeys(ledger.store)
    made = {scope: (await keys.create(scope, scope))[1] for scope in ("read", "write")}
    health = Health(ledger, None)
    client = TestClient(TestServer(build_web_app(ledger, Metrics(ledger), health=health), host="127.0.0.1"))
    await client.start_server()
    try:
        yield Api(client, ledger, made, health)
    finally:
        await client.close()
        await ledger.close()


@pytest.mark.parametrize("bad", BAD.values(), ids=BAD.keys())
async def test_a_reason_that_cannot_be_stored_is_422_and_the_same_request_without_it_works(api_on, bad):
    api = api_on
    status, body = await api.post("/api/v1/earn", {"user_id": 5, "xp": 10, "reason": bad}, key="k1")
    assert status == 422, body
    assert body["type"] == "/api/v1/problems/invalid-input" and body["refusal"] == "InvalidText"
    assert body["field"] == "reason" and "\ufffd" in body["text"]
    assert body["reason"] in ("nul_character", "lone_surrogate")
    assert (await api.get("/api/v1/users/5/balance"))[0] == 404  # nothing was written
    # again: the same answer, never a 503
    assert (await api.post("/api/v1/earn", {"user_id": 5, "xp": 10, "reason": bad}, key="k1"))[0] == 422
    # the same request (and Idempotency-Key) without the bad character
    status, body = await api.post("/api/v1/earn", {"user_id": 5, "xp": 10, "reason": "ab"}, key="k1")
    assert status == 200 and body["xp"] == 10
    assert await api.ledger.verify() == []


async def test_one_bad_reason_among_many_requests_fails_alone(api_on):
    api = api_on
    good = [api.post("/api/v1/earn", {"user_id": u, "xp": 10, "reason": f"task {u}"}) for u in range(1, 76)]
    good += [api.post("/api/v1/earn", {"user_id": u, "xp": 5}) for u in range(1, 76)]
    *answers, bad_nul, bad_surrogate = await asyncio.gather(
        *good, api.post("/api/v1/earn", {"user_id": 99, "xp": 1, "reason": BAD["nul"]}),
        api.post("/api/v1/earn", {"user_id": 98, "xp": 1, "reason": BAD["surrogate"]}))
    assert [status for status, _ in answers] == [200] * 150
    assert bad_nul[0] == bad_surrogate[0] == 422
    for u in (1, 40, 75):
        assert (await api.get(f"/api/v1/users/{u}/balance"))[1]["xp"] == 15
    assert await api.ledger.verify() == []


def test_a_request_the_database_refused_is_a_422_too():
    from economy.errors import Unstorable
    from web.problems import refusal
    problem = refusal(Unstorable(text="", reason="DataError 22P05"))
    assert (problem.status, problem.slug) == (422, "invalid-input")
    assert "refused to store" in problem.body()["detail"] and problem.body()["refusal"] == "Unstorable"

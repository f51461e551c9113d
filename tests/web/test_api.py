"""The HTTP API in process: the seed's calls, the auth matrix, Idempotency-Key replay and
conflict, every refusal's problem type, and malformed requests answered 4xx."""

from __future__ import annotations

import asyncio
import json

import pytest

from economy.apikeys import ApiKeys

PROBLEM = "application/problem+json"


async def test_the_seed_journeys_through_the_api(api):
    await api.ledger.add_content("video_001", title="v", media="video", file_ref="f")
    status, body = await api.post("/api/v1/earn", {"user_id": 42, "xp": 70, "reason": "task 7"})
    assert status == 200 and body["xp"] == 70 and body["operation"]["amount"] == 70
    status, body = await api.post("/api/v1/convert", {"user_id": 42, "amount": "all"})
    assert status == 200 and (body["xp"], body["tokens"]) == (0, 70)
    status, body = await api.post("/api/v1/spend", {"user_id": 42, "item": "content", "content_id": "video_001"})
    assert status == 200 and body["tokens"] == 60 and body["content"] == ["video_001"]
    status, body = await api.post("/api/v1/spend", {"user_id": 42, "item": "boost"})
    assert status == 200 and body["tokens"] == 55 and body["boost_until"] is not None
    status, body = await api.post("/api/v1/quota", {"user_id": 42, "amount": "1000.00"})
    assert status == 200 and body["credit_quota"] == "1000.00" and body["operation"]["quota"] == "1000.00"
    await api.ledger.charge(42, 10_000)
    status, body = await api.post("/api/v1/refund", {"user_id": 42, "amount": "50.00"})
    assert status == 200 and (body["credit_used"], body["credit_available"]) == ("50.00", "950.00")
    status, body = await api.post("/api/v1/quota", {"user_id": 42, "amount": "-100.5"})
    assert status == 200 and body["credit_quota"] == "899.50"
    status, balance = await api.get("/api/v1/users/42/balance")
    assert status == 200 and balance == {k: v for k, v in body.items() if k != "operation"}
    status, history = await api.get("/api/v1/users/42/history?page=0&per_page=3")
    assert status == 200 and (history["total"], history["pages"], len(history["entries"])) == (9, 3, 3)
    assert history["entries"][0]["kind"] == "quota_decrease" and history["entries"][0]["ref"] == "api:write"
    status, stats = await api.get("/api/v1/stats")
    assert status == 200 and stats["tokens_minted"] == 70 and stats["spent_per_item"]["boost"] == 5
    assert await api.ledger.verify() == []


async def test_the_auth_matrix(api):
    client = api.client
    for path in ("/api/v1/stats", "/api/v1/users/1/balance"):
        async with client.get(path) as r:
            assert r.status == 401 and r.content_type == PROBLEM and "Bearer" in r.headers["WWW-Authenticate"]
        for header in ("Bearer ek_" + "x" * 43, "Basic abc", "Bearer", api.keys["read"]):
            async with client.get(path, headers={"Authorization": header}) as r:
                assert r.status == 401, header
                assert (await r.json(content_type=None))["type"] == "/api/v1/problems/unauthorized"
    assert (await api.get("/api/v1/stats", "read"))[0] == 200
    assert (await api.get("/api/v1/stats", "write"))[0] == 200
    # a read key cannot write, and nothing is written
    status, body = await api.post("/api/v1/earn", {"user_id": 5, "xp": 10}, scope="read")
    assert status == 403 and body["type"] == "/api/v1/problems/forbidden"
    async with client.post("/api/v1/earn", json={"user_id": 5, "xp": 10}, headers={"Idempotency-Key": "x"}) as r:
        assert r.status == 401
    assert (await api.get("/api/v1/users/5/balance"))[0] == 404
    # revoked: refused from the next request on
    await ApiKeys(api.ledger.store).revoke("write")
    status, body = await api.post("/api/v1/earn", {"user_id": 5, "xp": 10})
    assert status == 401 and body["detail"] == "unknown or revoked key"
    assert (await api.get("/api/v1/stats", "write"))[0] == 401


async def test_idempotency_replay_and_conflict(api):
    first = await api.post("/api/v1/earn", {"user_id": 7, "xp": 30}, key="same")
    await api.post("/api/v1/earn", {"user_id": 7, "xp": 1})  # the balance moves on
    h = {**api.auth(), "Idempotency-Key": "same"}
    async with api.client.post("/api/v1/earn", json={"user_id": 7, "xp": 30}, headers=h) as r:
        assert r.status == 200 and r.headers["Idempotent-Replayed"] == "true"
        assert await r.json() == first[1]  # the first answer, its balance included
    assert (await api.get("/api/v1/users/7/balance"))[1]["xp"] == 31
    status, body = await api.post("/api/v1/earn", {"user_id": 7, "xp": 31}, key="same")
    assert status == 409 and body["type"] == "/api/v1/problems/idempotency-conflict"
    status, body = await api.post("/api/v1/convert", {"user_id": 7, "amount": 1}, key="same")
    assert status == 409
    # a refusal is kept too: the same request gets the same problem, even once it would pass
    refused = await api.post("/api/v1/spend", {"user_id": 7, "item": "vip"}, key="vip")
    assert refused[0] == 409 and refused[1]["type"] == "/api/v1/problems/insufficient-funds"
    await api.post("/api/v1/convert", {"user_id": 7, "amount": "all"})
    assert await api.post("/api/v1/spend", {"user_id": 7, "item": "vip"}, key="vip") == refused
    # the same Idempotency-Key from another API key is another request
    _, other = await ApiKeys(api.ledger.store).create("other", "write")
    h = {"Authorization": f"Bearer {other}", "Idempotency-Key": "same"}
    async with api.client.post("/api/v1/earn", json={"user_id": 7, "xp": 5}, headers=h) as r:
        assert r.status == 200 and (await r.json())["xp"] == 5
    # concurrent repeats: applied once, the same answer for all
    answers = await asyncio.gather(*(api.post("/api/v1/earn", {"user_id": 8, "xp": 10}, key="burst")
                                     for _ in range(10)))
    assert len({json.dumps(a, sort_keys=True) for a in answers}) == 1
    assert (await api.get("/api/v1/users/8/balance"))[1]["xp"] == 10


@pytest.mark.parametrize("path, body, status, slug", [
    ("/api/v1/spend", {"user_id": 1, "item": "badge"}, 409, "insufficient-funds"),
    ("/api/v1/convert", {"user_id": 1, "amount": 500}, 409, "insufficient-funds"),
    ("/api/v1/spend", {"user_id": 1, "item": "content", "content_id": "nope"}, 404, "not-found"),
    ("/api/v1/spend", {"user_id": 1, "item": "yacht"}, 404, "not-found"),
    ("/api/v1/spend", {"user_id": 99, "item": "vip"}, 404, "not-found"),
    ("/api/v1/spend", {"user_id": 1, "item": "vip"}, 409, "already-owned"),
    ("/api/v1/refund", {"user_id": 1, "amount": "60.00"}, 409, "refund-too-large"),
    ("/api/v1/quota", {"user_id": 1, "amount": "-95"}, 409, "quota-below-usage"),
    ("/api/v1/earn", {"user_id": 1, "xp": 0}, 422, "invalid-amount"),
    ("/api/v1/earn", {"user_id": 1, "xp": 10**13}, 422, "invalid-amount"),
    ("/api/v1/quota", {"user_id": 1, "amount": "0.00"}, 422, "invalid-amount"),
    ("/api/v1/quota", {"user_id": 1, "amount": "1e3"}, 422, "invalid-amount"),
    ("/api/v1/refund", {"user_id": 1, "amount": "-5"}, 422, "invalid-amount"),
    ("/api/v1/refund", {"user_id": 1, "amount": "12,50"}, 422, "invalid-amount"),
    ("/api/v1/earn", {"user_id": 0, "xp": 1}, 422, "invalid-input"),
    ("/api/v1/earn", {"user_id": 2**60, "xp": 1}, 422, "invalid-input"),
    ("/api/v1/earn", {"user_id": "1", "xp": 1}, 400, "invalid-request"),
    ("/api/v1/earn", {"user_id": 1, "xp": 1.5}, 400, "invalid-request"),
    ("/api/v1/earn", {"user_id": 1, "xp": True}, 400, "invalid-request"),
    ("/api/v1/earn", {"user_id": 1, "xp": 1, "admin": True}, 400, "invalid-request"),
    ("/api/v1/earn", {"user_id": 1}, 400, "invalid-request"),
    ("/api/v1/earn", {"user_id": 1, "xp": 1, "reason": "x" * 201}, 400, "invalid-request"),
    ("/api/v1/convert", {"user_id": 1, "amount": "some"}, 400, "invalid-request"),
    ("/api/v1/spend", {"user_id": 1, "item": "vip", "content_id": "v"}, 400, "invalid-request"),
    ("/api/v1/quota", {"user_id": 1, "amount": 100}, 400, "invalid-request"),
    ("/api/v1/earn", [1, 2], 400, "invalid-request"),
])
async def test_every_refusal_has_its_problem_type(api, path, body, status, slug):
    await api.post("/api/v1/earn", {"user_id": 1, "xp": 100})
    await api.post("/api/v1/convert", {"user_id": 1, "amount": 40})
    await api.post("/api/v1/spend", {"user_id": 1, "item": "vip"})
    await api.post("/api/v1/quota", {"user_id": 1, "amount": "100"})
    await api.ledger.charge(1, 5_000)
    before = await api.get("/api/v1/users/1/balance")
    got_status, problem = await api.post(path, body)
    assert (got_status, problem["type"], problem["status"]) == (status, f"/api/v1/problems/{slug}", status), problem
    assert problem["title"] and await api.get("/api/v1/users/1/balance") == before
    if slug == "insufficient-funds":
        assert problem["needed"] > problem["available"] and problem["shortfall"] > 0
    if slug == "refund-too-large":
        assert (problem["amount"], problem["used"]) == ("60.00", "50.00")
    async with api.client.get(problem["type"]) as r:  # the type is documented where it points
        assert r.status == 200 and (await r.json())["status"] == status


async def test_malformed_requests_are_4xx_never_500(api):
    c, h = api.client, {**api.auth(), "Idempotency-Key": "m"}
    for data, ctype, status in [
        (b"{", "application/json", 400), (b'{"user_id": 1, "user_id": 2, "xp": 1}', "application/json", 400),
        (b'{"user_id": 1, "xp": NaN}', "application/json", 400), (b"[" * 5000 + b"]" * 5000, "application/json", 400),
        (b'{"user_id": 1' + b"9" * 5000 + b', "xp": 1}', "application/json", 400),
        (b"\xff\xfe", "application/json", 400), (b"user_id=1", "application/x-www-form-urlencoded", 415),
        (b'{"user_id": 1, "xp": 1}', "text/plain", 415), (b" " * 20_000, "application/json", 413),
        (b" " * 2_000_000, "application/json", 413),
    ]:
        async with c.post("/api/v1/earn", data=data, headers={**h, "Content-Type": ctype}) as r:
            assert r.status == status, (data[:20], r.status)
            assert r.content_type == PROBLEM
    async with c.post("/api/v1/earn", json={"user_id": 1, "xp": 1}, headers=api.auth()) as r:
        assert r.status == 400 and (await r.json(content_type=None))["type"].endswith("idempotency-key-missing")
    for path in ("/api/v1/users/abc/balance", "/api/v1/users/-1/balance", "/api/v1/users/1/history?page=-1",
                 "/api/v1/users/1/history?per_page=500", "/api/v1/users/" + "9" * 30 + "/balance"):
        status, problem = await api.get(path)
        assert 400 <= status < 500 and problem["status"] == status, path
    async with c.get("/api/v1/nothing-here", headers=api.auth()) as r:
        assert r.status == 404 and r.content_type == PROBLEM
    async with c.delete("/api/v1/stats", headers=api.auth()) as r:
        assert r.status == 405 and r.content_type == PROBLEM and "GET" in r.headers["Allow"]


async def test_health_readiness_and_metrics(api):
    async with api.client.get("/healthz") as r:
        assert r.status == 200
    async with api.client.get("/readyz") as r:
        assert r.status == 200 and (await r.json())["checks"]["database"] is True
    await api.post("/api/v1/earn", {"user_id": 3, "xp": 10})
    await api.post("/api/v1/convert", {"user_id": 3, "amount": 10})
    await api.post("/api/v1/spend", {"user_id": 3, "item": "boost"})
    await api.post("/api/v1/spend", {"user_id": 3, "item": "vip"})
    async with api.client.get("/metrics") as r:
        text = await r.text()
    assert r.status == 200 and r.headers["Content-Type"].startswith("text/plain")
    assert 'http_requests_total{method="POST",route="/api/v1/spend",status="409"} 1.0' in text
    assert 'economy_refusals_total{kind="InsufficientFunds",source="api"} 1.0' in text
    assert 'economy_tokens_spent_total{item="boost"} 5.0' in text and "economy_tokens_minted_total 10.0" in text
    assert "ledger_commits_total" in text and "ledger_batch_size_bucket" in text
    api.health.closing = True
    async with api.client.get("/readyz") as r:
        assert r.status == 503 and (await r.json())["checks"]["accepting"] is False


async def test_the_openapi_document_is_served(api):
    async with api.client.get("/api/v1/openapi.json") as r:
        doc = await r.json()
    assert doc["openapi"].startswith("3.1")
    assert {"/api/v1/earn", "/api/v1/convert", "/api/v1/spend", "/api/v1/quota", "/api/v1/refund",
            "/api/v1/stats", "/api/v1/users/{user_id}/balance", "/api/v1/users/{user_id}/history"} <= set(doc["paths"])
    # the headers a client acts on: a repeat's mark, on a success and on a refusal; when to retry
    responses = doc["paths"]["/api/v1/spend"]["post"]["responses"]
    for status in ("200", "404", "409", "422"):
        assert responses[status]["headers"]["Idempotent-Replayed"]["schema"] == {"type": "string", "const": "true"}
    assert responses["503"]["headers"]["Retry-After"]["required"] is True

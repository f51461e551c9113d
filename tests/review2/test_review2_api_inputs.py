"""Hostile review 2: POST /api/v1/gift with odd JSON values: each a 4xx problem, nothing moved."""

from __future__ import annotations

from tests.web.apiharness import api  # noqa: F401

DAY = 86400


async def test_odd_gift_bodies_are_refused(api, clock):  # noqa: F811
    clock.now -= 4 * DAY
    for user in (42, 43):
        await api.ledger.register(user)
        await api.ledger.grant(user, 100)
        await api.ledger.convert(user, 150)
    clock.now += 4 * DAY
    bodies = [
        {"sender": 42, "recipient": 43, "amount": 1.5},
        {"sender": 42, "recipient": 43, "amount": "10"},
        {"sender": 42, "recipient": 43, "amount": True},
        {"sender": 42, "recipient": 43, "amount": -5},
        {"sender": 42, "recipient": 43, "amount": 10**13},
        {"sender": 42, "recipient": 43, "amount": 2**64},
        {"sender": 42, "recipient": "43", "amount": 1},
        {"sender": 42, "recipient": 43, "amount": 1, "extra": 1},
        {"sender": 42, "recipient": 43},
    ]
    for n, body in enumerate(bodies):
        status, problem = await api.post("/api/v1/gift", body, key=f"o{n}")
        assert 400 <= status < 500, (body, status, problem)
    assert (await api.ledger.balance(43)).tokens == 150
    # held; note: 10.0 and 42.0 are taken as 10 and 42 (an integral JSON number), as on every /api/v1 write
    assert await api.ledger.verify() == []

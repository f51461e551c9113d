"""POST /api/v1/gift: the bot's rules over HTTP, each refusal a problem, a repeat applied once."""

from __future__ import annotations

DAY = 86400


async def test_a_gift_over_the_api_and_its_refusals(api, clock):
    clock.now -= 4 * DAY
    for user in (42, 43):
        await api.ledger.register(user)
        await api.ledger.grant(user, 100)
        await api.ledger.convert(user, 150)
    clock.now += 4 * DAY
    await api.ledger.register(44)  # registered just now
    status, body = await api.post("/api/v1/gift", {"sender": 42, "recipient": 43, "amount": 30}, key="g1")
    assert status == 200 and body["tokens"] == 120 and body["operation"]["recipient_tokens"] == 180
    status, again = await api.post("/api/v1/gift", {"sender": 42, "recipient": 43, "amount": 30}, key="g1")
    assert status == 200 and again == body and (await api.ledger.balance(42)).tokens == 120
    refusals = [
        ({"sender": 42, "recipient": 42, "amount": 1}, 409, "gift-refused", "self"),
        ({"sender": 42, "recipient": 43, "amount": 21}, 409, "gift-refused", "send_limit"),
        ({"sender": 44, "recipient": 43, "amount": 1}, 409, "insufficient-funds", None),
        ({"sender": 42, "recipient": 999, "amount": 1}, 404, "not-found", None),
        ({"sender": 42, "recipient": 43, "amount": 0}, 422, "invalid-amount", None),
    ]
    for n, (request, code, slug, reason) in enumerate(refusals):
        status, problem = await api.post("/api/v1/gift", request, key=f"r{n}")
        assert (status, problem["type"]) == (code, f"/api/v1/problems/{slug}"), problem
        if reason:
            assert problem["reason"] == reason
    await api.ledger.grant(44, 5)
    await api.ledger.convert(44, 5)
    status, problem = await api.post("/api/v1/gift", {"sender": 44, "recipient": 43, "amount": 1}, key="new")
    assert status == 409 and (problem["reason"], problem["limit"], problem["left"]) == ("too_new", 72, 72)
    assert await api.ledger.verify() == []

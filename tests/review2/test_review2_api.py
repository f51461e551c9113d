"""Hostile review 2: POST /api/v1/gift is an API write with no audit row (issue 22 item 1:
every admin action through the HTTP API, with the key's name)."""

from __future__ import annotations

from economy.audit import AuditFilter, AuditLog
from tests.web.apiharness import api_each  # noqa: F401 — the fixture

DAY = 86400


async def test_an_api_gift_is_audited_with_the_keys_name(api_each, clock):  # noqa: F811
    api = api_each
    clock.now -= 4 * DAY
    for user in (42, 43):
        await api.ledger.register(user)
        await api.ledger.grant(user, 100)
        await api.ledger.convert(user, 150)
    clock.now += 4 * DAY
    r = await api.send("/api/v1/gift", {"sender": 42, "recipient": 43, "amount": 30}, "g1")
    assert r.status == 200
    assert (await api.ledger.balance(43)).tokens == 180  # 30 tokens moved by the API key "write"
    rows = [e async for e in AuditLog(api.ledger.store).walk(AuditFilter()) if e.via == "api"]
    assert [(e.action, e.actor, e.user_id) for e in rows] == [("gift", "write", 42)], rows

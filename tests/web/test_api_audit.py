"""Every write through /api/v1 is audited with the API key's name, in the transaction of its
effect: one row per operation, none for a refusal, none again for a replayed Idempotency-Key."""

from __future__ import annotations

from economy.audit import AuditFilter, AuditLog
from tests.web.apiharness import api_each  # noqa: F401 — the fixture


async def _rows(api) -> list:  # type: ignore[no-untyped-def]
    return [e async for e in AuditLog(api.ledger.store).walk(AuditFilter())]


async def test_api_writes_are_audited_with_the_keys_name(api_each):  # noqa: F811
    api = api_each
    assert (await api.send("/api/v1/earn", {"user_id": 5, "xp": 40}, "e1")).status == 200
    assert (await api.send("/api/v1/earn", {"user_id": 5, "xp": 40}, "e1")).replayed == "true"
    assert (await api.send("/api/v1/convert", {"user_id": 5, "amount": 30}, "c1")).status == 200
    assert (await api.send("/api/v1/spend", {"user_id": 5, "item": "boost"}, "s1")).status == 200
    assert (await api.send("/api/v1/quota", {"user_id": 5, "amount": "20.00"}, "q1")).status == 200
    assert (await api.send("/api/v1/refund", {"user_id": 5, "amount": "1.00"}, "r1")).status == 409  # nothing used
    assert (await api.send("/api/v1/refund", {"user_id": 5, "amount": "1.00"}, "r1")).status == 409
    assert (await api.send("/api/v1/quota", {"user_id": 5, "amount": "-5.00"}, "q2")).status == 200
    assert (await api.send("/api/v1/spend", {"user_id": 5, "item": "badge"}, "s2")).status == 409  # 25 tokens short
    rows = [r for r in await _rows(api) if r.via == "api"]  # (the harness made its keys as the CLI would)
    assert [r.action for r in rows] == ["quota_lower", "quota_raise", "spend", "convert", "earn"]
    assert {(r.via, r.actor, r.actor_id) for r in rows} == {("api", "write", None)}
    assert (rows[1].amount, rows[1].unit, rows[1].after["quota"]) == (2000, "TL", 2000)
    assert rows[0].as_dict()["after"]["quota"] == "15.00"

"""The API's Idempotency-Keys, on each backend: a client's key cannot reach where answers are
kept; keys belong to one API key, not to its name; exactly the replays say so; a 503 says what
is true; and keys kept by the code before these rules still answer a retry after an upgrade."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from economy import Key, Ledger, views
from economy.apikeys import ApiKeys
from economy.errors import InsufficientFunds, StorageBusy
from web.idempotency import IDEMPOTENCY_TTL

EARN = "/api/v1/earn"


async def journal(ledger: Ledger) -> list[Any]:
    return [row async for row in ledger.journal()]


async def test_a_key_and_that_key_with_answer_appended_are_two_requests(api_each):
    for first, second in (("X", "X#answer"), ("Y#answer", "Y")):
        user = 1 if first == "X" else 2
        a = await api_each.send(EARN, {"user_id": user, "xp": 10}, first)
        b = await api_each.send(EARN, {"user_id": user, "xp": 5}, second)
        assert (a.status, a.replayed, a.body.get("xp")) == (200, None, 10), a
        assert (b.status, b.replayed, b.body.get("xp")) == (200, None, 15), b
        # each key replays its own answer, and nothing is applied again
        assert await api_each.send(EARN, {"user_id": user, "xp": 10}, first) == (200, "true", a.body)
        assert await api_each.send(EARN, {"user_id": user, "xp": 5}, second) == (200, "true", b.body)
        assert (await api_each.ledger.balance(user)).xp == 15
    assert await api_each.ledger.verify() == []


async def test_a_new_key_with_a_revoked_keys_name_does_not_get_its_answers(api_each, clock):
    keys = ApiKeys(api_each.ledger.store)
    _, old = await keys.create("billing", "write")
    first = await api_each.send(EARN, {"user_id": 3, "xp": 10}, "order-1", token=old)
    assert (first.status, first.replayed) == (200, None)
    await keys.revoke("billing")
    clock.advance(60)
    _, new = await keys.create("billing", "write")
    fresh = await api_each.send(EARN, {"user_id": 3, "xp": 10}, "order-1", token=new)
    assert (fresh.status, fresh.replayed, fresh.body["xp"]) == (200, None, 20), fresh
    assert await api_each.send(EARN, {"user_id": 3, "xp": 10}, "order-1", token=new) == (200, "true", fresh.body)
    # the new client may use the key for another request than the old client did
    other = await api_each.send(EARN, {"user_id": 3, "xp": 1}, "order-2", token=old)
    assert other.status == 401
    assert len(await journal(api_each.ledger)) == 2


async def test_a_replayed_refusal_says_it_is_a_replay(api_each):
    await api_each.send(EARN, {"user_id": 4, "xp": 10}, "e")
    first = await api_each.send("/api/v1/spend", {"user_id": 4, "item": "vip"}, "vip")
    assert (first.status, first.replayed, first.body["refusal"]) == (409, None, "InsufficientFunds")
    again = await api_each.send("/api/v1/spend", {"user_id": 4, "item": "vip"}, "vip")
    assert again == (409, "true", first.body)
    # a conflict is not a replay: it is another request
    conflict = await api_each.send("/api/v1/spend", {"user_id": 4, "item": "badge"}, "vip")
    assert (conflict.status, conflict.replayed) == (409, None)
    assert conflict.body["type"].endswith("/idempotency-conflict")


@pytest.mark.parametrize("applier_kept_last", [False, True], ids=["as-it-comes", "applier-kept-last"])
async def test_concurrent_repeats_one_applies_unmarked_the_others_are_marked(api_each, monkeypatch,
                                                                             applier_kept_last):
    """N identical requests at once. In the second run the first request to keep its answer
    (the one that applied) is held until every repeat has kept its own: the order a busy
    server may give them."""
    ledger, remember, n = api_each.ledger, api_each.ledger.remember, 20
    held, others_done = asyncio.Event(), asyncio.Event()
    done = 0

    async def first_kept_last(*args: Any) -> Any:
        nonlocal done
        if not held.is_set():
            held.set()
            await asyncio.wait_for(others_done.wait(), 20)
            return await remember(*args)
        try:
            return await remember(*args)
        finally:
            done += 1
            if done == n - 1:
                others_done.set()

    if applier_kept_last:
        monkeypatch.setattr(ledger, "remember", first_kept_last)
    before = len(await journal(ledger))
    answers = await asyncio.gather(*(api_each.send(EARN, {"user_id": 5, "xp": 10}, "burst") for _ in range(n)))
    assert {a.status for a in answers} == {200}
    assert [a.replayed for a in answers].count(None) == 1, answers
    assert [a.replayed for a in answers].count("true") == n - 1
    assert len({json.dumps(a.body, sort_keys=True) for a in answers}) == 1
    assert len(await journal(ledger)) == before + 1
    assert (await ledger.balance(5)).xp == 10


async def test_a_503_after_the_operation_committed_says_so_and_a_retry_is_safe(api_each, monkeypatch):
    ledger, remember = api_each.ledger, api_each.ledger.remember

    async def lost(*args: Any) -> Any:
        raise StorageBusy(reason="unavailable")

    monkeypatch.setattr(ledger, "remember", lost)
    failed = await api_each.send(EARN, {"user_id": 7, "xp": 10}, "k")
    assert failed.status == 503 and failed.body["type"].endswith("/storage-busy")
    text = f"{failed.body['title']} {failed.body.get('detail', '')}"
    assert "nothing was written" not in text
    assert "was applied" in text and "same Idempotency-Key" in text, text
    assert (await ledger.balance(7)).xp == 10
    monkeypatch.setattr(ledger, "remember", remember)
    retry = await api_each.send(EARN, {"user_id": 7, "xp": 10}, "k")
    assert (retry.status, retry.replayed, retry.body["xp"]) == (200, "true", 10)
    assert len(await journal(ledger)) == 1


async def test_a_503_whose_outcome_is_unknown_says_it_may_have_been_applied(api_each, monkeypatch):
    store = api_each.ledger.store
    write = store.write

    async def ack_lost(op: Any, key: Any, fingerprint: str, user_id: int | None = None) -> Any:
        outcome = await write(op, key, fingerprint, user_id)
        if fingerprint.startswith("earn|"):  # committed, but the answer never came back
            raise StorageBusy(reason="unavailable")
        return outcome

    monkeypatch.setattr(store, "write", ack_lost)
    failed = await api_each.send(EARN, {"user_id": 8, "xp": 10}, "k")
    text = f"{failed.body['title']} {failed.body.get('detail', '')}"
    assert failed.status == 503 and "nothing was written" not in text
    assert "may have been applied" in text and "same Idempotency-Key" in text, text
    async with api_each.client.get("/metrics") as r:  # still counted as the ledger's refusal
        assert 'economy_refusals_total{kind="StorageBusy",source="api"} 1.0' in await r.text()
    monkeypatch.setattr(store, "write", write)
    retry = await api_each.send(EARN, {"user_id": 8, "xp": 10}, "k")
    assert (retry.status, retry.replayed, retry.body["xp"]) == (200, "true", 10)
    assert len(await journal(api_each.ledger)) == 1


# -- keys kept before this change (api:<key name>:<Idempotency-Key>, the answer under +"#answer") --

async def as_the_old_code_kept_it(ledger: Ledger, name: str, idem: str, body: dict[str, Any]) -> Any:
    """What the code before this change kept for an earn request: the operation under
    api:<name>:<key>, then the answer under the same + "#answer" (a refusal: nothing more)."""
    old = f"api:{name}:{idem}"
    result = await ledger.earn(body["user_id"], body["xp"], reason=body.get("reason", ""),
                               key=Key(old, ttl=IDEMPOTENCY_TTL))
    answer = {**views.balance(await ledger.balance(body["user_id"])), "operation": views.result(result)}
    await ledger.remember(Key(old + "#answer", ttl=IDEMPOTENCY_TTL), json.dumps(["earn", body], sort_keys=True),
                          json.dumps(answer))
    return answer


async def test_a_retry_right_after_an_upgrade_gets_the_answer_kept_before(api_each):
    ledger = api_each.ledger
    answer = await as_the_old_code_kept_it(ledger, "write", "before", {"user_id": 9, "xp": 10})
    await ledger.earn(9, 1)  # the balance moves on
    assert await api_each.send(EARN, {"user_id": 9, "xp": 10}, "before") == (200, "true", answer)
    conflict = await api_each.send(EARN, {"user_id": 9, "xp": 11}, "before")
    assert conflict.status == 409 and conflict.body["type"].endswith("/idempotency-conflict")
    # a refusal kept before the upgrade is replayed, marked
    await ledger.register(10)
    try:
        await ledger.buy(10, "vip", key=Key("api:write:vip", ttl=IDEMPOTENCY_TTL))
    except InsufficientFunds:
        pass
    await ledger.convert(10, 50)  # enough for a vip now: a fresh request would pass
    refused = await api_each.send("/api/v1/spend", {"user_id": 10, "item": "vip"}, "vip")
    assert (refused.status, refused.replayed, refused.body["refusal"]) == (409, "true", "InsufficientFunds")
    # an operation kept before whose answer was never kept: applied once, answered now
    await ledger.earn(11, 10, key=Key("api:write:lost", ttl=IDEMPOTENCY_TTL))
    late = await api_each.send(EARN, {"user_id": 11, "xp": 10}, "lost")
    assert (late.status, late.replayed, late.body["xp"]) == (200, "true", 10)
    assert (await ledger.balance(9)).xp == 11 and (await ledger.balance(11)).xp == 10


async def test_keys_kept_before_an_upgrade_under_a_revoked_keys_name_are_not_the_new_keys(api_each, clock):
    ledger, keys = api_each.ledger, ApiKeys(api_each.ledger.store)
    await keys.create("billing", "write")
    await as_the_old_code_kept_it(ledger, "billing", "order-1", {"user_id": 12, "xp": 10})
    await keys.revoke("billing")
    clock.advance(1)
    _, new = await keys.create("billing", "write")
    fresh = await api_each.send(EARN, {"user_id": 12, "xp": 10}, "order-1", token=new)
    assert (fresh.status, fresh.replayed, fresh.body["xp"]) == (200, None, 20)


async def test_a_key_kept_before_an_upgrade_for_another_operation_does_not_refuse_a_new_ones_answer(api_each):
    """The old spelling's entry of another operation is not this request's, and neither is the
    answer kept for it: the new operation is applied and answered, once."""
    ledger = api_each.ledger
    await as_the_old_code_kept_it(ledger, "write", "reused", {"user_id": 13, "xp": 10})
    convert = await api_each.send("/api/v1/convert", {"user_id": 13, "amount": 4}, "reused")
    assert (convert.status, convert.replayed, convert.body.get("tokens")) == (200, None, 4), convert
    assert await api_each.send("/api/v1/convert", {"user_id": 13, "amount": 4}, "reused") == (200, "true", convert.body)
    assert (await ledger.balance(13)).tokens == 4

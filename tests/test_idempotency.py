import asyncio

import pytest

from economy import IdempotencyConflict, InsufficientFunds, Key
from tests.conftest import snapshot


async def test_same_key_returns_first_result_and_changes_nothing(ledger):
    await ledger.register(1)
    first = await ledger.convert(1, 30, key="upd:1")
    before = await snapshot(ledger, 1)
    again = await ledger.convert(1, 30, key="upd:1")
    assert again == first
    assert await snapshot(ledger, 1) == before


async def test_same_key_other_parameters_is_a_conflict(ledger):
    await ledger.register(1)
    await ledger.convert(1, 30, key="upd:1")
    before = await snapshot(ledger, 1)
    for call in (ledger.convert(1, 31, key="upd:1"), ledger.grant(1, 30, key="upd:1"), ledger.buy(1, "vip", key="upd:1")):
        with pytest.raises(IdempotencyConflict):
            await call
    assert await snapshot(ledger, 1) == before


async def test_refusal_is_remembered_by_default(ledger):
    await ledger.register(1)
    with pytest.raises(InsufficientFunds):
        await ledger.convert(1, 60, key="upd:2")
    await ledger.grant(1, 100)
    with pytest.raises(InsufficientFunds):  # the same update gets the same answer
        await ledger.convert(1, 60, key="upd:2")
    assert (await ledger.balance(1)).xp == 150


async def test_keep_refusals_false_remembers_only_success(ledger):
    await ledger.register(1)
    key = Key("shop:1:10:vip", keep_refusals=False)
    with pytest.raises(InsufficientFunds):
        await ledger.buy(1, "vip", key=key)
    await ledger.convert(1, 50)
    first = await ledger.buy(1, "boost", key=Key("shop:1:10:boost", keep_refusals=False))
    again = await ledger.buy(1, "boost", key=Key("shop:1:10:boost", keep_refusals=False))
    assert again == first and (await ledger.balance(1)).tokens == 45


async def test_keys_with_ttl_expire(ledger, clock):
    await ledger.register(1)
    key = Key("upd:5", ttl=3600)
    await ledger.grant(1, 10, key=key)
    await ledger.grant(1, 10, key=key)
    assert (await ledger.balance(1)).xp == 60
    clock.advance(3601)  # Telegram may reuse the update id by now
    await ledger.grant(1, 10, key=key)
    assert (await ledger.balance(1)).xp == 70


async def test_concurrent_duplicates_apply_once(ledger):
    await ledger.register(1)
    results = await asyncio.gather(*(ledger.grant(1, 7, key="burst") for _ in range(50)))
    assert len(set(results)) == 1
    assert (await ledger.balance(1)).xp == 57
    assert await ledger.verify() == []


async def test_a_replayed_result_is_marked_and_equal(ledger):
    await ledger.register(7)
    await ledger.convert(7, 50)
    first = await ledger.buy(7, "vip", key="tap-1")
    again = await ledger.buy(7, "vip", key="tap-1")
    assert not first.replayed and again.replayed
    assert again == first
    assert (await ledger.balance(7)).tokens == 25


async def test_expired_keys_are_purged_and_reusable(ledger, clock):
    from economy import Key
    await ledger.register(7, key=Key("u:1", ttl=60))
    assert await ledger.purge_keys() == 0
    clock.advance(61)
    assert await ledger.purge_keys() == 1
    again = await ledger.grant(7, 5, key=Key("u:1", ttl=60))  # a reused update id is a new request
    assert again.xp == 55 and not again.replayed


async def test_a_replayed_refusal_is_marked(ledger):
    await ledger.register(8)
    with pytest.raises(InsufficientFunds) as first:
        await ledger.buy(8, "vip", key="tap-2")
    with pytest.raises(InsufficientFunds) as again:
        await ledger.buy(8, "vip", key="tap-2")
    assert not first.value.replayed and again.value.replayed
    assert again.value == first.value


async def test_a_former_spelling_of_a_key_answers_for_it_from_its_time_on(ledger, clock):
    """A key renamed by newer code (`former`: how older code spelled it): what was kept under
    the old spelling since `former_since` is this key's; older entries, or entries of another
    operation that the old spelling let in, are not."""
    await ledger.register(9)
    since = int(clock())
    first = await ledger.grant(9, 10, key="old:1")
    renamed = Key("new:1", former="old:1", former_since=since)
    again = await ledger.grant(9, 10, key=renamed)
    assert again.replayed and again == first
    with pytest.raises(IdempotencyConflict):
        await ledger.grant(9, 11, key=renamed)
    with pytest.raises(InsufficientFunds):
        await ledger.buy(9, "vip", key="old:2")
    with pytest.raises(InsufficientFunds) as refused:
        await ledger.buy(9, "vip", key=Key("new:2", former="old:2", former_since=since))
    assert refused.value.replayed
    # kept before `former_since` (by another client that spelled its keys the same): not this key's
    assert not (await ledger.grant(9, 10, key=Key("new:1b", former="old:1", former_since=since + 1))).replayed
    # kept by another operation (an answer the old spelling kept where a key could reach): not this key's
    await ledger.remember(Key("old:3"), "body", "text")
    assert not (await ledger.grant(9, 10, key=Key("new:3", former="old:3", former_since=since))).replayed
    assert (await ledger.balance(9)).xp == 50 + 10 + 10 + 10
    # the new spelling is what is kept from now on
    assert (await ledger.grant(9, 10, key="new:3")).replayed
    assert await ledger.recorded("old:1") == first and await ledger.recorded("new:1") is None

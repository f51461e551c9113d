"""Deliveries: a file charge or content purchase ends delivered, refunded or kept, recorded
with the movement, settled once; and a username belongs to one user at a time."""

from __future__ import annotations

import asyncio

import pytest

from economy import NotFound
from economy.errors import InsufficientFunds
from tests.conftest import raw_sql


async def _credit_user(ledger, user=1, quota=100_000):
    await ledger.register(user)
    await ledger.raise_quota(user, quota, actor=9)


async def test_a_charge_with_delivery_starts_pending_and_claimed_by_its_caller(ledger):
    await _credit_user(ledger)
    done = await ledger.charge(1, 15_000, actor=9, deliver=True, worker="a", key="u:1")
    d = await ledger.delivery(done.transfer_id)
    assert (d.state, d.kind, d.amount, d.user_id, d.settled) == ("pending", "file_charge", 15_000, 1, False)
    # the worker that charged holds the claim: another one may not send too while it is fresh
    again = await ledger.claim_delivery(done.transfer_id, worker="b")
    assert not again.claimed and again.state == "pending"
    # the same worker (its own replay) may, and so may one that knows it is alone
    assert (await ledger.claim_delivery(done.transfer_id, worker="a")).claimed
    assert (await ledger.claim_delivery(done.transfer_id, worker="b", take_over=True)).claimed
    assert not (await ledger.claim_delivery(done.transfer_id, worker="a")).claimed  # b holds it now


async def test_delivered_is_final_and_a_replay_reads_it(ledger, clock):
    await _credit_user(ledger)
    done = await ledger.charge(1, 15_000, actor=9, deliver=True, key="u:1")
    d = await ledger.delivered(done.transfer_id, 777)
    assert (d.state, d.message_id) == ("delivered", 777)
    replay = await ledger.charge(1, 15_000, actor=9, deliver=True, key="u:1")
    assert replay.replayed and replay.transfer_id == done.transfer_id
    clock.advance(3600)  # long after the lease: still nothing to send
    claim = await ledger.claim_delivery(done.transfer_id, take_over=True)
    assert (claim.claimed, claim.state, claim.message_id) == (False, "delivered", 777)
    # nothing settles a settled delivery again
    assert (await ledger.refund_delivery(done.transfer_id, "late")).state == "delivered"
    assert (await ledger.balance(1)).credit_used == 15_000
    assert await ledger.verify() == []


async def test_refunded_charge_leaves_nothing_used_and_the_outcome_stays(ledger, clock):
    await _credit_user(ledger)
    done = await ledger.charge(1, 15_000, actor=9, deliver=True, key="u:1")
    d = await ledger.refund_delivery(done.transfer_id, "blocked")
    assert (d.state, d.reason) == ("refunded", "blocked") and d.refund_id is not None
    b = await ledger.balance(1)
    assert (b.credit_quota, b.credit_used) == (100_000, 0)
    # a second settle (a replay, another instance) changes nothing
    for settle in (ledger.refund_delivery(done.transfer_id, "again"), ledger.delivered(done.transfer_id, 5)):
        assert (await settle).state == "refunded"
    clock.advance(3600)
    assert not (await ledger.claim_delivery(done.transfer_id, take_over=True)).claimed
    assert (await ledger.balance(1)).credit_used == 0
    history = await ledger.history(1)
    assert [e.kind for e in history.items][:2] == ["delivery_refund", "file_charge"]
    assert await ledger.verify() == []


async def test_a_stale_claim_is_taken_over_once(ledger, clock):
    await _credit_user(ledger)
    done = await ledger.charge(1, 100, actor=9, deliver=True, worker="dead", key="u:1")
    clock.advance(61)
    claims = await asyncio.gather(*(ledger.claim_delivery(done.transfer_id, worker=f"w{i}") for i in range(5)))
    assert sum(c.claimed for c in claims) == 1


async def test_content_purchase_refund_returns_tokens_and_the_entitlement(ledger):
    await ledger.add_content("v1", title="Film", media="video", file_ref="f")
    await ledger.register(2)
    await ledger.convert(2, 50)
    bought = await ledger.buy(2, "content", "v1", deliver=True, key="u:2")
    assert bought.transfer_id and bought.tokens == 40
    d = await ledger.delivery(bought.transfer_id)
    assert (d.kind, d.ref, d.state) == ("content", "v1", "pending")
    await ledger.refund_delivery(bought.transfer_id, "network")
    b = await ledger.balance(2)
    assert b.tokens == 50 and b.content == ()
    stats = await ledger.stats()
    assert stats.spent_per_item["content"] == 0 and stats.tokens_in_circulation == 50
    # bought again later: a new purchase, a new delivery
    again = await ledger.buy(2, "content", "v1", deliver=True, key="u:3")
    assert again.transfer_id != bought.transfer_id and (await ledger.balance(2)).tokens == 40
    assert await ledger.verify() == []


async def test_kept_purchase_stays_paid_and_owned(ledger):
    await ledger.add_content("v1", title="Film", media="video", file_ref="f")
    await ledger.register(2)
    await ledger.convert(2, 50)
    bought = await ledger.buy(2, "content", "v1", deliver=True, key="u:2")
    d = await ledger.keep_delivery(bought.transfer_id, "private chat closed")
    assert d.state == "kept"
    assert (await ledger.balance(2)).content == ("v1",)
    assert await ledger.verify() == []


async def test_a_charge_whose_usage_was_refunded_by_hand_settles_as_refunded_with_nothing_to_reverse(ledger):
    await _credit_user(ledger)
    done = await ledger.charge(1, 1000, actor=9, deliver=True, key="u:1")
    await ledger.refund(1, 1000, actor=9)  # an admin, while the delivery was failing
    d = await ledger.refund_delivery(done.transfer_id, "unavailable")
    assert (d.state, d.reason, d.refund_id) == ("refunded", "by_hand", None)
    assert (await ledger.balance(1)).credit_used == 0
    # a replay finds it settled: nothing is sent for free later
    assert not (await ledger.claim_delivery(done.transfer_id, take_over=True)).claimed
    assert await ledger.verify() == []


async def test_unknown_delivery_is_not_found(ledger):
    with pytest.raises(NotFound):
        await ledger.delivery(12345)
    with pytest.raises(NotFound):
        await ledger.claim_delivery(12345)


async def test_the_database_refuses_to_change_a_settled_delivery(ledger):
    await _credit_user(ledger)
    done = await ledger.charge(1, 1000, actor=9, deliver=True, key="u:1")
    await ledger.delivered(done.transfer_id, 1)
    refused = ledger.store.IntegrityError
    exc = await raw_sql(ledger, "UPDATE deliveries SET state = 'refunded', refund_id = 1 WHERE transfer_id = ?",
                        (done.transfer_id,))
    assert isinstance(exc, refused) and "final" in str(exc)
    exc = await raw_sql(ledger, "DELETE FROM deliveries")
    assert isinstance(exc, refused) and "kept" in str(exc)
    exc = await raw_sql(ledger, "INSERT INTO deliveries VALUES (999, 1, 'file_charge', 'delivered', 0, '', NULL, NULL, '', 0, '')")
    assert isinstance(exc, refused)  # delivered needs a message id


async def test_verify_catches_a_refund_that_does_not_match(ledger):
    await _credit_user(ledger)
    done = await ledger.charge(1, 1000, actor=9, deliver=True, key="u:1")
    other = await ledger.charge(1, 500, actor=9)
    assert await raw_sql(ledger, "UPDATE deliveries SET state = 'refunded', refund_id = ? WHERE transfer_id = ?",
                         (other.transfer_id, done.transfer_id)) is None
    assert any("no matching refund" in p for p in await ledger.verify())


# -- usernames --
async def test_a_username_moves_to_whoever_holds_it_now(ledger):
    await ledger.register(1, username="ayse_k", first_name="Ali")  # Ali had it first
    await ledger.register(2, username="ayse_real", first_name="Ayşe")
    # Ali gave it up without /start; Ayşe took it and is seen with it
    done = await ledger.refresh_profile(2, username="Ayse_K", first_name="Ayşe", language="tr")
    assert done.what == "refreshed"
    assert (await ledger.find_user("@ayse_k")).user_id == 2
    assert (await ledger.profile(1)).username is None
    assert (await ledger.profile(2)).language == "tr"


async def test_refresh_writes_only_a_change_and_ignores_strangers(ledger):
    await ledger.register(1, username="ali", first_name="Ali", language="en")
    assert (await ledger.refresh_profile(1, username="ali", first_name="Ali", language="en")).what == "unchanged"
    assert (await ledger.refresh_profile(1, username=None, first_name="Ali B", language="en")).what == "refreshed"
    assert (await ledger.profile(1)).username is None and (await ledger.profile(1)).first_name == "Ali B"
    assert (await ledger.refresh_profile(5, username="x", first_name="X")).what == "unknown"
    with pytest.raises(NotFound):
        await ledger.profile(5)


async def test_registering_with_a_taken_username_takes_it(ledger):
    await ledger.register(1, username="same")
    await ledger.register(2, username="same")
    assert (await ledger.find_user("same")).user_id == 2
    assert (await ledger.profile(1)).username is None


async def test_the_database_refuses_two_holders_of_one_username(ledger):
    await ledger.register(1, username="one")
    await ledger.register(2, username="two")
    exc = await raw_sql(ledger, "UPDATE users SET username = 'one' WHERE user_id = 2")
    assert isinstance(exc, ledger.store.IntegrityError)


async def test_insufficient_funds_still_refuses_a_content_purchase_with_delivery(ledger):
    await ledger.add_content("v1", title="Film", media="video", file_ref="f")
    await ledger.register(2)
    with pytest.raises(InsufficientFunds):
        await ledger.buy(2, "content", "v1", deliver=True, key="u:9")
    assert (await ledger.balance(2)).content == ()

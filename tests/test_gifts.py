"""Gifts at ledger level, on both backends: the caps at their edges (per local day), each
refusal leaving nothing behind, and concurrent presses."""

from __future__ import annotations

import asyncio

import pytest

from economy import GiftRefused, InsufficientFunds, Key, NotFound
from tests.conftest import START, snapshot

DAY, HOUR = 86400, 3600
MIDNIGHT = START + 21 * HOUR  # local midnight (Europe/Istanbul) of 2026-11-23


async def _members(ledger, clock, *users: int, tokens: int = 200) -> None:  # type: ignore[no-untyped-def]
    """Users registered four days ago with `tokens` each; the clock back at now."""
    now = clock.now
    clock.now = now - 4 * DAY
    for u in users:
        await ledger.register(u, first_name=f"U{u}")
        await ledger.grant(u, tokens)
        await ledger.convert(u, tokens)
    clock.now = now


async def test_a_gift_moves_tokens_in_two_lines_and_both_histories_show_it(ledger, clock):
    await _members(ledger, clock, 1, 2)
    g = await ledger.gift(1, 2, 30, key="k1")
    assert (g.amount, g.tokens, g.recipient_tokens, g.sent_today, g.received_today) == (30, 170, 230, 30, 30)
    again = await ledger.gift(1, 2, 30, key="k1")
    assert again.replayed and again.transfer_id == g.transfer_id
    assert [(e.kind, e.delta) for e in (await ledger.history(1)).items[:1]] == [("gift_out", -30)]
    assert [(e.kind, e.delta, e.ref) for e in (await ledger.history(2)).items[:1]] == [("gift_in", 30, "gift:1")]
    assert (await ledger.stats()).tokens_in_circulation == 400
    assert await ledger.top_spenders() == []  # giving is not spending
    assert (await ledger.notice(g.transfer_id + 1)).user_id == 2
    flows = await ledger.gift_flows()
    assert [(f.sender, f.recipient, f.gifts, f.amount) for f in flows] == [(1, 2, 1, 30)]
    assert await ledger.verify() == []


async def test_the_sender_cap_at_its_edge_and_the_next_local_day(ledger, clock):
    await _members(ledger, clock, 1, 2, 3)
    clock.now = MIDNIGHT - 60  # 23:59 local
    await ledger.gift(1, 2, 49)
    await ledger.gift(1, 3, 1)  # exactly 50: allowed
    before = await snapshot(ledger, 1, 2, 3)
    with pytest.raises(GiftRefused) as refused:
        await ledger.gift(1, 3, 1)
    assert (refused.value.reason, refused.value.limit, refused.value.left) == ("send_limit", 50, 0)
    assert await snapshot(ledger, 1, 2, 3) == before
    clock.now = MIDNIGHT  # 00:00 local, the same UTC day: a new local day
    assert (await ledger.gift(1, 3, 50)).sent_today == 50
    assert await ledger.verify() == []


async def test_the_recipient_cap_at_its_edge(ledger, clock):
    await _members(ledger, clock, 1, 2, 3, 4)
    await ledger.gift(1, 4, 50)
    await ledger.gift(2, 4, 49)
    with pytest.raises(GiftRefused) as refused:
        await ledger.gift(3, 4, 2)
    assert (refused.value.reason, refused.value.limit, refused.value.left) == ("receive_limit", 100, 1)
    assert (await ledger.gift(3, 4, 1)).received_today == 100
    with pytest.raises(GiftRefused):
        await ledger.gift(3, 4, 1)


async def test_a_sender_younger_than_the_minimum_age_is_refused_until_then(ledger, clock):
    await _members(ledger, clock, 2)
    await ledger.register(1)
    await ledger.grant(1, 20)
    await ledger.convert(1, 20)
    clock.advance(72 * HOUR - 1)
    with pytest.raises(GiftRefused) as refused:
        await ledger.gift(1, 2, 5)
    assert (refused.value.reason, refused.value.limit, refused.value.left) == ("too_new", 72, 1)
    clock.advance(1)
    assert (await ledger.gift(1, 2, 5)).amount == 5


async def test_each_refusal_leaves_nothing(ledger, clock):
    await _members(ledger, clock, 1, 2, tokens=20)
    before = await snapshot(ledger, 1, 2)
    with pytest.raises(GiftRefused) as refused:
        await ledger.gift(1, 1, 5)
    assert refused.value.reason == "self"
    with pytest.raises(NotFound) as missing:
        await ledger.gift(1, 777, 5)
    assert missing.value.what == "recipient"
    with pytest.raises(NotFound) as stranger:
        await ledger.gift(777, 1, 5)
    assert stranger.value.what == "user"
    with pytest.raises(InsufficientFunds):
        await ledger.gift(1, 2, 21)
    assert await snapshot(ledger, 1, 2) == before
    assert await ledger.verify() == []


async def test_concurrent_presses_stop_at_the_cap_and_a_double_tap_applies_once(ledger, clock):
    await _members(ledger, clock, 1, 2, 3)
    # ten different confirm messages of 10 tokens each, pressed at once: five fit under 50
    outcomes = await asyncio.gather(*(ledger.gift(1, 2 + i % 2, 10, key=Key(f"m{i}", keep_refusals=False))
                                      for i in range(10)), return_exceptions=True)
    given = [o for o in outcomes if not isinstance(o, BaseException)]
    refused = [o for o in outcomes if isinstance(o, GiftRefused)]
    assert (len(given), len(refused)) == (5, 5), outcomes
    assert (await ledger.balance(1)).tokens == 150
    # one message tapped five times at once: one gift (sender 2 has room)
    taps = await asyncio.gather(*(ledger.gift(2, 3, 7, key=Key("tap", keep_refusals=False)) for _ in range(5)))
    assert len({t.transfer_id for t in taps}) == 1 and sum(not t.replayed for t in taps) == 1
    assert (await ledger.balance(2)).tokens == sum(g.amount for g in given if g.recipient == 2) + 200 - 7
    assert await ledger.verify() == []


async def test_verify_finds_a_gift_without_its_lines_and_freezes_nobody_bought(ledger, clock):
    await _members(ledger, clock, 1, 2)
    g = await ledger.gift(1, 2, 5)
    assert await ledger.verify() == []

    async def tamper(db):  # type: ignore[no-untyped-def]
        await db.execute("INSERT INTO gifts VALUES (?, 1, 2, 9, 0, 0)", (g.transfer_id + 100,))
        await db.execute("UPDATE wallets SET freezes = 2 WHERE user_id = 2")
        await db.execute("UPDATE accounts SET balance = balance + 1, credits = credits + 1 WHERE id = -16")

    await ledger.store.in_writer(tamper)
    problems = await ledger.verify()
    assert f"gift {g.transfer_id + 100} does not match its two journal lines" in problems
    assert "user 2 holds 2 streak freezes, more than they bought" in problems
    assert "the gifts account holds 1, not 0" in problems


async def test_the_database_refuses_what_the_rules_forbid(ledger, clock):
    """Behind the ledger's back too, on both backends: freezes past 2, gifts counted past the
    debits, a gift to oneself or of nothing, a gift changed or deleted, /notify other than 0/1."""
    await _members(ledger, clock, 1, 2)
    await ledger.gift(1, 2, 5)
    refused = ledger.store.IntegrityError  # the driver's: sqlite3's or psycopg's
    for sql in ("UPDATE wallets SET freezes = 3 WHERE user_id = 1",
                "UPDATE wallets SET tokens_given = token_debits + 1 WHERE user_id = 1",
                "INSERT INTO gifts VALUES (999, 1, 1, 5, 0, 0)",
                "INSERT INTO gifts VALUES (999, 1, 2, 0, 0, 0)",
                "UPDATE gifts SET amount = 1",
                "DELETE FROM gifts",
                "UPDATE users SET notify = 2"):
        with pytest.raises(refused):
            await ledger.store.in_writer(lambda db, sql=sql: db.execute(sql))
    assert await ledger.verify() == []

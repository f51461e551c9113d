"""Hostile review 2 (issues 23 and 22): ledger-level reproducers, both backends."""

from __future__ import annotations

import asyncio

import pytest

from economy.errors import StreakEnded

from economy import AlreadyClaimed, GiftRefused, InsufficientFunds, NotFound
from economy.audit import AuditFilter, AuditLog
from tests.conftest import raw_sql

from tests.test_gifts import DAY, HOUR, MIDNIGHT, _members  # the same members, registered four days ago


async def test_freezes_bought_after_the_gap_revive_a_dead_streak(ledger, clock):
    """A freeze "covers one missed day"; bought *after* the days were missed it still does:
    /balance says the streak is gone (0), two /buy freeze later the same /daily continues it.
    This is the "freeze that covers a gap" abuse the issue warns of, made retroactive."""
    await _members(ledger, clock, 1)
    clock.now = MIDNIGHT + 10 * HOUR
    for _ in range(5):
        await ledger.daily(1)
        clock.advance(DAY)
    clock.advance(2 * DAY)  # two local days missed, no freeze held
    assert (await ledger.balance(1)).streak == 0  # the bot says: streak lost
    tokens = (await ledger.balance(1)).tokens
    with pytest.raises(StreakEnded):  # a freeze covers days to come, never a gap behind
        await ledger.buy(1, "freeze")
    assert (await ledger.balance(1)).tokens == tokens  # nothing charged
    e = await ledger.daily(1)
    assert await ledger.verify() == []
    assert e.streak == 1, f"retroactive freezes revived the streak: streak={e.streak}, freezes used={e.freezes_used}"
    await ledger.buy(1, "freeze")  # after the new streak's first day: fine


async def test_concurrent_gift_taps_across_local_midnight_respect_the_cap(ledger, clock):
    await _members(ledger, clock, 1, 2, 3)
    clock.now = MIDNIGHT - 1
    results = await asyncio.gather(*(ledger.gift(1, 2 + (i % 2), 10) for i in range(8)), return_exceptions=True)
    ok = [r for r in results if not isinstance(r, BaseException)]
    assert sum(r.amount for r in ok) <= 50
    assert all(isinstance(r, GiftRefused) for r in results if isinstance(r, BaseException))
    clock.now = MIDNIGHT  # new local day
    results = await asyncio.gather(*(ledger.gift(1, 2, 10, key=f"n{i % 3}") for i in range(9)),
                                   return_exceptions=True)
    ok = [r for r in results if not isinstance(r, BaseException)]
    assert {r.transfer_id for r in ok}.__len__() == 3  # three keys, three gifts, the rest replays
    assert await ledger.verify() == []


async def test_gift_edges_refused_without_trace(ledger, clock):
    await _members(ledger, clock, 1, 2)
    for amount in (0, -1, 10**13):
        with pytest.raises(Exception):
            await ledger.gift(1, 2, amount)
    with pytest.raises(GiftRefused):
        await ledger.gift(1, 1, 1)
    with pytest.raises(NotFound):
        await ledger.gift(1, 777, 1)
    with pytest.raises(InsufficientFunds):
        await ledger.gift(1, 2, 201)
    assert (await ledger.balance(1)).tokens == 200
    assert await ledger.verify() == []


async def test_clock_backwards_pays_nothing_and_verify_stays_clean(ledger, clock):
    await _members(ledger, clock, 1)
    clock.now = MIDNIGHT + HOUR
    await ledger.daily(1)
    clock.now = MIDNIGHT - HOUR  # back into yesterday
    with pytest.raises(AlreadyClaimed):
        await ledger.daily(1)
    clock.now = MIDNIGHT + DAY + HOUR
    assert (await ledger.daily(1)).streak == 2
    assert await ledger.verify() == []


async def test_gift_to_a_user_who_blocked_the_bot(ledger, clock):
    """Refused per the issue? It says 'a user who never started the bot'; a blocked (inactive) user
    gets tokens nobody can tell them about. Documented here as what happens."""
    await _members(ledger, clock, 1, 2)
    await ledger.set_active(2, False)
    g = await ledger.gift(1, 2, 5)
    assert g.amount == 5


async def test_audit_append_only_on_both_backends(ledger, clock):
    await _members(ledger, clock, 1)
    from economy.audit import Actor
    await ledger.grant(1, 5, audit_as=Actor("bot", "adm", 9))
    for sql in ("UPDATE audit SET note = 'x'", "DELETE FROM audit"):
        assert await raw_sql(ledger, sql) is not None, sql
    rows = [e async for e in AuditLog(ledger.store).walk(AuditFilter())]
    assert len(rows) == 1


async def test_one_freeze_never_covers_two_days_and_a_third_is_refused(ledger, clock):
    from economy import FreezeLimit
    await _members(ledger, clock, 1)
    clock.now = MIDNIGHT + 10 * HOUR
    await ledger.buy(1, "freeze")
    for _ in range(3):
        await ledger.daily(1)
        clock.advance(DAY)
    clock.advance(2 * DAY)  # two days missed, one freeze
    e = await ledger.daily(1)
    assert (e.streak, e.freezes_used, e.freezes, e.lost) == (1, 0, 1, 3)
    await ledger.buy(1, "freeze")
    with pytest.raises(FreezeLimit):
        await ledger.buy(1, "freeze")
    assert (await ledger.balance(1)).freezes == 2
    assert await ledger.verify() == []


async def test_boost_doubles_the_base_not_the_streak_bonus(ledger, clock):
    await _members(ledger, clock, 1, tokens=300)
    clock.now = MIDNIGHT + 10 * HOUR
    await ledger.daily(1)
    clock.advance(DAY)
    await ledger.buy(1, "boost")
    e = await ledger.daily(1)
    assert e.boosted and e.bonus == 5 and e.amount == 2 * ledger.catalog.daily_reward
    assert await ledger.verify() == []

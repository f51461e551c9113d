"""Every refusal path: the right error with its figures, and nothing changed after it."""

import pytest

from economy import (
    AlreadyClaimed, AlreadyExists, AlreadyOwned, InsufficientFunds, InvalidAmount, InvalidInput, NotFound,
    QuotaBelowUsage, QuotaExceeded, RefundTooLarge,
)
from economy.amounts import MAX_AMOUNT
from tests.conftest import snapshot


@pytest.fixture
async def rich(ledger):
    """User 1 with 12 tokens, 8 XP, VIP owned, content c1 owned, quota 50.00 with 20.00 used."""
    await ledger.add_content("c1", title="One", media="document", file_ref="f1")
    await ledger.add_content("c2", title="Two", media="document", file_ref="f2")
    await ledger.register(1)
    await ledger.convert(1, 42)  # 8 XP left, 42 tokens
    await ledger.buy(1, "vip")  # 17
    await ledger.buy(1, "content", "c1")  # 7
    await ledger.grant(1, 5)
    await ledger.convert(1, 5)  # 12 tokens, 8 XP
    await ledger.raise_quota(1, 5000)
    await ledger.charge(1, 2000)
    await ledger.register(2)
    return ledger


REFUSALS = [
    ("buy badge short", lambda l: l.buy(1, "badge"), InsufficientFunds(asset="TOKEN", needed=50, available=12)),
    ("buy vip again", lambda l: l.buy(1, "vip"), AlreadyOwned(item="vip", ref="")),
    ("buy content owned", lambda l: l.buy(1, "content", "c1"), AlreadyOwned(item="content", ref="c1")),
    ("buy content missing", lambda l: l.buy(1, "content", "nope"), NotFound(what="content", ref="nope")),
    ("buy content bad id", lambda l: l.buy(1, "content", "<b>"), NotFound(what="content", ref="<b>")),
    ("buy unknown item", lambda l: l.buy(1, "yacht"), NotFound(what="item", ref="yacht")),
    ("buy as stranger", lambda l: l.buy(77, "boost"), NotFound(what="user", ref="77")),
    ("convert too much", lambda l: l.convert(1, 9), InsufficientFunds(asset="XP", needed=9, available=8)),
    ("convert all as stranger", lambda l: l.convert(3), NotFound(what="user", ref="3")),
    ("convert zero", lambda l: l.convert(1, 0), InvalidAmount(text="0", reason="not_positive")),
    ("convert huge", lambda l: l.convert(1, MAX_AMOUNT + 1), InvalidAmount(text=str(MAX_AMOUNT + 1), reason="too_large")),
    ("grant stranger", lambda l: l.grant(77, 5), NotFound(what="user", ref="77")),
    ("grant negative", lambda l: l.grant(1, -5), InvalidAmount(text="-5", reason="not_positive")),
    ("daily stranger", lambda l: l.daily(77), NotFound(what="user", ref="77")),
    ("charge past quota", lambda l: l.charge(1, 3001), QuotaExceeded(amount=3001, quota=5000, used=2000)),
    ("charge without quota", lambda l: l.charge(2, 1), QuotaExceeded(amount=1, quota=0, used=0)),
    ("charge stranger", lambda l: l.charge(77, 1), NotFound(what="user", ref="77")),
    ("refund too much", lambda l: l.refund(1, 2001), RefundTooLarge(amount=2001, used=2000)),
    ("lower below used", lambda l: l.lower_quota(1, 3001), QuotaBelowUsage(amount=3001, quota=5000, used=2000)),
    ("quota stranger", lambda l: l.raise_quota(77, 100), NotFound(what="user", ref="77")),
    ("content twice", lambda l: l.add_content("c1", title="x", media="document", file_ref="z"), AlreadyExists(what="content", ref="c1")),
    ("content bad id", lambda l: l.add_content("a b", title="x", media="document", file_ref="z"), InvalidInput(text="a b", reason="bad_content_id")),
    ("bad user id", lambda l: l.register(0), InvalidInput(text="0", reason="bad_user_id")),
    ("user id bool", lambda l: l.convert(True, 1), InvalidInput(text="True", reason="bad_user_id")),
    ("set_active stranger", lambda l: l.set_active(77, False), NotFound(what="user", ref="77")),
]


@pytest.mark.parametrize("name, call, expected", REFUSALS, ids=[r[0] for r in REFUSALS])
async def test_refusal_changes_nothing(rich, name, call, expected):
    before = await snapshot(rich, 1, 2)
    with pytest.raises(type(expected)) as info:
        await call(rich)
    assert info.value == expected
    assert await snapshot(rich, 1, 2) == before
    assert await rich.verify() == []


async def test_shortfall_figures(rich):
    with pytest.raises(InsufficientFunds) as info:
        await rich.buy(1, "dm")
    assert (info.value.needed, info.value.available, info.value.shortfall) == (15, 12, 3)


async def test_daily_once_per_local_day_and_boost_doubles(ledger, clock):
    await ledger.register(1)
    assert (await ledger.daily(1)).amount == 20
    with pytest.raises(AlreadyClaimed) as info:
        await ledger.daily(1)
    # the next local midnight (TIMEZONE, Europe/Istanbul: UTC+3)
    assert (info.value.next_at + 3 * 3600) % 86400 == 0 and 0 < info.value.next_at - clock.now <= 86400
    clock.advance(86400)
    await ledger.convert(1, 50)
    purchase = await ledger.buy(1, "boost")
    assert purchase.until == int(clock.now) + 86400
    daily = await ledger.daily(1)
    assert (daily.amount, daily.boosted) == (40, True)
    clock.advance(2 * 86400)  # the boost ran out
    daily = await ledger.daily(1)
    assert (daily.amount, daily.boosted) == (20, False)
    assert (await ledger.balance(1)).boost_until is None


async def test_timed_items_extend(ledger, clock):
    await ledger.register(1)
    await ledger.convert(1, 50)
    first = await ledger.buy(1, "dm")
    second = await ledger.buy(1, "dm")
    assert second.until == first.until + 86400
    clock.advance(5 * 86400)  # expired: a new purchase starts from now
    third = await ledger.buy(1, "boost")
    assert third.until == int(clock.now) + 86400
    assert (await ledger.balance(1)).tokens == 50 - 15 - 15 - 5


async def test_registration_bonus_once_ever(ledger):
    first = await ledger.register(1, username="Ali", first_name="Ali")
    again = await ledger.register(1, username="Ali2", first_name="Ali")
    assert (first.created, first.bonus) == (True, 50)
    assert (again.created, again.bonus, again.xp) == (False, 0, 50)
    assert (await ledger.find_user("@ALI2")).user_id == 1
    with pytest.raises(NotFound):
        await ledger.find_user("ali")


async def test_convert_all_with_no_xp(ledger):
    await ledger.register(1)
    await ledger.convert(1)
    before = await snapshot(ledger, 1)
    with pytest.raises(InsufficientFunds) as info:
        await ledger.convert(1)
    assert info.value == InsufficientFunds(asset="XP", needed=1, available=0)
    assert await snapshot(ledger, 1) == before

"""The seeds' scenarios, exactly."""

import asyncio
import random

from economy import QuotaExceeded

from tests.conftest import snapshot


async def test_new_user_journey_ends_with_55_tokens(ledger):
    await ledger.add_content("premium_video_001", title="Video", media="document", file_ref="f1")
    reg = await ledger.register(1, first_name="Ayşe")
    assert (reg.created, reg.bonus, reg.xp) == (True, 50, 50)
    assert (await ledger.daily(1)).amount == 20
    conv = await ledger.convert(1)
    assert (conv.amount, conv.xp, conv.tokens) == (70, 0, 70)
    assert (await ledger.buy(1, "content", "premium_video_001")).tokens == 60
    assert (await ledger.buy(1, "boost")).tokens == 55
    bal = await ledger.balance(1)
    assert (bal.xp, bal.tokens) == (0, 55)
    assert bal.content == ("premium_video_001",) and bal.boost_until is not None
    assert await ledger.verify() == []


async def test_power_user_journey_ends_with_80_tokens(ledger):
    for cid in ("v1", "v2", "v3"):
        await ledger.add_content(cid, title=cid, media="photo", file_ref=cid)
    await ledger.register(2)
    await ledger.grant(2, 200, reason="weekly tasks", actor=99)
    await ledger.convert(2, 200)
    for item in ("vip", "badge", "dm"):
        await ledger.buy(2, item)
    for cid in ("v1", "v2", "v3"):
        await ledger.buy(2, "content", cid)
    bal = await ledger.balance(2)
    assert bal.tokens == 80 and bal.xp == 50  # the registration bonus is still unconverted
    assert bal.vip and bal.badge and bal.dm_until is not None
    stats = await ledger.stats()
    assert stats.spent_per_item == {"content": 30, "vip": 25, "boost": 0, "badge": 50, "dm": 15}
    assert (stats.tokens_minted, stats.tokens_spent, stats.tokens_in_circulation) == (200, 120, 80)
    top = await ledger.top_spenders()
    assert [(s.user_id, s.spent, s.vip) for s in top] == [(2, 120, True)]
    assert await ledger.verify() == []


async def test_quota_scenario(ledger):
    await ledger.register(3)
    c = await ledger.raise_quota(3, 100_000, actor=1)
    assert (c.quota, c.used, c.available) == (100_000, 0, 100_000)
    c = await ledger.charge(3, 10_000, actor=1, note="report.pdf")
    assert (c.quota, c.used, c.available) == (100_000, 10_000, 90_000)
    c = await ledger.charge(3, 90_000, actor=1)
    assert c.available == 0  # exactly at the limit is allowed
    before = await snapshot(ledger, 3)
    try:
        await ledger.charge(3, 1, actor=1)
    except QuotaExceeded as exc:
        assert (exc.amount, exc.quota, exc.used, exc.available) == (1, 100_000, 100_000, 0)
    else:
        raise AssertionError("an upload past the quota was accepted")
    assert await snapshot(ledger, 3) == before
    c = await ledger.refund(3, 30_000, actor=1)
    assert (c.quota, c.used, c.available) == (100_000, 70_000, 30_000)
    bal = await ledger.balance(3)
    assert (bal.credit_quota, bal.credit_used, bal.credit_available) == (100_000, 70_000, 30_000)
    stats = await ledger.stats()
    assert (stats.credit_quota, stats.credit_used, stats.credit_available, stats.credit_users) == (100_000, 70_000, 30_000, 1)
    page = await ledger.credit_users()
    assert [(u.user_id, u.quota, u.used, u.available) for u in page.items] == [(3, 100_000, 70_000, 30_000)]
    kinds = [e.kind for e in (await ledger.history(3)).items]
    assert kinds == ["usage_remove", "file_charge", "file_charge", "quota_increase", "earn"]
    assert await ledger.verify() == []


async def test_history_pages_walk_the_users_chain_newest_first(ledger):
    await ledger.register(1)
    await ledger.register(2)
    for i in range(12):  # interleave two users so the chain has to skip the other's transfers
        await ledger.grant(1, i + 1, reason=f"g{i}")
        await ledger.grant(2, 1)
    await ledger.convert(1, 30)
    mine = [row for row in [r async for r in ledger.journal()] if row[7] == 1][::-1]
    seen = []
    first = await ledger.history(1, 0, 5)
    assert (first.total, first.pages) == (len(mine), -(-len(mine) // 5)) == (15, 3)
    for page in range(first.pages):
        p = await ledger.history(1, page, 5)
        seen += [e.id for e in p.items]
    assert seen == [row[0] for row in mine]
    last = await ledger.history(1, 99, 5)  # past the end: the last page
    assert last.page == 2 and [e.id for e in last.items] == seen[10:]


async def test_top_spenders_stay_exact_with_ties_and_many_spenders(ledger):
    from economy.storage.schema import TOP_KEEP
    users = range(1, TOP_KEEP + 21)
    await asyncio.gather(*(ledger.register(u) for u in users))
    await asyncio.gather(*(ledger.grant(u, 10_000) for u in users))
    await asyncio.gather(*(ledger.convert(u) for u in users))
    rng = random.Random(3)
    spent = dict.fromkeys(users, 0)
    for _ in range(6):
        buyers = [rng.choice(users) for _ in range(60)]
        for b in await asyncio.gather(*(ledger.buy(u, "boost") for u in buyers)):
            spent[b.user_id] += 5
        expected = sorted((-s, u) for u, s in spent.items() if s)[:10]
        got = await ledger.top_spenders(10)
        assert [(s.user_id, s.spent) for s in got] == [(u, -s) for s, u in expected]
    assert await ledger.verify() == []  # verify compares the whole kept table with the wallets

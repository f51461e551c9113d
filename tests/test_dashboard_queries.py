"""The dashboard's reads: tokens per day and the user search, checked against the journal."""

from __future__ import annotations

import pytest

from economy import InvalidInput
from economy.queries import DAY
from economy.storage.schema import REVENUE, TOKEN_MINT


async def _journal_days(ledger, first_day: int) -> dict[int, list[int]]:
    """Minted and spent per local day (the ledger's TIMEZONE) by a plain walk over the journal."""
    out: dict[int, list[int]] = {}
    revenue = set(REVENUE.values())
    zone = ledger.catalog.days
    async for _id, ts, _kind, asset, debit, credit, amount, *_ in ledger.journal():
        if asset != "TOKEN" or zone.day(ts) < first_day:
            continue
        day = out.setdefault(zone.midnight(zone.day(ts)), [0, 0])
        day[0] += amount if debit == TOKEN_MINT else 0
        day[1] += amount if credit in revenue else 0
    return out


async def test_tokens_per_day_match_the_journal_and_the_stats(ledger, clock):
    for uid in (1, 2, 3):
        await ledger.register(uid, first_name=f"u{uid}")
        await ledger.grant(uid, 500)
    clock.advance(-40 * DAY)  # outside the 30 days: counted in stats, not in the series
    await ledger.convert(1, 100)
    await ledger.buy(1, "vip")
    clock.advance(40 * DAY)
    for back, uid, item in ((29, 1, "boost"), (10, 2, "badge"), (3, 3, "dm"), (0, 2, "boost")):
        clock.advance(-back * DAY)
        await ledger.convert(uid, 60)
        await ledger.buy(uid, item)
        clock.advance(back * DAY)
    days = await ledger.daily_tokens(30)
    zone = ledger.catalog.days
    today = zone.day(int(clock()))
    assert [d.day for d in days] == [zone.midnight(today - 29 + i) for i in range(30)]
    assert zone.name == "Europe/Istanbul" and days[-1].day % DAY == DAY - 3 * 3600  # local midnight: 21:00 UTC
    expected = await _journal_days(ledger, today - 29)
    assert {d.day: [d.earned, d.spent] for d in days if d.earned or d.spent} == expected
    assert days[0].earned == 60 and days[0].spent == 5 and days[-1].spent == 5
    assert sum(1 for d in days if d.earned) == 4
    stats = await ledger.stats()
    assert sum(d.earned for d in days) == stats.tokens_minted - 100
    assert sum(d.spent for d in days) == stats.tokens_spent - 25


async def test_tokens_per_day_on_an_empty_journal_are_zeros(ledger):
    days = await ledger.daily_tokens(7)
    assert len(days) == 7 and all(d.earned == d.spent == 0 for d in days)


async def test_the_first_transfer_of_the_window_is_found_among_many(ledger, clock):
    """The binary search over ids agrees with a full scan at every boundary."""
    await ledger.register(1)
    await ledger.grant(1, 10_000)
    for _ in range(40):
        clock.advance(DAY // 3)
        await ledger.convert(1, 1)
    for days in (1, 2, 5, 13, 30):
        got = {d.day: [d.earned, d.spent] for d in await ledger.daily_tokens(days) if d.earned}
        assert got == await _journal_days(ledger, ledger.catalog.days.day(int(clock())) - days + 1), days


@pytest.fixture
async def people(ledger):
    rows = [(11, "alice", "Alice", 50_000, 10_000), (12, "alfred", "Alfred", 20_000, 15_000),
            (13, "bob_", "Bob", 90_000, 0), (14, None, "Ayşe 100%", 30_000, 29_000), (15, "zed", "Zed", 0, 0)]
    for uid, uname, name, quota, used in rows:
        await ledger.register(uid, username=uname, first_name=name)
        if quota:
            await ledger.raise_quota(uid, quota)
        if used:
            await ledger.charge(uid, used)
    return ledger


async def test_without_text_the_users_with_a_quota_by_used_or_available(people):
    by_used = await people.search_users(order="used")
    assert [u.user_id for u in by_used.items] == [14, 12, 11, 13] and by_used.total == 4
    by_avail = await people.search_users(order="available")
    assert [(u.user_id, u.available) for u in by_avail.items] == [(13, 90_000), (11, 40_000), (12, 5_000), (14, 1_000)]


async def test_search_by_id_username_and_name(people):
    async def ids(text: str) -> list[int]:
        return sorted(u.user_id for u in (await people.search_users(text)).items)

    assert await ids("15") == [15]  # anyone can be found by id, with a quota or not
    assert await ids("@al") == [11, 12]
    assert await ids("@ALF") == [12]
    assert await ids("alf") == [12]
    assert await ids("ALICE") == [11]
    assert await ids("ayşe") == [14]
    assert await ids("%") == [14]  # a literal percent sign, not a wildcard
    assert await ids("_") == [13]
    assert await ids("@_") == []
    assert await ids("nobody") == []


async def test_search_pages(people):
    first = await people.search_users(order="used", per_page=3)
    second = await people.search_users(order="used", page=1, per_page=3)
    assert (first.pages, second.page, first.total) == (2, 1, 4)
    assert [u.user_id for u in first.items + second.items] == [14, 12, 11, 13]
    beyond = await people.search_users(order="used", page=99, per_page=3)
    assert beyond.page == 1


async def test_an_unknown_order_is_refused(people):
    with pytest.raises(InvalidInput):
        await people.search_users(order="credit; DROP TABLE users")


async def test_the_ledger_refuses_a_search_text_no_database_takes(ledger):
    await ledger.register(7, username="seven", first_name="Seven")
    for text in ("a\x00b", "\ud800", "x" * 65):
        with pytest.raises(InvalidInput):
            await ledger.search_users(text)
    assert [u.user_id for u in (await ledger.search_users("seven")).items] == [7]


async def test_a_refunded_content_purchase_is_not_counted_as_spent(ledger):
    await ledger.register(1)
    await ledger.grant(1, 100)
    await ledger.convert(1, 100)
    await ledger.add_content("v1", title="v", media="document", file_ref="f")
    bought = await ledger.buy(1, "content", "v1", deliver=True)
    assert (await ledger.daily_tokens(1))[-1].spent == 10
    await ledger.refund_delivery(bought.transfer_id, "blocked")
    today = (await ledger.daily_tokens(1))[-1]
    assert (today.earned, today.spent) == (100, 0) == (100, (await ledger.stats()).tokens_spent)


async def test_the_sums_are_kept_and_only_new_transfers_are_read(ledger, clock):
    from economy.token_days import TokenDays

    ledger._token_days = TokenDays(chunk=3, days=ledger.catalog.days)  # a few transfers per read: many chunks
    await ledger.register(1)
    await ledger.grant(1, 1000)
    for _ in range(5):
        clock.advance(DAY // 2)
        await ledger.convert(1, 7)
        await ledger.buy(1, "boost")
    first = await ledger.daily_tokens(30)
    assert {d.day: [d.earned, d.spent] for d in first if d.earned} == await _journal_days(ledger, ledger.catalog.days.day(first[0].day))
    reads = 0
    real_read = ledger.store.read

    async def counted(query):
        nonlocal reads
        reads += 1
        return await real_read(query)

    ledger.store.read = counted
    assert await ledger.daily_tokens(30) == first and reads == 1  # nothing new: one look at MAX(id)
    await ledger.convert(1, 11)
    clock.advance(DAY)  # a new day: the window moves on, yesterday's figures stay
    await ledger.convert(1, 13)
    await ledger.buy(1, "boost")
    reads = 0
    later = await ledger.daily_tokens(30)
    assert reads == 2  # the 5 new transfers in two chunks of 3, nothing before them again
    assert later[-1].earned == 13 and later[-2].earned == first[-1].earned + 11
    assert {d.day: [d.earned, d.spent] for d in later if d.earned} == await _journal_days(ledger, ledger.catalog.days.day(later[0].day))
    assert [d.day for d in later] == [d.day for d in first][1:] + [first[-1].day + DAY]

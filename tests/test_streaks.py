"""/daily in local days (Europe/Istanbul, UTC+3: local midnight is 21:00 UTC), streaks, the
streak bonus line, freezes, and a clock the test moves (forwards and backwards)."""

from __future__ import annotations


import pytest

from economy import AlreadyClaimed, Catalog, FreezeLimit, Ledger
from economy.localdays import LocalDays
from tests.conftest import START

DAY = 86400
#: 2026-11-22 21:00 UTC: local midnight of 2026-11-23 in Istanbul
MIDNIGHT = START + 21 * 3600


def at(day: int, hour_utc: float = 12) -> float:
    """Day `day` after 2026-11-22, at `hour_utc` UTC (15:00 local at 12)."""
    return START + day * DAY + hour_utc * 3600


@pytest.fixture
async def user(ledger):
    await ledger.register(1, first_name="Ayşe")
    return ledger


async def test_local_midnight_opens_the_next_day_and_the_streak_bonus_line(user, clock):
    clock.now = MIDNIGHT - 3600  # 23:00 local, 20:00 UTC
    first = await user.daily(1)
    assert (first.amount, first.streak, first.bonus) == (20, 1, 0)
    assert first.next_at == MIDNIGHT
    clock.now = MIDNIGHT - 1
    with pytest.raises(AlreadyClaimed) as refused:
        await user.daily(1)
    assert refused.value.next_at == MIDNIGHT
    clock.now = MIDNIGHT  # 00:00 local, still 2026-11-22 in UTC
    second = await user.daily(1)
    assert (second.amount, second.streak, second.bonus, second.xp) == (20, 2, 5, 50 + 20 + 20 + 5)
    history = (await user.history(1)).items
    assert [(e.kind, e.ref, e.delta) for e in history[:2]] == [("streak", "streak:2", 5), ("earn", "daily", 20)]
    assert await user.verify() == []


async def test_the_bonus_grows_to_the_cap_and_the_boost_doubles_the_base_only(user, clock):
    got = []
    for day in range(8):
        clock.now = at(day)
        e = await user.daily(1)
        got.append((e.streak, e.amount, e.bonus))
    assert got == [(1, 20, 0), (2, 20, 5), (3, 20, 10), (4, 20, 15), (5, 20, 20), (6, 20, 25), (7, 20, 25),
                   (8, 20, 25)]
    clock.now = at(7, 18)
    await user.convert(1, 10)
    await user.buy(1, "boost")
    clock.now = at(8)
    e = await user.daily(1)
    assert (e.boosted, e.amount, e.bonus, e.streak) == (True, 40, 25, 9)
    assert await user.verify() == []


async def test_a_missed_day_without_a_freeze_starts_over(user, clock):
    for day in (0, 1, 2):
        clock.now = at(day)
        await user.daily(1)
    clock.now = at(4)  # day 3 missed
    e = await user.daily(1)
    assert (e.streak, e.bonus, e.lost, e.freezes_used) == (1, 0, 3, 0)


async def test_a_missed_day_with_a_freeze_is_covered_and_says_so(user, clock):
    await user.convert(1, 20)
    bought = await user.buy(1, "freeze")
    assert (bought.price, bought.tokens, bought.held) == (10, 10, 1)
    for day in (0, 1):
        clock.now = at(day)
        await user.daily(1)
    assert (await user.balance(1)).freezes == 1
    clock.now = at(3)  # day 2 missed
    b = await user.balance(1)
    assert (b.streak, b.claimed_today) == (2, False)  # still alive: the freeze will cover it
    e = await user.daily(1)
    assert (e.streak, e.bonus, e.freezes_used, e.freezes, e.lost) == (3, 10, 1, 0, 0)
    b = await user.balance(1)
    assert (b.streak, b.freezes, b.claimed_today) == (3, 0, True)
    assert (await user.stats()).tokens_spent == 10
    assert await user.verify() == []


async def test_two_missed_days_with_one_freeze_break_the_streak_and_keep_the_freeze(user, clock):
    await user.convert(1, 10)
    await user.buy(1, "freeze")
    for day in (0, 1):
        clock.now = at(day)
        await user.daily(1)
    clock.now = at(4)  # days 2 and 3 missed
    assert (await user.balance(1)).streak == 0
    e = await user.daily(1)
    assert (e.streak, e.freezes_used, e.freezes, e.lost) == (1, 0, 1, 2)


async def test_two_missed_days_with_two_freezes_are_covered(user, clock):
    await user.convert(1, 30)
    await user.buy(1, "freeze")
    await user.buy(1, "freeze")
    with pytest.raises(FreezeLimit):
        await user.buy(1, "freeze")
    assert (await user.balance(1)).tokens == 10
    clock.now = at(0)
    await user.daily(1)
    clock.now = at(3)
    e = await user.daily(1)
    assert (e.streak, e.freezes_used, e.freezes) == (2, 2, 0)
    assert await user.verify() == []


async def test_the_clock_going_backwards_pays_nothing_and_keeps_the_streak(user, clock):
    for day in (0, 1):
        clock.now = at(day)
        await user.daily(1)
    xp = (await user.balance(1)).xp
    for back in (at(1, 6), at(0), at(-3)):  # earlier the same day, the day before, days before
        clock.now = back
        with pytest.raises(AlreadyClaimed) as refused:
            await user.daily(1)
        assert refused.value.next_at == MIDNIGHT + DAY  # after the last claim's day, not before it
    assert (await user.balance(1)).xp == xp
    clock.now = at(2)
    e = await user.daily(1)
    assert (e.streak, e.lost) == (3, 0)
    assert await user.verify() == []


async def test_timezone_setting_moves_the_day(tmp_path, clock):
    utc = Catalog.from_mapping({"TIMEZONE": "UTC"})
    async with await Ledger.open(tmp_path / "utc.db", catalog=utc, clock=clock) as ledger:
        await ledger.register(1)
        clock.now = MIDNIGHT - 3600
        await ledger.daily(1)
        clock.now = MIDNIGHT
        with pytest.raises(AlreadyClaimed) as refused:
            await ledger.daily(1)
        assert refused.value.next_at == START + DAY
    with pytest.raises(ValueError, match="TIMEZONE"):
        Catalog.from_mapping({"TIMEZONE": "Mars/Olympus"})


def test_local_days():
    ist = LocalDays("Europe/Istanbul")
    assert ist.day(MIDNIGHT) == ist.day(MIDNIGHT - 1) + 1 == START // DAY + 1
    assert ist.midnight(ist.day(MIDNIGHT + 5)) == MIDNIGHT
    assert ist.label(MIDNIGHT) == "2026-11-23 00:00 +03"
    santiago = LocalDays("America/Santiago")  # 2025-09-07: 00:00 is skipped (DST), the day starts at 01:00
    start = santiago.midnight(santiago.day(1757217600))
    assert santiago.label(start) == "2025-09-07 01:00 -03" and santiago.day(start - 1) == santiago.day(start) - 1


# -- the switch from UTC days (before v9) to local days --

CLAIMED = MIDNIGHT + 1800  # 01:30 local on 2026-11-23, 21:30 UTC on 2026-11-22 (UTC day START // DAY)


async def _old_claim(db, xp_issuer_sql: str) -> None:  # type: ignore[no-untyped-def]
    """A user who took /daily at CLAIMED under v7 (kept as the UTC day)."""
    await db.execute("INSERT INTO users(user_id, first_name, registered_at) VALUES (1, 'Ayşe', ?)", (START - DAY,))
    await db.execute("INSERT INTO wallets(user_id, xp, xp_credits, last_daily_day, last_transfer, transfers)"
                     " VALUES (1, 20, 20, ?, 1, 1)", (START // DAY,))
    await db.execute("INSERT INTO transfers VALUES (1, ?, 'earn', 'XP', -1, 5, 20, 1, 'daily', NULL, NULL)",
                     (CLAIMED,))
    await db.execute(xp_issuer_sql)


async def _same_local_day_is_refused(where, clock) -> None:  # type: ignore[no-untyped-def]
    clock.now = CLAIMED + 1800  # 02:00 local: the same local day, a later UTC time of the same UTC day
    async with await Ledger.open(where, clock=clock) as ledger:
        with pytest.raises(AlreadyClaimed) as refused:
            await ledger.daily(1)
        assert refused.value.next_at == MIDNIGHT + DAY
        assert (await ledger.balance(1)).xp == 20
        assert await ledger.verify() == []
        clock.now = MIDNIGHT + DAY
        assert (await ledger.daily(1)).streak == 2


async def test_a_claim_kept_as_a_utc_day_before_v9_is_not_paid_again_on_the_switch_day_sqlite(tmp_path, clock):
    from economy.storage import schema_sqlite, sqlite
    path = tmp_path / "v7.db"
    db = await sqlite.connect(path)
    try:
        for step in schema_sqlite.MIGRATIONS[:7]:
            await db.execute("BEGIN IMMEDIATE")
            await step(db)
            await db.execute("COMMIT")
        await db.execute("PRAGMA user_version = 7")
        await _old_claim(db, "UPDATE accounts SET balance = -20, debits = 20 WHERE id = -1")
    finally:
        await db.close()
    await _same_local_day_is_refused(path, clock)


async def test_a_claim_kept_as_a_utc_day_before_v9_is_not_paid_again_on_the_switch_day_postgres(pg_url, clock):
    from economy.storage import postgres, schema_postgres as pg
    db = await postgres.connect(pg_url)
    try:
        await db.execute(pg.SCHEMA_VERSION_TABLE)
        for version in sorted(v for v in pg.MIGRATIONS if v <= 7):
            await pg.MIGRATIONS[version](db)
            await db.execute("INSERT INTO schema_version VALUES (?, 0)", (version,))
        await _old_claim(db, "UPDATE accounts SET balance = -20, debits = 20 WHERE id = -1")
    finally:
        await db.close()
    await _same_local_day_is_refused(pg_url, clock)

"""Issue 21's "done when": a ledger written by the old code at schema v6 (commit 40a8caa: the
sqlite3-on-threads store and the sync psycopg one), opened by this code, is migrated to the
current schema and `python -m economy verify` finds it clean, on SQLite and on PostgreSQL.

The fixtures were written by tests/fixtures/make_v6.py running on the old tree (see its
docstring): tests/fixtures/v6/ledger.db is the SQLite file as the old store closed it,
tests/fixtures/v6/ledger.sql a `pg_dump --no-owner --no-privileges` of the same writes made on
PostgreSQL. The figures below are what the old code read back before the dump (make_v6.py
prints them): after the migration this code must read the same.
"""

from __future__ import annotations

import itertools
import os
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from economy import Ledger, queries
from economy.errors import AlreadyClaimed, QuotaExceeded
from economy.models import IMPORTED, Key
from economy.storage import schema_postgres, schema_sqlite
from tests.conftest import BACKENDS, Clock
from tests.test_cli import cli

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "v6"
#: the fixture's last write (2026-11-07 18:00 UTC); the tests' clock stands a minute later
END = 1_794_074_400
NOW = END + 60
DAY = 86_400
#: the current schema, the same number on both backends
CURRENT = schema_sqlite.VERSION
_databases = itertools.count(1)

ADMIN = 424_242_001
#: user -> (xp, tokens, credit quota, credit used, vip, badge, boost_until, dm_until, content owned),
#: as the old code's `balance` read them at the end (identical on both backends)
BALANCES = {
    424242001: (50, 0, 0, 0, False, False, None, None, ()),
    184467301: (60, 93, 0, 0, True, True, None, None, ('guide.pdf', 'intro-video')),
    200000117: (80, 185, 0, 0, False, False, 1794128512, None, ()),
    301554020: (60, 168, 0, 0, False, False, None, None, ('guide.pdf',)),
    412000333: (60, 235, 0, 0, False, False, None, None, ()),
    5123456789: (60, 210, 0, 0, True, False, None, 1794128512, ()),
    620777401: (80, 175, 0, 0, False, True, None, None, ('intro-video',)),
    731000002: (80, 300, 0, 0, False, False, None, None, ('intro-video',)),
    842110990: (80, 245, 0, 0, False, False, None, None, ('intro-video',)),
    953001555: (60, 95, 0, 0, False, False, None, None, ('intro-video',)),
    1064220006: (80, 75, 0, 0, False, False, None, None, ('intro-video',)),
    1175000077: (60, 507, 50000, 12345, True, True, None, None, ('song_1',)),
    1286303808: (60, 90, 75000, 14845, False, False, None, None, ()),
    1397040909: (80, 90, 125000, 14345, False, False, None, None, ()),
    1408551010: (90, 60, 125000, 0, False, False, None, None, ()),
    1519660111: (90, 60, 150000, 0, False, False, None, None, ()),
    1620770212: (80, 70, 155000, 17345, False, False, None, None, ()),
    1731880313: (110, 60, 0, 0, False, False, None, None, ()),
    1842990414: (90, 60, 0, 0, False, False, None, None, ()),
    6953100515: (80, 70, 0, 0, False, False, None, None, ()),
    7064210616: (70, 60, 0, 0, False, False, None, None, ()),
    8100000001: (30, 38, 0, 0, False, False, None, None, ('guide.pdf',)),
    8100000002: (40, 0, 0, 0, False, False, None, None, ()),
    9000000101: (10, 132, 0, 0, False, False, None, None, ('song_1',)),
    9000000102: (0, 0, 40000, 12550, False, False, None, None, ()),
    9000000103: (0, 40, 8000, 0, False, False, None, None, ()),
}
STATS = {
    "users": 26, "active_users": 25, "credit_users": 8, "xp_issued": 4975, "xp_converted": 3335,
    "xp_outstanding": 1640, "tokens_minted": 3560, "tokens_spent": 442, "tokens_in_circulation": 3118,
    "spent_per_item": {"content": 112, "vip": 75, "boost": 45, "badge": 150, "dm": 60},
    "credit_quota": 728000, "credit_used": 71430,
}
ROWS = {"users": 26, "wallets": 26, "transfers": 260, "entitlements": 11, "content": 3, "idempotency": 77,
        "support_messages": 4, "deliveries": 14, "api_keys": 3, "legacy_imports": 7, "legacy_history": 6,
        "top_spenders": 12}
#: (state, reason) -> how many. The old PostgreSQL schema refused the by-hand refund of a
#: delivery (its v4 CHECK wanted a refund transfer with every refunded delivery), so there the
#: fixture settled that delivery as kept.
DELIVERIES = {
    "sqlite": {("delivered", ""): 9, ("kept", "send_failed_later"): 1, ("kept", "sent_by_admin"): 1,
               ("refunded", "blocked"): 1, ("refunded", "by_hand"): 1, ("refunded", "file_gone"): 1},
    "postgresql": {("delivered", ""): 9, ("kept", "refunded_by_hand"): 1, ("kept", "send_failed_later"): 1,
                   ("kept", "sent_by_admin"): 1, ("refunded", "blocked"): 1, ("refunded", "file_gone"): 1},
}
TOP_SPENDERS = [(184467301, 125), (1175000077, 83), (620777401, 65), (301554020, 42), (5123456789, 40)]
#: open support messages, priority first: (user, priority)
INBOX = [(301554020, True), (1286303808, False), (184467301, False)]
#: the UTC day of each user's last /daily (the old wallets' last_daily_day); 20764 is the last day
LAST_DAILY = {
    184467301: 20764, 200000117: 20763, 301554020: 20764, 412000333: 20764, 620777401: 20763,
    731000002: 20764, 842110990: 20764, 953001555: 20764, 1064220006: 20763, 1175000077: 20764,
    1286303808: 20764, 1397040909: 20764, 1408551010: 20763, 1519660111: 20764, 1620770212: 20764,
    1731880313: 20764, 1842990414: 20763, 5123456789: 20764, 6953100515: 20764, 7064210616: 20761,
}
#: its last /daily was on day 3; on day 6 an admin granted it XP with the reason "daily"
GRANTED_DAILY = 7064210616


# -- the fixtures, loaded the way an operator would have them --

def load_dump(url: str, dump: Path) -> None:
    """Run a plain pg_dump file as psql would: its SQL as it stands, its COPY blocks through
    COPY FROM STDIN, its psql meta-commands (pg_dump's \\restrict/\\unrestrict) left out."""
    import psycopg
    lines = iter(dump.read_text(encoding="utf-8").splitlines(keepends=True))
    with psycopg.connect(url, autocommit=True) as conn:
        sql: list[str] = []
        for line in lines:
            if line.startswith("\\"):
                continue
            if line.startswith("COPY ") and line.rstrip().endswith("FROM stdin;"):
                if "".join(sql).strip():
                    conn.execute("".join(sql))
                sql = []
                with conn.cursor().copy(line.rstrip().removesuffix(";")) as copy:
                    for row in lines:
                        if row.rstrip("\n") == "\\.":
                            break
                        copy.write(row)
                continue
            sql.append(line)
        if "".join(sql).strip():
            conn.execute("".join(sql))


def _pg_database(cluster) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """A new database of the test cluster with the v6 dump loaded (a database, not a schema of
    the shared one: the dump names its objects public.*)."""
    import psycopg
    name = f"v6_{os.getpid()}_{next(_databases)}"
    with psycopg.connect(cluster.url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    try:
        url = cluster.url_for(name)
        load_dump(url, FIXTURES / "ledger.sql")
        yield url
    finally:
        with psycopg.connect(cluster.url, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(params=BACKENDS)
def v6_url(request, tmp_path) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """A v6 ledger written by the old code, not opened by this code yet, once per backend."""
    if request.param == "sqlite":
        path = tmp_path / "economy.db"
        shutil.copyfile(FIXTURES / "ledger.db", path)
        yield f"sqlite:///{path}"
    elif request.param == "postgresql":
        yield from _pg_database(request.getfixturevalue("pg_cluster"))
    else:
        raise ValueError(f"LEDGER_BACKENDS names an unknown backend {request.param!r}")


def backend(url: str) -> str:
    return "sqlite" if url.startswith("sqlite:") else "postgresql"


def raw(url: str, sql: str, params: tuple = ()) -> list[tuple]:
    """Run one statement on the database itself, without the ledger (committed)."""
    if backend(url) == "sqlite":
        db = sqlite3.connect(url.removeprefix("sqlite:///"))
        try:
            with db:
                return db.execute(sql, params).fetchall()
        finally:
            db.close()
    import psycopg
    with psycopg.connect(url, autocommit=True) as conn:
        cur = conn.execute(sql.replace("?", "%s"), params)
        return cur.fetchall() if cur.description else []


def stored_version(url: str) -> int:
    if backend(url) == "sqlite":
        return raw(url, "PRAGMA user_version")[0][0]
    return raw(url, "SELECT MAX(version) FROM schema_version")[0][0]


async def opened(url: str) -> Ledger:
    return await Ledger.open(url, clock=Clock(NOW))


async def rows(ledger: Ledger, sql: str, params: tuple = ()) -> list[tuple]:
    async def query(db):  # type: ignore[no-untyped-def]
        return [tuple(r) for r in (await db.execute(sql, params)).fetchall()]
    return await ledger.store.read(query)


def balance_tuple(b) -> tuple:  # type: ignore[no-untyped-def]
    return (b.xp, b.tokens, b.credit_quota, b.credit_used, b.vip, b.badge, b.boost_until, b.dm_until,
            tuple(b.content))


def stats_dict(s) -> dict:  # type: ignore[no-untyped-def]
    return {k: getattr(s, k) for k in STATS}


# -- the tests --

async def test_migrated_and_clean_with_the_old_figures(v6_url):
    assert stored_version(v6_url) == 6  # the fixture is the old code's, untouched
    assert schema_postgres.VERSION == CURRENT
    ledger = await opened(v6_url)
    try:
        assert await ledger.ready() and await ledger.store.read(queries.schema_version) == CURRENT
        assert await ledger.verify() == []
        assert stats_dict(await ledger.stats()) == STATS
        assert {u: balance_tuple(await ledger.balance(u)) for u in BALANCES} == BALANCES
        for table, n in ROWS.items():
            assert (await rows(ledger, f"SELECT COUNT(*) FROM {table}"))[0][0] == n, table
        states = await rows(ledger, "SELECT state, reason, COUNT(*) FROM deliveries GROUP BY state, reason")
        assert {(s, r): n for s, r, n in states} == DELIVERIES[backend(v6_url)]
        assert [(s.user_id, s.spent) for s in await ledger.top_spenders(5)] == TOP_SPENDERS
        assert [(t.user_id, t.priority) for t in await ledger.inbox()] == INBOX
        # the import's old transactions are still in the user's history, marked as imported
        history = await ledger.history(731000002, per_page=50)
        assert sum(e.kind == IMPORTED for e in history.items) == 3
        # v9 turned each UTC day of a last /daily into the time of that claim
        for user, day in LAST_DAILY.items():
            if user != GRANTED_DAILY:
                assert (await ledger.balance(user)).claimed_today == (day == NOW // DAY), user
        assert (await rows(ledger, "SELECT COUNT(*) FROM wallets WHERE daily_at IS NOT NULL"))[0][0] == len(LAST_DAILY)
    finally:
        await ledger.close()
    assert stored_version(v6_url) == CURRENT
    out = cli("--db", v6_url, "verify")
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.startswith("ok: 26 users, 3560 tokens minted, 3118 in circulation"), out.stdout


async def test_cli_verify_does_not_migrate_a_v6_ledger(v6_url):
    """The CLI's verify only reads: on a ledger the bot has not opened yet it says so and leaves
    the ledger at v6 (the bot's start migrates it)."""
    out = cli("--db", v6_url, "verify")
    assert out.returncode == 2 and "at schema 6, older than this code's" in out.stderr, out.stderr
    assert stored_version(v6_url) == 6


async def test_a_new_bot_writes_on_the_migrated_ledger(v6_url):
    ledger = await opened(v6_url)
    try:
        # The old bot's keys still answer as they did: a result and a refusal, kept for good...
        again = await ledger.grant(184467301, 100, reason="weekly task", actor=ADMIN, key="admin:grant:0")
        assert again.replayed and (again.amount, again.xp) == (100, 190)
        with pytest.raises(QuotaExceeded) as refused:
            await ledger.charge(1175000077, 10_000_000, actor=ADMIN, note="too big", key="admin:charge:big")
        assert refused.value.replayed
        # ...and one of an update of the last day, that has not expired yet.
        [(key, fingerprint)] = await rows(
            ledger, "SELECT key, fingerprint FROM idempotency WHERE key LIKE 'tg:%' AND fingerprint LIKE 'daily|%'"
                    " AND expires_at > ? ORDER BY key LIMIT 1", (NOW,))
        try:
            replay = await ledger.daily(int(fingerprint.split("|")[1]), key=Key(key, ttl=DAY))
        except AlreadyClaimed as exc:
            replay = exc
        assert replay.replayed
        # A claim of the last day stands; a user who did not claim on it may.
        with pytest.raises(AlreadyClaimed):
            await ledger.daily(184467301)
        earned = await ledger.daily(200000117)  # boosted still: doubled, and the streak goes on
        assert (earned.amount, earned.boosted, earned.streak) == (40, True, 2)

        await ledger.register(555_000_001, username="yeni", first_name="Yeni", language="tr")
        await ledger.grant(412000333, 25, reason="weekly task", actor=ADMIN)
        assert (await ledger.convert(412000333, 85)).tokens == 320
        await ledger.buy(412000333, "vip")
        bought = await ledger.buy(412000333, "content", "guide.pdf", deliver=True, worker="bot-new")
        await ledger.claim_delivery(bought.transfer_id, worker="bot-new")
        await ledger.delivered(bought.transfer_id, 9001)
        await ledger.buy(5123456789, "boost")
        await ledger.gift(731000002, 620777401, 10)
        await ledger.raise_quota(555_000_001, 30_000, actor=ADMIN)
        charged = await ledger.charge(1286303808, 5_000, actor=ADMIN, deliver=True, worker="bot-new")
        await ledger.refund_delivery(charged.transfer_id, "blocked")
        await ledger.charge(1397040909, 1_000, actor=ADMIN)
        await ledger.refund(1397040909, 345, actor=ADMIN)
        await ledger.lower_quota(1408551010, 25_000, actor=ADMIN)
        await ledger.support(555_000_001, "Merhaba")
        await ledger.set_active(7064210616, True)
        # the bot tells the gift's recipient (a notice left pending would be reported stuck)
        [(notice,)] = await rows(ledger, "SELECT transfer_id FROM notices WHERE state = 'pending'")
        assert (await ledger.claim_notice(notice, worker="bot-new")).claimed
        await ledger.notice_sent(notice, 9002)

        assert await ledger.verify() == []
        s = stats_dict(await ledger.stats())
        assert s == {
            **STATS, "users": 27, "active_users": 27, "credit_users": 9,
            "xp_issued": 4975 + 40 + 5 + 50 + 25,  # the daily, its streak bonus, the bonus, the grant
            "xp_converted": 3335 + 85, "xp_outstanding": 1640 + 120 - 85,
            "tokens_minted": 3560 + 85, "tokens_spent": 442 + 25 + 12 + 5,
            "tokens_in_circulation": 3118 + 85 - 42,
            "spent_per_item": {"content": 112 + 12, "vip": 75 + 25, "boost": 45 + 5, "badge": 150, "dm": 60},
            "credit_quota": 728000 + 30_000 - 25_000, "credit_used": 71430 + 1_000 - 345,
        }
        assert balance_tuple(await ledger.balance(412000333))[:6] == (0, 283, 0, 0, True, False)
        assert (await ledger.balance(731000002)).tokens == 290
        assert (await ledger.balance(620777401)).tokens == 185
    finally:
        await ledger.close()
    out = cli("--db", v6_url, "verify")
    assert out.returncode == 0 and out.stdout.startswith("ok: 27 users"), out.stdout + out.stderr


async def test_a_delivery_refunded_by_hand_settles_on_the_migrated_ledger(v6_url):
    """A charge whose usage an admin took off by hand, then its delivery refunded: settled as
    refunded with nothing left to reverse (`by_hand`), as on a ledger this code created. On
    PostgreSQL the first store's v4 rule refused it (every refund with its own transfer) until
    v11 replaced the rule."""
    ledger = await opened(v6_url)
    try:
        charged = await ledger.charge(1519660111, 2_000, actor=ADMIN, deliver=True, worker="bot-new")
        await ledger.refund(1519660111, 2_000, actor=ADMIN, note="by hand")
        settled = await ledger.refund_delivery(charged.transfer_id, "send_failed")
        assert (settled.state, settled.reason, settled.refund_id) == ("refunded", "by_hand", None)
        assert await ledger.verify() == []
    finally:
        await ledger.close()


async def test_an_admin_grant_named_daily_is_not_a_claim(v6_url):
    """The old code paid /daily by the wallet's last_daily_day; an admin's grant with the reason
    "daily" was a reward, not a claim. This user claimed last on day 3, so may claim on day 6."""
    ledger = await opened(v6_url)
    try:
        assert not (await ledger.balance(GRANTED_DAILY)).claimed_today
        assert (await ledger.daily(GRANTED_DAILY)).amount == 20
    finally:
        await ledger.close()


async def test_verify_finds_a_balance_changed_in_the_v6_ledger(v6_url):
    """What the tests above rely on: verify on a migrated ledger does look at the old rows."""
    raw(v6_url, "UPDATE wallets SET token = token + 1, token_credits = token_credits + 1 WHERE user_id = ?",
        (731000002,))
    ledger = await opened(v6_url)
    try:
        problems = await ledger.verify()
        assert "TOKEN does not sum to zero: 1" in problems and any("cached 301" in p for p in problems), problems
    finally:
        await ledger.close()
    out = cli("--db", v6_url, "verify")
    assert out.returncode == 1 and "TOKEN does not sum to zero: 1" in out.stdout

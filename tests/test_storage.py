"""The store itself: migrations, constraints in SQL, safe-mode fallback, faults."""

import asyncio
import sqlite3
import subprocess
import sys

import pytest

from economy import AlreadyExists, AlreadyOwned, Ledger, StorageBusy
from economy.storage import schema_postgres, schema_sqlite as schema
from economy.storage.schema import XP, XP_ISSUER, account_id
from economy.storage.sqlite import connect
from economy.errors import Unstorable
from tests.conftest import snapshot


async def test_migrations_from_an_empty_file(tmp_path):
    db = await connect(tmp_path / "m.db")
    try:
        assert await schema.migrate(db) == 0
        assert (await db.execute("PRAGMA user_version")).fetchone()[0] == schema.VERSION
        assert await schema.migrate(db) == schema.VERSION  # nothing left to do
        tables = {r[0] for r in await db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert {"users", "wallets", "accounts", "transfers", "entitlements", "content", "idempotency",
                "support_messages", "top_spenders"} <= tables
    finally:
        await db.close()


async def test_migrates_an_older_file_step_by_step(tmp_path):
    db = await connect(tmp_path / "old.db")
    try:
        await db.execute("BEGIN")
        await schema.MIGRATIONS[0](db)
        await db.execute("PRAGMA user_version = 1")
        await db.execute("COMMIT")
        assert await schema.migrate(db) == 1
        assert (await db.execute("PRAGMA user_version")).fetchone()[0] == schema.VERSION
    finally:
        await db.close()


async def test_refuses_a_newer_file(tmp_path):
    db = await connect(tmp_path / "new.db")
    try:
        await db.execute(f"PRAGMA user_version = {schema.VERSION + 1}")
        with pytest.raises(RuntimeError, match="newer"):
            await schema.migrate(db)
    finally:
        await db.close()


async def test_invariants_are_enforced_by_the_database_too(ledger):
    await ledger.register(1)
    refused = ledger.store.IntegrityError

    async def attempts(db):
        async def refuses(sql, errors=refused):
            try:
                await db.execute(sql)
            except errors:
                return True
            return False

        return [
            await refuses("UPDATE transfers SET amount = 1000"),  # the journal is append-only
            await refuses("DELETE FROM transfers"),
            await refuses("UPDATE wallets SET token = -1, token_debits = token_debits + 1 WHERE user_id = 1"),  # negative
            await refuses("UPDATE wallets SET xp = xp + 5 WHERE user_id = 1"),  # balance must equal credits - debits
            await refuses("UPDATE wallets SET credit_used = 1, credit_used_credits = 1, credit = -1,"  # used past quota
                    " credit_debits = 1 WHERE user_id = 1"),
            await refuses("INSERT INTO idempotency VALUES ('k', 'f', 'r', 0, NULL), ('k', 'f', 'r', 0, NULL)"),  # unique keys
            await refuses("UPDATE wallets SET xp = 'lots' WHERE user_id = 1", (*refused, Exception)),  # integers only
            not await refuses(f"UPDATE accounts SET balance = -10, debits = 10 WHERE id = {XP_ISSUER}"),  # system may
        ]

    assert await ledger.store.in_writer(attempts) == [True] * 8
    assert [e.kind for e in (await ledger.history(1)).items] == ["earn"]


async def test_the_append_only_message_names_the_journal(ledger):
    await ledger.register(1)

    async def update(db):
        try:
            await db.execute("UPDATE transfers SET amount = 1000")
        except ledger.store.IntegrityError as exc:
            return str(exc)

    assert "append-only" in await ledger.store.in_writer(update)


async def test_a_refusal_after_wallet_changes_undoes_only_itself_without_savepoints(ledger):
    await ledger.register(1)
    await ledger.register(2)

    async def change_then_refuse(tx):
        await tx.transfer("earn", "XP", XP_ISSUER, account_id(1, XP), 1000, 1)
        (await tx.wallet(1)).boost_until = 1
        raise AlreadyExists(what="thing", ref="x")

    bad = ledger.store.write(change_then_refuse, None, "bad")
    good = ledger.grant(2, 5)
    results = await asyncio.gather(bad, good, return_exceptions=True)
    assert isinstance(results[0], AlreadyExists) and results[1].xp == 55
    assert ledger.store.safe_batches == 0  # undone in Python, not by a SAVEPOINT
    assert (await ledger.balance(1)).xp == 50 and (await ledger.balance(1)).boost_until is None
    assert (await ledger.history(1)).total == 1
    assert await ledger.verify() == []


async def test_a_request_failing_after_an_sql_write_undoes_only_itself(ledger):
    await ledger.register(1)
    await ledger.register(2)

    async def write_then_refuse(tx):
        await tx.write("INSERT INTO support_messages(user_id, text, priority, created_at) VALUES (1, 'x', 0, 0)")
        await tx.transfer("earn", "XP", XP_ISSUER, account_id(1, XP), 1000, 1)
        raise AlreadyExists(what="thing", ref="x")

    bad = ledger.store.write(write_then_refuse, None, "bad")
    good = ledger.grant(2, 5)
    results = await asyncio.gather(bad, good, return_exceptions=True)
    assert isinstance(results[0], AlreadyExists) and results[1].xp == 55
    assert ledger.store.safe_batches >= 1
    assert (await ledger.balance(1)).xp == 50 and await ledger.inbox() == []
    assert await ledger.verify() == []


async def test_a_write_back_the_database_refuses_fails_only_its_request(ledger):
    await ledger.register(1)
    await ledger.register(2)

    async def overdraw_behind_the_checks(tx):  # a bug: skips transfer()'s check; the CHECK stops it
        w = await tx.wallet(1)
        w.token, w.token_debits = -5, 5
        return "done"

    bad = ledger.store.write(overdraw_behind_the_checks, None, "bad")
    good = ledger.grant(2, 5)
    results = await asyncio.gather(bad, good, return_exceptions=True)
    # refused as a clear refusal of its own, the driver's error kept as its cause
    assert isinstance(results[0], Unstorable) and isinstance(results[0].__cause__, ledger.store.IntegrityError)
    assert results[1].xp == 55
    assert ledger.store.safe_batches >= 1
    assert (await ledger.balance(1)).tokens == 0
    assert await ledger.verify() == []


async def test_lock_held_longer_than_the_wait_is_a_clean_busy(tmp_path):
    ledger = await Ledger.open(tmp_path / "l.db", busy_timeout_ms=50, lock_wait_s=0.3)
    try:
        await ledger.register(1)
        holder = subprocess.Popen(
            [sys.executable, "-c", "import sqlite3,sys,time; db=sqlite3.connect(sys.argv[1], isolation_level=None);"
             " db.execute('BEGIN IMMEDIATE'); print('locked', flush=True); time.sleep(30)", str(tmp_path / "l.db")],
            stdout=subprocess.PIPE, text=True,
        )
        assert holder.stdout.readline().strip() == "locked"
        before = await snapshot(ledger, 1)
        with pytest.raises(StorageBusy) as info:
            await ledger.grant(1, 5)
        assert info.value.reason == "locked"
        assert await snapshot(ledger, 1) == before  # reads still work under the lock (WAL)
        holder.kill()
        holder.wait()
        assert (await ledger.grant(1, 5)).xp == 55  # recovers once the lock is gone
    finally:
        await ledger.close()


async def test_disk_full_refuses_cleanly_and_recovers(tmp_path):
    async with await Ledger.open(tmp_path / "full.db") as ledger:
        await _disk_full(ledger)


async def _disk_full(ledger):
    await ledger.register(1)
    pages = (await ledger.store.in_writer(lambda db: db.execute("PRAGMA page_count"))).fetchone()[0]
    await ledger.store.in_writer(lambda db: db.execute(f"PRAGMA max_page_count = {pages}"))
    before = await snapshot(ledger, 1)
    with pytest.raises(StorageBusy) as info:
        await asyncio.gather(*(ledger.register(u) for u in range(2, 400)))
    assert info.value.reason == "full"
    assert await snapshot(ledger, 1) == before
    await ledger.store.in_writer(lambda db: db.execute("PRAGMA max_page_count = 1073741823"))
    await asyncio.gather(*(ledger.register(u) for u in range(2, 400)))
    assert (await ledger.stats()).users == 399
    assert await ledger.verify() == []


def test_economy_imports_without_aiogram():
    code = (
        "import sys, importlib.abc\n"
        "class Block(importlib.abc.MetaPathFinder):\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('aiogram', 'bot', 'handlers'): raise ImportError(name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "import economy, economy.__main__, economy.storage.postgres, economy.storage.sqlite, economy.copying,"
        " economy.replacing, economy.legacy\n"
        "assert not any(m.split('.')[0] in ('aiogram', 'bot', 'handlers') for m in sys.modules), sys.modules\n"
        "print('ok')\n"
    )
    root = str(__import__("pathlib").Path(__file__).resolve().parents[1])
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr


async def _migrated_to(path, version):
    """A file as the code of schema `version` left it, empty (its own migrations, run here)."""
    db = await connect(path)
    try:
        await db.execute("BEGIN")
        for step in schema.MIGRATIONS[:version]:
            await step(db)
        await db.execute(f"PRAGMA user_version = {version}")
        await db.execute("COMMIT")
    finally:
        await db.close()


async def _v2_file(path):
    """A file as the v2 code left it: two users' accounts, perks, journal and journal index."""
    await _migrated_to(path, 2)
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("BEGIN")
    db.execute("INSERT INTO users(user_id, first_name, registered_at, last_daily_day) VALUES (1, 'Ayşe', 0, 20000),"
               " (2, 'Mehmet', 0, NULL)")
    accounts = {1: (0, 0, 0, 0), 2: (0, 0, 0, 0)}  # user -> (used, xp, token, credit) balances
    journal = [  # kind, asset, debit, credit, amount, user
        ("earn", "XP", -1, 1 * 4 + 1, 50, 1), ("earn", "XP", -1, 2 * 4 + 1, 50, 2),
        ("convert", "XP", 1 * 4 + 1, -2, 50, 1), ("convert", "TOKEN", -3, 1 * 4 + 2, 50, 1),
        ("spend", "TOKEN", 1 * 4 + 2, -11, 25, 1), ("spend", "TOKEN", 1 * 4 + 2, -12, 5, 1),
        ("quota_increase", "CREDIT", -4, 2 * 4 + 3, 100_000, 2), ("file_charge", "CREDIT", 2 * 4 + 3, 2 * 4 + 0, 12_345, 2),
    ]
    moved: dict[int, list[int]] = {}
    for tid, (kind, asset, debit, credit, amount, user) in enumerate(journal, 1):
        db.execute("INSERT INTO transfers VALUES (?, 0, ?, ?, ?, ?, ?, ?, '', NULL)",
                   (tid, kind, asset, debit, credit, amount, user))
        moved.setdefault(debit, [0, 0])[0] += amount
        moved.setdefault(credit, [0, 0])[1] += amount
    for user in accounts:
        for n, (name, asset) in schema.USER_ACCOUNTS.items():
            acc = account_id(user, n)
            d, c = moved.get(acc, (0, 0))
            db.execute("INSERT INTO accounts VALUES (?, ?, ?, ?, ?, ?, ?)", (acc, user, asset, name, c - d, d, c))
    for acc, (d, c) in moved.items():
        if acc < 0:
            db.execute("UPDATE accounts SET balance = ?, debits = ?, credits = ? WHERE id = ?", (c - d, d, c, acc))
    db.execute("INSERT INTO entitlements VALUES (1, 'vip', '', 7, NULL), (1, 'boost', '', 7, 3000000000),"
               " (1, 'content', 'film1', 7, NULL)")
    db.execute("COMMIT")
    db.close()


async def test_a_v2_file_with_data_migrates_to_wallets_and_keeps_every_figure(tmp_path):
    await _v2_file(tmp_path / "v2.db")
    ledger = await Ledger.open(tmp_path / "v2.db")
    try:
        assert await ledger.verify() == []
        one, two = await ledger.balance(1), await ledger.balance(2)
        assert (one.xp, one.tokens, one.vip, one.badge, one.boost_until, one.content) == (
            0, 20, True, False, 3_000_000_000, ("film1",))
        assert (two.xp, two.credit_quota, two.credit_used) == (50, 100_000, 12_345)
        assert [e.kind for e in (await ledger.history(1)).items] == ["spend", "spend", "convert", "convert", "earn"]
        assert [(s.user_id, s.spent, s.vip) for s in await ledger.top_spenders()] == [(1, 30, True)]
        stats = await ledger.stats()
        assert (stats.credit_users, stats.credit_used, stats.tokens_spent) == (1, 12_345, 30)
        with pytest.raises(AlreadyOwned):
            await ledger.buy(1, "vip")
        assert (await ledger.buy(1, "boost")).until == 3_000_000_000 + 24 * 3600  # extends the old perk
        assert (await ledger.daily(2)).amount == 20
        assert await ledger.verify() == []
    finally:
        await ledger.close()
    db = sqlite3.connect(tmp_path / "v2.db")
    assert db.execute("SELECT COUNT(*) FROM accounts WHERE user_id IS NOT NULL").fetchone()[0] == 0
    assert db.execute("SELECT name FROM sqlite_master WHERE name = 'transfers_user'").fetchone() is None


async def test_a_v3_file_with_a_username_held_twice_keeps_it_with_the_latest_registration(tmp_path):
    await _migrated_to(tmp_path / "v3.db", 3)
    db = sqlite3.connect(tmp_path / "v3.db", isolation_level=None)
    db.execute("BEGIN")
    db.execute("INSERT INTO users(user_id, username, first_name, registered_at) VALUES"
               " (1, 'ayse_k', 'Ali', 10), (2, 'ayse_k', 'Ayşe', 20), (3, 'other', 'O', 5)")
    db.execute("INSERT INTO wallets(user_id) VALUES (1), (2), (3)")
    db.execute("COMMIT")
    db.close()
    ledger = await Ledger.open(tmp_path / "v3.db")
    try:
        assert (await ledger.find_user("@ayse_k")).user_id == 2
        assert (await ledger.profile(1)).username is None and (await ledger.profile(3)).username == "other"
        assert await ledger.verify() == []
    finally:
        await ledger.close()


async def test_postgres_migrations_by_a_schema_version_table(pg_url):
    from economy.storage import postgres
    pg = schema_postgres
    db = await postgres.connect(pg_url)
    try:
        assert await pg.migrate(db) == 0
        assert (await db.execute("SELECT MAX(version) FROM schema_version")).fetchone()[0] == pg.VERSION == schema.VERSION
        assert await pg.migrate(db) == pg.VERSION  # nothing left to do
        tables = {r[0] for r in await db.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")}
        assert {"users", "wallets", "accounts", "transfers", "entitlements", "content", "idempotency",
                "support_messages", "top_spenders", "schema_version"} <= tables
        await db.execute("INSERT INTO schema_version VALUES (?, 0)", (pg.VERSION + 1,))
        with pytest.raises(RuntimeError, match="newer"):
            await pg.migrate(db)
    finally:
        await db.close()


async def test_a_postgres_v3_database_with_a_username_held_twice_migrates_to_v4(pg_url):
    from economy.storage import postgres
    pg = schema_postgres
    db = await postgres.connect(pg_url)
    try:
        await db.execute("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)")
        await pg.MIGRATIONS[3](db)
        await db.execute("INSERT INTO schema_version VALUES (3, 0)")
        await db.execute("INSERT INTO users(user_id, username, first_name, registered_at) VALUES"
                         " (1, 'ayse_k', 'Ali', 10), (2, 'ayse_k', 'Ayşe', 20), (3, 'other', 'O', 5)")
        await db.execute("INSERT INTO wallets(user_id) VALUES (1), (2), (3)")
    finally:
        await db.close()
    async with await Ledger.open(pg_url) as ledger:
        assert (await ledger.find_user("@ayse_k")).user_id == 2
        assert (await ledger.profile(1)).username is None and (await ledger.profile(3)).username == "other"
        assert await ledger.verify() == []

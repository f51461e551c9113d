"""The store itself: migrations, constraints in SQL, safe-mode fallback, faults."""

import asyncio
import sqlite3
import subprocess
import sys

import pytest

from economy import AlreadyExists, Ledger, StorageBusy
from economy import schema
from economy.schema import TOKEN, XP, XP_ISSUER, account_id
from tests.conftest import snapshot


def test_migrations_from_an_empty_file(tmp_path):
    db = sqlite3.connect(tmp_path / "m.db", isolation_level=None)
    assert schema.migrate(db) == 0
    assert db.execute("PRAGMA user_version").fetchone()[0] == schema.VERSION
    assert schema.migrate(db) == schema.VERSION  # nothing left to do
    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"users", "accounts", "transfers", "entitlements", "content", "idempotency", "support_messages"} <= tables


def test_migrates_an_older_file_step_by_step(tmp_path):
    db = sqlite3.connect(tmp_path / "old.db", isolation_level=None)
    db.execute("BEGIN")
    schema._run_in_tx(db, schema.MIGRATIONS[0])
    db.execute("PRAGMA user_version = 1")
    db.execute("COMMIT")
    assert schema.migrate(db) == 1
    assert db.execute("PRAGMA user_version").fetchone()[0] == schema.VERSION


def test_refuses_a_newer_file(tmp_path):
    db = sqlite3.connect(tmp_path / "new.db", isolation_level=None)
    db.execute(f"PRAGMA user_version = {schema.VERSION + 1}")
    with pytest.raises(RuntimeError, match="newer"):
        schema.migrate(db)


async def test_invariants_are_enforced_by_sqlite_too(ledger, tmp_path):
    await ledger.register(1)
    await ledger.close()
    db = sqlite3.connect(tmp_path / "economy.db", isolation_level=None)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        db.execute("UPDATE transfers SET amount = 1000")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        db.execute("DELETE FROM transfers")
    with pytest.raises(sqlite3.IntegrityError):  # a user account cannot go negative
        db.execute("UPDATE accounts SET balance = -1, debits = debits + 1 WHERE id = ?", (account_id(1, TOKEN),))
    with pytest.raises(sqlite3.IntegrityError):  # balance must equal credits - debits
        db.execute("UPDATE accounts SET balance = balance + 5 WHERE id = ?", (account_id(1, XP),))
    db.execute("UPDATE accounts SET balance = -10, debits = 10 WHERE id = ?", (XP_ISSUER,))  # system may go negative
    with pytest.raises(sqlite3.IntegrityError):  # STRICT: no text in an integer column
        db.execute("UPDATE accounts SET balance = 'lots' WHERE id = ?", (account_id(1, XP),))


async def test_a_request_failing_after_its_writes_undoes_only_itself(ledger):
    await ledger.register(1)
    await ledger.register(2)

    def write_then_refuse(tx):
        tx.transfer("earn", "XP", XP_ISSUER, account_id(1, XP), 1000, 1)
        raise AlreadyExists(what="thing", ref="x")

    bad = ledger.store.write(write_then_refuse, None, "bad")
    good = ledger.grant(2, 5)
    results = await asyncio.gather(bad, good, return_exceptions=True)
    assert isinstance(results[0], AlreadyExists) and results[1].xp == 55
    assert ledger.store.safe_batches >= 1
    assert (await ledger.balance(1)).xp == 50
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


async def test_disk_full_refuses_cleanly_and_recovers(ledger):
    await ledger.register(1)
    conn = ledger.store._writer
    pages = await conn._execute(lambda: conn._conn.execute("PRAGMA page_count").fetchone()[0])
    await conn._execute(lambda: conn._conn.execute(f"PRAGMA max_page_count = {pages}").fetchone())
    before = await snapshot(ledger, 1)
    with pytest.raises(StorageBusy) as info:
        await asyncio.gather(*(ledger.register(u) for u in range(2, 400)))
    assert info.value.reason == "full"
    assert await snapshot(ledger, 1) == before
    await conn._execute(lambda: conn._conn.execute("PRAGMA max_page_count = 1073741823").fetchone())
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
        "import economy, economy.__main__\n"
        "assert not any(m.split('.')[0] in ('aiogram', 'bot', 'handlers') for m in sys.modules), sys.modules\n"
        "print('ok')\n"
    )
    root = str(__import__("pathlib").Path(__file__).resolve().parents[1])
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr

"""`import-legacy --apply` in chunks that take turns with the bot's writes (issue 20, item 7):
while a large import runs, another process's writes on the same database go through (no
"busy"), and an import cut short — an error after some chunk, or a kill -9 — then run again
ends exactly where an uninterrupted one does, with `verify` clean."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from economy import Ledger, legacy
from economy.errors import StorageBusy
from tests.conftest import new_pg_database
from tests.test_cli import ROOT
from tests.test_legacy import TOKENS_SCHEMA

#: Big enough for 40 chunks; written in one transaction it held the lock ~1 s on SQLite and
#: ~8 s on PostgreSQL on the test machine (past LOCK_WAIT there: refused "busy"; on SQLite the
#: writes could not go between its rows).
BIG = 10_000
#: How long the concurrent writer waits for the lock before it is refused "busy" (the bot's is 30 s).
LOCK_WAIT = 3.0
WRITERS = 20


def big_tokens(path, users: int):  # type: ignore[no-untyped-def]
    """A token engine's tokens.db with `users` users and one old transaction each."""
    db = sqlite3.connect(path)
    db.executescript(TOKENS_SCHEMA)
    db.executemany("INSERT INTO balances(user_id, balance) VALUES (?, ?)",
                   [(str(10_000_000 + i), 1 + i % 97) for i in range(users)])
    db.executemany("INSERT INTO transactions(user_id, type, amount, reason, timestamp) VALUES (?, 'EARN', ?, ?, ?)",
                   [(str(10_000_000 + i), 1 + i % 97, f"old #{i}", f"2025-01-{1 + i % 28:02d} 10:00:00")
                    for i in range(users)])
    db.commit()
    db.close()
    return path


def start_import(url: str, tokens, out_dir) -> subprocess.Popen:  # type: ignore[no-untyped-def]
    """`python -m economy import-legacy --apply` in a process of its own, its output in
    out_dir's out.txt and err.txt."""
    with open(out_dir / "out.txt", "w") as out, open(out_dir / "err.txt", "w") as err:
        return subprocess.Popen([sys.executable, "-m", "economy", "--db", url, "import-legacy", "--tokens",
                                 str(tokens), "--apply"], cwd=ROOT, stdout=out, stderr=err)


@pytest.fixture
def other_url(db_url, request, tmp_path) -> str:  # type: ignore[no-untyped-def]
    """A second, empty database on db_url's backend."""
    if db_url.startswith("sqlite"):
        return f"sqlite:///{tmp_path / 'other.db'}"
    return new_pg_database(request.getfixturevalue("pg_cluster"))


async def state(url: str) -> dict[str, list]:
    """Everything an import writes, without the clock's times."""
    queries = {
        "transfers": "SELECT id, kind, asset, debit_id, credit_id, amount, user_id, ref, actor, user_prev"
                     " FROM transfers ORDER BY id",
        "wallets": "SELECT * FROM wallets ORDER BY user_id",
        "users": "SELECT user_id, username, first_name, active FROM users ORDER BY user_id",
        "accounts": "SELECT id, balance, debits, credits FROM accounts ORDER BY id",
        "legacy_imports": "SELECT source, old_id, user_id FROM legacy_imports ORDER BY source, old_id",
        "legacy_history": "SELECT * FROM legacy_history ORDER BY id",
    }
    async with await Ledger.open(url) as ledger:
        assert await ledger.verify() == []
        async def read(db):  # type: ignore[no-untyped-def]
            return {name: [tuple(r) for r in await db.execute(sql)] for name, sql in queries.items()}

        return await ledger.store.read(read)


async def test_an_apply_takes_turns_with_another_process_writes(tmp_path, db_url):
    tokens = big_tokens(tmp_path / "big.db", BIG)
    async with await Ledger.open(db_url) as ledger:
        for user in range(1, WRITERS + 1):
            await ledger.register(user, first_name=f"writer {user}")
    proc = start_import(db_url, tokens, tmp_path)
    waits: list[float] = []
    refused: list[StorageBusy] = []
    try:
        async with await Ledger.open(db_url, lock_wait_s=LOCK_WAIT, busy_timeout_ms=int(LOCK_WAIT * 1000)) as ledger:
            n = 0
            while proc.poll() is None:
                started = time.perf_counter()
                try:
                    await ledger.grant(1 + n % WRITERS, 1, reason="beside the import", actor=1, key=f"w{n}")
                except StorageBusy as exc:
                    refused.append(exc)
                waits.append(time.perf_counter() - started)
                n += 1
                await asyncio.sleep(0.01)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
    stdout, stderr = (tmp_path / "out.txt").read_text(), (tmp_path / "err.txt").read_text()
    print(f"{len(waits)} writes beside the import: max wait {max(waits) * 1000:.0f} ms,"
          f" mean {sum(waits) / len(waits) * 1000:.0f} ms, refused {len(refused)}")
    assert proc.returncode == 0, stdout + stderr
    assert "sums in the ledger equal the files" in stdout
    assert refused == []

    async def interleaved(db):  # type: ignore[no-untyped-def]
        first, last = (await db.execute("SELECT MIN(id), MAX(id) FROM transfers WHERE kind = 'legacy_open'")).fetchone()
        return (await db.execute("SELECT COUNT(*) FROM transfers WHERE kind = 'earn' AND id BETWEEN ? AND ?",
                                 (first, last))).fetchone()[0]

    async with await Ledger.open(db_url) as ledger:
        assert await ledger.verify() == []
        # the writes went between the import's chunks, not before or after the whole of it
        assert await ledger.store.read(interleaved) > 0
        assert (await ledger.stats()).users == BIG + WRITERS


async def test_an_import_stopped_by_an_error_after_a_chunk_resumes_to_the_same_end(tmp_path, db_url, other_url):
    plan = legacy.make_plan(big_tokens(tmp_path / "t.db", 300), None, None)
    async with await Ledger.open(other_url) as ledger:
        whole = await legacy.apply(ledger, plan, chunk=40)
    assert (whole.users, whole.history, whole.already) == (300, 300, 0)

    class Stop(Exception):
        pass

    def stop_after(k: int):  # type: ignore[no-untyped-def]
        def progress(done: int, total: int) -> None:
            if done == k:
                raise Stop
        return progress

    async with await Ledger.open(db_url) as ledger:
        for k in (3, 6):  # cut short twice: after 120 users, then after 120 more (8 chunks of users, 8 of history)
            with pytest.raises(Stop):
                await legacy.apply(ledger, plan, chunk=40, progress=stop_after(k))
        rest = await legacy.apply(ledger, plan, chunk=40)
        assert (rest.users, rest.already, rest.history) == (60, 240, 300)
        assert await legacy.ledger_sums(ledger, plan) == plan.sums()
    assert await state(db_url) == await state(other_url)


USERS = 2_500  # 10 chunks: the kill comes after the first


async def test_an_import_killed_midway_resumes_to_the_same_end(tmp_path, db_url, other_url):
    tokens = big_tokens(tmp_path / "t.db", USERS)
    assert start_import(other_url, tokens, tmp_path).wait(timeout=120) == 0
    proc = start_import(db_url, tokens, tmp_path)
    deadline = time.monotonic() + 60
    while "chunk" not in (tmp_path / "err.txt").read_text() and proc.poll() is None and time.monotonic() < deadline:
        await asyncio.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    assert proc.wait() == -signal.SIGKILL
    async with await Ledger.open(db_url) as ledger:
        imported = (await ledger.store.read(lambda db: db.execute("SELECT COUNT(*) FROM legacy_imports"))).fetchone()[0]
    assert 0 < imported < USERS  # killed midway, with a part committed
    again = await asyncio.to_thread(subprocess.run, [
        sys.executable, "-m", "economy", "--db", db_url, "import-legacy", "--tokens", str(tokens), "--apply",
    ], check=False, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stdout + again.stderr
    assert f"already imported by an earlier run (left as they are): {imported} users" in again.stdout
    assert "sums in the ledger equal the files" in again.stdout
    assert await state(db_url) == await state(other_url)

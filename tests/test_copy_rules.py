"""`copy` never reports success over what it did not do (issue 20, items 13-15 and the end of 6):
a missing or empty source is refused, `--force` replaces the target whole, a resumed copy
brings every row the source changed since, and an old SQLite file's texts PostgreSQL cannot
store are cleaned and reported."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from economy import Ledger
from economy.apikeys import ApiKeys
from economy.copying import TABLES, copy_ledger
from economy.storage import path_from_url
from tests.test_cli import cli
from tests.test_copy import _figures, _rich
from tests.test_damaged import one_clear_line
from tests.test_read_only import fingerprint, old_tokens_db


async def dump(url: str, *, own_copy: bool = False) -> dict[str, list[tuple]]:
    """Every row of every table the copy moves, in a backend-independent order; `own_copy`:
    leave out the target's one audit row of the copy that made it (the source has none)."""
    async def read(db):  # type: ignore[no-untyped-def]
        out = {}
        for table in TABLES:
            where = " WHERE id < (SELECT MAX(id) FROM audit WHERE action = 'copy')" if own_copy and table == "audit" else ""
            rows = await db.execute(f"SELECT * FROM {table}{where}")
            names = await db.columns(table)  # a column's place may differ between the backends
            out[table] = sorted((tuple(sorted(zip(names, row))) for row in rows), key=repr)
        return out

    async with await Ledger.open(url) as ledger:
        return await ledger.store.read(read)


def test_a_missing_source_is_refused_and_not_created(tmp_path):
    src, dst = tmp_path / "typo" / "src.db", tmp_path / "dst.db"
    done = cli("copy", f"sqlite:///{src}", f"sqlite:///{dst}")
    assert done.returncode == 2
    assert "no database" in one_clear_line(done)
    assert not src.parent.exists() and not dst.exists()


def test_an_empty_source_file_is_refused(tmp_path):
    src, dst = tmp_path / "src.db", tmp_path / "dst.db"
    src.touch()
    done = cli("copy", f"sqlite:///{src}", f"sqlite:///{dst}")
    assert done.returncode == 2 and "holds no ledger" in one_clear_line(done)
    assert src.stat().st_size == 0 and not dst.exists()


async def test_an_empty_ledger_as_source_never_zeroes_a_live_target(tmp_path, db_url):
    src = f"sqlite:///{tmp_path / 'src.db'}"
    async with await Ledger.open(src):
        pass  # a ledger with nothing in it
    await _rich(db_url)
    before = await _figures(db_url)
    done = cli("copy", "--force", src, db_url)
    assert done.returncode == 2 and "nothing to copy" in one_clear_line(done)
    assert await _figures(db_url) == before


async def test_a_postgresql_source_without_a_ledger_is_refused_untouched(tmp_path, pg_url):
    dst = tmp_path / "dst.db"
    done = cli("copy", pg_url, f"sqlite:///{dst}")
    assert done.returncode == 2 and "holds no ledger" in one_clear_line(done)
    assert fingerprint(pg_url) == ([], []) and not dst.exists()


async def test_force_replaces_a_live_target_whole(tmp_path, db_url):
    src = f"sqlite:///{tmp_path / 'src.db'}"
    await _rich(src)
    async with await Ledger.open(db_url) as ledger:  # a live ledger whose transfer ids collide with the source's
        for user in (7, 99, 100):
            await ledger.register(user, username=f"own{user}", first_name="Own")
            await ledger.grant(user, 500, reason="theirs", actor=1)
            await ledger.convert(user, 400)
            await ledger.buy(user, "vip")
        await ApiKeys(ledger.store).create("theirs", "write")
    done = cli("copy", "--force", src, db_url)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "replaced" in done.stdout
    assert cli("--db", db_url, "verify").returncode == 0
    assert await _figures(db_url) == await _figures(src)
    assert await dump(db_url, own_copy=True) == await dump(src)  # nothing of the old target is left


async def test_force_onto_an_older_ledger_replaces_it_at_the_current_schema(tmp_path, db_url):
    from tests.test_read_only import current_version, set_version
    src = f"sqlite:///{tmp_path / 'src.db'}"
    await _rich(src)
    async with await Ledger.open(db_url) as ledger:
        await ledger.register(99)
    set_version(db_url, current_version() - 1)
    done = cli("copy", "--force", src, db_url)
    assert done.returncode == 0, done.stdout + done.stderr
    assert await dump(db_url, own_copy=True) == await dump(src)
    assert cli("--db", db_url, "stats").returncode == 0  # at the current version again


def test_a_target_that_is_not_a_ledger_is_refused_even_forced(tmp_path):
    src = f"sqlite:///{tmp_path / 'src.db'}"
    asyncio.run(_rich(src))
    dst = f"sqlite:///{old_tokens_db(tmp_path / 'tokens.db')}"
    before = fingerprint(dst)
    for args in ((), ("--force",)):
        done = cli("copy", *args, src, dst)
        assert done.returncode == 2 and "not a ledger" in one_clear_line(done)
        assert fingerprint(dst) == before


def test_a_newer_target_is_one_line(tmp_path):
    from tests.test_read_only import current_version, set_version
    src, dst = f"sqlite:///{tmp_path / 'src.db'}", f"sqlite:///{tmp_path / 'dst.db'}"
    asyncio.run(_rich(src))
    asyncio.run(_rich(dst))
    set_version(dst, current_version() + 1)
    before = fingerprint(dst)
    done = cli("copy", "--force", src, dst)
    assert done.returncode == 2 and "newer" in one_clear_line(done)
    assert fingerprint(dst) == before


class Interrupted(Exception):
    pass


class StopAt:
    """A progress stream that stops the copy once a table's first batch is reported."""

    def __init__(self, table: str) -> None:
        self.table = table

    def write(self, text: str) -> int:
        if text.startswith(f"{self.table}: "):
            raise Interrupted(text)
        return len(text)

    def flush(self) -> None:
        pass


async def test_a_resumed_copy_brings_what_changed_on_the_source(tmp_path, db_url):
    src = f"sqlite:///{tmp_path / 'src.db'}"
    await _rich(src)
    async with await Ledger.open(src) as ledger:
        await ledger.support(4, "open ticket")
    with pytest.raises(Interrupted):  # every table but the legacy ones copied, the marker still there
        await copy_ledger(src, db_url, batch=7, progress=StopAt("api_keys"))
    async with await Ledger.open(src) as ledger:  # the source moves on
        keys = ApiKeys(ledger.store)
        await keys.revoke("ops")
        pending = [r[0] for r in await ledger.store.read(
            lambda db: db.execute("SELECT transfer_id FROM deliveries WHERE state = 'pending' ORDER BY transfer_id"))]
        await ledger.delivered(pending[0], 4242)
        await ledger.refund_delivery(pending[1], "blocked")
        await ledger.close_tickets(2)
        await ledger.register(3, username="user4", first_name="Takes 4's name")  # 4 loses it
        await ledger.register(4, username="renamed", first_name="Ü4")
        await ledger.buy(5, "vip")
    done = cli("copy", "--batch", "7", src, db_url)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "(resumed)" in done.stdout
    assert await dump(db_url, own_copy=True) == await dump(src)
    async with await Ledger.open(db_url) as ledger:
        assert (await ApiKeys(ledger.store).list())[0].revoked_at is not None  # the revoked key stays revoked
        assert (await ledger.find_user("user4")).user_id == 3
        assert all(t.user_id != 2 for t in await ledger.inbox())  # user 2's ticket is answered there too
        assert await ledger.verify() == []


async def test_a_row_that_differs_but_counts_and_balances_agree_is_reported(tmp_path, db_url):
    """The check after a copy compares every row, not only balances and row counts."""
    src = f"sqlite:///{tmp_path / 'src.db'}"
    await _rich(src)
    with pytest.raises(Interrupted):
        await copy_ledger(src, db_url, batch=7, progress=StopAt("api_keys"))
    # a journal line of the target rewritten behind the triggers' back (the copy never rewrites the journal)
    if db_url.startswith("sqlite"):
        sql = ("DROP TRIGGER transfers_no_update", "UPDATE transfers SET ref = 'forged' WHERE id = 1")
    else:
        sql = ("ALTER TABLE transfers DISABLE TRIGGER transfers_no_update",
               "UPDATE transfers SET ref = 'forged' WHERE id = 1")
    async with await Ledger.open(db_url) as ledger:
        for statement in sql:
            await ledger.store.in_writer(lambda db, s=statement: db.execute(s))
    done = cli("copy", src, db_url)
    assert done.returncode == 1, done.stdout
    assert "transfers: " in done.stdout and "differ" in done.stdout


def write_raw(path: Path, *statements: str) -> None:
    db = sqlite3.connect(path, isolation_level=None)
    for sql in statements:
        db.execute(sql)
    db.close()


async def test_texts_postgresql_cannot_store_are_cleaned_and_reported(tmp_path, pg_url):
    src_path = tmp_path / "old.db"
    src = f"sqlite:///{src_path}"
    await _rich(src)
    # an old file: a NUL and a lone surrogate (its UTF-8 bytes) in text columns, as no check refused them then
    write_raw(src_path,
              "UPDATE users SET first_name = 'a' || char(0) || 'b' WHERE user_id = 5",
              "UPDATE users SET username = CAST(X'7573EDA080' AS TEXT) WHERE user_id = 6",
              "UPDATE support_messages SET text = CAST(X'68656CEDA080' AS TEXT) || char(0)",
              "UPDATE content SET title = 'Fi' || char(0) || 'lm'")
    done = cli("copy", src, pg_url)
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "users 5 first_name" in out and "users 6 username" in out and "support_messages 1 text" in out
    assert "content 'v1' title" in out
    async with await Ledger.open(pg_url) as ledger:
        assert (await ledger.profile(5)).first_name == "a\ufffdb"
        assert (await ledger.profile(6)).username == "us\ufffd"
        assert (await ledger.content("v1")).title == "Fi\ufffdlm"
        assert await ledger.verify() == []
    again = cli("copy", src, pg_url)  # a copy is refused onto a full target, never a StorageBusy
    assert again.returncode == 2 and "not empty" in one_clear_line(again)


@pytest.mark.parametrize("where", ["src", "dst"])
def test_the_same_database_on_both_sides_is_refused(tmp_path, where):
    url = f"sqlite:///{tmp_path / 'one.db'}"
    asyncio.run(_rich(url))
    before = fingerprint(url)
    done = cli("copy", "--force", url, url if where == "src" else str(path_from_url(url)))
    assert done.returncode == 2 and "same" in one_clear_line(done)
    assert fingerprint(url) == before



async def test_a_replacement_killed_half_way_leaves_the_target_as_it_was(tmp_path, db_url):
    import subprocess
    import sys

    from tests.test_cli import ROOT
    src = f"sqlite:///{tmp_path / 'src.db'}"
    await _rich(src)
    async with await Ledger.open(db_url) as ledger:
        await ledger.register(99, username="mine")
        await ledger.grant(99, 70, reason="theirs", actor=1)
    before = await dump(db_url)
    proc = subprocess.Popen([sys.executable, "-m", "economy", "copy", "--force", "--batch", "3", src, db_url],
                            cwd=ROOT, stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    for line in proc.stderr:  # type: ignore[union-attr]
        if line.startswith("transfers: 30/"):  # half-way through the journal
            proc.kill()
            break
    proc.wait()
    assert proc.returncode != 0
    assert await dump(db_url) == before
    assert cli("--db", db_url, "verify").returncode == 0


def test_an_older_ledger_as_target_is_refused_unforced_and_not_migrated(tmp_path):
    from tests.test_read_only import current_version, set_version
    src, dst = f"sqlite:///{tmp_path / 'src.db'}", f"sqlite:///{tmp_path / 'dst.db'}"
    asyncio.run(_rich(src))
    asyncio.run(_rich(dst))
    set_version(dst, current_version() - 1)
    before = fingerprint(dst)
    done = cli("copy", src, dst)
    assert done.returncode == 2 and "older" in one_clear_line(done) and "--force" in one_clear_line(done)
    assert fingerprint(dst) == before

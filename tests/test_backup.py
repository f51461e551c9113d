"""Backups: `python -m economy backup DEST` while writes go on (a consistent, verified copy, or
nothing at DEST), the bot's own in BACKUP_DIR with rotation, restoring with `copy`, and
PostgreSQL's pg_dump."""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.backups import backup_every, backup_once, newest
from bot.config import Settings, SettingsError
from economy import Ledger
from economy.audit import AuditFilter, AuditLog
from economy.backup import NAME, backup, rotate, stamped
from tests.test_cli import ROOT, cli, tamper

TOKEN = "123456:" + "A" * 35


async def _busy(ledger: Ledger, stop: asyncio.Event, users: int = 20) -> int:
    """Writes until `stop`: grants, conversions and purchases by many callers at once."""
    n = 0
    while not stop.is_set():
        calls = []
        for u in range(1, users + 1):
            calls += [ledger.grant(u, 7), ledger.convert(u, 2)]
        await asyncio.gather(*calls)
        n += len(calls)
    return n


async def _rows(url: str | Path) -> list:
    async with await Ledger.open(url, read_only=True) as ledger:
        return [row async for row in ledger.journal()]


async def test_a_backup_while_writes_go_on_is_consistent_and_verified(tmp_path):
    live = tmp_path / "live.db"
    ledger = await Ledger.open(live)
    try:
        for u in range(1, 21):
            await ledger.register(u)
        stop = asyncio.Event()
        writer = asyncio.create_task(_busy(ledger, stop))
        await asyncio.sleep(0.2)
        made = []
        for i in range(3):  # the operator's CLI, another process, while the bot writes
            done = await asyncio.to_thread(cli, "--db", f"sqlite:///{live}", "backup", str(tmp_path / f"b{i}.db"))
            assert done.returncode == 0, done.stdout + done.stderr
            assert done.stdout.startswith("ok: backup") and "verify: ok" in done.stdout
            made.append(tmp_path / f"b{i}.db")
        stop.set()
        assert await writer > 0
        final = [row async for row in ledger.journal()]
        trail = [e async for e in AuditLog(ledger.store).walk(AuditFilter(actor="cli"))]
    finally:
        await ledger.close()
    sizes = []
    for path in made:
        assert not Path(f"{path}.part").exists()
        copy = await _rows(path)
        sizes.append(len(copy))
        assert copy == final[:len(copy)]  # a snapshot: a prefix of the journal, no half batch
        async with await Ledger.open(path, read_only=True) as b:
            assert await b.verify() == []
        db = sqlite3.connect(path)
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "delete"  # one self-contained file
        db.close()
    assert sizes == sorted(sizes) and sizes[-1] < len(final)  # taken while the journal grew
    assert [e.action for e in trail] == ["backup"] * 3 and str(made[0]) in trail[-1].note


def test_a_backup_that_does_not_verify_is_not_kept(tmp_path):
    live = f"sqlite:///{tmp_path / 'live.db'}"
    assert cli("--db", live, "apikey", "create", "k", "--scope", "read").returncode == 0
    async def seed() -> None:
        async with await Ledger.open(live) as ledger:
            await ledger.register(7)
    asyncio.run(seed())
    tamper(live, "UPDATE wallets SET xp = xp + 1, xp_credits = xp_credits + 1 WHERE user_id = 7")
    dest = tmp_path / "b.db"
    dest.write_bytes(b"the previous backup")
    done = cli("--db", live, "backup", str(dest))
    assert done.returncode == 1 and "does not verify" in done.stderr and done.stderr.count("\n") == 1
    assert dest.read_bytes() == b"the previous backup" and not Path(f"{dest}.part").exists()
    same = cli("--db", live, "backup", str(tmp_path / "live.db"))
    assert same.returncode == 1 and "the ledger itself" in same.stderr
    missing = cli("--db", f"sqlite:///{tmp_path / 'typo.db'}", "backup", str(tmp_path / "x.db"))
    assert missing.returncode == 2 and not (tmp_path / "typo.db").exists()


async def test_the_bots_backups_rotate_keeping_backup_keep(tmp_path):
    folder = tmp_path / "backups"
    folder.mkdir()
    now = time.time()
    old = [stamped(folder, "sqlite:///economy.db", now - days * 86400) for days in (5, 4, 3, 2)]
    for path in old:
        path.write_bytes(b"older")
    (folder / "notes.txt").write_text("not ours")
    async with await Ledger.open(tmp_path / "live.db") as ledger:
        await ledger.register(1)
        made = await backup_once(ledger, f"sqlite:///{tmp_path / 'live.db'}", folder, keep=3)
        assert made is not None
        trail = [e async for e in AuditLog(ledger.store).walk(AuditFilter())]
    left = sorted(p.name for p in folder.iterdir())
    assert left == sorted([old[2].name, old[3].name, made.name, "notes.txt"])
    assert [(e.action, e.via, e.actor) for e in trail] == [("backup", "bot", "backup")]
    assert rotate(folder, 1) == [folder / old[2].name, folder / old[3].name] and newest(folder) is not None


async def test_the_bot_makes_the_first_backup_at_once_and_the_next_an_interval_later(tmp_path):
    folder = tmp_path / "backups"
    stop = asyncio.Event()
    async with await Ledger.open(tmp_path / "live.db") as ledger:
        await ledger.register(1)
        task = asyncio.create_task(backup_every(ledger, f"sqlite:///{tmp_path / 'live.db'}", folder, 0.01, 2, stop))
        deadline = time.monotonic() + 20
        while not [p for p in folder.glob("*") if NAME.fullmatch(p.name)]:
            assert time.monotonic() < deadline, "no backup was made"
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)
        stop.set()
        await asyncio.wait_for(task, 5)
    made = [p for p in folder.iterdir() if NAME.fullmatch(p.name)]
    assert len(made) == 1  # the next one is due 36 s later
    async with await Ledger.open(made[0], read_only=True) as copy:
        assert await copy.verify() == [] and (await copy.stats()).users == 1


def test_restoring_is_copy_from_a_backup(tmp_path, db_url):
    live = f"sqlite:///{tmp_path / 'live.db'}"

    async def before() -> None:
        async with await Ledger.open(live) as ledger:
            await ledger.register(7, first_name="Zeynep")
            await ledger.raise_quota(7, 100_000)
            await ledger.charge(7, 2_500)
    asyncio.run(before())
    assert cli("--db", live, "backup", str(tmp_path / "b.db")).returncode == 0
    kept = json.loads(cli("--db", live, "balance", "7").stdout)

    async def after() -> None:  # what happens after the backup (and is lost with the disk)
        async with await Ledger.open(live) as ledger:
            await ledger.charge(7, 10_000)
    asyncio.run(after())
    # into an empty database (any backend), and over a ledger in use with --force
    fresh = cli("copy", f"sqlite:///{tmp_path / 'b.db'}", db_url)
    assert fresh.returncode == 0, fresh.stdout + fresh.stderr
    assert json.loads(cli("--db", db_url, "balance", "7").stdout) == kept
    over = cli("copy", f"sqlite:///{tmp_path / 'b.db'}", live, "--force")
    assert over.returncode == 0, over.stdout + over.stderr
    assert json.loads(cli("--db", live, "balance", "7").stdout) == kept
    assert cli("--db", live, "verify").returncode == 0
    audit = [json.loads(line) for line in cli("--db", live, "audit").stdout.splitlines()]
    # the restore is audited; the backup's own row was written after the snapshot, in the ledger
    # the restore replaced (as everything after the backup is)
    assert [(a["action"], a["via"]) for a in audit] == [("copy", "cli")]


def test_postgresql_backups_use_pg_dump(tmp_path, pg_url):
    assert cli("--db", pg_url, "apikey", "create", "k", "--scope", "read").returncode == 0
    done = cli("--db", pg_url, "backup", str(tmp_path / "b.dump"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "pg_restore --list" in done.stdout and "verify: ok" in done.stdout
    assert (tmp_path / "b.dump").read_bytes()[:5] == b"PGDMP"
    audit = [json.loads(line) for line in cli("--db", pg_url, "audit", "--actor", "cli").stdout.splitlines()]
    assert [a["action"] for a in audit] == ["backup", "apikey_create"]
    # without pg_dump: one line saying to use it, nothing written
    env = {**os.environ, "PATH": str(tmp_path)}
    bare = subprocess.run([sys.executable, "-m", "economy", "--db", pg_url, "backup", str(tmp_path / "c.dump")],
                          cwd=ROOT, capture_output=True, text=True, env=env, timeout=60, check=False)
    assert bare.returncode == 2 and "pg_dump" in bare.stderr and bare.stderr.count("\n") == 1
    assert not (tmp_path / "c.dump").exists()


@pytest.mark.parametrize("env, problem", [({"BACKUP_EVERY_HOURS": "0"}, "BACKUP_EVERY_HOURS"),
                                          ({"BACKUP_EVERY_HOURS": "1e3"}, "BACKUP_EVERY_HOURS"),
                                          ({"BACKUP_KEEP": "0"}, "BACKUP_KEEP")])
def test_backup_settings_are_checked(env, problem):
    with pytest.raises(SettingsError, match=problem):
        Settings.from_env({"BOT_TOKEN": TOKEN, **env})


def test_backup_settings_default_to_none():
    s = Settings.from_env({"BOT_TOKEN": TOKEN})
    assert (s.backup_dir, s.backup_every_hours, s.backup_keep) == (None, 24.0, 7)
    s = Settings.from_env({"BOT_TOKEN": TOKEN, "BACKUP_DIR": "/var/backups/bot", "BACKUP_EVERY_HOURS": "0.5",
                           "BACKUP_KEEP": "48"})
    assert (str(s.backup_dir), s.backup_every_hours, s.backup_keep) == ("/var/backups/bot", 0.5, 48)


async def test_backup_function_refuses_nothing_there(tmp_path):
    from economy.backup import BackupFailed
    with pytest.raises(BackupFailed):
        await backup(tmp_path / "nothing.db", tmp_path / "b.db")


def test_the_password_reaches_pg_dump_through_the_environment_only():
    from economy.storage.snapshot import without_password as _without_password
    url, env = _without_password("postgresql://bot:s3cr%40t@db.example:5432/economy?sslmode=require")
    assert url == "postgresql://bot@db.example:5432/economy?sslmode=require" and env["PGPASSWORD"] == "s3cr@t"

"""Operator mistakes and damaged files: one clear line, never a traceback, never a new
database where none was asked for (issue 16, item 13)."""

from __future__ import annotations

import asyncio
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import Settings, SettingsError
from economy import Ledger

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "123456:" + "D" * 35


def run(*args: str, env: dict[str, str] | None = None, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True, timeout=30,
                          env={**os.environ, **(env or {})})


def one_clear_line(done: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in done.stderr + done.stdout, done.stderr
    assert done.stderr.strip().count("\n") == 0, done.stderr
    return done.stderr.strip()


def damaged(tmp_path: Path) -> Path:
    """A database with data whose second half of pages got random bytes written over."""
    db = tmp_path / "damaged.db"

    async def fill() -> None:
        async with await Ledger.open(db) as ledger:
            for user in range(1, 200):
                await ledger.register(user, first_name=f"user {user}")
                await ledger.convert(user, 30)
                await ledger.buy(user, "vip")
    asyncio.run(fill())
    pages = db.stat().st_size // 1024
    rng = random.Random(1)
    with open(db, "r+b") as f:
        for page in range(pages // 2, pages, 3):
            f.seek(page * 1024 + rng.randrange(0, 900))
            f.write(rng.randbytes(100))
    return db


def test_verify_reports_damaged_pages_instead_of_crashing(tmp_path):
    db = damaged(tmp_path)
    done = run("-m", "economy", "--db", f"sqlite:///{db}", "verify")
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr and "damaged" in done.stdout, done.stdout


@pytest.mark.parametrize("command", ["verify", "stats", "balance 1"])
def test_a_file_that_is_not_a_database_is_one_line(tmp_path, command):
    db = tmp_path / "economy.db"
    db.write_bytes(b"this is not a database " * 200)
    done = run("-m", "economy", "--db", f"sqlite:///{db}", *command.split())
    if command == "verify":  # the damage is its report
        assert done.returncode == 1 and "damaged" in done.stdout and "Traceback" not in done.stderr
    else:
        assert done.returncode == 2
        assert "damaged" in one_clear_line(done)


def test_the_bot_on_a_file_that_is_not_a_database_says_so_in_one_line(tmp_path):
    db = tmp_path / "economy.db"
    db.write_bytes(b"\x00garbage" * 500)
    done = run(str(ROOT / "main.py"), "--env-file", str(tmp_path / "none.env"), cwd=tmp_path,
               env={"BOT_TOKEN": TOKEN, "DATABASE_URL": f"sqlite:///{db}", "TELEGRAM_API_URL": "http://127.0.0.1:9"})
    assert done.returncode == 2
    line = one_clear_line(done)
    assert "damaged" in line and str(db) in line


@pytest.mark.parametrize("command", ["verify", "stats", "export", "balance 7", "history 7"])
def test_read_only_commands_never_create_a_database(tmp_path, command):
    url = f"sqlite:///{tmp_path}/typo/path.db"
    done = run("-m", "economy", "--db", url, *command.split())
    assert done.returncode == 2
    assert "no database" in one_clear_line(done)
    assert not (tmp_path / "typo").exists()
    done = run("-m", "economy", *command.split(), env={"DATABASE_URL": url})
    assert done.returncode == 2 and not (tmp_path / "typo").exists()


@pytest.mark.parametrize("setting", ["BOOST_HOURS", "DM_HOURS"])
@pytest.mark.parametrize("value", ["300000000", "0", "-1", "24h", "1e3"])
def test_bad_hours_are_a_settings_error(setting, value):
    with pytest.raises(SettingsError, match=setting):
        Settings.from_env({"BOT_TOKEN": TOKEN, setting: value})


def test_bad_hours_are_one_line_and_exit_2_for_the_bot_and_the_cli(tmp_path):
    env = {"BOT_TOKEN": TOKEN, "BOOST_HOURS": "300000000", "DATABASE_URL": f"sqlite:///{tmp_path}/e.db"}
    done = run(str(ROOT / "main.py"), "--env-file", str(tmp_path / "none.env"), env=env, cwd=tmp_path)
    assert done.returncode == 2 and "BOOST_HOURS" in one_clear_line(done)
    done = run("-m", "economy", "demo", env=env)
    assert done.returncode == 0  # demo ignores the settings
    done = run("-m", "economy", "--db", f"sqlite:///{tmp_path}/e.db", "stats", env=env)
    assert done.returncode == 2 and "BOOST_HOURS" in one_clear_line(done)

"""Reading commands and dry runs never write (issue 20, item 12): they open the database read
only, never create or migrate it, and refuse in one line (exit 2) a database that is not a
ledger or is at another schema version, on both backends."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import psycopg
import pytest

from economy.storage import schema_postgres as pg, schema_sqlite as schema
from economy.storage import is_postgres, path_from_url
from tests.test_cli import cli, seeded
from tests.test_damaged import one_clear_line
from tests.test_legacy import legacy_files

READING = ["stats", "verify", "export", "balance 7", "history 7", "apikey list"]


def fingerprint(url: str) -> object:
    """What a read must leave as it was: the file's bytes, size and time, or the PostgreSQL
    schema's tables and recorded versions."""
    if not is_postgres(url):
        path = path_from_url(url)
        if not path.exists():
            return None
        st = path.stat()
        return hashlib.sha256(path.read_bytes()).hexdigest(), st.st_size, st.st_mtime_ns
    with psycopg.connect(url, autocommit=True) as conn:
        tables = sorted(r[0] for r in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"))
        versions = (conn.execute("SELECT version FROM schema_version ORDER BY version").fetchall()
                    if "schema_version" in tables else [])
    return tables, versions


def set_version(url: str, version: int) -> None:
    """Make the ledger at `url` say it is at schema `version` (an older or a newer code's)."""
    if not is_postgres(url):
        db = sqlite3.connect(path_from_url(url), isolation_level=None)
        db.execute(f"PRAGMA user_version = {version}")
        db.close()
        return
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DELETE FROM schema_version WHERE version > %s", (version,))
        if version > pg.VERSION:
            conn.execute("INSERT INTO schema_version VALUES (%s, 0)", (version,))


def current_version() -> int:
    assert pg.VERSION == schema.VERSION
    return schema.VERSION


@pytest.mark.parametrize("command", READING)
def test_reading_commands_leave_a_ledger_as_it_was(db_url, command):
    url = seeded(db_url)
    before = fingerprint(url)
    done = cli("--db", url, *command.split())
    assert done.returncode == 0, done.stderr
    assert fingerprint(url) == before


@pytest.mark.parametrize("command", READING)
def test_an_empty_sqlite_file_is_refused_and_stays_empty(tmp_path, command):
    path = tmp_path / "empty.db"
    path.touch()
    before = fingerprint(f"sqlite:///{path}")
    done = cli("--db", f"sqlite:///{path}", *command.split())
    assert done.returncode == 2
    assert "holds no ledger" in one_clear_line(done)
    assert fingerprint(f"sqlite:///{path}") == before and path.stat().st_size == 0


def old_tokens_db(path: Path) -> Path:
    """The seeds' token engine's file: SQLite, but not a ledger."""
    db = sqlite3.connect(path)
    db.executescript("CREATE TABLE balances (user_id TEXT, balance INTEGER);"
                     "CREATE TABLE transactions (id INTEGER PRIMARY KEY, user_id TEXT, type TEXT, amount INTEGER);"
                     "INSERT INTO balances VALUES ('1', 5);")
    db.close()
    return path


@pytest.mark.parametrize("command", READING)
def test_a_sqlite_file_of_another_application_is_refused_untouched(tmp_path, command):
    url = f"sqlite:///{old_tokens_db(tmp_path / 'tokens.db')}"
    before = fingerprint(url)
    done = cli("--db", url, *command.split())
    assert done.returncode == 2
    line = one_clear_line(done)
    assert "not a ledger" in line and "balances" in line
    assert fingerprint(url) == before


@pytest.mark.parametrize("command", READING)
def test_a_postgresql_database_without_a_ledger_gets_no_tables(pg_url, command):
    done = cli("--db", pg_url, *command.split())
    assert done.returncode == 2
    assert "holds no ledger" in one_clear_line(done)
    assert fingerprint(pg_url) == ([], [])


def test_a_postgresql_schema_of_another_application_is_refused_untouched(pg_url):
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE orders (id int)")
    done = cli("--db", pg_url, "verify")
    assert done.returncode == 2 and "not a ledger" in one_clear_line(done)
    assert fingerprint(pg_url) == (["orders"], [])


@pytest.mark.parametrize("command", ["stats", "verify", "balance 7", "apikey list"])
def test_an_older_ledger_is_not_migrated_by_a_reading_command(db_url, command):
    url = seeded(db_url)
    old = current_version() - 1
    set_version(url, old)
    before = fingerprint(url)
    done = cli("--db", url, *command.split())
    assert done.returncode == 2
    line = one_clear_line(done)
    assert f"schema {old}" in line and "older" in line
    assert fingerprint(url) == before


@pytest.mark.parametrize("command", ["stats", "verify", "export", "apikey list", "apikey create ops --scope read",
                                     "apikey revoke ops"])
def test_a_newer_ledger_is_one_line_never_a_traceback(db_url, command):
    url = seeded(db_url)
    newer = current_version() + 1
    set_version(url, newer)
    before = fingerprint(url)
    done = cli("--db", url, *command.split())
    assert done.returncode == 2
    line = one_clear_line(done)
    assert f"schema {newer}" in line and "newer" in line
    assert fingerprint(url) == before


def test_the_import_dry_run_does_not_create_a_mistyped_database(tmp_path):
    tokens, credits, ids = legacy_files(tmp_path)
    url = f"sqlite:///{tmp_path / 'typo' / 'economy.db'}"
    done = cli("--db", url, "import-legacy", "--tokens", str(tokens), "--credits", str(credits), "--map", str(ids))
    assert done.returncode == 2
    assert "no database" in one_clear_line(done)
    assert not (tmp_path / "typo").exists()


def test_the_import_dry_run_creates_no_tables_in_postgresql(tmp_path, pg_url):
    tokens, credits, ids = legacy_files(tmp_path)
    done = cli("--db", pg_url, "import-legacy", "--tokens", str(tokens), "--credits", str(credits))
    assert done.returncode == 2 and "holds no ledger" in one_clear_line(done)
    assert fingerprint(pg_url) == ([], [])


def test_the_import_dry_run_leaves_an_older_ledger_as_it_was(tmp_path, db_url):
    url = seeded(db_url)
    set_version(url, current_version() - 1)
    before = fingerprint(url)
    tokens, credits, ids = legacy_files(tmp_path)
    done = cli("--db", url, "import-legacy", "--tokens", str(tokens), "--credits", str(credits), "--map", str(ids))
    assert done.returncode == 2 and "older" in one_clear_line(done)
    assert fingerprint(url) == before



def test_the_bot_on_a_newer_ledger_says_so_in_one_line(tmp_path):
    from tests.test_damaged import ROOT, TOKEN, run
    url = seeded(f"sqlite:///{tmp_path / 'economy.db'}")
    set_version(url, current_version() + 1)
    done = run(str(ROOT / "main.py"), "--env-file", str(tmp_path / "none.env"), cwd=tmp_path,
               env={"BOT_TOKEN": TOKEN, "DATABASE_URL": url, "TELEGRAM_API_URL": "http://127.0.0.1:9"})
    assert done.returncode == 2
    assert "newer" in one_clear_line(done)

"""A snapshot of a ledger for a backup, on either backend (economy/backup.py verifies and
keeps it; nothing there knows which backend it has).

SQLite: the online backup API (aiosqlite's `Connection.backup`) from a read-only connection,
in one step, so the copy is the snapshot of one read transaction (in WAL mode the bot's
writers go on meanwhile), then made a standalone file (journal mode DELETE). The copy is a
ledger: the caller opens it read only and verifies it.

PostgreSQL: `pg_dump --format=custom` when it is on PATH (the archive checked with
`pg_restore --list`; the caller verifies the live ledger); without it, one line saying to
use pg_dump. The password reaches pg_dump through PGPASSWORD, never its argv.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

from economy.storage.urls import is_postgres, redact_url, sqlite_path


class SnapshotFailed(Exception):
    """The snapshot could not be made (one line, no password in it)."""


#: what the driver raises when a snapshot or its check fails on the way (a file that cannot be
#: read or written)
DRIVER_ERRORS: tuple[type[BaseException], ...] = (sqlite3.Error,)


@dataclass(frozen=True)
class Snapshot:
    #: what to open read only and verify: the copy itself (SQLite), or the live ledger (PostgreSQL)
    verify_at: str | Path
    #: what was checked of the file itself, for the report ("" when the verify is the check)
    checked: str = ""


PG_DUMP_HINT = ("on PostgreSQL back up with pg_dump: pg_dump --format=custom --file DEST 'postgresql://…'"
                " (restore with pg_restore, or into SQLite with `python -m economy copy`)")


def suffix(where: str | Path) -> str:
    """The file name suffix of a backup of the ledger at `where`."""
    return "dump" if is_postgres(where) else "db"


def source_file(where: str | Path) -> Path | None:
    """The file a SQLite ledger lives in (None on PostgreSQL)."""
    return None if is_postgres(where) else sqlite_path(where)


async def take(where: str | Path, part: Path) -> Snapshot:
    """Write a snapshot of the ledger at `where` into `part` (SnapshotFailed if it cannot be made)."""
    if is_postgres(where):
        return Snapshot(str(where), await _pg_dump(str(where), part))
    src = sqlite_path(where)
    await _sqlite_copy(src, part)
    return Snapshot(part)


async def _sqlite_copy(src: Path, part: Path) -> None:
    import aiosqlite

    source = await aiosqlite.connect(f"{src.resolve().as_uri()}?mode=ro", uri=True, isolation_level=None)
    try:
        target = await aiosqlite.connect(part, isolation_level=None, check_same_thread=False)
        try:
            await source.backup(target, pages=-1)  # the whole file in one step, one read transaction
            await target.execute("PRAGMA journal_mode = DELETE")  # one self-contained file
        finally:
            await target.close()
    finally:
        await source.close()


def without_password(url: str) -> tuple[str, dict[str, str]]:
    """The URL without its password, and the environment that gives it to libpq (not in argv)."""
    parts = urlsplit(url)
    env = dict(os.environ)
    if parts.password is not None:
        env["PGPASSWORD"] = unquote(parts.password)  # the URL's is percent-encoded
        host = parts.netloc.rsplit("@", 1)[1]
        user = parts.username or ""
        parts = parts._replace(netloc=f"{user}@{host}" if user else host)
    return urlunsplit(parts), env


async def _run(argv: list[str], env: dict[str, str] | None, timeout: float) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(*argv, env=env, stdin=asyncio.subprocess.DEVNULL,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout)
    except BaseException:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        raise
    return proc.returncode or 0, out.decode(errors="replace"), err.decode(errors="replace")


async def _pg_dump(url: str, part: Path) -> str:
    dump, restore = shutil.which("pg_dump"), shutil.which("pg_restore")
    if dump is None or restore is None:
        raise SnapshotFailed(PG_DUMP_HINT + "; pg_dump is not on PATH here")
    plain, env = without_password(url)
    code, _, err = await _run([dump, "--format=custom", "--no-owner", "--file", str(part), "--dbname", plain],
                              env, 3600)
    if code != 0:
        raise SnapshotFailed(f"pg_dump failed: {redact_url(err.strip().splitlines()[-1] if err.strip() else '')}")
    code, listing, _ = await _run([restore, "--list", str(part)], None, 600)
    if code != 0:
        raise SnapshotFailed("pg_restore cannot read the archive pg_dump wrote")
    return f"pg_restore --list: {sum(1 for line in listing.splitlines() if line and line[0] != ';')} entries"

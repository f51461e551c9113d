"""Backups while the bot runs: `python -m economy backup DEST`, and the bot's own every
BACKUP_EVERY_HOURS into BACKUP_DIR, keeping the newest BACKUP_KEEP.

SQLite: the online backup API (`sqlite3.Connection.backup`) from a read-only connection, in one
step, so the copy is the snapshot of one read transaction (in WAL mode the bot's writers go on
meanwhile). The copy is written beside DEST, made a standalone file (journal mode DELETE),
opened read only and checked with `verify`; only a copy that verifies is renamed to DEST, so
DEST is never a half-written or inconsistent file. Restoring is `copy` from the backup
(`python -m economy copy sqlite:///backup.db DATABASE_URL --force`, the bot stopped).

PostgreSQL: `pg_dump --format=custom` when it is on PATH (the archive checked with
`pg_restore --list`, the live ledger with `verify`); without it, one line saying to use pg_dump.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import shutil
import sqlite3
import subprocess
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

from economy.store import connect_read_only, is_postgres, redact_url, sqlite_path

log = logging.getLogger(__name__)

#: The bot's own backups: economy-20261204T210000Z.db (or .dump on PostgreSQL); sorted by name = by age.
NAME = re.compile(r"economy-\d{8}T\d{6}Z\.(db|dump)", re.ASCII)


class BackupFailed(Exception):
    """The backup could not be made or did not verify; DEST was left as it was. One line."""


@dataclass(frozen=True)
class Backup:
    path: Path
    size: int
    seconds: float
    #: what was checked, for the report: "verify: ok ..." or the pg_restore listing's size
    checked: str


def _sqlite_copy(src: Path, part: Path) -> None:
    source = connect_read_only(src)
    try:
        target = sqlite3.connect(part, isolation_level=None)
        try:
            source.backup(target)  # pages=-1: the whole file in one step, one read transaction
            target.execute("PRAGMA journal_mode = DELETE")  # one self-contained file
        finally:
            target.close()
    finally:
        source.close()


async def backup_sqlite(src: Path, dest: Path) -> Backup:
    from economy.ledger import Ledger
    from economy.schema import SchemaMismatch

    if not src.is_file():
        raise BackupFailed(f"there is no ledger at {src}")
    dest = dest.resolve()
    if dest == src.resolve():
        raise BackupFailed("the backup cannot be the ledger itself")
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    part.unlink(missing_ok=True)
    started = time.monotonic()
    try:
        await asyncio.to_thread(_sqlite_copy, src, part)
        try:
            copy = await Ledger.open(part, read_only=True)
        except SchemaMismatch as exc:
            raise BackupFailed(f"the copy is not a ledger at this code's schema ({exc})") from None
        try:
            problems = await copy.verify(timed=False)  # the data's invariants: a backup of a stopped bot too
            stats = await copy.stats()
        finally:
            await copy.close()
        if problems:
            raise BackupFailed(f"the copy does not verify: {problems[0]}" + (f" (and {len(problems) - 1} more)"
                                                                              if len(problems) > 1 else ""))
        await asyncio.to_thread(_settle, part, dest)
    except sqlite3.Error as exc:
        raise BackupFailed(f"the backup failed: {exc}") from None
    finally:
        part.unlink(missing_ok=True)
    return Backup(dest, dest.stat().st_size, time.monotonic() - started,
                  f"verify: ok ({stats.users} users, {stats.tokens_minted} tokens minted)")


def _settle(part: Path, dest: Path) -> None:
    """Make the verified copy DEST for good: on disk, then renamed over any older DEST."""
    fd = os.open(part, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(part, dest)
    try:
        fd = os.open(dest.parent, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


PG_DUMP_HINT = ("on PostgreSQL back up with pg_dump: pg_dump --format=custom --file DEST 'postgresql://…'"
                " (restore with pg_restore, or into SQLite with `python -m economy copy`)")


def _without_password(url: str) -> tuple[str, dict[str, str]]:
    """The URL without its password, and the environment that gives it to libpq (not in argv)."""
    parts = urlsplit(url)
    env = dict(os.environ)
    if parts.password is not None:
        env["PGPASSWORD"] = unquote(parts.password)  # the URL's is percent-encoded
        host = parts.netloc.rsplit("@", 1)[1]
        user = parts.username or ""
        parts = parts._replace(netloc=f"{user}@{host}" if user else host)
    return urlunsplit(parts), env


def _pg_dump(url: str, part: Path) -> str:
    dump, restore = shutil.which("pg_dump"), shutil.which("pg_restore")
    if dump is None or restore is None:
        raise BackupFailed(PG_DUMP_HINT + "; pg_dump is not on PATH here")
    plain, env = _without_password(url)
    done = subprocess.run([dump, "--format=custom", "--no-owner", "--file", str(part), "--dbname", plain],
                          env=env, capture_output=True, text=True, timeout=3600, check=False)
    if done.returncode != 0:
        raise BackupFailed(f"pg_dump failed: {redact_url(done.stderr.strip().splitlines()[-1] if done.stderr.strip() else '')}")
    listed = subprocess.run([restore, "--list", str(part)], capture_output=True, text=True, timeout=600, check=False)
    if listed.returncode != 0:
        raise BackupFailed("pg_restore cannot read the archive pg_dump wrote")
    return f"pg_restore --list: {sum(1 for line in listed.stdout.splitlines() if line and line[0] != ';')} entries"


async def backup_pg(url: str, dest: Path) -> Backup:
    from economy.ledger import Ledger

    dest = dest.resolve()
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    started = time.monotonic()
    try:
        checked = await asyncio.to_thread(_pg_dump, url, part)
        async with await Ledger.open(url, read_only=True) as ledger:
            problems = await ledger.verify()
        if problems:
            raise BackupFailed(f"the ledger does not verify: {problems[0]}")
        await asyncio.to_thread(_settle, part, dest)
    finally:
        part.unlink(missing_ok=True)
    return Backup(dest, dest.stat().st_size, time.monotonic() - started, f"{checked}; verify: ok")


async def backup(where: str | Path, dest: Path) -> Backup:
    """Back up the ledger at `where` (a URL or a path) to `dest`, verified (BackupFailed if not)."""
    if isinstance(where, str) and is_postgres(where):
        return await backup_pg(where, dest)
    return await backup_sqlite(sqlite_path(where), dest)


def stamped(folder: Path, postgres: bool, now: float | None = None) -> Path:
    moment = datetime.fromtimestamp(time.time() if now is None else now, UTC)
    return folder / f"economy-{moment:%Y%m%dT%H%M%SZ}.{'dump' if postgres else 'db'}"


def rotate(folder: Path, keep: int, made: Path | None = None) -> list[Path]:
    """Remove the oldest of the bot's own backups in `folder` beyond the newest `keep`; return
    them. `made` (the backup just made) is never removed, even when the clock went back and its
    name sorts before older ones."""
    mine = sorted(p for p in folder.iterdir() if NAME.fullmatch(p.name) and p.is_file() and p != made)
    keep -= made is not None
    gone = mine[:-keep] if keep > 0 else mine
    for path in gone:
        path.unlink(missing_ok=True)
    return gone


__all__ = ["Backup", "BackupFailed", "backup", "redact_url", "rotate", "stamped"]

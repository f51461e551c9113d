"""Backups while the bot runs: `python -m economy backup DEST`, and the bot's own every
BACKUP_EVERY_HOURS into BACKUP_DIR, keeping the newest BACKUP_KEEP.

The snapshot is the store's (economy/storage/snapshot.py): on SQLite the online backup API
from a read-only connection, in one step, so the copy is the snapshot of one read transaction
(in WAL mode the bot's writers go on meanwhile), made a standalone file; on PostgreSQL
`pg_dump --format=custom` when it is on PATH (the archive checked with `pg_restore --list`),
without it one line saying to use pg_dump. The snapshot is written beside DEST and verified
(the copy opened read only, or the live ledger on PostgreSQL); only one that verifies is
renamed to DEST, so DEST is never a half-written or inconsistent file. Restoring is `copy`
from the backup (`python -m economy copy sqlite:///backup.db DATABASE_URL --force`, the bot
stopped).
"""

from __future__ import annotations

import logging
import os
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from economy.storage import redact_url, snapshot
from economy.storage.snapshot import PG_DUMP_HINT

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


async def backup(where: str | Path, dest: Path) -> Backup:
    """Back up the ledger at `where` (a URL or a path) to `dest`, verified (BackupFailed if not)."""
    from economy.ledger import Ledger
    from economy.storage import SchemaMismatch

    src = snapshot.source_file(where)
    if src is not None and not src.is_file():
        raise BackupFailed(f"there is no ledger at {src}")
    dest = dest.resolve()
    if src is not None and dest == src.resolve():
        raise BackupFailed("the backup cannot be the ledger itself")
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    part.unlink(missing_ok=True)
    started = time.monotonic()
    try:
        try:
            taken = await snapshot.take(where, part)
        except snapshot.SnapshotFailed as exc:
            raise BackupFailed(str(exc)) from None
        try:
            copy = await Ledger.open(taken.verify_at, read_only=True)
        except SchemaMismatch as exc:
            raise BackupFailed(f"the copy is not a ledger at this code's schema ({exc})") from None
        try:
            problems = await copy.verify(timed=False)  # the data's invariants: a backup of a stopped bot too
            stats = await copy.stats()
        finally:
            await copy.close()
        if problems:
            what = "the copy" if taken.verify_at == part else "the ledger"
            raise BackupFailed(f"{what} does not verify: {problems[0]}" + (f" (and {len(problems) - 1} more)"
                                                                          if len(problems) > 1 else ""))
        _settle(part, dest)
    except snapshot.DRIVER_ERRORS as exc:
        raise BackupFailed(f"the backup failed: {exc}") from None
    finally:
        part.unlink(missing_ok=True)
    verified = f"verify: ok ({stats.users} users, {stats.tokens_minted} tokens minted)"
    return Backup(dest, dest.stat().st_size, time.monotonic() - started,
                  f"{taken.checked}; {verified}" if taken.checked else verified)


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


def stamped(folder: Path, where: str | Path, now: float | None = None) -> Path:
    """The name of the bot's own backup of the ledger at `where`, made at `now`."""
    moment = datetime.fromtimestamp(time.time() if now is None else now, UTC)
    return folder / f"economy-{moment:%Y%m%dT%H%M%SZ}.{snapshot.suffix(where)}"


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


__all__ = ["PG_DUMP_HINT", "Backup", "BackupFailed", "backup", "redact_url", "rotate", "stamped"]

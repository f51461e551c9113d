"""The bot's own backups (BACKUP_DIR, BACKUP_EVERY_HOURS, BACKUP_KEEP): a background task that
backs the ledger up (economy/backup.py: verified before it counts), records it in the audit
trail, and removes the oldest beyond BACKUP_KEEP. The next one is due an interval after the
newest in the folder, so a restart neither skips one nor makes one too many."""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime
from pathlib import Path

from economy import Ledger
from economy.audit import Actor, AuditLog
from economy.backup import NAME, BackupFailed, backup, rotate, stamped

log = logging.getLogger("bot.backups")
BOT = Actor("bot", "backup")


def newest(folder: Path, now: float | None = None) -> float | None:
    """When the newest of the bot's backups in `folder` was made (from its name), or None. A
    name that is no real time, or one stamped in the future (a clock put right, a folder from
    another host), is passed over: never a reason to wait for years."""
    if not folder.is_dir():
        return None
    made = []
    for path in folder.iterdir():
        if NAME.fullmatch(path.name):
            try:
                stamp = datetime.strptime(path.name.split("-", 1)[1].split(".")[0], "%Y%m%dT%H%M%SZ")
            except ValueError:
                continue
            made.append(stamp.replace(tzinfo=UTC).timestamp())
    now = time.time() if now is None else now
    made = [stamp for stamp in made if stamp <= now + 60]  # stamped in the future: not this clock's
    return max(made) if made else None


async def backup_once(ledger: Ledger, where: str, folder: Path, keep: int) -> Path | None:
    """One backup now, audited, then the rotation; None (and one log line) if it failed."""
    dest = stamped(folder, where)
    try:
        made = await backup(where, dest)
    except (BackupFailed, OSError) as exc:
        log.error("backup to %s failed: %s", dest, exc)
        return None
    await AuditLog(ledger.store).add(BOT, "backup", amount=made.size, unit="bytes", note=f"{made.path}: {made.checked}")
    gone = rotate(folder, keep, made.path)
    log.info("backup %s made in %.1f s (%d bytes, %s)%s", made.path, made.seconds, made.size, made.checked,
             f"; removed {', '.join(p.name for p in gone)}" if gone else "")
    return made.path


async def backup_every(ledger: Ledger, where: str, folder: Path, hours: float, keep: int,
                       stop: asyncio.Event) -> None:
    every = hours * 3600
    try:
        folder.mkdir(parents=True, exist_ok=True)
        await _backups(ledger, where, folder, every, keep, stop)
    except Exception:  # never silently: the operator must know backups stopped
        log.exception("the bot's backups stopped")
        raise
    finally:
        if not stop.is_set():
            log.error("the bot's backups stopped before the bot did")


async def _backups(ledger: Ledger, where: str, folder: Path, every: float, keep: int, stop: asyncio.Event) -> None:
    while not stop.is_set():
        try:
            last = newest(folder)
        except OSError as exc:  # the folder went away: one line, and try again later
            log.error("cannot read %s: %s", folder, exc)
            last = time.time() - every + min(every, 600)
        wait = 0.0 if last is None else max(0.0, last + every - time.time())
        try:
            await asyncio.wait_for(stop.wait(), timeout=wait)
            return
        except TimeoutError:
            pass
        try:
            made = await backup_once(ledger, where, folder, keep)
        except Exception:
            log.exception("backup failed")
            made = None
        if made is None:  # try again after a while, not in a loop
            try:
                await asyncio.wait_for(stop.wait(), timeout=min(every, 600))
                return
            except TimeoutError:
                pass

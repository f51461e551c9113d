"""Hostile review 2: backups (issue 22 item 5)."""

from __future__ import annotations

import sqlite3

import pytest

from bot.backups import backup_once
from economy import Ledger
from economy.backup import BackupFailed, backup
from economy.models import Reminder
from tests.conftest import START


async def _ledger_with_a_crashed_reminder(path):  # type: ignore[no-untyped-def]
    clock = lambda: START + 12 * 3600  # noqa: E731
    ledger = await Ledger.open(path, clock=clock)
    await ledger.register(1)
    # the bot recorded a reminder, then was killed before Telegram answered (the documented crash)
    r = await ledger.claim_reminder(Reminder("boost", 1, START + 13 * 3600, START + 13 * 3600, "en"), "w1")
    assert r.claimed
    return ledger


async def test_a_backup_is_refused_after_a_crash_left_a_reminder_pending(tmp_path):
    """The operator stops the crashed bot and backs up first: the copy is a faithful ledger,
    every money invariant holds, but verify's operational note ("reminder pending since ...:
    is the bot running?") makes the backup fail, DEST is not written, exit code != 0."""
    ledger = await _ledger_with_a_crashed_reminder(tmp_path / "live.db")
    await ledger.close()
    dest = tmp_path / "b.db"
    try:
        await backup(str(tmp_path / "live.db"), dest)
    except BackupFailed as exc:
        pytest.fail(f"backup refused for an operational note, not a broken copy: {exc}")
    assert dest.is_file()


async def test_rotation_after_the_clock_went_back_removes_the_backup_just_made(tmp_path):
    """BACKUP_DIR holds backups stamped later than now (the host clock was corrected back, or a
    restored folder): the new backup sorts oldest and rotate() deletes it at once, while the
    audit trail and backup_once's return value say it was made."""
    live = tmp_path / "live.db"
    ledger = await Ledger.open(live)
    await ledger.register(1)
    folder = tmp_path / "backups"
    folder.mkdir()
    for stamp in ("20991231T000000Z", "20991231T010000Z"):
        con = sqlite3.connect(folder / f"economy-{stamp}.db")
        con.close()
    made = await backup_once(ledger, str(live), folder, keep=2)
    await ledger.close()
    assert made is not None
    assert made.is_file(), f"{made.name} was made, audited, and deleted by its own rotation: {sorted(p.name for p in folder.iterdir())}"


async def _first_backup_within(tmp_path, stray: str, seconds: float = 8.0):  # type: ignore[no-untyped-def]
    import asyncio
    import time

    from bot.backups import backup_every
    from economy.backup import NAME
    folder = tmp_path / "backups"
    folder.mkdir()
    (folder / stray).write_bytes(b"")
    stop = asyncio.Event()
    ledger = await Ledger.open(tmp_path / "live.db")
    await ledger.register(1)
    task = asyncio.create_task(backup_every(ledger, f"sqlite:///{tmp_path / 'live.db'}", folder, 0.01, 5, stop))
    deadline = time.monotonic() + seconds
    made: list = []
    while time.monotonic() < deadline and not task.done():
        made = [p for p in folder.iterdir() if NAME.fullmatch(p.name) and p.name != stray]
        if made:
            break
        await asyncio.sleep(0.1)
    stop.set()
    crashed = task.exception() if task.done() else None
    if not task.done():
        await asyncio.wait_for(task, 5)
    await ledger.close()
    return made, crashed


async def test_one_future_stamped_file_stops_the_bots_backups(tmp_path):
    """BACKUP_EVERY_HOURS=0.01 (36 s): with a backup named for 2099 in the folder (a clock
    corrected back, a folder restored from another host) the next backup is due in 2099."""
    made, crashed = await _first_backup_within(tmp_path, "economy-20991231T000000Z.db")
    assert made, f"no backup made; the loop waits for the stray file's date (crashed: {crashed!r})"


async def test_a_file_that_matches_the_pattern_but_is_no_date_kills_the_backup_task(tmp_path):
    made, crashed = await _first_backup_within(tmp_path, "economy-20261399T999999Z.db")
    assert crashed is None and made, f"the backup task died: {crashed!r}"

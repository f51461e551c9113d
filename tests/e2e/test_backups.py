"""`python main.py` with BACKUP_DIR backs its ledger up by itself (SQLite: a verified file; on
PostgreSQL pg_dump's archive) while it answers updates, keeps BACKUP_KEEP, and audits it."""

from __future__ import annotations

import asyncio
import json
import time

from economy.backup import NAME, stamped
from tests.e2e.emulator import BotProcess
from tests.e2e.test_e2e import NEW, ask, cli


async def test_the_bot_makes_its_backups_and_keeps_backup_keep(emu, tmp_path, e2e_db):
    folder = tmp_path / "backups"
    folder.mkdir()
    old = [stamped(folder, e2e_db, time.time() - days * 86400) for days in (3, 2)]
    for path in old:
        path.write_bytes(b"older")
    proc = BotProcess(emu.url, e2e_db, "9000", tmp_path / "bot.log", BACKUP_DIR=str(folder), BACKUP_KEEP="2")
    await proc.start()
    try:
        await ask(emu, NEW, "/start", "50")  # it answers meanwhile
        deadline = time.monotonic() + 60
        while not [p for p in folder.iterdir() if NAME.fullmatch(p.name) and p not in old]:
            assert time.monotonic() < deadline, proc.text()[-3000:]
            assert proc.proc is not None and proc.proc.returncode is None, proc.text()[-3000:]
            await asyncio.sleep(0.2)
        await asyncio.sleep(0.5)
        assert await proc.terminate() == 0
    finally:
        if proc.proc is not None and proc.proc.returncode is None:
            await proc.kill()
    kept = sorted(p.name for p in folder.iterdir())
    assert len(kept) == 2 and kept[0] == old[1].name and kept[0] != kept[1]  # the oldest removed
    new = folder / kept[1]
    if e2e_db.startswith("postgresql"):
        assert new.read_bytes()[:5] == b"PGDMP"
    else:
        assert cli(f"sqlite:///{new}", "verify").returncode == 0
    audit = [json.loads(line) for line in cli(e2e_db, "audit").stdout.splitlines()]
    assert [(a["action"], a["via"], a["actor"]) for a in audit] == [("backup", "bot", "backup")]
    assert "backup " in proc.text() and "made in" in proc.text()

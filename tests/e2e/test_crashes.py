"""kill -9 of the real bot at random moments under a mixed load (convert, buy, daily, admin
charges). After every restart nothing is lost and nothing is applied twice: in the end every
update the emulator handed out was applied exactly once and `python -m economy verify` passes.
More rounds: CRASH_ROUNDS=200 python -m pytest tests/e2e/test_crashes.py"""

from __future__ import annotations

import csv
import io
import os
import random

from bot.fake import Person
from tests.e2e.emulator import BotProcess
from tests.e2e.test_e2e import ADMIN, ask, cli, drain_and_verify

ROUNDS = int(os.environ.get("CRASH_ROUNDS", "20"))
USERS = [Person(7000 + i, f"C{i}", None, "en") for i in range(8)]


NO_THROTTLE = {"THROTTLE_BURST": "1000000", "THROTTLE_PER_MINUTE": "1000000"}


async def test_random_kill_9_under_mixed_load(emu, bot, tmp_path, e2e_db):
    # a flood from one user is throttled on purpose; here every update must be applied
    await bot.terminate()
    bot = BotProcess(emu.url, e2e_db, "9000", tmp_path / "bot.log", **NO_THROTTLE)
    await bot.start()
    rng = random.Random(int(os.environ.get("CRASH_SEED", "20261124")))
    for who in USERS:
        await ask(emu, who, "/start", "50 XP")
        await ask(emu, ADMIN, f"/grant {who.id} 950", "Granted")
        await ask(emu, who, "/convert 500", "500 tokens")
        await ask(emu, ADMIN, f"/quota {who.id} 1000", "available")
    await emu.idle()
    pushed = {"convert": 0, "buy": 0, "daily": 0, "charge": 0}
    proc = bot
    kills = 0
    # On PostgreSQL half the rounds by default: every round is a restart (~3.5 s of imports).
    rounds = ROUNDS if e2e_db.startswith("sqlite") else max(1, ROUNDS // 2)
    for _ in range(rounds):
        mark = len(emu.telegram.sent)
        for _ in range(rng.randint(10, 40)):
            who = rng.choice(USERS)
            kind = rng.choice(list(pushed))
            pushed[kind] += 1
            if kind == "convert":
                emu.say(who, "/convert 5")
            elif kind == "buy":
                emu.say(who, "/buy boost")
            elif kind == "daily":
                emu.say(who, "/daily")
            else:
                emu.upload(ADMIN, f"/charge {who.id} 1,25 crash-test")
        seen = rng.randint(0, 30)
        await emu.wait(lambda: len(emu.telegram.sent) - mark >= seen or not emu.pending, 30, "progress")
        await proc.kill()
        kills += 1
        proc = BotProcess(emu.url, e2e_db, "9000", tmp_path / "bot.log", **NO_THROTTLE)
        await proc.start()
    db = e2e_db
    stats = await drain_and_verify(emu, proc, db, idle=120)
    assert kills == rounds
    assert stats["spent_per_item"]["boost"] == 5 * pushed["buy"], (pushed, stats)
    assert stats["xp_converted"] == 500 * len(USERS) + 5 * pushed["convert"], (pushed, stats)
    kurus = pushed["charge"] * 125  # each charge is 1,25 TL
    assert stats["credit_used"] == f"{kurus // 100}.{kurus % 100:02d}", (pushed, stats)
    journal = list(csv.DictReader(io.StringIO(cli(db, "export").stdout)))
    dailies = [row for row in journal if row["kind"] == "earn" and row["ref"] == "daily"]
    assert len(dailies) == len({row["user_id"] for row in dailies})  # at most one daily per user

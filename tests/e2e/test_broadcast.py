"""A broadcast through the real `python main.py` and the Bot API emulator, killed with
`kill -9` twice while it sends (a 429 and blocked users on the way): after the restarts it
finishes, nobody got it twice, whoever was being sent to at a kill is counted `unknown`, the
counts add up, and who blocked the bot is marked inactive."""

from __future__ import annotations

import asyncio
from collections import Counter

from economy import Ledger
from economy.broadcasts import Broadcasts
from tests.e2e.emulator import BotProcess
from tests.e2e.test_e2e import ADMIN, ask

RECIPIENTS = 400
FIRST = 100_001
TEXT = "Crash-proof news"


async def populate(db: str, ids: range) -> None:
    """Registered users (through the ledger, as /start would), before the bot starts."""
    async with await Ledger.open(db) as ledger:
        for start in range(0, len(ids), 2000):
            await asyncio.gather(*(ledger.register(i, first_name=f"R{i}", language="en")
                                   for i in ids[start:start + 2000]))


async def test_broadcast_survives_kill_9(emu, bot, tmp_path, e2e_db) -> None:
    await bot.terminate()
    ids = range(FIRST, FIRST + RECIPIENTS)
    await populate(e2e_db, ids)
    blocked = set(ids[::50])
    emu.telegram.blocked.update(blocked)
    env = {"BROADCAST_RATE": "150", "THROTTLE_BURST": "1000000", "THROTTLE_PER_MINUTE": "1000000"}

    def process() -> BotProcess:
        return BotProcess(emu.url, e2e_db, "9000", tmp_path / "bot.log", **env)

    proc = process()
    await proc.start()
    await ask(emu, ADMIN, "/start")
    mark = len(emu.telegram.sent)
    emu.say(ADMIN, f"/broadcast all {TEXT}")
    preview = await emu.reply(ADMIN.id, mark, "recipients", timeout=60)
    assert f"{RECIPIENTS + 1} recipients" in preview.text  # and the admin
    emu.faults["sendMessage"] = [("retry_after", 1)]  # the first send draws a 429
    emu.tap(ADMIN, preview, next(d for t, d in preview.buttons() if "Send" in t))

    def got() -> list[int]:
        return [s.chat_id for s in emu.telegram.sent if s.method == "sendMessage" and s.text == TEXT
                and s.chat_id != ADMIN.id]

    for at in (60, 200):  # kill -9 twice while it sends, restart each time
        await emu.wait(lambda at=at: len(got()) >= at, 60, f"{at} sent")
        await proc.kill()
        proc = process()
        await proc.start()
    summary = await emu.wait(lambda: next((s for s in emu.telegram.sent[mark:] if s.chat_id == ADMIN.id
                                           and "finished" in s.text), None), 90, "the summary")
    assert await proc.terminate() == 0

    counts = Counter(got())
    assert not [c for c, n in counts.items() if n > 1], "somebody got the broadcast twice"
    async with await Ledger.open(e2e_db) as ledger:
        b = await Broadcasts(ledger).get(1)
        states = {uid: await Broadcasts(ledger).sent_to(1, uid) for uid in ids}
        inactive = [uid for uid in blocked if not (await ledger.profile(uid)).active]
    c = b.counts
    assert b.state == "done" and b.total == RECIPIENTS + 1
    assert c["pending"] == c["sending"] == 0
    assert c["sent"] + c["blocked"] + c["failed"] + c["unknown"] == b.total
    assert c["blocked"] == len(blocked) and sorted(inactive) == sorted(blocked)
    assert 1 <= c["unknown"] <= 2 * 8  # the sends under way at each kill, at most the runner's 8 each
    received = set(counts)
    recorded_sent = {uid for uid, (state, _) in states.items() if state == "sent"}
    unknown = {uid for uid, (state, _) in states.items() if state == "unknown"}
    assert recorded_sent <= received  # every recorded send arrived
    assert received - recorded_sent <= unknown  # what arrived unrecorded was under way at a kill
    assert not received & blocked
    assert f"reached {c['sent']}" in summary.text and f"unknown {c['unknown']}" in summary.text

"""A reminder is never sent twice across `kill -9` of the real bot: one killed while Telegram
had not answered its send (recorded first, so nobody sends it again), one killed after it was
sent (the restarted bot finds it recorded). Real time: a boost of one hour is due at once."""

from __future__ import annotations

import asyncio
import time

from bot.fake import Person
from economy import Catalog, Ledger
from tests.e2e.emulator import BotProcess
from tests.e2e.test_e2e import ask, cli

HUNG = Person(7101, "Hung", None, "en")
SENT = Person(7102, "Sent", None, "en")
FAST = {"REMINDER_EVERY": "1", "BOOST_HOURS": "1"}


def reminders_to(emu, who) -> list[str]:  # type: ignore[no-untyped-def]
    return [s.text for s in emu.telegram.sent if s.chat_id == who.id and "/notify off" in s.text]


async def _boost(db: str, who: Person) -> None:
    """The member buys a one-hour boost (through the ledger, beside the bot: no reply to send),
    so its reminder is due at once."""
    async with await Ledger.open(db, catalog=Catalog.from_mapping({"BOOST_HOURS": "1"})) as ledger:
        await ledger.convert(who.id, 50)
        await ledger.buy(who.id, "boost")


async def _state(db: str, who: Person, wanted: str, timeout: float = 20) -> None:
    """Wait until the member's one reminder is recorded in state `wanted`."""
    deadline = time.monotonic() + timeout
    found: list = []
    async with await Ledger.open(db) as ledger:
        while time.monotonic() < deadline:
            found = await ledger.reminders(who.id)
            if [r.state for r in found] == [wanted]:
                return
            await asyncio.sleep(0.1)
    raise AssertionError(f"reminders of {who.id}: {found}, not one {wanted}")


async def test_a_reminder_is_not_sent_twice_across_kill_9(emu, bot, tmp_path, e2e_db):
    await bot.terminate()
    procs: list[BotProcess] = []

    async def start() -> BotProcess:
        proc = BotProcess(emu.url, e2e_db, "9000", tmp_path / "bot.log", **FAST)
        procs.append(proc)
        await proc.start()
        return proc

    try:
        await _journey(emu, e2e_db, start)
    finally:  # a failed assertion leaves no bot running
        for proc in procs:
            if proc.proc is not None and proc.proc.returncode is None:
                await proc.kill()


async def _journey(emu, e2e_db, start) -> None:  # type: ignore[no-untyped-def]
    proc = await start()
    for who in (HUNG, SENT):
        await ask(emu, who, "/start", "50 XP")
    # killed during the send: Telegram never answers, the record stays pending
    emu.faults["sendMessage"] = ["hang"]
    await _boost(e2e_db, HUNG)
    await _state(e2e_db, HUNG, "pending")
    await asyncio.sleep(0.3)  # the send is under way (it hangs)
    await proc.kill()
    assert not emu.faults["sendMessage"]
    proc = await start()
    # killed after a send and its record
    await _boost(e2e_db, SENT)
    await emu.wait(lambda: reminders_to(emu, SENT), 30, "the reminder")
    await _state(e2e_db, SENT, "sent")
    await proc.kill()
    proc = await start()
    await ask(emu, SENT, "/balance", "Tokens")  # the restarted bot is up, and its scheduler looked
    await asyncio.sleep(3)  # three more looks
    assert reminders_to(emu, HUNG) == []
    assert len(reminders_to(emu, SENT)) == 1
    await _state(e2e_db, HUNG, "pending", timeout=0.5)  # lost once its lease runs out, never resent
    assert await proc.terminate() == 0
    verify = cli(e2e_db, "verify")
    assert verify.returncode == 0, verify.stdout

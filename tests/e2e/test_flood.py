"""One chat's flood limit (429 with retry_after) holds that chat's replies only: other chats
are answered meanwhile, and everything is still confirmed once, after it is done (issue 16,
item 5)."""

from __future__ import annotations

import json
import time

import pytest

from bot.fake import Person
from tests.e2e.test_e2e import ask, cli

# A fault of the Bot API, not of the ledger: one backend is enough.
pytestmark = pytest.mark.parametrize("e2e_db", ["sqlite"], indirect=True)

FLOODED = Person(1401, "Flood", "flood", "en")
OTHER = Person(1402, "Other", "other", "en")
WAIT = 8


async def test_a_flood_wait_for_one_chat_does_not_delay_another_chats_reply(emu, bot, tmp_path):
    await ask(emu, FLOODED, "/start", "50 XP")
    await ask(emu, OTHER, "/start", "50 XP")
    await emu.idle()
    emu.faults["sendMessage"] = [("retry_after", WAIT)]
    mark = len(emu.telegram.sent)
    flooded = emu.say(FLOODED, "/daily")
    await emu.wait(lambda: not emu.faults["sendMessage"], 20, "the 429 served to the flooded chat")
    asked, polls = time.monotonic(), emu.polls
    others = [emu.say(OTHER, "/balance"), emu.say(OTHER, "/daily")]
    await emu.reply(OTHER.id, mark, "XP: 50")
    await emu.reply(OTHER.id, mark, "+20 XP")
    waited = time.monotonic() - asked
    assert waited < WAIT / 2, f"the other chat waited {waited:.1f}s for its replies"
    await emu.reply(FLOODED.id, mark, "+20 XP", timeout=WAIT + 10)  # the flooded chat after its wait
    assert time.monotonic() - asked >= WAIT - 2
    await emu.idle()
    assert emu.polls - polls < 4 * WAIT  # no busy polling while the flooded update is unconfirmed
    # every reply exactly once: an update still running is not handled again when it comes back
    assert [s.text.startswith("Daily task done: +20 XP. You have 70 XP.")  # then the streak
            for s in emu.telegram.sent[mark:] if s.chat_id == FLOODED.id].count(True) == 1
    assert len([s for s in emu.telegram.sent[mark:] if s.chat_id == OTHER.id]) == 2
    assert {flooded["update_id"], *(u["update_id"] for u in others)} <= emu.acked
    assert await bot.terminate() == 0
    db = tmp_path / "e2e.db"
    assert json.loads(cli(db, "balance", str(FLOODED.id)).stdout)["xp"] == 70
    assert json.loads(cli(db, "balance", str(OTHER.id)).stdout)["xp"] == 70
    assert cli(db, "verify").returncode == 0

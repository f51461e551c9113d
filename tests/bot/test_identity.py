"""Who sent a message: anonymous group admins and channels share no wallet; a message
without a sender is ignored quietly."""

from __future__ import annotations

import logging

from tests.bot.conftest import ALICE, GROUP
from tests.conftest import snapshot


async def test_a_message_without_a_sender_is_ignored_quietly(h, caplog):
    await h.send(ALICE, "/start")
    before = await snapshot(h.ledger, ALICE.id)
    caplog.set_level(logging.INFO)
    for text in ("/balance", "/daily", "/start", "/shop", "/convert all", "/grant 1001 5", "/history"):
        for chat in (GROUP, ALICE.id):
            raw = h.updates.message(ALICE, text, chat=chat)
            del raw["message"]["from"]
            assert await h.feed(raw) == []
    assert "failed" not in caplog.text and "Traceback" not in caplog.text
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert await snapshot(h.ledger, ALICE.id) == before

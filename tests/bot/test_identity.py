"""Who sent a message: anonymous group admins and channels share no wallet; a message
without a sender is ignored quietly."""

from __future__ import annotations

import logging

import pytest

from bot.fake import Person
from tests.bot.conftest import ADMIN, ALICE, GROUP
from tests.conftest import snapshot

ANONYMOUS_ADMIN = Person(1087968824, "Group", "GroupAnonymousBot", None)
CHANNEL_BOT = Person(136817688, "Channel", "Channel_Bot", None)
AS_GROUP = {"id": GROUP, "type": "supergroup", "title": "Group"}
AS_CHANNEL = {"id": -100777, "type": "channel", "title": "News"}


@pytest.mark.parametrize("command", ["/start", "/daily", "/balance", "/convert all", "/buy vip", "/shop",
                                     "/history", "/support help me", "/START", "/balance@economy_test_bot"])
@pytest.mark.parametrize("sender", [(ANONYMOUS_ADMIN, AS_GROUP), (CHANNEL_BOT, AS_CHANNEL)])
async def test_messages_on_behalf_of_a_chat_get_a_short_answer_and_change_nothing(h, command, sender):
    who, chat = sender
    await h.send(ALICE, "/start")
    before = await snapshot(h.ledger, ALICE.id)
    sent = await h.send(who, command, chat=GROUP, sender_chat=chat)
    assert [(s.chat_id, s.text) for s in sent] == [
        (GROUP, "Lütfen kendi hesabından yaz: bir grup ya da kanal adına gönderilen mesajların burada"
                " cüzdanı yok.")]
    assert await snapshot(h.ledger, ALICE.id) == before
    assert (await h.ledger.stats()).users == 1


async def test_other_bots_commands_and_plain_text_on_behalf_of_a_chat_stay_quiet(h):
    for text in ("/balance@other_bot", "/weather", "hello"):
        assert await h.send(ANONYMOUS_ADMIN, text, chat=GROUP, sender_chat=AS_GROUP) == []
    assert (await h.ledger.stats()).users == 0


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


async def test_the_admin_in_a_group_as_the_group_is_still_ignored_for_admin_commands(h):
    assert await h.send(ADMIN, "/grant 1001 5", chat=GROUP, sender_chat=AS_GROUP) == []

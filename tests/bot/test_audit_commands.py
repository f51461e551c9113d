"""The admin commands through the real dispatcher write the audit trail: one row each with the
admin's Telegram id and name, none for a refusal, none again for the same update delivered twice;
/user shows the last actions and /export sends the trail (on both backends)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from economy import Ledger
from economy.audit import AuditFilter, AuditLog
from tests.bot.conftest import ADMIN, ALICE, Harness, settings_for


@pytest.fixture
async def hb(tmp_path, clock, db_url) -> AsyncIterator[Harness]:
    """The harness of tests/bot/conftest.py on a ledger on each backend."""
    settings = settings_for(tmp_path)
    ledger = await Ledger.open(db_url, catalog=settings.catalog, clock=clock)
    harness = Harness(settings, ledger, clock)
    try:
        yield harness
    finally:
        await harness.bot.session.close()
        await ledger.close()


async def rows(h: Harness) -> list:
    return [e async for e in AuditLog(h.ledger.store).walk(AuditFilter())]


async def test_each_admin_command_writes_one_row_a_refusal_none_a_redelivery_none_again(hb):
    h = hb
    await h.send(ALICE, "/start")
    await h.send(ALICE, "/support help me")
    commands = [("/grant @alice 30 weekly", "grant"), ("/quota @alice 100", "quota_raise"),
                ("/quota @alice -10", "quota_lower"), ("/refund @alice 0.50", None),  # refused: nothing used
                ("/reply @alice on our way", "reply")]
    expected = []
    for text, action in commands:
        raw = h.updates.message(ADMIN, text)
        await h.feed(raw)
        await h.feed(raw)  # Telegram delivers the same update again
        if action is not None:
            expected.append(action)
        assert [r.action for r in await rows(h)] == expected[::-1], text
    charge = h.updates.message(ADMIN, caption="/charge @alice 12.50 invoice", media="document",
                               caption_entities=[{"type": "bot_command", "offset": 0, "length": 7}])
    await h.feed(charge)
    await h.feed(charge)
    over = await h.file(ADMIN, "/charge @alice 1000")  # past the quota: refused, nothing sent
    assert "limit" in over[-1].text.lower()
    await h.file(ADMIN, "/addcontent clip1 A clip", media="video")
    trail = await rows(h)
    assert [r.action for r in trail] == ["add_content", "charge", *expected[::-1]]
    assert {(r.via, r.actor_id, r.actor) for r in trail} == {("bot", ADMIN.id, ADMIN.first_name)}
    charged = trail[1]
    assert (charged.user_id, charged.amount, charged.unit, charged.note) == (ALICE.id, 1250, "TL", "invoice")
    assert (charged.before["used"], charged.after["used"]) == (0, 1250)
    assert trail[-1].after["xp"] - trail[-1].before["xp"] == 30
    assert trail[2].note == "on our way"  # the reply's text


async def test_user_card_shows_the_last_actions_and_export_sends_the_trail(hb):
    h = hb
    await h.send(ALICE, "/start")
    await h.send(ADMIN, "/quota @alice 100 first")
    await h.send(ADMIN, "/grant @alice 5")
    card = await h.say(ADMIN, "/user @alice")
    assert "Last admin actions" in card
    after = card.split("Last admin actions", 1)[1]
    assert after.index("grant") < after.index("quota_raise")  # newest first
    assert "100.00 TL" in after and "5 XP" in after and "Admin (bot)" in after
    sent = await h.send(ADMIN, "/export")
    docs = [s for s in sent if s.method == "sendDocument"]
    assert len(docs) == 2 and "2 admin actions" in docs[1].text

"""Hostile review 2: /gift and its confirm button through the real dispatcher."""

from __future__ import annotations

import asyncio

from bot.fake import Person
from tests.bot.conftest import ALICE, AYSE, running

DAY = 86400
EVE = Person(1004, "<b>Eve</b> & co", "eve", "en")


async def _members(h, *people, tokens: int = 100) -> None:  # type: ignore[no-untyped-def]
    for who in people:
        await h.send(who, "/start")
        if tokens > 50:
            await h.ledger.grant(who.id, tokens - 50)
        await h.send(who, "/convert all")


async def test_a_concurrent_double_tap_gives_once_and_tells_the_recipient_once(tmp_path, clock):
    async with running(tmp_path, clock, GIFT_MIN_AGE_HOURS="0") as h:
        await _members(h, ALICE, AYSE)
        ask = (await h.send(ALICE, "/gift @ayse 30"))[0]
        ok = h.button(ask, "Give 30")
        sent = await asyncio.gather(h.press(ALICE, ask, ok), h.press(ALICE, ask, ok), h.press(ALICE, ask, ok))
        assert ((await h.ledger.balance(ALICE.id)).tokens, (await h.ledger.balance(AYSE.id)).tokens) == (70, 130)
        told = [s for s in h.telegram.sent if s.chat_id == AYSE.id and "30" in s.text]
        assert len(told) == 1, [s.text for s in told]
        assert await h.ledger.verify() == []


async def test_tokens_spent_between_preview_and_confirm(tmp_path, clock):
    async with running(tmp_path, clock, GIFT_MIN_AGE_HOURS="0") as h:
        await _members(h, ALICE, tokens=60)
        await _members(h, AYSE)
        ask = (await h.send(ALICE, "/gift @ayse 50"))[0]
        await h.send(ALICE, "/buy freeze")
        await h.send(ALICE, "/buy freeze")
        await h.send(ALICE, "/buy freeze")  # a third: refused
        assert (await h.ledger.balance(ALICE.id)).freezes == 2
        sent = await h.press(ALICE, ask, h.button(ask, "Give 50"))
        mine = [s.text for s in sent if s.chat_id == ALICE.id]
        assert len(mine) == 1 and "40" in mine[0], mine  # says what she has
        assert (await h.ledger.balance(AYSE.id)).tokens == 100
        assert await h.ledger.verify() == []


async def test_names_in_the_preview_and_the_notice_are_escaped(tmp_path, clock):
    async with running(tmp_path, clock, GIFT_MIN_AGE_HOURS="0") as h:
        await _members(h, ALICE, EVE)
        ask = (await h.send(ALICE, "/gift @eve 5"))[0]
        assert ask.text.startswith("Give 5 tokens to <b>Eve</b> & co?") and "&lt;b&gt;" in ask.html, ask.html
        await h.press(ALICE, ask, h.button(ask, "Give 5"))
        back = (await h.send(EVE, "/gift @alice 5"))[0]
        await h.press(EVE, back, h.button(back, "Give 5"))
        told = [s for s in h.telegram.sent if s.chat_id == ALICE.id and "<b>Eve</b> & co" in s.text]
        assert told and all("&lt;b&gt;" in s.html for s in told), [s.html for s in told]


async def test_bad_gift_amounts_are_refused(tmp_path, clock):
    async with running(tmp_path, clock, GIFT_MIN_AGE_HOURS="0") as h:
        await _members(h, ALICE, AYSE)
        for amount in ("-5", "0", "2.5", "١٠", "３０", "1e3", "+5", "99999999999999999999999"):
            sent = await h.send(ALICE, f"/gift @ayse {amount}")
            assert len(sent) == 1 and not sent[0].buttons(), (amount, sent[0].text)
        assert (await h.ledger.balance(AYSE.id)).tokens == 100


async def test_a_cancelled_gift_is_given_by_its_stale_confirm(tmp_path, clock):
    """Cancel edits the buttons away but records nothing: the Give button's data, still on a
    second device or replayed (callback_data is client-made), gives the cancelled gift."""
    async with running(tmp_path, clock, GIFT_MIN_AGE_HOURS="0") as h:
        await _members(h, ALICE, AYSE)
        ask = (await h.send(ALICE, "/gift @ayse 30"))[0]
        ok, no = h.button(ask, "Give 30"), h.button(ask, "Cancel")
        await h.press(ALICE, ask, no)
        await h.press(ALICE, ask, ok)
        assert (await h.ledger.balance(AYSE.id)).tokens == 100, "the cancelled gift was given"

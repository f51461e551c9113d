"""Streaks, freezes, gifts and /notify through the real dispatcher (issue 23)."""

from __future__ import annotations

from bot.fake import BOT_ID, BOT_USERNAME, Person
from tests.bot.conftest import ALICE, AYSE, BOB, GROUP, running

DAY, HOUR = 86400, 3600


async def _members(h, *people, tokens: int = 100) -> None:  # type: ignore[no-untyped-def]
    for who in people:
        await h.send(who, "/start")  # 50 XP
        if tokens > 50:
            await h.ledger.grant(who.id, tokens - 50)
        await h.send(who, "/convert all")


async def test_daily_shows_the_streak_its_bonus_a_freeze_used_and_the_next_day_in_the_zone(h, clock):
    await _members(h, ALICE, tokens=50)
    first = await h.say(ALICE, "/daily")
    assert "Streak: day 1" in first and "Next daily task: 2026-11-23 00:00 +03" in first
    clock.advance(DAY)
    second = await h.say(ALICE, "/daily")
    assert "Streak: day 2 · streak bonus +5 XP" in second
    bought = await h.say(ALICE, "/buy freeze")
    assert "Streak freeze bought for 10 tokens: you hold 1" in bought
    balance = await h.say(ALICE, "/balance")
    assert "Streak: 2 days (today's /daily done)" in balance and "Streak freezes: 1 of 2" in balance
    clock.advance(2 * DAY)  # a day missed
    third = await h.say(ALICE, "/daily")
    assert "Streak: day 3" in third and "1 streak freeze(s) covered the day(s) you missed; 0 left" in third
    history = await h.say(ALICE, "/history")
    assert "Streak bonus, day 3" in history and "Streak freeze" in history


async def test_a_gift_is_confirmed_by_its_sender_once_and_the_recipient_is_told(tmp_path, clock):
    async with running(tmp_path, clock, GIFT_MIN_AGE_HOURS="0") as h:
        await _members(h, ALICE, AYSE)
        ask = (await h.send(ALICE, "/gift @ayse 30"))[0]
        assert "Give 30 tokens to Ayşe? You have" in ask.text
        ok = h.button(ask, "Give 30")
        assert await h.press(AYSE, ask, ok) == []  # not hers: answered as stale, nothing given
        assert h.telegram.answered[max(h.telegram.answered)]["text"] == "Bu düğme geçerli değil (artık)."
        sent = await h.press(ALICE, ask, ok)
        told = [s for s in sent if s.chat_id == AYSE.id]
        assert len(told) == 1 and "Alice sana 30 token hediye etti. 130 tokenin var." in told[0].text  # in Turkish
        assert any("You gave 30 tokens to Ayşe" in s.text for s in sent if s.chat_id == ALICE.id)
        again = await h.press(ALICE, ask, ok)  # double tap
        assert [s.text for s in again] == ["This gift was already given; nothing was sent again."]
        assert ((await h.ledger.balance(ALICE.id)).tokens, (await h.ledger.balance(AYSE.id)).tokens) == (70, 130)
        assert "Hediye: 1001 kişisinden" in await h.say(AYSE, "/history")
        stats = await h.say(Person(9000, "Admin", "boss", "en"), "/stats")
        assert "Gift flows, last 7 days" in stats and "1001 Alice → 1002 Ayşe: 30 tokens in 1 gifts" in stats
        assert await h.ledger.verify() == []


async def test_a_gift_by_reply_in_a_group_and_cancel(tmp_path, clock):
    async with running(tmp_path, clock, GIFT_MIN_AGE_HOURS="0") as h:
        await _members(h, ALICE, AYSE)
        said = h.updates.message(AYSE, "hello", chat=GROUP)
        await h.feed(said)
        ask = (await h.send(ALICE, "/gift 5", chat=GROUP, reply_to_message=said["message"]))[0]
        assert "Give 5 tokens to Ayşe?" in ask.text and ask.chat_id == GROUP
        await h.press(ALICE, ask, h.button(ask, "Cancel"))
        assert h.telegram.sent[-1].text == "Gift cancelled; nothing was sent."
        assert (await h.ledger.balance(AYSE.id)).tokens == 100


async def test_each_gift_refusal_is_said(tmp_path, clock):
    async with running(tmp_path, clock, GIFT_DAILY_LIMIT="50", GIFT_RECEIVE_DAILY_LIMIT="30") as h:
        await _members(h, ALICE, AYSE)
        assert "Usage: /gift" in await h.say(ALICE, "/gift")
        assert "cannot give tokens to yourself" in await h.say(ALICE, "/gift @alice 5")
        assert "User 4242 not found: they must /start the bot first" in await h.say(ALICE, "/gift 4242 5")
        assert "Bots cannot receive tokens" in await h.say(ALICE, f"/gift {BOT_ID} 5")
        assert "Bots cannot receive tokens" in await h.say(ALICE, f"/gift @{BOT_USERNAME} 5")
        said = h.updates.message(ALICE, "hi", chat=GROUP)
        said["message"]["from"] = {"id": 555, "is_bot": True, "first_name": "OtherBot"}
        assert "Bots cannot receive tokens" in await h.say(ALICE, "/gift 5", chat=GROUP,
                                                            reply_to_message=said["message"])
        assert "not a valid amount" in await h.say(ALICE, "/gift @ayse -3")
        ask = (await h.send(ALICE, "/gift @ayse 5"))[0]
        sent = await h.press(ALICE, ask, h.button(ask, "Give"))
        assert "Gifts can be sent 72 hours after you started the bot: 72 more hours" in sent[0].text
        clock.advance(72 * HOUR)
        ask = (await h.send(ALICE, "/gift @ayse 120"))[0]
        sent = await h.press(ALICE, ask, h.button(ask, "Give"))
        assert "Not enough tokens: this needs 120, you have 100" in sent[0].text
        ask = (await h.send(ALICE, "/gift @ayse 51"))[0]
        sent = await h.press(ALICE, ask, h.button(ask, "Give"))
        assert "limited to 50 tokens a day; you can give 50 more today" in sent[0].text
        await h.send(BOB, "/start")
        ask = (await h.send(AYSE, "/gift 1003 20"))[0]
        await h.press(AYSE, ask, h.button(ask, "20"))
        ask = (await h.send(ALICE, "/gift 1003 20"))[0]
        sent = await h.press(ALICE, ask, h.button(ask, "Give"))
        assert "Bob can receive at most 30 tokens a day; 10 more today" in sent[0].text
        assert (await h.ledger.balance(BOB.id)).tokens == 20


async def test_notify_off_and_on(h):
    await h.send(ALICE, "/start")
    assert "Reminders are on" in await h.say(ALICE, "/notify")
    assert "Reminders are off" in await h.say(ALICE, "/notify off")
    assert not (await h.ledger.profile(ALICE.id)).notify
    assert "Reminders are <b>off</b>" in (await h.send(ALICE, "/notify"))[0].html
    assert "Reminders are on" in await h.say(ALICE, "/notify on")
    assert (await h.ledger.profile(ALICE.id)).notify


async def test_a_forged_gift_button_is_refused_before_any_work(tmp_path, clock):
    async with running(tmp_path, clock, GIFT_MIN_AGE_HOURS="0") as h:
        await _members(h, ALICE, AYSE)
        ask = (await h.send(ALICE, "/gift @ayse 5"))[0]
        for data in (f"g:{ALICE.id}:{AYSE.id}:0", f"g:{ALICE.id}:{AYSE.id}:-5", f"g:{ALICE.id}:0:5",
                     f"g:{ALICE.id}:{AYSE.id}:99999999999999", f"g:{AYSE.id}:{ALICE.id}:5", "g:x:y:z",
                     f"gx:{AYSE.id}"):
            assert await h.press(ALICE, ask, data) == [], data
        assert ((await h.ledger.balance(ALICE.id)).tokens, (await h.ledger.balance(AYSE.id)).tokens) == (100, 100)

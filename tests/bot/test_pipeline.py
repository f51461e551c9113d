"""The update pipeline: throttle, unexpected errors, storage faults, 429, one log line."""

from __future__ import annotations

import logging
import sqlite3

from bot.fake import ApiError
from bot.middlewares import Throttle
from tests.bot.conftest import ADMIN, ALICE, BOB, running


async def test_a_flood_is_throttled_with_one_notice_and_admins_are_exempt(tmp_path, clock):
    async with running(tmp_path, clock, THROTTLE_BURST="5", THROTTLE_PER_MINUTE="1") as h:
        replies = [await h.send(ALICE, "/help") for _ in range(12)]
        texts = [r[0].text for r in replies if r]
        assert len(texts) == 6 and texts[-1] == "Too many commands: please wait a little."
        assert [len(await h.send(ADMIN, "/help")) for _ in range(30)] == [1] * 30


def test_the_bucket_refills():
    now = [0.0]
    bucket = Throttle(2, 60, clock=lambda: now[0])
    assert [bucket.take(1)[0] for _ in range(3)] == [True, True, False]
    now[0] += 1.0
    assert bucket.take(1) == (True, False)


async def test_an_unexpected_error_gets_an_apology_and_is_logged_with_the_update_id(h, caplog, monkeypatch):
    await h.send(ALICE, "/start")

    async def broken(*a, **k):
        raise RuntimeError("boom")
    monkeypatch.setattr(h.ledger, "balance", broken)
    caplog.set_level(logging.INFO, logger="bot.updates")
    raw = h.updates.message(ALICE, "/balance")
    sent = await h.feed(raw)
    assert sent[0].text == "Sorry, something went wrong. Please try again."
    assert f"update {raw['update_id']} failed" in caplog.text
    assert f"update={raw['update_id']} user=1001 cmd=/balance outcome=error" in caplog.text
    monkeypatch.undo()
    assert "Tokens: 0" in await h.say(ALICE, "/balance")  # the bot keeps running


async def test_a_locked_database_says_try_again_and_recovers(tmp_path, clock):
    async with running(tmp_path, clock, store={"busy_timeout_ms": 50, "lock_wait_s": 0.3}) as h:
        await h.send(ALICE, "/start")
        other = sqlite3.connect(tmp_path / "bot.db", isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        text = await h.say(ALICE, "/daily")
        assert text == "The service is busy right now; nothing was changed. Please try again in a moment."
        other.execute("ROLLBACK")
        other.close()
        assert "+20 XP" in await h.say(ALICE, "/daily")
        assert await h.ledger.verify() == []


async def test_429_is_waited_out_and_retried(h, monkeypatch):
    import asyncio
    waits = []
    real_sleep = asyncio.sleep

    async def fake_sleep(seconds):
        waits.append(seconds)
        await real_sleep(0)
    monkeypatch.setattr("bot.middlewares.asyncio.sleep", fake_sleep)
    h.telegram.faults["sendMessage"] = [ApiError(429, "Too Many Requests: retry after 3", retry_after=3)]
    assert "Welcome" in await h.say(ALICE, "/start")
    assert waits == [3]


async def test_message_not_modified_is_harmless(h):
    await h.send(ALICE, "/start")
    await h.ledger.grant(ALICE.id, 1)
    for _ in range(10):
        await h.ledger.grant(ALICE.id, 1)
    page = (await h.send(ALICE, "/history"))[0]
    nxt = h.button(page, "Next")
    await h.press(ALICE, page, nxt)
    sent = await h.press(ALICE, page, nxt)  # same page again: Telegram says "message is not modified"
    assert sent == []
    assert "Tokens: 0" in await h.say(ALICE, "/balance")


async def test_a_telegram_5xx_on_a_reply_leaves_the_ledger_right(h):
    await h.send(ALICE, "/start")
    h.telegram.faults["sendMessage"] = [ApiError(502, "Bad Gateway"), ApiError(502, "Bad Gateway")]
    assert await h.send(ALICE, "/daily") == []  # the reply and the apology both failed
    assert (await h.ledger.balance(ALICE.id)).xp == 70  # the effect is committed once
    assert "already did today's task" in await h.say(ALICE, "/daily")
    assert await h.ledger.verify() == []


async def test_a_chat_in_a_flood_wait_is_waited_for_before_the_next_send_and_other_chats_are_not(h, monkeypatch):
    import asyncio
    waits = []
    real_sleep = asyncio.sleep

    async def fake_sleep(seconds):
        waits.append(seconds)
        await real_sleep(0)
    monkeypatch.setattr("bot.middlewares.asyncio.sleep", fake_sleep)
    await h.send(BOB, "/start")
    h.telegram.faults["sendMessage"] = [ApiError(429, "Too Many Requests: retry after 3", retry_after=3)]
    assert "Welcome" in await h.say(ALICE, "/start")
    assert waits == [3]
    assert "Commands" in await h.say(ALICE, "/help")  # not sent before the wait is over: no second 429
    assert len(waits) == 2 and 2 < waits[1] <= 3
    await h.send(BOB, "/help")
    assert len(waits) == 2  # another chat does not wait

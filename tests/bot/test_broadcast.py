"""/broadcast through the real dispatcher with Telegram faked: the preview, Send / Cancel, the
pace and 429s, a 403 marking the user inactive, cancel between two sends, status."""

from __future__ import annotations

import asyncio
import time

from bot.broadcast import Broadcaster, Pace
from bot.factory import build_bot
from bot.fake import ApiError, LocalSession, Person
from tests.bot.conftest import ADMIN, ALICE, AYSE, BOB

PEOPLE = [ALICE, AYSE, BOB]


async def _register(h, people) -> None:
    for p in people:
        await h.send(p, "/start")


def _times(h) -> list[tuple[float, int]]:
    stamps: list[tuple[float, int]] = []
    h.telegram.listeners.append(lambda s: stamps.append((time.monotonic(), s.chat_id))
                                if s.method == "sendMessage" and s.chat_id != ADMIN.id else None)
    return stamps


async def _preview(h, text: str, **kw):
    sent = await h.send(ADMIN, text, **kw)
    return sent


async def test_preview_then_send(h) -> None:
    await _register(h, [ADMIN, *PEOPLE])
    sent = await _preview(h, "/broadcast en <b>not html</b> Hello")
    assert [s.chat_id for s in sent] == [ADMIN.id, ADMIN.id]
    assert sent[0].text == "<b>not html</b> Hello"  # as users will see it: the admin's text as typed
    assert "2 recipients" in sent[1].text  # the admin (en) and Alice; Bob (de) is tr by default
    assert "Send" in sent[1].buttons()[0][0]
    before = len(h.telegram.sent)
    await h.press(ADMIN, sent[1], h.button(sent[1], "Send"))
    done = await h.dp["broadcaster"].wait(1)
    assert done is not None and done.state == "done" and done.counts["sent"] == 2
    got = [s for s in h.telegram.sent[before:] if s.method == "sendMessage"]
    assert sorted(s.chat_id for s in got) == [ALICE.id, ADMIN.id]
    summary = h.telegram.last(ADMIN.id)
    assert "finished" in summary.text and "reached 2" in summary.text
    # a second tap on Send (or a replay) sends nobody again
    await h.press(ADMIN, sent[1], h.button(sent[1], "Send"))
    await asyncio.sleep(0.1)
    assert len([s for s in h.telegram.sent if s.chat_id == ALICE.id and "Hello" in s.text]) == 1


async def test_segments_and_usage(h) -> None:
    await _register(h, [ADMIN, *PEOPLE])
    assert "Usage" in await h.say(ADMIN, "/broadcast")
    assert "Usage" in await h.say(ADMIN, "/broadcast everyone hi")
    assert "Nothing to send" in await h.say(ADMIN, "/broadcast all   ")
    sent = await _preview(h, "/broadcast tr Merhaba")
    assert "2 recipients" in sent[1].text  # Ayşe and Bob
    sent = await _preview(h, "/broadcast vip hi")
    assert "nobody" in sent[1].text
    # a user is not an admin: nothing happens
    assert "Merhaba" not in "".join(s.text for s in await h.send(ALICE, "/broadcast all Merhaba"))


async def test_photo_caption_and_entities(h) -> None:
    await _register(h, [ADMIN, ALICE])
    text = "/broadcast all Big news"
    sent = await h.feed(h.updates.message(ADMIN, caption=text, media="photo", caption_entities=[
        {"type": "bot_command", "offset": 0, "length": 10}, {"type": "bold", "offset": 15, "length": 3}]))
    assert sent[0].method == "sendPhoto" and sent[0].text == "Big news"
    _, params = [c for c in h.telegram.calls if c[0] == "sendPhoto"][-1]
    assert params["caption_entities"] == [{"type": "bold", "offset": 0, "length": 3}]
    await h.press(ADMIN, sent[1], h.button(sent[1], "Send"))
    done = await h.dp["broadcaster"].wait(1)
    assert done.counts["sent"] == 2
    assert {s.chat_id for s in h.telegram.sent if s.method == "sendPhoto"} == {ADMIN.id, ALICE.id}


async def test_403_marks_inactive_and_later_broadcasts_skip(h) -> None:
    await _register(h, [ADMIN, *PEOPLE])
    h.telegram.blocked.add(AYSE.id)
    sent = await _preview(h, "/broadcast all one")
    await h.press(ADMIN, sent[1], h.button(sent[1], "Send"))
    first = await h.dp["broadcaster"].wait(1)
    assert (first.counts["sent"], first.counts["blocked"]) == (3, 1)
    assert (await h.ledger.profile(AYSE.id)).active is False
    sent = await _preview(h, "/broadcast all two")
    assert "3 recipients" in sent[1].text


async def test_pace_and_429_hold_every_send(h) -> None:
    people = [Person(2000 + i, f"P{i}", None, "en") for i in range(30)]
    await _register(h, [ADMIN, *people])
    broadcaster = h.dp["broadcaster"]
    broadcaster.pace = Pace(20)
    broadcaster.bot = build_bot(h.settings, LocalSession(h.telegram), retry_after=False)
    stamps = _times(h)
    sent = await _preview(h, "/broadcast all paced")
    h.telegram.faults["sendMessage"] = [ApiError(429, "Too Many Requests: retry after 1", retry_after=1)]
    # the fault is served to the first sendMessage after the Send: the first recipient
    started = time.monotonic()
    await h.press(ADMIN, sent[1], h.button(sent[1], "Send"))
    done = await broadcaster.wait(1)
    took = time.monotonic() - started
    assert done.counts["sent"] == 31 and broadcaster.pace.pauses == 1  # the 30 and the admin
    chats = [c for _, c in stamps]
    assert len(chats) == len(set(chats)) == 30  # nobody twice, the flooded one included
    assert stamps[0][0] - started >= 0.95  # the 429's retry_after held every send
    for i in range(len(stamps) - 20):  # never more than 20 in any second
        assert stamps[i + 20][0] - stamps[i][0] >= 0.95
    assert took >= 1 + 29 / 20 * 0.95


async def test_cancel_stops_between_two_sends(h) -> None:
    people = [Person(3000 + i, f"Q{i}", None, "en") for i in range(40)]
    await _register(h, [ADMIN, *people])
    broadcaster = h.dp["broadcaster"]
    broadcaster.pace = Pace(20)
    broadcaster.progress_every = 0.2
    stamps = _times(h)
    sent = await _preview(h, "/broadcast all stop me")
    await h.press(ADMIN, sent[1], h.button(sent[1], "Send"))
    while len(stamps) < 5:
        await asyncio.sleep(0.02)
    progress = [s for s in h.telegram.sent if s.method == "editMessageText" and s.chat_id == ADMIN.id][-1]
    await h.press(ADMIN, progress, h.button(progress, "Cancel"))
    at_cancel = len(stamps)
    done = await broadcaster.wait(1)
    assert done.state == "cancelled"
    assert len(stamps) <= at_cancel + 1  # at most the send that was leaving
    c = done.counts
    assert c["sent"] == len(stamps) and c["pending"] + c["skipped"] == 41 - len(stamps) and c["sending"] == 0
    assert "cancelled" in h.telegram.last(ADMIN.id).text
    status = await h.say(ADMIN, "/broadcast status")
    assert "cancelled" in status and "not sent" in status


async def test_cancel_by_command_and_stale_buttons(h) -> None:
    await _register(h, [ADMIN, ALICE])
    sent = await _preview(h, "/broadcast all later")
    assert "cancelled" in await h.say(ADMIN, "/broadcast cancel 1")
    assert "no broadcast #7" in await h.say(ADMIN, "/broadcast cancel 7")
    await h.press(ADMIN, sent[1], h.button(sent[1], "Send"))  # Send after the cancel sends nothing
    assert await h.dp["broadcaster"].wait(1) is None
    assert not [s for s in h.telegram.sent if s.chat_id == ALICE.id and s.text == "later"]
    # a user's forged button: answered, nothing done
    forged = await h.press(ALICE, sent[1], "bc:s:1")
    assert not [s for s in forged if s.chat_id == ALICE.id and s.text == "later"]


async def test_a_stop_lets_the_claimed_sends_finish_and_the_restart_goes_on(h) -> None:
    people = [Person(4000 + i, f"S{i}", None, "en") for i in range(30)]
    await _register(h, [ADMIN, *people])
    broadcaster = h.dp["broadcaster"]
    broadcaster.pace = Pace(20)
    stamps = _times(h)
    sent = await _preview(h, "/broadcast all stop and go")
    await h.press(ADMIN, sent[1], h.button(sent[1], "Send"))
    while len(stamps) < 5:
        await asyncio.sleep(0.02)
    await broadcaster.close()  # SIGTERM
    half = await broadcaster.casts.get(1)
    assert half.state == "sending" and half.counts["sending"] == 0 and half.counts["unknown"] == 0
    assert half.counts["sent"] == len(stamps)
    again = Broadcaster(broadcaster.casts, rate=50, worker="next")  # the restarted process
    assert await again.resume(h.bot) == [1]
    done = await again.wait(1)
    assert done.state == "done" and done.counts["sent"] == 31 and done.counts["unknown"] == 0
    assert len(stamps) == len({c for _, c in stamps}) == 30

"""The poller's bookkeeping when a batch is not waited for to its end: an update still running
is never started twice, one user's updates stay in order, and the offset confirms only what
is done (issue 16, item 5)."""

from __future__ import annotations

import asyncio

from aiogram.types import Update

from bot.fake import Person, Updates
from bot.polling import Poller

A, B = Person(1, "A"), Person(2, "B")


class SlowDispatcher:
    def __init__(self, delays: dict[int, float]) -> None:
        self.delays, self.log = delays, []

    async def feed_update(self, bot, update: Update, **kwargs) -> None:
        self.log.append(("start", update.update_id))
        await asyncio.sleep(self.delays.get(update.update_id, 0))
        self.log.append(("end", update.update_id))


async def test_running_updates_are_skipped_users_stay_in_order_and_the_offset_waits():
    make = Updates(start=100)
    slow, fast, later = (Update.model_validate(make.message(who, "/daily")) for who in (A, B, A))
    dp = SlowDispatcher({slow.update_id: 0.3})
    poller = Poller(None, dp)  # type: ignore[arg-type]
    assert len(poller._start([slow, fast])) == 2
    poller.highest = fast.update_id
    await asyncio.sleep(0.05)
    assert poller._confirmable() == slow.update_id  # the fast one is done, but below it one runs
    # Telegram sends both again (not confirmed) and a newer one of the slow user
    assert len(poller._start([slow, fast, later])) == 1
    poller.highest = later.update_id
    await asyncio.wait(set(poller.running.values()))
    await asyncio.sleep(0)
    assert poller._confirmable() == later.update_id + 1 and not poller.done
    assert dp.log.count(("start", slow.update_id)) == 1 and dp.log.count(("start", fast.update_id)) == 1
    assert dp.log.index(("end", slow.update_id)) < dp.log.index(("start", later.update_id))


class FlakyDispatcher:
    """Fails an update for now (RETRY) `fails` times, then handles it."""

    def __init__(self, fails: int) -> None:
        self.fails, self.calls = fails, []

    async def feed_update(self, bot, update: Update, **kwargs) -> str:
        self.calls.append(kwargs.get("final_try"))
        if len(self.calls) <= self.fails:
            return "error" if kwargs.get("final_try") else "retry"
        return "ok"


async def test_an_update_that_fails_for_now_stays_unconfirmed_and_is_handled_again(monkeypatch):
    import bot.polling as polling
    monkeypatch.setattr(polling, "RETRY_PAUSES", (0.2, 0.2, 0.2, 0.2))
    update = Update.model_validate(Updates(start=300).message(A, "/daily"))
    dp = FlakyDispatcher(fails=2)
    poller = Poller(None, dp)  # type: ignore[arg-type]
    poller._start([update])
    poller.highest = update.update_id
    await asyncio.sleep(0.1)
    assert poller._confirmable() == update.update_id  # failed once: not confirmed
    await asyncio.wait(set(poller.running.values()))
    await asyncio.sleep(0)
    assert dp.calls == [False, False, False]  # handled again until it passed
    assert poller._confirmable() == update.update_id + 1
    # one that keeps failing: its last try is final (answered) and then it is confirmed
    dp = FlakyDispatcher(fails=100)
    poller = Poller(None, dp)  # type: ignore[arg-type]
    poller._start([update])
    poller.highest = update.update_id
    await asyncio.wait(set(poller.running.values()))
    await asyncio.sleep(0)
    assert dp.calls == [False] * (polling.RETRY_TRIES - 1) + [True]
    assert poller._confirmable() == update.update_id + 1

"""Reminders with a clock the test moves: due an hour before a perk ends and three hours before
local midnight for a streak of 3+, each recorded before it is sent and never sent twice, even
by a new scheduler (a restart) or a second worker; /notify off; a blocked user."""

from __future__ import annotations

from bot.delivery import LEASE
from bot.reminders import Reminders
from tests.bot.conftest import ALICE, AYSE
from tests.conftest import START

DAY, HOUR = 86400, 3600


def scheduler(h, worker: str = "w1") -> Reminders:  # type: ignore[no-untyped-def]
    return Reminders(h.ledger, worker=worker, days=h.settings.catalog.days, default_language="tr", pace=0)


def reminders_to(h, who) -> list[str]:  # type: ignore[no-untyped-def]
    return [s.text for s in h.telegram.sent if s.chat_id == who.id and "/notify off" in s.text]


async def test_a_boost_ending_is_reminded_once_an_hour_before(h, clock):
    await h.send(ALICE, "/start")
    await h.send(ALICE, "/convert all")
    await h.send(ALICE, "/buy boost")
    ends = int(clock.now) + DAY
    clock.now = ends - HOUR - 1
    assert await scheduler(h).run_once(h.bot) == 0
    clock.now = ends - HOUR
    assert await scheduler(h).run_once(h.bot) == 1
    texts = reminders_to(h, ALICE)
    assert texts == ["⚡ Your task boost ends at 2026-11-23 15:00 +03. Renew it in the /shop.\n"
                     "/notify off stops reminders."]
    clock.advance(60)
    assert await scheduler(h).run_once(h.bot) == 0  # a restart: a new scheduler finds it recorded
    assert await scheduler(h, "w2").run_once(h.bot) == 0  # another worker too
    assert len(reminders_to(h, ALICE)) == 1
    assert [(r.kind, r.state) for r in await h.ledger.reminders(ALICE.id)] == [("boost", "sent")]
    await h.send(ALICE, "/buy boost")  # extended: a new end, a new reminder when it is near
    clock.now = ends + DAY - HOUR
    assert await scheduler(h).run_once(h.bot) == 1
    assert await h.ledger.verify() == []


async def test_a_streak_of_three_is_reminded_three_hours_before_local_midnight(h, clock):
    for who in (ALICE, AYSE):
        await h.send(who, "/start")
    for day in range(3):
        clock.now = START + day * DAY + 12 * HOUR
        await h.send(ALICE, "/daily")
        if day:
            await h.send(AYSE, "/daily")  # a streak of 2: no reminder
    midnight = START + 3 * DAY + 21 * HOUR  # 00:00 local on 2026-11-26
    clock.now = midnight - 3 * HOUR - 1
    assert await scheduler(h).run_once(h.bot) == 0
    clock.now = midnight - 3 * HOUR
    assert await scheduler(h).run_once(h.bot) == 1
    assert reminders_to(h, ALICE) == ["🔥 Your 3-day streak ends at 2026-11-26 00:00 +03 unless you do the /daily"
                                      " task before then.\n/notify off stops reminders."]
    assert reminders_to(h, AYSE) == []
    clock.advance(HOUR)
    assert await scheduler(h).run_once(h.bot) == 0
    # the next evening, after /daily that day: nothing
    clock.now = midnight + 12 * HOUR
    await h.send(ALICE, "/daily")
    clock.now = midnight + DAY - 2 * HOUR
    assert await scheduler(h).run_once(h.bot) == 0


async def test_notify_off_stops_reminders_and_on_starts_them_again(h, clock):
    await h.send(ALICE, "/start")
    await h.send(ALICE, "/convert all")
    await h.send(ALICE, "/buy dm")
    await h.send(ALICE, "/notify off")
    clock.advance(DAY - HOUR)
    assert await scheduler(h).run_once(h.bot) == 0
    assert reminders_to(h, ALICE) == []
    await h.send(ALICE, "/notify on")
    assert await scheduler(h).run_once(h.bot) == 1
    assert "Your priority DM ends at" in reminders_to(h, ALICE)[0]


async def test_a_reminder_recorded_but_not_sent_is_never_sent_again(h, clock):
    """A worker killed between the record and the send: the record stays, nobody repeats it."""
    await h.send(ALICE, "/start")
    await h.send(ALICE, "/convert all")
    await h.send(ALICE, "/buy boost")
    clock.advance(DAY - HOUR)
    due = await h.ledger.due_reminders()
    assert [r.kind for r in due] == ["boost"]
    assert (await h.ledger.claim_reminder(due[0], "dead-worker")).claimed
    assert not (await h.ledger.claim_reminder(due[0], "w1")).claimed
    assert await scheduler(h).run_once(h.bot) == 0
    clock.advance(LEASE + 1)
    assert await scheduler(h).run_once(h.bot) == 0
    assert reminders_to(h, ALICE) == []
    assert [(r.kind, r.state) for r in await h.ledger.reminders(ALICE.id)] == [("boost", "lost")]
    assert await h.ledger.verify() == []


async def test_a_blocked_user_is_marked_inactive_and_the_reminder_failed(h, clock):
    await h.send(ALICE, "/start")
    await h.send(ALICE, "/convert all")
    await h.send(ALICE, "/buy boost")
    h.telegram.blocked.add(ALICE.id)
    clock.advance(DAY - HOUR)
    assert await scheduler(h).run_once(h.bot) == 0
    assert [(r.kind, r.state) for r in await h.ledger.reminders(ALICE.id)] == [("boost", "failed")]
    assert not (await h.ledger.profile(ALICE.id)).active


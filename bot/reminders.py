"""Reminders (issue 23): an hour before a boost or a priority DM ends, and three hours before
local midnight to a member with a streak of 3 days or more who has not done /daily today.

At most once, across restarts and several workers: each reminder is recorded in the ledger
(`reminders`, primary key kind + user + what it is about) *before* it is sent, and only the
worker whose record was new sends it. A worker killed between the record and Telegram's
answer leaves the record pending; nobody sends it again (whether Telegram got it is unknown,
and a duplicate is the spam this feature must not be), and it is marked `lost` once its lease
ran out. A reminder is due only while no record of it exists, so a restart finds nothing to
repeat. Failures are classified once (bot/failures.py, through `send_with_retries`); sends
are paced under Telegram's broadcast limit (~30 messages a second).
"""

from __future__ import annotations

import asyncio
import logging

from aiogram import Bot

from bot.delivery import BLOCKED, LEASE, SEND_TIMEOUT, Undeliverable, send_with_retries
from bot.periodic import every
from bot.texts import Texts, pick_language
from economy import Ledger
from economy.localdays import LocalDays
from economy.models import Reminder

log = logging.getLogger("bot.reminders")

#: Seconds between two looks for reminders due (REMINDER_EVERY).
EVERY = 60.0
#: Reminders taken per look; the rest come at the next one.
BATCH = 200
#: Pause between two sends: 20 a second, under Telegram's ~30 a second for a bot.
PACE = 0.05


def render(t: Texts, r: Reminder) -> str:
    if r.kind == "streak":
        text = t("reminder_streak", streak=r.streak, at=t.local(r.at))
    else:
        text = t(f"reminder_{r.kind}", at=t.local(r.at))
    return text + t("reminder_footer")


class Reminders:
    def __init__(self, ledger: Ledger, *, worker: str, days: LocalDays, default_language: str = "tr",
                 pace: float = PACE) -> None:
        self.ledger, self.worker, self.days = ledger, worker, days
        self.default_language, self.pace = default_language, pace

    async def run_once(self, bot: Bot) -> int:
        """Send the reminders due now that nobody recorded yet; how many were sent."""
        await self.ledger.lose_reminders(LEASE)  # a dead worker's sends: never again
        sent = 0
        for due in await self.ledger.due_reminders(BATCH):
            mine = await self.ledger.claim_reminder(due, self.worker)
            if not mine.claimed:  # another worker's, already recorded, or /notify off meanwhile
                continue
            if await self._send(bot, mine):
                sent += 1
            await asyncio.sleep(self.pace)
        return sent

    async def _send(self, bot: Bot, r: Reminder) -> bool:
        text = render(Texts(pick_language(r.language, self.default_language), self.days), r)
        what = f"{r.kind} reminder {r.ref} to {r.user_id}"
        try:
            message = await send_with_retries(
                lambda: bot.send_message(r.user_id, text, request_timeout=SEND_TIMEOUT), what)
        except Undeliverable as exc:
            if exc.reason == BLOCKED:
                await self.ledger.set_active(r.user_id, False)
            await self.ledger.settle_reminder(r, "failed", reason=exc.reason)
            return False
        await self.ledger.settle_reminder(r, "sent", message.message_id)
        log.info("%s sent", what)
        return True

    async def run_every(self, bot: Bot, stop: asyncio.Event, seconds: float = EVERY) -> None:
        """Look for reminders due every `seconds` until `stop`; a failed look is one log line."""
        await every(seconds, stop, lambda: self.run_once(bot), "reminders")

"""The reminders' records on both backends: claimed by one caller only, even at once; a
settled one is final (the database refuses a change); /notify off is not claimed."""

from __future__ import annotations

import asyncio

import pytest

DAY, HOUR = 86400, 3600


async def test_one_claim_wins_among_concurrent_ones_and_the_outcome_is_final(ledger, clock):
    await ledger.register(1)
    await ledger.convert(1, 50)
    await ledger.buy(1, "boost")
    clock.advance(DAY - HOUR)
    (due,) = await ledger.due_reminders()
    claims = await asyncio.gather(*(ledger.claim_reminder(due, f"w{i}") for i in range(8)))
    assert sum(c.claimed for c in claims) == 1
    assert await ledger.due_reminders() == []
    assert (await ledger.settle_reminder(due, "sent", 77)).what == "sent"
    assert (await ledger.settle_reminder(due, "failed", None, "x")).what == "settled"  # nothing changes
    assert [r.state for r in await ledger.reminders(1)] == ["sent"]
    with pytest.raises(Exception, match="final"):
        await ledger.store.in_writer(lambda db: db.execute("UPDATE reminders SET state = 'pending'"))
    assert await ledger.verify() == []


async def test_notify_off_is_not_due_nor_claimed(ledger, clock):
    await ledger.register(1)
    await ledger.convert(1, 50)
    await ledger.buy(1, "dm")
    clock.advance(DAY - HOUR)
    (due,) = await ledger.due_reminders()
    await ledger.set_notify(1, False)
    assert await ledger.due_reminders() == []
    assert not (await ledger.claim_reminder(due, "w")).claimed

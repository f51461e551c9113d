"""Support messages: stored, priority while the DM perk is active, listed priority first."""

import pytest

from economy.errors import InvalidInput, NotFound


async def test_priority_messages_come_first_while_the_perk_lasts(ledger, clock):
    for uid in (1, 2):
        await ledger.register(uid)
    await ledger.convert(2, 50)
    plain = await ledger.support(1, "hello")
    await ledger.buy(2, "dm")
    urgent = await ledger.support(2, "  <b>help</b>  ")
    assert not plain.priority and urgent.priority and urgent.text == "<b>help</b>"
    assert [t.ticket_id for t in await ledger.inbox()] == [urgent.ticket_id, plain.ticket_id]
    clock.advance(25 * 3600)
    late = await ledger.support(2, "again")
    assert not late.priority
    await ledger.close_tickets(2)
    assert [t.ticket_id for t in await ledger.inbox()] == [plain.ticket_id]


async def test_support_refusals(ledger):
    await ledger.register(1)
    with pytest.raises(InvalidInput):
        await ledger.support(1, "   ")
    with pytest.raises(NotFound):
        await ledger.support(99, "hi")
    assert await ledger.inbox() == []
    long = await ledger.support(1, "x" * 5000)
    assert len(long.text) == 1000

"""Small edges of the commands (issue 16, item 13)."""

from __future__ import annotations

from tests.bot.conftest import ADMIN, ALICE, AYSE


async def test_money_as_the_bot_shows_it_is_accepted_as_input(h):
    await h.send(ALICE, "/start")
    await h.send(AYSE, "/start")
    assert "available 1,000.00 TL" in await h.say(ADMIN, "/quota @alice 1,000.00")
    assert "available 2,000.00 TL" in await h.say(ADMIN, "/quota @alice 1.000,00")
    assert "is not a valid amount" in await h.say(ADMIN, "/quota @alice 1.000")
    assert (await h.ledger.balance(ALICE.id)).credit_quota == 200_000

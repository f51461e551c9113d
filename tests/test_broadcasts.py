"""Broadcasts in the ledger: segments, the claim before each send, outcomes final, a takeover
counting the sends under way unknown, never a recipient sent twice (both backends)."""

from __future__ import annotations

import pytest

from economy import InvalidInput, Ledger
from economy.errors import Unstorable
from economy.broadcasts import Broadcasts, version
from tests.conftest import BACKENDS

DAY = 86400


@pytest.fixture(params=BACKENDS)
async def ledger(request, tmp_path, clock):
    where = tmp_path / "b.db" if request.param == "sqlite" else request.getfixturevalue("pg_url")
    async with await Ledger.open(where, clock=clock) as led:
        yield led


async def _people(ledger: Ledger) -> None:
    await ledger.register(1, language="tr")
    await ledger.register(2, language="en-GB")
    await ledger.register(3, language="de")  # neither: the default language (tr)
    await ledger.register(4, language="en")
    await ledger.convert(1)
    await ledger.earn(1, 1000)
    await ledger.convert(1)
    await ledger.buy(1, "vip")
    await ledger.raise_quota(2, 1000)
    await ledger.set_active(4, False)  # blocked the bot


async def test_segments(ledger, clock) -> None:
    await _people(ledger)
    casts = Broadcasts(ledger, "tr")
    assert await casts.count("all") == 3
    assert await casts.count("vip") == 1
    assert await casts.count("quota") == 1
    assert await casts.count("tr") == 2
    assert await casts.count("en") == 1
    assert await Broadcasts(ledger, "en").count("en") == 2
    assert await casts.count("active7") == 3  # each registered (a journal entry) just now
    clock.advance(8 * DAY)
    await ledger.daily(3)
    assert await casts.count("active7") == 1
    with pytest.raises(InvalidInput):
        await casts.count("everyone")


async def test_claims_outcomes_and_takeover(ledger) -> None:
    await _people(ledger)
    casts = Broadcasts(ledger, "tr")
    draft = await casts.create(9000, "all", "text", "hello", [{"type": "bold", "offset": 0, "length": 5}])
    assert draft.state == "draft" and draft.entities[0]["type"] == "bold"
    before = await ledger.store.read(version)
    started, first = await casts.start(draft.id, worker="w1", chat_id=9000, message_id=5)
    assert first and started.total == 3 and started.counts["pending"] == 3
    assert (await casts.start(draft.id, worker="w1", chat_id=9000, message_id=5))[1] is False
    assert await ledger.store.read(version) > before
    u1 = await casts.claim_next(draft.id, worker="w1")
    assert u1 == 1
    assert await casts.claim_next(draft.id, worker="w2") is None  # not its runner
    assert await casts.record(draft.id, u1, "sent", message_id=77)
    u2 = await casts.claim_next(draft.id, worker="w1")
    assert await casts.record(draft.id, u2, "blocked", reason="blocked")
    assert (await ledger.profile(u2)).active is False
    assert await casts.count("all") == 2  # who blocked the bot is left out of later broadcasts
    u3 = await casts.claim_next(draft.id, worker="w1")  # then w1 dies with this send under way
    taken = await casts.take(draft.id, worker="w2", take_over=True)
    assert taken.claimed and taken.counts["unknown"] == 1 and taken.counts["sending"] == 0
    assert not await casts.record(draft.id, u3, "sent", message_id=78)  # the old runner's late word
    assert await casts.sent_to(draft.id, u3) == ("unknown", None)
    assert await casts.claim_next(draft.id, worker="w1") is None
    assert await casts.claim_next(draft.id, worker="w2") is None  # nobody left
    done = await casts.finish(draft.id, worker="w2")
    assert done.state == "done"
    assert (done.counts["sent"], done.counts["blocked"], done.counts["unknown"]) == (1, 1, 1)
    assert [b.id for b in await casts.recent()] == [draft.id]


async def test_a_claimed_recipient_never_goes_back(ledger) -> None:
    await _people(ledger)
    casts = Broadcasts(ledger, "tr")
    b = await casts.create(9000, "all", "text", "x", [])
    await casts.start(b.id, worker="w", chat_id=9000, message_id=1)
    user = await casts.claim_next(b.id, worker="w")

    async def back(tx):
        await tx.write("UPDATE broadcast_recipients SET state = 'pending' WHERE broadcast_id = ? AND user_id = ?", (b.id, user))

    with pytest.raises(Unstorable) as refused:  # the database's trigger refused it
        await ledger.store.write(back, None, "back", None)
    assert "never sent it again" in str(refused.value.__cause__)
    assert await casts.sent_to(b.id, user) == ("sending", None)


async def test_cancel_stops_claims(ledger) -> None:
    await _people(ledger)
    casts = Broadcasts(ledger, "tr")
    b = await casts.create(9000, "en", "photo", "caption", [], file_id="ph")
    await casts.start(b.id, worker="w", chat_id=9000, message_id=1)
    cancelled = await casts.cancel(b.id)
    assert cancelled.state == "cancelled"
    assert await casts.claim_next(b.id, worker="w") is None

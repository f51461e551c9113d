"""What nobody finished is finished by the bot itself (issue 20, items 2 and 5): a delivery
left pending (a crash between the charge and the send, an error, a refused record) and a
notice a committed change owes its user are settled by the sweep once the claim's lease ran
out, in polling and webhook mode, and never twice."""

from __future__ import annotations

import pytest

from bot import delivery
from bot.delivery import charge_source
from bot.fake import ApiError
from tests.bot.conftest import ADMIN, ALICE, AYSE

FIVE_XX = ApiError(502, "Bad Gateway")


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch):
    monkeypatch.setattr(delivery, "BACKOFF", (0.0, 0.0))


async def _alice_with_quota(h) -> None:
    await h.send(ALICE, "/start")
    await h.send(AYSE, "/start")
    await h.send(ADMIN, "/quota @alice 1000")


def _copies(h) -> list:
    return [s for s in h.telegram.sent if s.method == "copyMessage" and s.chat_id == ALICE.id]


@pytest.mark.parametrize("sole", [True, False], ids=["polling", "webhook"])
async def test_a_charge_a_crash_left_pending_is_delivered_by_the_sweep_once(h, clock, sole):
    await _alice_with_quota(h)
    deliveries = h.dp["deliveries"]
    deliveries.sole = sole
    done = await h.ledger.charge(ALICE.id, 15_000, actor=ADMIN.id, note="invoice", deliver=True, worker="crashed",
                                 source=charge_source(ADMIN.id, 4242), key="u:crashed-run")
    # A claim younger than its lease may be a live send (another instance; the old process of a
    # rolling restart): the sweep leaves it, in either mode (a redelivered update takes it at once).
    assert await deliveries.sweep(h.bot) == 0 and _copies(h) == []
    clock.advance(delivery.LEASE + 1)
    assert await deliveries.sweep(h.bot) == 1
    copies = _copies(h)
    assert len(copies) == 1 and copies[0].html == "copy:9000:4242" and "150.00 TL" in copies[0].text
    assert (await h.ledger.delivery(done.transfer_id)).state == "delivered"
    assert await deliveries.sweep(h.bot) == 0 and len(_copies(h)) == 1  # never twice
    assert (await h.ledger.balance(ALICE.id)).credit_used == 15_000
    assert await h.ledger.verify() == []


async def test_a_pending_charge_the_sweep_cannot_deliver_is_refunded(h, clock):
    await _alice_with_quota(h)
    deliveries = h.dp["deliveries"]
    done = await h.ledger.charge(ALICE.id, 15_000, actor=ADMIN.id, deliver=True, worker="crashed",
                                 source=charge_source(ADMIN.id, 4242), key="u:crashed-run")
    h.telegram.faults["copyMessage"] = [FIVE_XX] * 3
    clock.advance(delivery.LEASE + 1)  # the claim ran out
    assert await deliveries.sweep(h.bot) == 1
    found = await h.ledger.delivery(done.transfer_id)
    assert found.state == "refunded" and found.reason == "unavailable"
    assert (await h.ledger.balance(ALICE.id)).credit_used == 0 and _copies(h) == []
    # a charge made before sources were kept (v6) cannot be sent again: refunded, not left pending
    old = await h.ledger.charge(ALICE.id, 5_000, actor=ADMIN.id, deliver=True, worker="crashed", key="u:v6")
    clock.advance(delivery.LEASE + 1)  # the claim ran out
    assert await deliveries.sweep(h.bot) == 1
    assert (await h.ledger.delivery(old.transfer_id)).state == "refunded"
    assert await h.ledger.verify() == []


async def test_a_purchase_a_crash_left_pending_is_delivered_by_the_sweep(h, clock):
    await h.send(ALICE, "/start")
    await h.send(ALICE, "/convert all")
    await h.file(ADMIN, "/addcontent guide The guide")
    done = await h.ledger.buy(ALICE.id, "content", "guide", deliver=True, worker="crashed", key="u:crashed-buy")
    clock.advance(delivery.LEASE + 1)  # the claim ran out
    assert await h.dp["deliveries"].sweep(h.bot) == 1
    sent = [s for s in h.telegram.sent if s.chat_id == ALICE.id and s.method == "sendDocument"]
    assert len(sent) == 1 and "The guide" in sent[0].text
    assert (await h.ledger.delivery(done.transfer_id)).state == "delivered"


async def test_an_outcome_the_database_refused_is_recorded_by_the_sweep_without_sending_again(h, clock, monkeypatch):
    await _alice_with_quota(h)
    deliveries = h.dp["deliveries"]
    done = await h.ledger.charge(ALICE.id, 15_000, actor=ADMIN.id, deliver=True, worker="crashed",
                                 source=charge_source(ADMIN.id, 4242), key="u:crashed-run")
    real = h.ledger.delivered
    from economy import StorageBusy

    async def busy(*args, **kw):
        raise StorageBusy(reason="locked")
    monkeypatch.setattr(h.ledger, "delivered", busy)
    monkeypatch.setattr(delivery, "SETTLE_BACKOFF", (0.0, 0.0))
    clock.advance(delivery.LEASE + 1)  # the crashed run's claim ran out
    assert await deliveries.sweep(h.bot) == 0  # sent; the record is refused: kept to retry
    assert len(_copies(h)) == 1 and done.transfer_id in deliveries.unsettled
    monkeypatch.setattr(h.ledger, "delivered", real)
    clock.advance(delivery.LEASE + 1)  # the claim ran out
    assert await deliveries.sweep(h.bot) == 1
    assert len(_copies(h)) == 1 and (await h.ledger.delivery(done.transfer_id)).state == "delivered"
    await deliveries.close()


def _notices(h, text: str) -> list:
    return [s for s in h.telegram.sent if s.chat_id == ALICE.id and text in (s.html or "")]


@pytest.mark.parametrize("command, words", [
    ("/grant @alice 30 weekly", "You received <b>30 XP</b> (weekly)"),
    ("/quota @alice 200", "Your credit quota was raised by 200.00 TL"),
    ("/quota @alice -100", "Your credit quota was lowered by 100.00 TL"),
])
async def test_a_notice_lost_with_the_admins_reply_is_sent_once_on_the_replay(h, command, words):
    """The admin's reply fails after the change committed (Telegram down for that chat): the
    update is not acknowledged; its replay sends the admin's reply and the user's notice only
    if it is still owed — here it was sent, so the user gets it exactly once."""
    await _alice_with_quota(h)
    update = h.updates.message(ADMIN, command)
    original = h.telegram.call

    def admin_fails(method, params):
        if method == "sendMessage" and str(params.get("chat_id")) == str(ADMIN.id) and not getattr(admin_fails, "done", False):
            admin_fails.done = True
            return 502, {"ok": False, "error_code": 502, "description": "Bad Gateway"}
        return original(method, params)
    h.telegram.call = admin_fails
    from aiogram.types import Update
    outcome = await h.dp.feed_update(h.bot, Update.model_validate(update, context={"bot": h.bot}), final_try=False)
    assert outcome == "retry"
    again = await h.feed(update)
    assert len(_notices(h, words)) == 1
    assert any(s.chat_id == ADMIN.id for s in again)


async def test_a_notice_the_process_never_sent_is_sent_by_the_sweep(h, clock):
    """A grant (or a dashboard action) committed and the process died before the notice: the
    sweep sends it, once; a user who blocked the bot gets it recorded failed, not retried."""
    await h.send(ALICE, "/start")
    await h.send(AYSE, "/start")
    done = await h.ledger.grant(ALICE.id, 30, reason="weekly", actor=ADMIN.id, key="u:lost", notify=True)
    deliveries = h.dp["deliveries"]
    clock.advance(delivery.LEASE + 1)  # the claim ran out
    assert await deliveries.sweep(h.bot) == 1
    assert len(_notices(h, "You received <b>30 XP</b> (weekly)")) == 1
    assert (await h.ledger.notice(done.transfer_id)).state == "sent"
    assert await deliveries.sweep(h.bot) == 0
    h.telegram.faults["sendMessage"] = [ApiError(403, "Forbidden: bot was blocked by the user")]
    blocked = await h.ledger.raise_quota(AYSE.id, 10_000, actor=ADMIN.id, key="u:lost2", notify=True)
    clock.advance(delivery.LEASE + 1)  # the claim ran out
    assert await deliveries.sweep(h.bot) == 1
    assert (await h.ledger.notice(blocked.transfer_id)).state == "failed"
    # a notice Telegram cannot take now stays owed: the next sweep sends it
    h.telegram.faults["sendMessage"] = [FIVE_XX] * 3
    later = await h.ledger.raise_quota(ALICE.id, 100, actor=ADMIN.id, key="u:lost3", notify=True)
    clock.advance(delivery.LEASE + 1)
    assert await deliveries.sweep(h.bot) == 0  # three 5xx: still owed
    assert (await h.ledger.notice(later.transfer_id)).state == "pending"
    clock.advance(delivery.LEASE + 1)
    assert await deliveries.sweep(h.bot) == 1
    assert (await h.ledger.notice(later.transfer_id)).state == "sent"
    assert await h.ledger.verify() == []


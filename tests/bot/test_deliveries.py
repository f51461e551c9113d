"""A file charge or a content purchase ends charged-and-delivered or not charged, and an update
delivered again reports the recorded outcome without sending anything twice."""

from __future__ import annotations

import pytest

from bot import delivery
from bot.fake import ApiError
from tests.bot.conftest import ADMIN, ALICE, AYSE, GROUP

FIVE_XX = ApiError(502, "Bad Gateway")


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch):
    monkeypatch.setattr(delivery, "BACKOFF", (0.0, 0.0))


async def _alice_with_quota(h, tl: int = 1000) -> None:
    await h.send(ALICE, "/start")
    await h.send(AYSE, "/start")
    await h.send(ADMIN, f"/quota @alice {tl}")


def _charge_update(h, caption: str = "/charge @alice 150 invoice") -> dict:
    return h.updates.message(ADMIN, caption=caption, media="document",
                             caption_entities=[{"type": "bot_command", "offset": 0, "length": 7}])


def _copies(h, chat: int = ALICE.id) -> list:
    return [s for s in h.telegram.sent if s.method == "copyMessage" and s.chat_id == chat]


async def _used(h, user: int = ALICE.id) -> int:
    return (await h.ledger.balance(user)).credit_used


async def test_a_passing_5xx_is_retried_and_the_file_charged_once(h):
    await _alice_with_quota(h)
    h.telegram.faults["copyMessage"] = [FIVE_XX, FIVE_XX]
    sent = await h.feed(_charge_update(h))
    assert len(_copies(h)) == 1 and await _used(h) == 15_000
    assert "Charged 150.00 TL to Alice and sent the file" in sent[-1].text
    assert await h.ledger.verify() == []


@pytest.mark.parametrize("fault, reason", [
    ([FIVE_XX] * 3, "Telegram did not answer after 3 tries"),
    ([ApiError(429, "Too Many Requests: retry after 300", retry_after=300)], "Telegram's flood limit for that chat"),
    ([ApiError(400, "Bad Request: wrong file identifier")], "Telegram refused the delivery"),
])
async def test_an_undelivered_file_is_not_charged_and_the_admin_is_told_why(h, fault, reason):
    await _alice_with_quota(h)
    h.telegram.faults["copyMessage"] = list(fault)
    sent = await h.feed(_charge_update(h))
    assert _copies(h) == [] and await _used(h) == 0
    assert f"Could not deliver the file to Alice ({reason}); nothing was charged: the 150.00 TL was refunded." \
        == sent[-1].text
    assert "something went wrong" not in sent[-1].text.lower()
    assert (await h.ledger.profile(ALICE.id)).active  # not blocked: still active
    assert await h.ledger.verify() == []


async def test_a_replayed_refunded_charge_delivers_nothing_and_reports_the_refund(h):
    await _alice_with_quota(h)
    h.telegram.blocked.add(ALICE.id)
    update = _charge_update(h)
    first = await h.feed(update)
    h.telegram.blocked.clear()  # the user unblocks; the same update comes again (crash, webhook retry)
    again = await h.feed(update)
    assert _copies(h) == [] and await _used(h) == 0
    assert [s.text for s in again if s.chat_id == ADMIN.id] == [first[-1].text]
    assert "nothing was charged" in first[-1].text
    assert await h.ledger.verify() == []


async def test_a_replayed_delivered_charge_sends_neither_file_nor_caption_again(h):
    await _alice_with_quota(h)
    update = _charge_update(h)
    first = await h.feed(update)
    again = await h.feed(update)
    assert len(_copies(h)) == 1 and await _used(h) == 15_000
    assert [s.chat_id for s in again] == [ADMIN.id] and again[0].text == first[-1].text
    assert h.telegram.to(ALICE.id)[-1].method == "copyMessage"


@pytest.mark.parametrize("sole", [True, False])
async def test_a_crash_between_the_charge_and_the_send_is_completed_by_the_redelivery(h, clock, sole):
    await _alice_with_quota(h)
    update = _charge_update(h)
    # the first attempt (an earlier run of the bot) charged with this update's key and died
    # before sending
    await h.ledger.charge(ALICE.id, 15_000, actor=ADMIN.id, note="invoice", deliver=True, worker="crashed",
                          key=f"u:{update['update_id']}")
    h.dp["deliveries"].sole = sole
    if not sole:  # other webhook instances may be alive: the claim must have lapsed first
        clock.advance(delivery.LEASE + 1)
    sent = await h.feed(update)
    assert len(_copies(h)) == 1 and await _used(h) == 15_000
    assert "Charged 150.00 TL to Alice and sent the file" in sent[-1].text
    await h.feed(update)
    assert len(_copies(h)) == 1


async def test_a_redelivery_while_another_instance_holds_the_claim_sends_nothing(h, monkeypatch):
    monkeypatch.setattr(delivery, "CLAIM_WAIT", 0.05)
    h.dp["deliveries"].sole = False  # several webhook instances
    await _alice_with_quota(h)
    update = _charge_update(h)
    await h.ledger.charge(ALICE.id, 15_000, actor=ADMIN.id, note="invoice", deliver=True, worker="other",
                          key=f"u:{update['update_id']}")
    sent = await h.feed(update)  # the claim is fresh: someone is sending it right now
    assert _copies(h) == [] and await _used(h) == 15_000
    assert "still being delivered" in sent[-1].text


# -- content purchases --
async def _buyer(h, who=ALICE, tokens: int = 50) -> None:
    await h.file(ADMIN, "/addcontent clip Clip", media="video")
    await h.send(who, "/start")
    await h.ledger.grant(who.id, tokens)
    await h.send(who, f"/convert {tokens}")


async def test_content_that_cannot_be_delivered_is_refunded_and_not_owned(h):
    await _buyer(h)
    h.telegram.faults["sendVideo"] = [FIVE_XX] * 3
    sent = await h.send(ALICE, "/buy content clip")
    b = await h.ledger.balance(ALICE.id)
    assert b.tokens == 50 and b.content == ()
    assert ("I could not send you Clip (Telegram did not answer after 3 tries), so nothing was charged:"
            " your 10 tokens were returned. You can try again from /shop.") == sent[-1].text
    assert (await h.ledger.stats()).spent_per_item["content"] == 0
    assert await h.ledger.verify() == []


async def test_content_bought_in_a_group_by_someone_the_bot_cannot_write_to_is_kept(h):
    await _buyer(h)
    h.telegram.blocked.add(ALICE.id)  # never opened a private chat: 403
    sent = await h.send(ALICE, "/buy content clip", chat=GROUP)
    text = [s for s in sent if s.chat_id == GROUP][-1].text
    assert "sorry" not in text.lower() and "went wrong" not in text.lower()
    assert "Clip is yours" in text and "/mycontent" in text and "private chat" in text
    assert (await h.ledger.balance(ALICE.id)).content == ("clip",)
    # /mycontent in the group, still no private chat: where to go, no apology
    mine = await h.send(ALICE, "/mycontent", chat=GROUP)
    assert "open a private chat with me" in mine[-1].text and "sorry" not in mine[-1].text.lower()
    h.telegram.blocked.clear()
    mine = await h.send(ALICE, "/mycontent")
    assert any(s.method == "sendVideo" and s.chat_id == ALICE.id for s in mine)


async def test_content_bought_in_a_group_goes_to_the_private_chat(h):
    await _buyer(h)
    sent = await h.send(ALICE, "/buy content clip", chat=GROUP)
    assert [(s.method, s.chat_id) for s in sent] == [("sendVideo", ALICE.id), ("sendMessage", GROUP)]
    assert "I sent it to you in our private chat" in sent[-1].text


async def test_a_replayed_content_purchase_sends_the_file_once(h):
    await _buyer(h)
    update = h.updates.message(ALICE, "/buy content clip")
    first = await h.feed(update)
    again = await h.feed(update)
    assert [s.method for s in first] == ["sendVideo", "sendMessage"]
    assert [s.method for s in again] == ["sendMessage"] and again[0].text == first[-1].text
    assert (await h.ledger.balance(ALICE.id)).tokens == 40


async def test_a_double_tapped_content_button_delivers_once(h):
    await _buyer(h)
    shop = (await h.send(ALICE, "/shop"))[0]
    data = h.button(shop, "Clip")
    first = await h.press(ALICE, shop, data)
    second = await h.press(ALICE, shop, data)
    videos = [s for s in h.telegram.sent if s.method == "sendVideo"]
    assert len(videos) == 1 and "bought for 10 tokens" in first[-1].text
    assert "already bought" in second[-1].text and (await h.ledger.balance(ALICE.id)).tokens == 40


async def test_a_busy_database_after_the_send_is_told_truthfully_and_recorded_later(h, monkeypatch):
    import asyncio

    from economy import StorageBusy
    monkeypatch.setattr(delivery, "SETTLE_BACKOFF", (0.0, 0.0))
    monkeypatch.setattr(delivery, "SETTLE_LATER", 0.01)
    await _alice_with_quota(h)
    real, fails = h.ledger.delivered, {"left": 4}

    async def busy_delivered(*a, **k):
        if fails["left"]:
            fails["left"] -= 1
            raise StorageBusy(reason="locked")
        return await real(*a, **k)

    monkeypatch.setattr(h.ledger, "delivered", busy_delivered)
    update = _charge_update(h)
    sent = await h.feed(update)
    text = sent[-1].text
    assert "was sent to Alice and 150.00 TL charged" in text and "keeps trying" in text
    assert "nothing was changed" not in text and "try again" not in text.lower()
    for _ in range(100):  # the background settler records it once the database answers
        if not h.dp["deliveries"].unsettled:
            break
        await asyncio.sleep(0.01)
    done = await h.ledger.pending_deliveries(ALICE.id)
    assert done == [] and len(_copies(h)) == 1 and await _used(h) == 15_000
    again = await h.feed(update)  # a replay reads the recorded outcome: no second file
    assert len(_copies(h)) == 1 and "sent the file" in again[-1].text


async def test_a_busy_refund_is_never_a_free_or_double_charge(h, monkeypatch):
    from economy import StorageBusy
    monkeypatch.setattr(delivery, "SETTLE_BACKOFF", (0.0, 0.0))
    monkeypatch.setattr(delivery, "SETTLE_LATER", 3600)  # nothing in the background during this test
    await _alice_with_quota(h)
    h.telegram.faults["copyMessage"] = [FIVE_XX] * 3

    async def busy(*a, **k):
        raise StorageBusy(reason="locked")

    real = h.ledger.refund_delivery
    monkeypatch.setattr(h.ledger, "refund_delivery", busy)
    update = _charge_update(h)
    sent = await h.feed(update)
    assert "Could not deliver the file to Alice" in sent[-1].text and "keeps trying to refund" in sent[-1].text
    monkeypatch.setattr(h.ledger, "refund_delivery", real)
    again = await h.feed(update)  # the replay records the refund it remembers, sends nothing
    assert _copies(h) == [] and await _used(h) == 0 and "nothing was charged" in again[-1].text


async def test_the_user_card_shows_a_pending_delivery(h):
    await _alice_with_quota(h)
    await h.ledger.charge(ALICE.id, 15_000, actor=ADMIN.id, deliver=True, worker="w", key="x")
    card = await h.say(ADMIN, f"/user {ALICE.id}")
    assert "Delivery pending: 150.00 TL" in card


async def test_a_redelivered_charge_finishes_for_its_first_user_after_the_username_moved(h):
    from bot.fake import Person
    ali, ayse = Person(1501, "Ali", "x_name", "en"), Person(1502, "Ayşe", "other", "en")
    await h.send(ali, "/start")
    await h.send(ayse, "/start")
    await h.send(ADMIN, f"/quota {ali.id} 500")
    update = _charge_update(h, "/charge @x_name 150 invoice")
    # the first attempt charged Ali (@x_name then) and died before sending
    await h.ledger.charge(ali.id, 15_000, actor=ADMIN.id, note="invoice", deliver=True, worker="crashed",
                          key=f"u:{update['update_id']}")
    ali.username, ayse.username = None, "x_name"  # the name changes hands before the redelivery
    await h.send(ayse, "/balance")
    sent = await h.feed(update)
    assert len(_copies(h, ali.id)) == 1 and _copies(h, ayse.id) == []
    assert "Charged 150.00 TL to Ali" in sent[-1].text
    assert (await h.ledger.balance(ali.id)).credit_used == 15_000
    assert (await h.ledger.balance(ayse.id)).credit_used == 0

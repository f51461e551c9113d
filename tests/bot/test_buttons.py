"""Inline buttons: answered first, untrusted data, each shop message sells each item once."""

from __future__ import annotations

import pytest

from tests.bot.conftest import ALICE, AYSE, GROUP


async def _rich(h, who, tokens: int) -> None:
    await h.send(who, "/start")
    if tokens:
        await h.ledger.grant(who.id, tokens)
    await h.send(who, "/convert all")


async def test_shop_lists_prices_and_a_button_buys_once(h):
    await h.ledger.add_content("clip-1", title="<i>Clip</i>", media="document", file_ref="doc-9")
    await _rich(h, ALICE, 50)  # 100 tokens
    shop = (await h.send(ALICE, "/shop"))[0]
    assert "you have 100 tokens" in shop.text and "VIP status: 25 tokens" in shop.text
    assert "<i>Clip</i> (clip-1): 10 tokens" in shop.text
    vip = h.button(shop, "VIP")
    sent = await h.press(ALICE, shop, vip)
    assert "VIP status bought for 25 tokens. Tokens left: 75" in sent[0].text
    again = await h.press(ALICE, shop, vip)  # double tap
    assert "already bought VIP status from this message; nothing was charged again" in again[0].text
    assert (await h.ledger.balance(ALICE.id)).tokens == 75
    # timed items can be bought again, but from a new shop message
    shop2 = (await h.send(ALICE, "/shop"))[0]
    boost = h.button(shop2, "boost")
    await h.press(ALICE, shop2, boost)
    await h.press(ALICE, shop2, boost)
    assert (await h.ledger.balance(ALICE.id)).tokens == 70
    shop3 = (await h.send(ALICE, "/shop"))[0]
    await h.press(ALICE, shop3, boost)
    assert (await h.ledger.balance(ALICE.id)).tokens == 65
    sent = await h.press(ALICE, shop3, h.button(shop3, "Clip"))
    # the file first, then what became of it
    assert [s.method for s in sent] == ["sendDocument", "sendMessage"] and sent[0].html == "doc-9"


async def test_a_refused_tap_can_succeed_later_on_the_same_message(h):
    await h.send(ALICE, "/start")
    shop = (await h.send(ALICE, "/shop"))[0]
    vip = h.button(shop, "VIP")
    sent = await h.press(ALICE, shop, vip)
    assert "Not enough tokens: VIP status costs 25, you have 0 (25 short)" in sent[0].text
    await h.send(ALICE, "/convert all")
    sent = await h.press(ALICE, shop, vip)
    assert "Tokens left: 25" in sent[0].text


async def test_the_same_shop_message_in_a_group_sells_to_each_member(h):
    await _rich(h, ALICE, 0)
    await _rich(h, AYSE, 0)
    shop = (await h.send(ALICE, "/shop", chat=GROUP))[0]
    boost = h.button(shop, "boost")
    await h.press(ALICE, shop, boost)
    sent = await h.press(AYSE, shop, boost)
    assert "5 tokene alındı" in sent[0].text
    assert (await h.ledger.balance(ALICE.id)).tokens == 45 and (await h.ledger.balance(AYSE.id)).tokens == 45


@pytest.mark.parametrize("data", [
    "b:gold:", "b:vip", "b:vip::extra", "b:content:../../etc", "b:content:nope", "zz:1", "h:-1", "h:x", "u:0",
    "m:withdraw", "c:-5", "c:1e3", "c:٣", "", "b:" + "v" * 70,
])
async def test_forged_or_unknown_buttons_get_a_short_answer_and_change_nothing(h, data):
    await _rich(h, ALICE, 50)
    shop = (await h.send(ALICE, "/shop"))[0]
    before = await h.ledger.balance(ALICE.id)
    rows = [row async for row in h.ledger.journal()]
    raw = h.updates.callback(ALICE, data, shop)
    sent = await h.feed(raw)
    answer = h.telegram.answered[raw["callback_query"]["id"]]
    assert answer.get("text") or sent, "no answer text and no message"
    assert await h.ledger.balance(ALICE.id) == before
    assert [row async for row in h.ledger.journal()] == rows


async def test_every_callback_is_answered_even_without_a_message(h):
    await _rich(h, ALICE, 0)
    raw = h.updates.callback(ALICE, "b:vip:")  # message too old to be attached
    sent = await h.feed(raw)
    assert raw["callback_query"]["id"] in h.telegram.answered
    assert "Tokens left: 25" in sent[0].text and sent[0].chat_id == ALICE.id


async def test_menu_buttons_open_each_view(h):
    start = (await h.send(ALICE, "/start"))[0]
    for label, expected in [("Balance", "Tokens: 0"), ("Daily", "+20 XP"), ("Shop", "Shop"),
                            ("Convert", "How much XP"), ("History", "Your history"), ("Top", "Nobody has spent")]:
        sent = await h.press(ALICE, start, h.button(start, label))
        assert expected in sent[0].text, (label, sent[0].text)


async def test_a_callback_answer_refused_by_telegram_does_not_stop_the_purchase(h):
    from bot.fake import ApiError
    await _rich(h, ALICE, 0)
    shop = (await h.send(ALICE, "/shop"))[0]
    h.telegram.faults["answerCallbackQuery"] = [ApiError(400, "Bad Request: query is too old and response timeout"
                                                              " expired or query ID is invalid")]
    sent = await h.feed(h.updates.callback(ALICE, h.button(shop, "VIP"), shop))
    assert "Tokens left: 25" in sent[0].text

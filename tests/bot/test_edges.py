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


async def test_convert_all_with_no_xp_says_so(h):
    await h.send(ALICE, "/start")
    await h.send(ALICE, "/convert all")
    text = await h.say(ALICE, "/convert all")
    assert text == "You have no XP to convert. Earn XP with /daily."
    assert "asked for" not in await h.say(AYSE, "/start") + await h.say(AYSE, "/convert hepsi") + \
        await h.say(AYSE, "/convert hepsi")


async def test_convert_all_in_turkish_capitals(h):
    await h.send(AYSE, "/start")
    assert "50 XP" in await h.say(AYSE, "/convert HEPSİ")
    await h.send(ADMIN, "/grant @ayse 10")
    assert "10 XP" in await h.say(AYSE, "/convert Hepsi")
    await h.send(ADMIN, "/grant @ayse 10")
    assert "10 XP" in await h.say(AYSE, "/convert TÜMÜ")
    await h.send(ADMIN, "/grant @ayse 10")
    assert "10 XP" in await h.say(AYSE, "/convert ALL")
    assert (await h.ledger.balance(AYSE.id)).tokens == 80


async def test_each_amount_of_a_convert_keyboard_is_its_own_action(h):
    await h.send(ALICE, "/start")
    await h.send(ADMIN, "/grant @alice 50")
    ask = (await h.send(ALICE, "/convert"))[0]
    ten, twenty_five = h.button(ask, "25").replace("25", "10"), h.button(ask, "25")
    assert ("10", ten) in ask.buttons()
    assert "Converted 10 XP" in (await h.press(ALICE, ask, ten))[0].text
    assert "Converted 10 XP" in (await h.press(ALICE, ask, ten))[0].text  # a double tap: once
    assert "Converted 25 XP" in (await h.press(ALICE, ask, twenty_five))[0].text
    assert "Converted 25 XP" in (await h.press(ALICE, ask, twenty_five))[0].text
    b = await h.ledger.balance(ALICE.id)
    assert (b.xp, b.tokens) == (65, 35)


async def test_commands_are_case_insensitive_for_admins_and_users(h):
    await h.send(ALICE, "/start")
    assert "Granted 5 XP to Alice" in await h.say(ADMIN, "/GRANT @alice 5")
    assert "Granted 5 XP to Alice" in await h.say(ADMIN, "/Grant@economy_test_bot @alice 5")
    assert "XP: 60" in await h.say(ALICE, "/BALANCE")
    assert await h.say(ALICE, "/GRANT @alice 5") == "This command is for admins."
    assert (await h.ledger.balance(ALICE.id)).xp == 60

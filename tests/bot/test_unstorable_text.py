"""Text the database cannot store (a NUL, a lone surrogate) typed to the bot gets a clear
refusal in the user's language and changes nothing; an odd character in a Telegram profile
never keeps anyone from a command (issue 20, item 6)."""

from __future__ import annotations

import pytest

from bot.fake import Person
from tests.bot.conftest import ADMIN, ALICE, AYSE, Harness

REFUSED_EN = ("This text holds a character that cannot be stored (shown as �): “{}”. Remove it and send it"
              " again; nothing was changed.")
REFUSED_TR = ("Bu metinde saklanamayan bir karakter var (� olarak gösterildi): “{}”. Onu çıkarıp tekrar"
              " gönder; hiçbir şey değişmedi.")


@pytest.mark.parametrize("bad", ["a\x00b", "a\ud800b"], ids=["nul", "surrogate"])
async def test_an_admin_reason_or_note_that_cannot_be_stored_is_refused_clearly(h: Harness, bad):
    await h.send(ALICE, "/start")
    await h.ledger.raise_quota(ALICE.id, 10_000)
    before = (await h.ledger.balance(ALICE.id), (await h.ledger.history(ALICE.id)).total)
    for command in (f"/grant {ALICE.id} 5 {bad}", f"/quota {ALICE.id} 5 {bad}", f"/refund {ALICE.id} 1 {bad}"):
        sent = await h.send(ADMIN, command)
        assert [s.text for s in sent] == [REFUSED_EN.format("a�b")], command
    sent = await h.file(ADMIN, f"/charge {ALICE.id} 5 {bad}")
    assert [s.text for s in sent] == [REFUSED_EN.format("a�b")]
    assert (await h.ledger.balance(ALICE.id), (await h.ledger.history(ALICE.id)).total) == before
    # the same command with storable text goes through
    sent = await h.send(ADMIN, f"/quota @ali{bad[1:]} 5")  # a lookup, not a write: the same refusal
    assert [s.text for s in sent] == [REFUSED_EN.format("@ali�b")]
    await h.send(ADMIN, f"/grant {ALICE.id} 5 ab")
    assert (await h.ledger.balance(ALICE.id)).xp == before[0].xp + 5
    assert await h.ledger.verify() == []


async def test_a_support_text_that_cannot_be_stored_is_refused_in_the_users_language(h: Harness):
    await h.send(AYSE, "/start")
    await h.send(ALICE, "/start")
    assert await h.say(AYSE, "/support yardım \ud800 lütfen") == REFUSED_TR.format("yardım � lütfen")
    assert await h.say(ALICE, "/support help \x00 please") == REFUSED_EN.format("help � please")
    assert await h.ledger.inbox() == []
    assert await h.say(ALICE, "/support help please") == "Your message was sent to the admins."


async def test_a_content_title_that_cannot_be_stored_is_refused(h: Harness):
    sent = await h.file(ADMIN, "/addcontent v9 Film \ud800 night", media="video")
    assert [s.text for s in sent] == [REFUSED_EN.format("Film � night")]
    assert await h.ledger.list_content() == []


@pytest.mark.parametrize("name", ["A\x00li", "Ali\ud800", "\udcff"], ids=["nul", "surrogate", "only"])
async def test_a_profile_name_with_odd_characters_never_blocks_a_command(h: Harness, name):
    odd = Person(7001, name, "odd_one", "en")
    welcome = await h.say(odd, "/start")
    assert "50" in welcome and "Sorry" not in welcome
    assert "XP" in await h.say(odd, "/balance")
    assert "XP" in await h.say(odd, "/daily")
    stored = await h.ledger.profile(odd.id)
    assert stored.first_name == name.replace("\x00", "\ufffd").replace("\ud800", "\ufffd").replace("\udcff", "\ufffd")
    assert "odd_one" in await h.say(ADMIN, "/user @odd_one")  # the admin finds them and reads the name
    assert await h.ledger.verify() == []

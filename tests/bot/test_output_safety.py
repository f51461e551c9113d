"""Names and reasons with markup, direction overrides, zero-width characters and absurd
lengths are shown literally and bounded; no list passes Telegram's 4096 characters."""

from __future__ import annotations

from bot.fake import Person
from tests.bot.conftest import ADMIN, Harness

NASTY_NAMES = ["<b>bold</b>", "Tom & Jerry", "<script>alert(1)</script>", "\u202eevil\u202c", "zero\u200bwidth\u200d",
               "&amp;lt;", "a" * 300, "<" * 300, "&" * 300, "🙂" * 300]


async def test_hostile_names_everywhere(h: Harness):
    people = [Person(5000 + i, NASTY_NAMES[i % len(NASTY_NAMES)] + str(i), f"u{i}", "en") for i in range(60)]
    for p in people:
        await h.send(p, "/start")
        await h.ledger.grant(p.id, 200, reason="<i>weekly</i> & more")
        await h.send(p, "/convert all")
        await h.send(p, "/buy vip")
        await h.send(p, "/buy badge")
        await h.ledger.raise_quota(p.id, 10_000)
        await h.send(p, "/support " + NASTY_NAMES[p.id % len(NASTY_NAMES)] * 3)
    before = len(h.telegram.sent)
    for command in ("/top", "/users", "/stats", "/inbox", f"/user {people[6].id}", "/user @u7", "/history"):
        await h.send(ADMIN, command)
    await h.send(people[0], "/top")
    await h.send(people[0], "/balance")
    outputs = h.telegram.sent[before:]
    assert len(outputs) == 9 and not any("Sorry" in s.text for s in outputs)
    for s in outputs:
        assert len(s.text) <= 4096
    top = outputs[0].text
    assert "<b>bold</b>0 ⭐ – 75 tokens" in top and "<script>alert(1)</script>2" in top
    assert "\u202eevil\u202c3" in top and "zero\u200bwidth\u200d4" in top
    assert "a" * 64 in top and "a" * 65 not in top  # names are bounded to 64
    card = outputs[4].text
    assert "a" * 64 in card and "a" * 65 not in card
    assert "<" * 64 in outputs[5].text and "<" * 65 not in outputs[5].text


async def test_a_grant_reason_with_markup_reaches_the_user_literally(h: Harness):
    who = Person(6001, "<u>x</u>", "x", "en")
    await h.send(who, "/start")
    await h.send(ADMIN, "/grant 6001 5 </b><a href='javascript:x'>click</a> &nbsp;")
    assert h.telegram.last(who.id).text == "You received 5 XP (</b><a href='javascript:x'>click</a> &nbsp;). You have 55 XP."

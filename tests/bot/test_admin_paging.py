"""/users and /inbox: every user and every ticket is reachable by paging, each page as full as
Telegram's 4096 characters allow, counted as Telegram counts them (issue 16, item 7)."""

from __future__ import annotations

import re

from bot.fake import Person, Sent
from bot.texts import visible_length
from tests.bot.conftest import ADMIN

NAME = "Ş&<" * 21  # 63 characters shown, many more in HTML (&amp; &lt;)


async def _walk(h, first: Sent, label: str) -> list[Sent]:
    """Press `label` ("Next" or "Previous") until it is gone; every page on the way."""
    pages = [first]
    while any(label in text for text, _ in pages[-1].buttons()):
        sent = await h.press(ADMIN, pages[-1], h.button(pages[-1], label))
        assert len(sent) == 1 and sent[0].method == "editMessageText"
        pages.append(sent[0])
        assert len(pages) < 100
    return pages


def _full(page: Sent, line: str) -> bool:
    """The page could not take `line` too."""
    return visible_length(page.html) + 1 + visible_length(line) > 4096


async def test_users_pages_show_everyone_once_and_back(h):
    people = [Person(5000 + i, NAME, None, "en") for i in range(120)]
    for who in people:
        await h.send(who, "/start")
        await h.ledger.raise_quota(who.id, 100_000 + who.id)
    first = (await h.send(ADMIN, "/users"))[0]
    forward = await _walk(h, first, "Next")
    seen = [int(u) for page in forward for u in re.findall(r"^(\d+) ", page.text, re.M)]
    assert seen == [p.id for p in people]  # everyone, once, in order: nobody skipped at a cut
    assert len(forward) >= 3
    line = first.html.split("\n")[1]
    assert all(_full(page, line) for page in forward[:-1])  # budgeted on what Telegram counts
    assert forward[0].text.startswith("Credit users (120) – 1–")
    backward = await _walk(h, forward[-1], "Previous")
    back_seen = {int(u) for page in backward for u in re.findall(r"^(\d+) ", page.text, re.M)}
    assert back_seen == {p.id for p in people}
    assert re.findall(r"^(\d+) ", backward[-1].text, re.M)[0] == str(people[0].id)


async def test_inbox_pages_show_every_open_ticket(h):
    people = [Person(6000 + i, f"T{i}", None, "en") for i in range(40)]
    for who in people:
        await h.send(who, "/start")
        await h.send(who, f"/support ticket of {who.id}: " + "<&> " * 250)
    first = (await h.send(ADMIN, "/inbox"))[0]
    assert "(40)" in first.text
    pages = await _walk(h, first, "Next")
    seen = [int(u) for page in pages for u in re.findall(r"ticket of (\d+)", page.text)]
    assert seen == [p.id for p in people]
    assert len(pages) >= 2
    line = first.html.split("\n")[1]
    assert all(_full(page, line) for page in pages[:-1])
    back = await _walk(h, pages[-1], "Previous")
    assert {int(u) for page in back for u in re.findall(r"ticket of (\d+)", page.text)} == {p.id for p in people}


async def test_forged_page_buttons_are_harmless(h):
    for i in range(3):
        who = Person(7000 + i, f"P{i}", None, "en")
        await h.send(who, "/start")
        await h.ledger.raise_quota(who.id, 100)
        await h.send(who, "/support hi")
    users = (await h.send(ADMIN, "/users"))[0]
    for data in ("u:999999", "u:-1", "u:2", "i:5000", "i:0", "u:1e3", "i:" + "9" * 60):
        sent = await h.press(ADMIN, users, data)
        assert all(len(s.text) <= 4096 for s in sent)

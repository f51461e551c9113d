"""The admin desk through the real dispatcher: effects, notices, refusals, authorization."""

from __future__ import annotations

import csv
import io

import pytest

from tests.bot.conftest import ADMIN, ALICE, AYSE, GROUP
from tests.conftest import snapshot


async def _users(h):
    await h.send(ALICE, "/start")
    await h.send(AYSE, "/start")


async def test_grant_by_id_or_username_tells_the_user(h):
    await _users(h)
    sent = await h.send(ADMIN, "/grant @alice 30 weekly <task>")
    assert "Granted 30 XP to Alice. Their XP: 80." in h.telegram.last(ADMIN.id).text
    notice = [s for s in sent if s.chat_id == ALICE.id][0]
    assert notice.text == "You received 30 XP (weekly <task>). You have 80 XP."
    await h.send(ADMIN, f"/grant {AYSE.id} 5")
    assert h.telegram.last(AYSE.id).text == "5 XP kazandın. 55 XP'n var."
    assert "Usage: /grant" in await h.say(ADMIN, "/grant @alice")
    assert "User @nobody not found" in await h.say(ADMIN, "/grant @nobody 5")
    assert "is not a valid amount" in await h.say(ADMIN, "/grant @alice 10.5")


async def test_quota_scenario_typed_by_an_admin(h):
    await _users(h)
    text = await h.say(ADMIN, "/quota @alice 1000")
    assert "Quota 1,000.00 TL · used 0.00 TL · available 1,000.00 TL" in text
    assert "Your credit quota was raised by 1,000.00 TL. Available: 1,000.00 TL." == h.telegram.last(ALICE.id).text
    sent = await h.file(ADMIN, "/charge @alice 100 report.pdf")
    delivered = [s for s in sent if s.chat_id == ALICE.id][0]
    assert delivered.method == "copyMessage"
    assert delivered.text == "A file was charged to your credit: 100.00 TL. Available: 900.00 TL."  # the note is for admins
    assert "available 900.00 TL" in h.telegram.last(ADMIN.id).text
    before = await snapshot(h.ledger, ALICE.id)
    sent = await h.file(ADMIN, "/charge @alice 900.01")
    assert [s.chat_id for s in sent] == [ADMIN.id]  # nothing sent to the user
    assert sent[0].text == ("Credit limit would be exceeded: the charge is 900.01 TL, quota 1,000.00 TL,"
                            " used 100.00 TL, available 900.00 TL. Nothing was charged or sent.")
    assert await snapshot(h.ledger, ALICE.id) == before
    assert "Refunded 40.00 TL to Alice" in await h.say(ADMIN, "/refund @alice 40")
    assert "Cannot refund 100.00 TL: only 60.00 TL is used." in await h.say(ADMIN, "/refund @alice 100")
    text = await h.say(ADMIN, "/quota @alice -950")
    assert "Cannot lower the quota by 950.00 TL: quota 1,000.00 TL, already used 60.00 TL." == text
    assert "available <b>" not in text and "lowered by 500.00 TL" in await h.say(ADMIN, "/quota @alice -500")
    assert "Credit: quota 500.00 TL, used 60.00 TL, available 440.00 TL" in await h.say(ALICE, "/balance")
    assert await h.ledger.verify() == []


async def test_a_charge_to_a_user_who_blocked_the_bot_is_refunded(h):
    await _users(h)
    await h.send(ADMIN, "/quota @alice 100")
    h.telegram.blocked.add(ALICE.id)
    sent = await h.file(ADMIN, "/charge @alice 30", media="photo")
    assert ("(the user blocked the bot; marked inactive); nothing was charged: the 30.00 TL was refunded"
            in sent[-1].text)
    bal = await h.ledger.balance(ALICE.id)
    assert (bal.credit_quota, bal.credit_used) == (10_000, 0)
    assert not (await h.ledger.profile(ALICE.id)).active
    assert await h.ledger.verify() == []


async def test_charge_and_addcontent_need_a_file(h):
    await _users(h)
    assert "Send a document, photo or video with the caption /charge" in await h.say(ADMIN, "/charge @alice 5")
    assert "/addcontent" in await h.say(ADMIN, "/addcontent x")
    sent = await h.file(ADMIN, "/addcontent clip_1 My <clip>", media="video")
    assert "Premium content clip_1 registered: My <clip> (10 tokens)." == sent[0].text
    assert (await h.ledger.content("clip_1")).file_ref.startswith("video-")
    assert "already exists" in (await h.file(ADMIN, "/addcontent clip_1 again"))[0].text
    assert "is not valid here" in (await h.file(ADMIN, "/addcontent ../x"))[0].text


async def test_user_card_users_list_stats_and_export(h):
    await _users(h)
    for i in range(25):
        who = type(ALICE)(2000 + i, f"U{i}")
        await h.send(who, "/start")
        await h.ledger.raise_quota(who.id, 100 * (i + 1))
    card = await h.say(ADMIN, "/user @alice")
    assert "Alice @alice (1001)" in card and "XP 50 · tokens 0" in card
    users = (await h.send(ADMIN, "/users"))[0]
    # all 25 fit on one page (tests/bot/test_admin_paging.py pages long lists)
    assert "Credit users (25) – 1–25" in users.text and users.text.count("\n") == 25 and not users.markup
    stats = await h.say(ADMIN, "/stats")
    assert "Total quota: 325.00 TL" in stats and "Registered: 27" in stats and "In circulation: 0" in stats
    sent = await h.send(ADMIN, "/export")
    assert sent[0].method == "sendDocument" and "rows" in sent[0].text


async def test_export_is_the_journal_as_csv(h):
    await _users(h)
    out = io.StringIO()
    n = await h.ledger.export_csv(out)
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    assert n == 2 and rows[0][0] == "id" and len(rows) == 3


async def test_support_inbox_and_reply(h):
    await _users(h)
    await h.send(ALICE, "/support where is my file?")
    inbox = await h.say(ADMIN, "/inbox")
    assert "where is my file?" in inbox and "(1)" in inbox
    sent = await h.send(ADMIN, "/reply @alice It is <on> the way")
    assert [s.text for s in sent if s.chat_id == ALICE.id] == ["Reply from the admins:\nIt is <on> the way"]
    assert "No open support messages" in await h.say(ADMIN, "/inbox")


ADMIN_COMMANDS = ["/grant 1001 10", "/quota 1001 50", "/refund 1001 1", "/user 1001", "/users", "/stats",
                  "/export", "/inbox", "/reply 1001 hi"]


@pytest.mark.parametrize("command", ADMIN_COMMANDS)
async def test_admin_commands_are_refused_everywhere_but_an_admins_private_chat(h, command):
    await _users(h)
    await h.send(ADMIN, "/quota 1001 100")
    before = await snapshot(h.ledger, ALICE.id, AYSE.id)
    # a non-admin in private: told it is for admins
    assert await h.say(AYSE, command) == "Bu komut adminler içindir."
    # an admin or anyone in a group, a forwarded admin command, an anonymous group admin: ignored
    assert await h.send(ADMIN, command, chat=GROUP) == []
    assert await h.send(AYSE, command, chat=GROUP) == []
    assert await h.send(ADMIN, command, forward_origin={"type": "user", "date": 1, "sender_user": ADMIN.as_dict()}) == []
    assert await h.send(ADMIN, command, chat=GROUP, sender_chat={"id": GROUP, "type": "supergroup", "title": "G"}) == []
    channel_post = h.updates.message(ADMIN, command, chat=-100777)
    post = channel_post.pop("message")
    post.pop("from")
    post["chat"] = {"id": -100777, "type": "channel", "title": "News"}
    post["sender_chat"] = post["chat"]
    assert await h.feed({**channel_post, "channel_post": post}) == []
    assert await snapshot(h.ledger, ALICE.id, AYSE.id) == before


async def test_captions_from_non_admins_do_nothing(h):
    await _users(h)
    await h.send(ADMIN, "/quota 1001 100")
    before = await snapshot(h.ledger, ALICE.id)
    sent = await h.file(AYSE, "/charge 1001 10")
    assert [s.text for s in sent] == ["Bu komut adminler içindir."]
    assert await snapshot(h.ledger, ALICE.id) == before
    await h.file(ADMIN, "/charge 1001 10", media="document")
    assert (await h.ledger.balance(ALICE.id)).credit_used == 1000


async def test_admin_buttons_are_refused_to_users(h):
    await _users(h)
    ayse_start = (await h.send(AYSE, "/start"))[0]
    raw = h.updates.callback(AYSE, "u:1", ayse_start)
    assert await h.feed(raw) == []
    assert h.telegram.answered[raw["callback_query"]["id"]]["text"] == "Bu düğme geçerli değil (artık)."


async def test_a_username_that_changed_hands_names_its_holder_now(h):
    from bot.fake import Person
    ali = Person(1101, "Ali", "ayse_k", "en")
    ayse = Person(1102, "Ayşe", "ayse_real", "tr")
    await h.send(ali, "/start")
    await h.send(ayse, "/start")
    # Ali gives up @ayse_k (no /start again); Ayşe takes it and only checks her balance
    ali.username, ayse.username = "ali_new", "ayse_k"
    await h.send(ayse, "/balance")
    text = await h.say(ADMIN, "/quota @ayse_k 500")
    assert "Ayşe" in text and "Ali" not in text
    assert (await h.ledger.balance(ayse.id)).credit_quota == 50_000
    assert (await h.ledger.balance(ali.id)).credit_quota == 0
    # Ali is seen again under his new name and language: notices follow
    ali.language_code, ali.first_name = "tr", "Ali Veli"
    await h.send(ali, "/balance")
    assert "Ali Veli" in await h.say(ADMIN, "/grant @ali_new 5")
    assert h.telegram.last(ali.id).text == "5 XP kazandın. 55 XP'n var."  # in his language now


async def test_profiles_are_read_once_and_written_only_on_a_change(h):
    await h.send(ALICE, "/start")
    calls = {"read": 0, "write": 0}
    read, write = h.ledger.profile, h.ledger.refresh_profile

    async def counting_read(*a, **k):
        calls["read"] += 1
        return await read(*a, **k)

    async def counting_write(*a, **k):
        calls["write"] += 1
        return await write(*a, **k)

    h.ledger.profile, h.ledger.refresh_profile = counting_read, counting_write
    for _ in range(5):
        await h.send(ALICE, "/balance")
    assert calls == {"read": 1, "write": 0}
    ALICE.first_name = "Alice B"
    try:
        await h.send(ALICE, "/balance")
        assert calls == {"read": 2, "write": 1}
    finally:
        ALICE.first_name = "Alice"


async def test_a_username_passed_back_and_forth_still_names_its_holder(h):
    from bot.fake import Person
    ali, ayse = Person(1301, "Ali", "x", "en"), Person(1302, "Ayşe", "y", "en")
    await h.send(ali, "/start")
    await h.send(ali, "/balance")  # Ali remembered with @x
    await h.send(ayse, "/start")
    ali.username, ayse.username = None, "x"
    await h.send(ayse, "/balance")  # Ayşe takes @x (Ali's stored name cleared)
    ayse.username = "z"
    await h.send(ayse, "/balance")  # and moves on
    ali.username = "x"
    await h.send(ali, "/balance")  # Ali takes @x back, seen as he was remembered first
    assert "Ali" in await h.say(ADMIN, "/user @x")

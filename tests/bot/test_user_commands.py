"""Every user command through the real dispatcher, in both languages."""

from __future__ import annotations

from bot.fake import Person
from tests.bot.conftest import ADMIN, ALICE, AYSE, BOB, GROUP


async def test_start_registers_once_and_greets_in_the_users_language(h):
    sent = await h.send(ALICE, "/start")
    assert "Welcome, Alice! You got 50 XP" in sent[0].text
    assert len(sent[0].buttons()) == 6
    assert "Welcome back, Alice! You have 50 XP" in await h.say(ALICE, "/start")
    assert "Hoş geldin, Ayşe! Kayıt bonusu olarak 50 XP" in await h.say(AYSE, "/start")
    assert "Hoş geldin" in await h.say(BOB, "/start")  # German → DEFAULT_LANGUAGE tr
    assert (await h.ledger.balance(ALICE.id)).xp == 50


async def test_commands_before_start_ask_to_start(h):
    for command in ("/balance", "/daily", "/convert 5", "/buy vip", "/history", "/credits", "/mycontent"):
        assert "send /start first" in await h.say(ALICE, command)
    assert "önce /start gönder" in await h.say(AYSE, "/balance")


async def test_help_lists_user_commands_and_admin_ones_only_for_admins(h):
    text = await h.say(ALICE, "/help")
    assert "/convert" in text and "/grant" not in text and "20 XP" in text
    assert "Komutlar" in await h.say(AYSE, "/help")


async def test_new_user_journey_ends_with_55_tokens(h):
    await h.ledger.add_content("premium_video_001", title="Video <1>", media="video", file_ref="vid-1")
    await h.send(ALICE, "/start")
    assert "+20 XP" in await h.say(ALICE, "/daily")
    assert "Converted 70 XP into 70 tokens" in await h.say(ALICE, "/convert all")
    sent = await h.send(ALICE, "/buy content premium_video_001")
    assert sent[0].method == "sendVideo" and sent[0].html == "vid-1"  # the file, then what became of it
    assert "Video &lt;1&gt;" not in sent[1].text and "Video <1> bought for 10 tokens. Tokens left: 60" in sent[1].text
    assert "Tokens left: 55" in await h.say(ALICE, "/buy boost")
    text = await h.say(ALICE, "/balance")
    assert "XP: 0" in text and "Tokens: 55" in text and "Boost active until" in text and "Premium content: 1" in text
    # the boost doubles the next day's task
    h.clock.advance(13 * 3600)  # the next UTC day, boost still running
    assert "+40 XP (2x)" in await h.say(ALICE, "/daily")


async def test_power_user_journey_ends_with_80_tokens(h):
    await h.send(ALICE, "/start")
    await h.ledger.grant(ALICE.id, 200, reason="weekly", actor=1)
    for cid in ("v1", "v2", "v3"):
        await h.ledger.add_content(cid, title=cid.upper(), media="photo", file_ref=cid)
    assert "Converted 200 XP" in await h.say(ALICE, "/convert 200")
    for item in ("vip", "badge", "dm"):
        await h.send(ALICE, f"/buy {item}")
    for cid in ("v1", "v2", "v3"):
        await h.send(ALICE, f"/buy content {cid}")
    text = await h.say(ALICE, "/balance")
    assert "Tokens: 80" in text and "XP: 50" in text and "VIP" in text and "Collector badge" in text
    assert "Priority DM until" in text
    top = await h.say(ALICE, "/top")
    assert "1. Alice ⭐ – 120 tokens" in top
    assert len((await h.send(ALICE, "/mycontent"))) == 4  # the title and three photos


async def test_refusals_name_the_figures(h):
    await h.send(ALICE, "/start")
    await h.send(ALICE, "/convert 12")
    assert await h.say(ALICE, "/buy vip") == "Not enough tokens: VIP status costs 25, you have 12 (13 short)."
    assert await h.say(ALICE, "/convert 100") == ("Not enough XP: you asked for 100, you have 38."
                                                  " Earn XP with /daily.")
    await h.send(ALICE, "/daily")
    # the next day opens at local midnight (Europe/Istanbul, +03)
    assert "already did today's task. Next one: 2026-11-23 00:00 +03" in await h.say(ALICE, "/daily")
    assert "There is no premium content nope" in await h.say(ALICE, "/buy content nope")
    assert "There is no item gold" in await h.say(ALICE, "/buy gold")
    assert "Usage: /buy vip" in await h.say(ALICE, "/buy")
    await h.send(ALICE, "/convert all")
    await h.send(ALICE, "/buy badge")
    assert "You already own Collector badge; nothing was charged" in await h.say(ALICE, "/buy badge")
    await h.send(AYSE, "/start")
    assert await h.say(AYSE, "/buy vip") == "Yetersiz token: VIP statü 25 token, sende 0 var (25 eksik)."


async def test_bad_amounts_are_refused_before_the_ledger(h):
    await h.send(ALICE, "/start")
    before = await h.ledger.balance(ALICE.id)
    for bad in ("-5", "0", "1e3", "0x10", "10.5", "١٢", "１２", "99999999999999999999999", "nan"):
        text = await h.say(ALICE, f"/convert {bad}")
        assert "is not a valid amount" in text, (bad, text)
    assert await h.ledger.balance(ALICE.id) == before


async def test_convert_without_argument_offers_buttons_and_a_double_tap_converts_once(h):
    await h.send(ALICE, "/start")
    ask = (await h.send(ALICE, "/convert"))[0]
    assert "You have 50 XP" in ask.text
    data = h.button(ask, "All (50)")
    first = await h.press(ALICE, ask, data)
    assert "Converted 50 XP" in first[0].text
    again = await h.press(ALICE, ask, data)
    assert "Converted 50 XP" in again[0].text  # the same result again, not a second conversion
    assert (await h.ledger.balance(ALICE.id)).tokens == 50


async def test_history_pages_with_buttons(h):
    await h.send(ALICE, "/start")
    for _ in range(12):
        await h.ledger.grant(ALICE.id, 1, reason="t")
    first = (await h.send(ALICE, "/history"))[0]
    assert "page 1/2" in first.text and first.text.count("Reward: t") == 10
    sent = await h.press(ALICE, first, h.button(first, "Next"))
    assert sent[0].method == "editMessageText" and "page 2/2" in sent[0].text
    assert "Previous" in sent[0].buttons()[0][0]


async def test_credits_and_balance_show_the_quota_in_the_users_locale(h):
    await h.send(AYSE, "/start")
    assert "Henüz kredi kotan yok" in await h.say(AYSE, "/credits")
    await h.ledger.raise_quota(AYSE.id, 123_456_78)
    await h.ledger.charge(AYSE.id, 10_000)
    text = await h.say(AYSE, "/credits")
    assert "Kota: 123.456,78 TL" in text and "Kullanılan: 100,00 TL" in text and "Kalan: 123.356,78 TL" in text


async def test_group_chats_work_for_users_and_stay_quiet_on_unknown_commands(h):
    await h.send(ALICE, "/start", chat=GROUP)
    assert "Tokens: 0" in await h.say(ALICE, "/balance", chat=GROUP)
    assert await h.send(ALICE, "/weather", chat=GROUP) == []
    assert await h.send(ALICE, "/balance@other_bot", chat=GROUP) == []
    assert "I don't know that command" in await h.say(ALICE, "/weather")


async def test_support_goes_to_admins_with_priority_while_the_perk_lasts(h):
    await h.send(ALICE, "/start")
    assert "Usage: /support" in await h.say(ALICE, "/support")
    sent = await h.send(ALICE, "/support <b>help</b> & thanks")
    admin_msg = [s for s in sent if s.chat_id == 9000][0]
    assert "<b>help</b> & thanks" in admin_msg.text and "PRIORITY" not in admin_msg.text
    await h.ledger.grant(ALICE.id, 100)
    await h.send(ALICE, "/convert all")
    await h.send(ALICE, "/buy dm")
    sent = await h.send(ALICE, "/support urgent")
    assert any("ÖNCELİKLİ" in s.text for s in sent if s.chat_id == 9000)
    assert "as priority" in [s for s in sent if s.chat_id == ALICE.id][0].text


async def test_history_speaks_the_users_words_and_hides_admin_notes(h):
    await h.file(ADMIN, "/addcontent video1 Yaz <filmi>", media="video")
    for who in (ALICE, AYSE):
        await h.send(who, "/start")
        await h.send(who, "/daily")
        await h.send(ADMIN, f"/grant {who.id} 100 <b>weekly</b> tasks")
        await h.send(who, "/convert all")
        await h.send(who, "/buy vip")
        await h.send(who, "/buy content video1")
        await h.send(ADMIN, f"/quota {who.id} 500 fraud risk")
        await h.file(ADMIN, f"/charge {who.id} 20 internal memo")
    en = (await h.send(ALICE, "/history"))[0]
    tr = (await h.send(AYSE, "/history"))[0]
    for w in ["Registration bonus", "Daily task", "Reward: <b>weekly</b> tasks", "XP → token conversion",
              "VIP status", "Premium content: Yaz <filmi>", "Quota raised", "File charge"]:
        assert w in en.text, (w, en.text)
    for w in ["Kayıt bonusu", "Günlük görev", "Ödül: <b>weekly</b> tasks", "XP → token çevrimi", "VIP statü",
              "Premium içerik: Yaz <filmi>", "Kota artışı", "Dosya ücreti"]:
        assert w in tr.text, (w, tr.text)
    for page in (en, tr):
        assert "&lt;b&gt;weekly" in page.html  # the admin's reason, escaped
        for code in ("registration", "daily", "content:video1", "video1", "vip ", "quota_increase", "file_charge", "fraud", "memo"):
            assert code not in page.text, (code, page.text)
    # admins see their notes on the user's card; the export keeps the codes
    card = await h.say(ADMIN, f"/user {ALICE.id}")
    assert "fraud risk" in card and "internal memo" in card and "Last movements" in card
    export = (await h.send(ADMIN, "/export"))[0]
    assert export.method == "sendDocument"
    import io
    out = io.StringIO()
    await h.ledger.export_csv(out)
    assert "registration" in out.getvalue() and "content:video1" in out.getvalue() and "fraud risk" in out.getvalue()


async def test_history_shows_what_import_legacy_brought_marked_as_imported(h, tmp_path):
    from economy import legacy
    from tests.test_legacy import legacy_files
    tokens, credits, ids = legacy_files(tmp_path)
    await legacy.apply(h.ledger, legacy.make_plan(tokens, credits, ids))
    await h.send(Person(1001, "Eski", "eski", "en"), "/start")  # imported before: no bonus, the balance stays
    first = await h.say(Person(1001, "Eski", "eski", "en"), "/history")
    assert "Balance brought over from the old system" in first and "+55 TOKEN" in first
    assert "Quota brought over from the old system" in first
    assert "📦 Imported from the old system: premium <video> · −10 TOKEN" in first  # escaped, shown literally
    tr = await h.say(Person(1002, "Eski", None, "tr"), "/history")
    assert "Eski sistemden aktarıldı: vip+rozet+dm+içerik" in tr and "Eski sistemde kullanılan kredi" in tr

"""`python main.py` against a Bot API that fails: bad answers to getUpdates, an update that
cannot be decoded, a file that cannot be delivered, an API that stops answering at shutdown."""

from __future__ import annotations

import json
import time

import pytest

from bot.fake import Person
from tests.e2e.emulator import BotProcess
from tests.e2e.test_e2e import ADMIN, ask, cli

# Faults of the Bot API, not of the ledger: one backend is enough.
pytestmark = pytest.mark.parametrize("e2e_db", ["sqlite"], indirect=True)

USER = Person(1201, "Deniz", "deniz", "en")


async def test_an_html_page_and_an_undecodable_update_do_not_stop_the_poller(emu, bot, tmp_path, e2e_db):
    await ask(emu, USER, "/start", "50 XP")
    emu.faults["getUpdates"] = ["html", "html"]
    broken = emu.push({"update_id": next(emu.updates.ids),
                       "message": {"message_id": 1, "date": 0, "chat": {"id": USER.id}, "text": "/daily"}})
    mark = len(emu.telegram.sent)
    good = emu.say(USER, "/daily")
    await emu.reply(USER.id, mark, "+20 XP", timeout=40)
    await emu.idle()
    assert {broken["update_id"], good["update_id"]} <= emu.acked  # the bad one confirmed, not redelivered forever
    assert bot.proc.returncode is None
    log = bot.text()
    assert f"update {broken['update_id']} cannot be decoded" in log
    assert "getUpdates failed (ClientDecodeError: the answer was not a Bot API response)" in log
    assert "nginx" not in log and "Traceback" not in log
    # a restart does not meet the bad update again
    assert await bot.terminate() == 0
    db = e2e_db
    assert json.loads(cli(db, "balance", str(USER.id)).stdout)["xp"] == 70


async def test_a_file_that_cannot_be_delivered_is_not_charged_even_when_the_update_comes_again(emu, bot, tmp_path, e2e_db):
    await ask(emu, USER, "/start", "50 XP")
    await ask(emu, ADMIN, f"/quota {USER.id} 500", "available 500.00 TL")
    emu.faults["copyMessage"] = [502, "drop", 502]
    mark = len(emu.telegram.sent)
    update = emu.upload(ADMIN, f"/charge {USER.id} 150 invoice")
    first = await emu.reply(ADMIN.id, mark, "nothing was charged", timeout=40)
    assert "Telegram did not answer after 3 tries" in first.text
    await emu.idle()
    mark = len(emu.telegram.sent)
    emu.resend(update)  # the same update again (a crash before confirmation, a webhook retry)
    again = await emu.reply(ADMIN.id, mark, "nothing was charged")
    assert again.text == first.text
    # a charge that passes after one 5xx is delivered once
    emu.faults["copyMessage"] = [502]
    mark = len(emu.telegram.sent)
    emu.upload(ADMIN, f"/charge {USER.id} 100 second")
    await emu.reply(ADMIN.id, mark, "sent the file", timeout=40)
    await emu.idle()
    assert await bot.terminate() == 0
    copies = [s for s in emu.telegram.sent if s.method == "copyMessage" and s.chat_id == USER.id]
    assert len(copies) == 1 and "100.00 TL" in copies[0].text
    db = e2e_db
    assert json.loads(cli(db, "balance", str(USER.id)).stdout)["credit_used"] == "100.00"
    assert cli(db, "verify").returncode == 0


async def test_sigterm_while_the_bot_api_does_not_answer_exits_within_10s_and_loses_nothing(emu, bot, tmp_path, e2e_db):
    await ask(emu, USER, "/start", "50 XP")
    await emu.idle()
    # Telegram stops answering while /daily is handled: its reply hangs, then every getUpdates
    emu.faults["sendMessage"] = ["hang"]
    daily = emu.say(USER, "/daily")
    await emu.wait(lambda: not emu.faults["sendMessage"], what="the reply to /daily hanging")
    emu.faults["getUpdates"] = ["hang"] * 20
    started = time.monotonic()
    code = await bot.terminate(timeout=30)
    took = time.monotonic() - started
    assert code == 0 and took < 10, (code, took)
    assert daily["update_id"] not in emu.acked
    assert "did not finish within" in bot.text() and "could not confirm" in bot.text()
    # Telegram is back: the update comes again, is replayed (applied once) and answered
    emu.faults.clear()
    db = e2e_db
    proc = BotProcess(emu.url, db, "9000", tmp_path / "bot.log")
    mark = len(emu.telegram.sent)
    await proc.start()
    try:
        await emu.reply(USER.id, mark, "+20 XP", timeout=40)
        await emu.idle(60)
        assert await proc.terminate() == 0
    finally:
        if proc.proc.returncode is None:
            await proc.kill()
    assert json.loads(cli(db, "balance", str(USER.id)).stdout)["xp"] == 70
    assert cli(db, "verify").returncode == 0


async def test_sigterm_during_start_up_with_no_answer_from_telegram_exits_at_once(emu, tmp_path, e2e_db):
    emu.faults["getMe"] = ["hang"]
    proc = BotProcess(emu.url, e2e_db, "9000", tmp_path / "bot.log")
    await proc.start()
    await emu.wait(lambda: not emu.faults["getMe"], what="getMe hanging")
    started = time.monotonic()
    assert await proc.terminate(timeout=30) == 0
    assert time.monotonic() - started < 5


async def test_an_update_of_no_known_kind_does_not_cost_its_batch(emu, bot, tmp_path, e2e_db):
    other = Person(1202, "Ece", None, "en")
    await ask(emu, USER, "/start", "50 XP")
    await ask(emu, other, "/start", "50 XP")
    await emu.idle()
    a = emu.say(USER, "/daily")
    weird = emu.push({"update_id": next(emu.updates.ids)})  # no event this aiogram knows
    b = emu.say(other, "/daily")
    await emu.idle()
    assert {a["update_id"], weird["update_id"], b["update_id"]} <= emu.acked
    assert await bot.terminate() == 0
    db = e2e_db
    assert [json.loads(cli(db, "balance", str(p.id)).stdout)["xp"] for p in (USER, other)] == [70, 70]
    assert f"update {weird['update_id']} is of no kind this bot knows; skipped" in bot.text()


#: Every way copyMessage can fail, as the Bot API or a proxy answers (issue 20, item 1): each
#: transient kind three times (every try fails), each permanent kind once.
TRANSIENT = {"a proxy's HTML 502 page": "html", "a 500": 500, "a dropped connection": "drop", "a 409": 409,
             "a 503": 503}
PERMANENT = {"a 403 (blocked)": 403, "a 400": 400, "a 404": 404, "migrate_to_chat_id": ("migrate", -100123)}


async def test_every_failure_of_a_charged_file_ends_refunded_never_pending(emu, bot, tmp_path, e2e_db):
    """No Bot API failure escapes a delivery unclassified: a charge whose file does not go
    through is refunded (told to the admin with the reason), never left pending, and the same
    update again reports the same outcome; a flood wait longer than a send is given up too; a
    failure that passes on a later try delivers the file once."""
    await ask(emu, USER, "/start", "50 XP")
    await ask(emu, ADMIN, f"/quota {USER.id} 5000", "available 5,000.00 TL")
    cases = [(name, [fault] * 3, "did not answer after 3 tries") for name, fault in TRANSIENT.items()]
    cases += [(name, [fault], "refused" if fault != 403 else "blocked the bot") for name, fault in PERMANENT.items()]
    for name, faults, reason in cases:
        emu.faults["copyMessage"] = list(faults)
        mark = len(emu.telegram.sent)
        update = emu.upload(ADMIN, f"/charge {USER.id} 150 {name[:20]}")
        told = await emu.reply(ADMIN.id, mark, "nothing was charged", timeout=40)
        assert reason in told.text, (name, told.text)
        await emu.idle()
        mark = len(emu.telegram.sent)
        emu.resend(update)
        assert (await emu.reply(ADMIN.id, mark, "nothing was charged")).text == told.text, name
        await emu.idle()
        assert json.loads(cli(e2e_db, "balance", str(USER.id)).stdout)["credit_used"] == "0.00", name
        if name.startswith("a 403"):  # blocked: marked inactive; they come back
            await ask(emu, USER, "/start", "")
    # a failure that passes: one file, charged once
    for faults in (["html"], ["drop", 502], [("retry_after", 1)]):
        emu.faults["copyMessage"] = list(faults)
        mark = len(emu.telegram.sent)
        emu.upload(ADMIN, f"/charge {USER.id} 10 passes")
        await emu.reply(ADMIN.id, mark, "sent the file", timeout=40)
        await emu.idle()
    # last: a flood wait longer than a send (the chat stays flooded for it, as on Telegram)
    emu.faults["copyMessage"] = [("retry_after", 300)]
    mark = len(emu.telegram.sent)
    emu.upload(ADMIN, f"/charge {USER.id} 150 flood")
    assert "flood limit" in (await emu.reply(ADMIN.id, mark, "nothing was charged", timeout=40)).text
    await emu.idle()
    assert await bot.terminate() == 0
    copies = [s for s in emu.telegram.sent if s.method == "copyMessage" and s.chat_id == USER.id]
    assert len(copies) == 3
    assert json.loads(cli(e2e_db, "balance", str(USER.id)).stdout)["credit_used"] == "30.00"
    verify = cli(e2e_db, "verify")
    assert verify.returncode == 0, verify.stdout + verify.stderr
    log = bot.text()
    assert "Traceback" not in log and "nginx" not in log and emu.token not in log

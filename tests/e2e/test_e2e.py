"""The real `python main.py` against our Bot API emulator over HTTP."""

from __future__ import annotations

import json
import random
import socket
import subprocess
import sys

import pytest

from bot.fake import Person
from tests.e2e.emulator import ROOT, BotProcess

ADMIN = Person(9000, "Admin", "boss", "en")
NEW = Person(1001, "Ayşe", "ayse", "tr")
POWER = Person(1002, "Power", "power", "en")


def cli(db, *args: str) -> subprocess.CompletedProcess[str]:
    """`python -m economy` on `db`: a database URL or the path of a SQLite file."""
    url = db if isinstance(db, str) else f"sqlite:///{db}"
    return subprocess.run([sys.executable, "-m", "economy", "--db", url, *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)


async def drain_and_verify(emu, proc, db, idle: float = 60) -> dict:
    """Let `proc` handle everything pending, stop it with SIGTERM, check `verify` passes;
    return `stats`."""
    try:
        await emu.idle(idle)
        assert await proc.terminate() == 0
    finally:
        if proc.proc.returncode is None:
            await proc.kill()
    verify = cli(db, "verify")
    assert verify.returncode == 0, verify.stdout
    return json.loads(cli(db, "stats").stdout)


async def ask(emu, who, text, contains="", **kw):
    mark = len(emu.telegram.sent)
    emu.say(who, text, **kw)
    return await emu.reply(kw.get("chat", who.id), mark, contains)


async def journeys(emu) -> None:
    """The seeds' two journeys (55 and 80 tokens) and the quota scenario, typed by people."""
    # content the admin uploads
    for cid in ("video_001", "v2", "v3"):
        mark = len(emu.telegram.sent)
        emu.upload(ADMIN, f"/addcontent {cid} Film {cid}", media="video")
        await emu.reply(ADMIN.id, mark, "registered")
    # the new user's journey, in Turkish: 55 tokens
    await ask(emu, NEW, "/start", "50 XP")
    await ask(emu, NEW, "/daily", "+20 XP")
    await ask(emu, NEW, "/convert all", "70 token")
    mark = len(emu.telegram.sent)
    emu.say(NEW, "/buy content video_001")
    await emu.reply(NEW.id, mark, "Kalan token: 60")
    await emu.wait(lambda: any(s.method == "sendVideo" and s.chat_id == NEW.id for s in emu.telegram.sent[mark:]))
    await ask(emu, NEW, "/buy boost", "Kalan token: 55")
    assert "Token: 55" in (await ask(emu, NEW, "/balance", "Token")).text
    # the power user's journey: 80 tokens
    await ask(emu, POWER, "/start", "50 XP")
    await ask(emu, ADMIN, "/grant @power 200 weekly tasks", "Granted 200 XP")
    await ask(emu, POWER, "/convert 200", "200 tokens")
    for item in ("vip", "badge", "dm"):
        await ask(emu, POWER, f"/buy {item}", "Tokens left")
    for cid in ("video_001", "v2", "v3"):
        await ask(emu, POWER, f"/buy content {cid}", "Tokens left")
    text = (await ask(emu, POWER, "/balance", "Tokens")).text
    assert "Tokens: 80" in text and "VIP" in text
    assert "Power ⭐ – 120 tokens" in (await ask(emu, POWER, "/top", "Top")).text
    # the quota scenario
    await ask(emu, ADMIN, "/quota @ayse 1000", "available 1,000.00 TL")
    mark = len(emu.telegram.sent)
    emu.upload(ADMIN, "/charge @ayse 100 rapor.pdf")
    copy = await emu.reply(NEW.id, mark, "Kalan")
    assert copy.method == "copyMessage" and "100,00 TL" in copy.text and "900,00 TL" in copy.text
    await emu.reply(ADMIN.id, mark, "available 900.00 TL")
    mark = len(emu.telegram.sent)
    emu.upload(ADMIN, "/charge @ayse 901")
    await emu.reply(ADMIN.id, mark, "Credit limit would be exceeded")
    await ask(emu, ADMIN, "/refund @ayse 100", "available 1,000.00 TL")
    assert "Kalan: 1.000,00 TL" in (await ask(emu, NEW, "/credits", "Kota")).text


async def test_journeys_and_the_quota_scenario_typed_by_people(emu, bot, tmp_path, e2e_db):
    await emu.wait(lambda: emu.polls > 0, what="the bot polling")
    # the command menus: user commands in both languages, admin commands in the admin's chat
    assert any('"chat_id": 9000' in k for k in emu.telegram.commands)
    assert any(k.endswith("|tr") for k in emu.telegram.commands) and any(k.endswith("|en") for k in emu.telegram.commands)
    await journeys(emu)
    await emu.idle()
    assert await bot.terminate() == 0
    db = e2e_db
    verify = cli(db, "verify")
    assert verify.returncode == 0, verify.stdout
    assert json.loads(cli(db, "balance", "1001").stdout)["tokens"] == 55
    assert json.loads(cli(db, "balance", "1002").stdout)["tokens"] == 80
    assert "update=" in bot.text() and "outcome=ok" in bot.text() and "E" * 35 not in bot.text()


async def test_a_redelivered_update_and_a_double_tap_change_nothing(emu, bot, tmp_path, e2e_db):
    await ask(emu, POWER, "/start", "50 XP")
    convert = emu.say(POWER, "/convert 50")
    await emu.reply(POWER.id, 0, "Converted 50 XP")
    await emu.idle()
    mark = len(emu.telegram.sent)
    emu.resend(convert)  # the same update_id again
    again = await emu.reply(POWER.id, mark, "Converted 50 XP")
    assert "Tokens: 50" in again.text
    shop = await ask(emu, POWER, "/shop", "Shop")
    vip = [d for t, d in shop.buttons() if "VIP" in t][0]
    mark = len(emu.telegram.sent)
    first, second = emu.tap(POWER, shop, vip), emu.tap(POWER, shop, vip)
    await emu.reply(POWER.id, mark, "already bought")
    await emu.idle()
    for raw in (first, second):
        assert raw["callback_query"]["id"] in emu.telegram.answered
    assert "Tokens: 25" in (await ask(emu, POWER, "/balance", "Tokens")).text
    assert await bot.terminate() == 0
    assert json.loads(cli(e2e_db, "balance", "1002").stdout)["tokens"] == 25


async def _fund(emu, users, tokens):
    for who in users:
        await ask(emu, who, "/start", "50 XP")
    for who in users:
        await ask(emu, ADMIN, f"/grant {who.id} {tokens - 50}", "Granted")
        await ask(emu, who, "/convert all", f"{tokens} tokens")


async def test_kill_9_during_a_burst_loses_nothing_and_applies_nothing_twice(emu, bot, tmp_path, e2e_db):
    users = [Person(3000 + i, f"U{i}", None, "en") for i in range(10)]
    await _fund(emu, users, 200)
    await emu.idle()
    rng = random.Random(7)
    burst = [emu.say(rng.choice(users), "/buy boost") for _ in range(250)]  # batches of 100, 100, 50
    ids = {u["update_id"] for u in burst}

    def replies() -> int:
        return sum("Tokens left" in s.text for s in emu.telegram.sent)

    # First kill: in the middle of the first batch (nothing of it confirmed yet, some applied).
    await emu.wait(lambda: replies() >= 20, 60, "purchases")
    await bot.kill()
    print(f"first kill -9: {len(ids & emu.acked)} purchases acknowledged")
    proc = BotProcess(emu.url, e2e_db, "9000", tmp_path / "bot.log")
    await proc.start()
    # Second kill: the first batch confirmed (replayed where it had been applied), the second
    # one under way.
    await emu.wait(lambda: ids & emu.acked, 60, "the first batch confirmed")
    mark = replies()
    await emu.wait(lambda: replies() >= mark + 10, 60, "purchases of the second batch")
    await proc.kill()
    acked = ids & emu.acked
    print(f"second kill -9: {len(acked)} purchases acknowledged")
    assert 0 < len(acked) < len(ids)
    proc = BotProcess(emu.url, e2e_db, "9000", tmp_path / "bot.log")
    await proc.start()
    db = e2e_db
    stats = await drain_and_verify(emu, proc, db)
    # every one of the 250 purchases, those acknowledged before a kill included, exactly once
    assert stats["spent_per_item"]["boost"] == 5 * 250, stats
    assert sum(json.loads(cli(db, "balance", str(u.id)).stdout)["tokens"] for u in users) == 10 * 200 - 5 * 250


async def test_sigterm_finishes_the_batch_in_hand_and_a_restart_keeps_every_balance(emu, bot, tmp_path, e2e_db):
    users = [Person(4000 + i, f"S{i}", None, "en") for i in range(5)]
    await _fund(emu, users, 100)
    burst = [emu.say(users[i % 5], "/buy boost") for i in range(40)]
    await emu.wait(lambda: sum("Tokens left" in s.text for s in emu.telegram.sent) >= 5, what="some purchases")
    assert await bot.terminate() == 0
    acked = {u["update_id"] for u in burst} & emu.acked
    db = e2e_db
    spent = json.loads(cli(db, "stats").stdout)["spent_per_item"]["boost"]
    assert spent >= 5 * len(acked)  # nothing acknowledged is lost
    bot2 = BotProcess(emu.url, db, "9000", tmp_path / "bot.log")
    await bot2.start()
    try:
        await emu.idle(60)
        for who in users:
            text = (await ask(emu, who, "/balance", "Tokens")).text
            assert "Tokens: 60" in text, text
        assert await bot2.terminate() == 0
    finally:
        if bot2.proc.returncode is None:
            await bot2.kill()
    assert cli(db, "verify").returncode == 0


def test_a_missing_token_is_one_clear_line_and_exit_2(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    done = subprocess.run([sys.executable, str(ROOT / "main.py"), "--env-file", str(tmp_path / "none.env")],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and "@BotFather" in done.stderr


@pytest.mark.parametrize("e2e_db", ["sqlite"], indirect=True)  # polling, not the ledger
async def test_polling_recovers_from_5xx_and_dropped_connections(emu, bot, tmp_path):
    await ask(emu, POWER, "/start", "50 XP")
    emu.faults["getUpdates"] = [502, "drop", 500]
    update = emu.say(POWER, "/daily")
    await emu.reply(POWER.id, 0, "+20 XP", timeout=40)
    await emu.idle()
    assert update["update_id"] in emu.acked and not emu.faults["getUpdates"]
    assert "getUpdates failed" in bot.text()
    assert await bot.terminate() == 0


def test_a_bad_or_unreachable_database_url_is_one_line_and_exit_2_without_the_password(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed_port = s.getsockname()[1]  # nothing listens there once the socket is closed
    for url, says in ((f"postgresql://bob:s3cr3t-pw@127.0.0.1:{closed_port}/economy", "cannot connect to PostgreSQL"),
                      ("postgres://bob:s3cr3t-pw@127.0.0.1:5432", "must name a database"),
                      ("mysql://bob:s3cr3t-pw@127.0.0.1/economy", "DATABASE_URL must look like")):
        env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "BOT_TOKEN": "123456:" + "A" * 35, "DATABASE_URL": url}
        done = subprocess.run([sys.executable, str(ROOT / "main.py"), "--env-file", str(tmp_path / "none.env")],
                              cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
        assert done.returncode == 2, done.stderr
        assert says in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr
        assert "s3cr3t-pw" not in done.stderr + done.stdout and "bob:***@" in done.stderr

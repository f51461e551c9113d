"""Secrets never reach a log line or an error message: the bot token (also when the Bot API
server redirects or fails) and a password in a database URL (issue 16, item 6)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from bot.fake import Person
from tests.e2e.emulator import ROOT, TOKEN, BotProcess
from tests.e2e.test_e2e import ask

USER = Person(1301, "Sena", "sena", "en")
SECRET = TOKEN.split(":", 1)[1]
NOWHERE = "http://127.0.0.1:9"  # nothing listens on the discard port


async def test_the_token_never_reaches_the_log_when_the_api_redirects_and_fails(emu, tmp_path):
    # a redirect loop (aiohttp gives up after 10, naming the URL with the token), a redirect to nowhere
    emu.faults["getMe"] = [("redirect", f"{emu.url}/bot{TOKEN}/getMe")] * 11 + [("redirect", f"{NOWHERE}/bot{TOKEN}/getMe")]
    log = tmp_path / "bot.log"
    bot = BotProcess(emu.url, tmp_path / "e2e.db", "9000", log, LOG_LEVEL="DEBUG")
    await bot.start()
    try:
        await emu.wait(lambda: emu.polls > 0, 60, "the bot polling")
        await ask(emu, USER, "/start", "50 XP")
        emu.faults["sendMessage"] = [("redirect", f"{emu.url}/bot{TOKEN}/sendMessage")] * 22
        emu.say(USER, "/balance")
        emu.say(USER, "/daily")
        await emu.wait(lambda: not emu.faults["sendMessage"], 30, "the faults served")
        await ask(emu, USER, "/balance", "XP")
        await emu.idle()
        assert await bot.terminate() == 0
    finally:
        if bot.proc is not None and bot.proc.returncode is None:
            await bot.kill()
    text = bot.text()
    assert "getMe failed" in text and "update" in text  # the failures were logged ...
    assert "127.0.0.1:9" in text
    assert SECRET not in text and TOKEN not in text  # ... without the token


PASSWORD = "Pa55-w0rd-not-for-logs"
URLS = [f"postgresql://economy:{PASSWORD}@127.0.0.1:9/economy", f"mysql://root:{PASSWORD}@db.internal/economy",
        f"sqlite://user:{PASSWORD}@/data/economy.db"]


@pytest.mark.parametrize("url", URLS)
def test_a_password_in_database_url_never_reaches_the_output(tmp_path, url):
    env = {**os.environ, "BOT_TOKEN": TOKEN, "DATABASE_URL": url, "TELEGRAM_API_URL": NOWHERE}
    for args in ([str(ROOT / "main.py"), "--env-file", str(tmp_path / "none.env")],
                 ["-m", "economy", "stats"], ["-m", "economy", "--db", url, "verify"]):
        done = subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=30)
        assert done.returncode != 0, (args, done.stdout, done.stderr)
        assert PASSWORD not in done.stdout + done.stderr, (args, done.stderr)
        assert "***" in done.stderr, (args, done.stderr)

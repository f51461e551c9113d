"""Secrets never reach a log line or an error message: the bot token (also when the Bot API
server redirects or fails) and a password in a database URL (issue 16, item 6)."""

from __future__ import annotations

import asyncio
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


async def test_the_token_in_the_webhook_path_reaches_neither_metrics_nor_the_log(emu, tmp_path):
    """WEBHOOK_URL=https://host/tg/<token> is a common pattern: /metrics (unauthenticated) labels
    the route `webhook`, and no log line, an aiohttp error with the raw request line included,
    shows the token or the secret (issue 20, item 17)."""
    import aiohttp

    from tests.e2e.test_webhook import free_port

    hook_secret = "hook-" + "z" * 30
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    bot = BotProcess(emu.url, tmp_path / "e2e.db", "9000", tmp_path / "bot.log", LOG_LEVEL="DEBUG",
                     WEBHOOK_URL=f"https://bot.example.test/tg/{TOKEN}", WEBHOOK_SECRET=hook_secret,
                     WEB_PORT=str(port))
    await bot.start()
    try:
        async with aiohttp.ClientSession() as s:
            await emu.wait(lambda: emu.telegram.webhook is not None, 60, "the webhook set")
            emu.targets.append(base)
            await ask(emu, USER, "/start", "50 XP")
            await emu.idle()
            update = emu.updates.message(USER, "/balance")
            for secret in ("wrong", hook_secret):  # a wrong secret (401), a body that is no update (400)
                async with s.post(f"{base}/tg/{TOKEN}", data=b"{}", headers={
                        "X-Telegram-Bot-Api-Secret-Token": secret, "Content-Type": "application/json"}) as r:
                    assert r.status in (400, 401)
            async with s.post(f"{base}/tg/{TOKEN}", json=update, headers={
                    "X-Telegram-Bot-Api-Secret-Token": hook_secret}) as r:
                assert r.status == 200
            for n in range(5):
                async with s.get(f"{base}/tg/{TOKEN}/{n}") as r:
                    assert r.status == 404
            # a request line aiohttp cannot parse: it logs the line, path and all
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(f"GET /tg/{TOKEN}?".encode() + b"\xff HTTP/1.1\r\nHost: x\r\n\r\n")
            await writer.drain()
            assert (await reader.read()).startswith(b"HTTP/1.0 400")
            writer.close()
            async with s.get(f"{base}/metrics") as r:
                metrics = await r.text()
        assert await bot.terminate() == 0
    finally:
        if bot.proc is not None and bot.proc.returncode is None:
            await bot.kill()
    for secret in (TOKEN, SECRET, hook_secret):
        assert secret not in metrics and secret not in bot.text()
    assert 'route="webhook",status="200"' in metrics and 'route="unmatched",status="404"' in metrics
    assert "Error handling request" in bot.text()  # the unparsable request was logged, masked

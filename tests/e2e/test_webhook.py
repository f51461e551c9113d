"""The real `python main.py` in webhook mode, over HTTP: the emulator POSTs updates with the
secret token, retries what is not answered 2xx, and round-robins over instances."""

from __future__ import annotations

import asyncio
import json
import random
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from typing import ClassVar

import aiohttp
import pytest

from bot.fake import Person
from tests.e2e.emulator import ROOT, TOKEN, BotProcess
from tests.e2e.test_e2e import ADMIN, NEW, POWER, ask, cli, drain_and_verify, journeys

SECRET = "s3cret_token-" + "x" * 20
HOOK = "https://bot.example.test/tg/hook"
NO_THROTTLE = {"THROTTLE_BURST": "1000000", "THROTTLE_PER_MINUTE": "1000000"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class HookedBot(BotProcess):
    """`python main.py` with WEBHOOK_URL set, serving on its own port."""

    #: every one started by the current test (killed at its end if still running)
    started: ClassVar[list[HookedBot]] = []

    def __init__(self, emu, db, log, port: int | None = None, **env: str) -> None:
        HookedBot.started.append(self)
        self.port = port or free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        super().__init__(emu.url, db, "9000", log, WEBHOOK_URL=HOOK, WEBHOOK_SECRET=SECRET, WEB_PORT=str(self.port),
                         **env)

    async def ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        async with aiohttp.ClientSession() as s:
            while time.monotonic() < deadline:
                assert self.proc is not None and self.proc.returncode is None, "the bot exited"
                try:
                    async with s.get(self.base + "/readyz") as r:
                        if r.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.1)
        raise AssertionError("the bot did not become ready")


@pytest.fixture(autouse=True)
async def no_bot_left_behind() -> AsyncIterator[None]:
    yield
    while HookedBot.started:
        proc = HookedBot.started.pop()
        if proc.proc is not None and proc.proc.returncode is None:
            await proc.kill()


async def started(emu, tmp_path, name: str = "bot", port: int | None = None, db: str | None = None,
                  **env: str) -> HookedBot:
    proc = HookedBot(emu, db or tmp_path / "e2e.db", tmp_path / f"{name}.log", port, **env)
    await proc.start()
    try:
        await proc.ready()
    except BaseException:
        print(proc.text()[-4000:])
        raise
    if proc.base not in emu.targets:
        emu.targets.append(proc.base)
    return proc


async def post(url: str, body: bytes, headers: dict[str, str]) -> int:
    async with aiohttp.ClientSession() as s, s.post(url, data=body, headers=headers) as r:
        return r.status


async def test_the_journeys_through_the_webhook_and_the_api_beside_it(emu, tmp_path):
    bot = await started(emu, tmp_path)
    try:
        hook = emu.telegram.webhook
        assert hook["url"] == HOOK and hook["secret_token"] == SECRET and hook["max_connections"] == 40
        assert hook["drop_pending_updates"] is False and {"message", "callback_query"} <= set(hook["allowed_updates"])
        await journeys(emu)
        await emu.idle()
        assert {status for _, _, status in emu.results} == {200}
        db = tmp_path / "e2e.db"
        key = cli(db, "apikey", "create", "e2e", "--scope", "read").stdout.strip().splitlines()[-1]
        async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {key}"}) as s:
            async with s.get(f"{bot.base}/api/v1/users/1001/balance") as r:
                assert r.status == 200 and await r.json() == json.loads(cli(db, "balance", "1001").stdout)
            async with s.get(f"{bot.base}/metrics") as r:
                metrics = await r.text()
        assert 'bot_updates_total{outcome="ok",type="message"}' in metrics
        assert 'economy_refusals_total{kind="QuotaExceeded",source="bot"} 1.0' in metrics
        assert 'economy_tokens_spent_total{item="content"} 40.0' in metrics
        assert await bot.terminate() == 0
    finally:
        if bot.proc.returncode is None:
            await bot.kill()
    assert cli(db, "verify").returncode == 0
    assert json.loads(cli(db, "balance", "1001").stdout)["tokens"] == 55
    assert json.loads(cli(db, "balance", "1002").stdout)["tokens"] == 80
    assert SECRET not in bot.text() and "E" * 35 not in bot.text() and key not in bot.text()
    # back to polling, with the API alone on WEB_PORT and /metrics on METRICS_PORT: the webhook
    # is deleted, updates wait for getUpdates
    web_port, metrics_port = free_port(), free_port()
    polling = BotProcess(emu.url, db, "9000", tmp_path / "polling.log", WEB_PORT=str(web_port),
                         METRICS_PORT=str(metrics_port))
    await polling.start()
    try:
        await ask(emu, POWER, "/balance", "Tokens: 80")
        assert emu.telegram.webhook is None and emu.polls > 0
        async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {key}"}) as s:
            async with s.get(f"http://127.0.0.1:{web_port}/api/v1/users/1002/balance") as r:
                assert r.status == 200 and (await r.json())["tokens"] == 80
            async with s.get(f"http://127.0.0.1:{web_port}/readyz") as r:
                assert r.status == 200
            async with s.get(f"http://127.0.0.1:{web_port}/metrics") as r:
                assert r.status == 404  # only on METRICS_PORT
            async with s.post(f"http://127.0.0.1:{web_port}/tg/hook", json={}) as r:
                assert r.status == 404  # no webhook route in polling mode
            async with s.get(f"http://127.0.0.1:{metrics_port}/metrics") as r:
                assert r.status == 200 and 'bot_updates_total{outcome="ok",type="message"} 1.0' in await r.text()
        assert await polling.terminate() == 0
    finally:
        if polling.proc.returncode is None:
            await polling.kill()
    # and plain polling, as before: no HTTP server at all
    plain = BotProcess(emu.url, db, "9000", tmp_path / "plain.log")
    await plain.start()
    try:
        await ask(emu, POWER, "/balance", "Tokens: 80")
        assert "listening on" not in plain.text()
        assert await plain.terminate() == 0
    finally:
        if plain.proc.returncode is None:
            await plain.kill()


async def test_a_wrong_secret_or_a_bad_body_applies_nothing(emu, tmp_path):
    bot = await started(emu, tmp_path)
    try:
        url = bot.base + "/tg/hook"
        start = json.dumps(emu.updates.message(NEW, "/start")).encode()
        json_type = {"Content-Type": "application/json"}
        for headers in ({}, {"X-Telegram-Bot-Api-Secret-Token": "wrong"},
                        {"X-Telegram-Bot-Api-Secret-Token": SECRET + "x"},
                        {"X-Telegram-Bot-Api-Secret-Token": SECRET[:-1]}):
            assert await post(url, start, {**json_type, **headers}) == 401
            assert await post(url, b"{not json", headers) == 401  # the secret is checked before the body
        ok = {**json_type, "X-Telegram-Bot-Api-Secret-Token": SECRET}
        for body in (b"{", b"[]", b'{"update_id": "x"}', b"\xff", b'{"message": {}}'):
            assert await post(url, body, ok) == 400, body
        # an update (it has an id) of no kind this bot knows: logged, acknowledged, nothing applied
        assert await post(url, b'{"update_id": 1}', ok) == 200
        assert await post(url, b" " * (2 * 1024 * 1024), ok) == 413
        assert emu.telegram.sent == []  # nothing was answered, nothing applied
        db = tmp_path / "e2e.db"
        assert json.loads(cli(db, "stats").stdout)["users"] == 0
        assert "is not an update" in bot.text()
        # the bot is still there, and the right secret works
        assert await post(url, start, ok) == 200
        assert "50 XP" in emu.telegram.sent[-1].text
        assert await bot.terminate() == 0
    finally:
        if bot.proc.returncode is None:
            await bot.kill()


async def test_a_failed_reply_answers_500_and_the_redelivery_applies_nothing_twice(emu, tmp_path):
    bot = await started(emu, tmp_path)
    try:
        await ask(emu, POWER, "/start", "50 XP")
        emu.faults["sendMessage"] = [502, 502]  # the reply fails, and the apology too
        daily = emu.say(POWER, "/daily")
        await emu.reply(POWER.id, 0, "+20 XP")
        await emu.idle()
        statuses = [status for uid, _, status in emu.results if uid == daily["update_id"]]
        assert statuses[0] == 500 and statuses[-1] == 200, statuses
        db = tmp_path / "e2e.db"
        assert await bot.terminate() == 0
    finally:
        if bot.proc.returncode is None:
            await bot.kill()
    assert json.loads(cli(db, "balance", "1002").stdout)["xp"] == 70  # 50 + 20, once


async def test_a_reply_refused_for_good_is_acknowledged_and_the_chats_next_updates_arrive(emu, tmp_path):
    """One rule in both modes (issue 20, item 4): a reply Telegram refuses for good (403: the
    bot may not write there; 400) is logged in one line and answered 200 — not 500 forever,
    which would hold that chat's next updates behind it; the write it made stays, once."""
    bot = await started(emu, tmp_path)
    try:
        await ask(emu, POWER, "/start", "50 XP")
        for status in (403, 400):
            emu.faults["sendMessage"] = [status]
            daily = emu.say(POWER, "/daily" if status == 403 else "/balance")
            await emu.idle()
            statuses = [s for uid, _, s in emu.results if uid == daily["update_id"]]
            assert statuses == [200], (status, statuses)
        await ask(emu, POWER, "/balance", "XP: 70")  # the chat's next update arrives and is answered
        db = tmp_path / "e2e.db"
        assert await bot.terminate() == 0
        log = bot.text()
        assert "failed for good" in log and "Traceback" not in log
    finally:
        if bot.proc.returncode is None:
            await bot.kill()
    assert json.loads(cli(db, "balance", "1002").stdout)["xp"] == 70  # the /daily applied, once


async def _fund(emu, users, tokens):
    for who in users:
        await ask(emu, who, "/start", "50 XP")
        await ask(emu, ADMIN, f"/grant {who.id} {tokens - 50}", "Granted")
        await ask(emu, who, "/convert all", f"{tokens} tokens")


async def test_kill_9_during_a_burst_then_restart_applies_every_update_once(emu, tmp_path):
    bot = await started(emu, tmp_path, **NO_THROTTLE)
    users = [Person(3000 + i, f"U{i}", None, "en") for i in range(10)]
    await _fund(emu, users, 200)
    await emu.idle()
    rng = random.Random(7)
    burst = [emu.say(rng.choice(users), "/buy boost") for _ in range(250)]
    ids = {u["update_id"] for u in burst}
    await emu.wait(lambda: len(ids & emu.acked) >= 40, 60, "purchases acknowledged")
    await bot.kill()
    acked = ids & emu.acked
    print(f"kill -9 with {len(acked)} of 250 purchases acknowledged")
    assert len(acked) < len(ids)
    # Telegram keeps posting (connection refused) until the bot is back on its port
    await asyncio.sleep(0.5)
    assert any(isinstance(status, str) for _, _, status in emu.results)
    again = await started(emu, tmp_path, port=bot.port, **NO_THROTTLE)
    db = tmp_path / "e2e.db"
    stats = await drain_and_verify(emu, again, db)
    assert ids <= emu.acked
    assert stats["spent_per_item"]["boost"] == 5 * 250, stats
    assert sum(json.loads(cli(db, "balance", str(u.id)).stdout)["tokens"] for u in users) == 10 * 200 - 5 * 250


async def test_sigterm_finishes_the_updates_in_hand_and_exits_0_within_10_s(emu, tmp_path):
    bot = await started(emu, tmp_path, **NO_THROTTLE)
    users = [Person(4000 + i, f"S{i}", None, "en") for i in range(5)]
    await _fund(emu, users, 100)
    burst = [emu.say(users[i % 5], "/buy boost") for i in range(100)]
    await emu.wait(lambda: sum("Tokens left" in s.text for s in emu.telegram.sent) >= 5, what="some purchases")
    began = time.monotonic()
    assert await bot.terminate(timeout=10) == 0
    assert time.monotonic() - began < 10
    acked = {u["update_id"] for u in burst} & emu.acked
    db = tmp_path / "e2e.db"
    spent = json.loads(cli(db, "stats").stdout)["spent_per_item"]["boost"]
    assert spent >= 5 * len(acked)  # nothing answered 200 is lost
    again = await started(emu, tmp_path, port=bot.port, **NO_THROTTLE)
    stats = await drain_and_verify(emu, again, db)
    assert stats["spent_per_item"]["boost"] == 5 * 100


async def test_two_instances_round_robin_give_the_totals_of_one(emu, tmp_path, e2e_db):
    """Two processes on one database (a SQLite file, and PostgreSQL as production runs it)
    behind a round-robin "load balancer": one user's updates land on both, concurrently; every
    update is applied once and the totals are exact."""
    first = await started(emu, tmp_path, "first", db=e2e_db, **NO_THROTTLE)
    second = await started(emu, tmp_path, "second", db=e2e_db, **NO_THROTTLE)
    assert len(emu.targets) == 2
    users = [Person(6000 + i, f"R{i}", None, "en") for i in range(6)]
    try:
        await _fund(emu, users, 300)
        for who in users:  # XP enough for every conversion, whatever the order
            await ask(emu, ADMIN, f"/grant {who.id} 200", "Granted")
        # Totals that do not depend on the order the updates are applied in (a daily reward
        # does: doubled once a boost is bought), so one instance or two must give the same.
        rng = random.Random(11)
        pushed = {"convert": 0, "buy": 0, "balance": 0}
        for _ in range(300):
            who, kind = rng.choice(users), rng.choice(list(pushed))
            pushed[kind] += 1
            emu.say(who, {"convert": "/convert 1", "buy": "/buy boost", "balance": "/balance"}[kind])
        await emu.idle(120)
        by_target = {t: sum(1 for _, target, s in emu.results if target == t and s == 200) for t in emu.targets}
        assert all(n > 100 for n in by_target.values()), by_target
        assert await first.terminate() == 0
        stats = await drain_and_verify(emu, second, e2e_db)
    finally:
        for proc in (first, second):
            if proc.proc.returncode is None:
                await proc.kill()
    assert stats["spent_per_item"]["boost"] == 5 * pushed["buy"], (pushed, stats)
    assert stats["xp_converted"] == 300 * len(users) + pushed["convert"], (pushed, stats)
    assert stats["xp_issued"] == 500 * len(users), (pushed, stats)
    assert stats["tokens_in_circulation"] == 300 * len(users) + pushed["convert"] - 5 * pushed["buy"]


async def test_set_webhook_is_retried_through_5xx_and_a_refusal_exits_2(emu, tmp_path):
    emu.faults["setWebhook"] = [502, "html"]
    proc = HookedBot(emu, tmp_path / "e2e.db", tmp_path / "bot.log")
    await proc.start()
    async with aiohttp.ClientSession() as s:
        ready: list[int] = []
        deadline = time.monotonic() + 30
        while (not ready or ready[-1] != 200) and time.monotonic() < deadline:  # ready once the webhook is set
            try:
                async with s.get(proc.base + "/readyz") as r:
                    ready.append(r.status)
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.05)
    assert 503 in ready and emu.telegram.webhook is not None and "setWebhook failed" in proc.text()
    assert await proc.terminate() == 0
    emu.faults["setWebhook"] = [400]
    refused = HookedBot(emu, tmp_path / "e2e.db", tmp_path / "refused.log")
    await refused.start()
    assert await asyncio.wait_for(refused.proc.wait(), 30) == 2
    assert "Telegram refused the webhook" in refused.text()


async def test_a_taken_port_is_one_log_line_and_a_clean_exit(emu, tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        proc = HookedBot(emu, tmp_path / "e2e.db", tmp_path / "bot.log", taken.getsockname()[1])
        await proc.start()
        assert await asyncio.wait_for(proc.proc.wait(), 30) == 1
    assert "cannot listen on 127.0.0.1" in proc.text() and "Traceback" not in proc.text()


def test_webhook_mode_needs_a_well_formed_secret(tmp_path):
    base = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "BOT_TOKEN": TOKEN, "WEBHOOK_URL": HOOK}
    for extra, words in (({}, "WEBHOOK_SECRET"), ({"WEBHOOK_SECRET": "has space"}, "WEBHOOK_SECRET"),
                         ({"WEBHOOK_SECRET": "x" * 257}, "WEBHOOK_SECRET"),
                         ({"WEBHOOK_SECRET": "ok", "WEBHOOK_URL": "http://bot.example.test/hook"}, "https"),
                         ({"WEBHOOK_SECRET": "ok", "WEB_PORT": "99999"}, "WEB_PORT")):
        done = subprocess.run([sys.executable, str(ROOT / "main.py"), "--env-file", str(tmp_path / "none.env")],
                              cwd=tmp_path, env={**base, **extra}, capture_output=True, text=True, timeout=60,
                              check=False)
        assert done.returncode == 2, (extra, done.stderr)
        assert done.stderr.strip().count("\n") == 0 and words in done.stderr, done.stderr

"""The live dashboard's stream: a token only for an admin's checked initData, a forged or
expired one refused, `ready` then `change` within 2 s of a commit, Last-Event-ID resuming, a
heartbeat, the end at the token's expiry; on PostgreSQL two instances both see a change made
by a third process's ledger (LISTEN/NOTIFY)."""

from __future__ import annotations

import asyncio
import json
import time

import aiohttp
import pytest
from aiohttp import web

from economy import Ledger
from tests.conftest import BACKENDS
from tests.web.dashsite import ADMIN_EN, STRANGER, TOKEN, auth, init_data
from web import casts


async def _serve(ledger: Ledger, **kw) -> tuple[web.AppRunner, str]:
    app = web.Application()
    casts.install(app, ledger, bot_token=TOKEN, admins=frozenset({ADMIN_EN.id}), default_language="en",
                  token_ttl=kw.get("ttl", 300), heartbeat=kw.get("heartbeat", 15))
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, f"http://127.0.0.1:{runner.addresses[0][1]}/dashboard/live/"


async def _events(response: aiohttp.ClientResponse, n: int, timeout: float) -> list[dict]:
    """The next `n` events (or comments, as {"comment": ...}) of a stream."""
    out: list[dict] = []
    event: dict = {}
    deadline = time.monotonic() + timeout
    while len(out) < n:
        line = (await asyncio.wait_for(response.content.readline(), deadline - time.monotonic())).decode()
        if line == "":
            break
        line = line.rstrip("\n")
        if line.startswith(":"):
            out.append({"comment": line[1:].strip()})
        elif line == "":
            if event:
                out.append(event)
                event = {}
        else:
            key, _, value = line.partition(": ")
            event[key] = value
    return out


@pytest.fixture(params=BACKENDS)
async def ledger(request, tmp_path):
    where = tmp_path / "live.db" if request.param == "sqlite" else request.getfixturevalue("pg_url")
    async with await Ledger.open(where) as led:
        await led.register(1001, first_name="Alice")
        yield led


async def _token(s: aiohttp.ClientSession, base: str) -> str:
    async with s.post(base + "token", headers=auth(init_data(ADMIN_EN))) as r:
        assert r.status == 200
        return (await r.json())["token"]


async def test_tokens_and_changes(ledger) -> None:
    runner, base = await _serve(ledger)
    try:
        async with aiohttp.ClientSession() as s:
            async with s.post(base + "token") as r:
                assert r.status == 401 and r.content_type == "application/problem+json"
            async with s.post(base + "token", headers=auth(init_data(STRANGER))) as r:
                assert r.status == 403
            async with s.post(base + "token", headers=auth(init_data(ADMIN_EN, forge=True))) as r:
                assert r.status == 401
            token = await _token(s, base)
            forged = token[:-1] + ("0" if token[-1] != "0" else "1")
            async with s.get(base + "stream", params={"token": forged}) as r:
                assert r.status == 401
            async with s.get(base + "stream", params={"token": token}) as r:
                assert r.headers["Content-Type"] == "text/event-stream"
                (ready,) = await _events(r, 1, 5)
                assert ready["event"] == "ready"
                started = time.monotonic()
                await ledger.grant(1001, 10)  # a change made elsewhere (the bot)
                (change,) = await _events(r, 1, 5)
                assert change["event"] == "change" and time.monotonic() - started < 2
                assert change["id"] != ready["id"] and json.loads(change["data"])["transfer"] > 0
            # away meanwhile: a change while disconnected is told at once on resuming
            await ledger.grant(1001, 5)
            async with s.get(base + "stream", params={"token": token},
                             headers={"Last-Event-ID": change["id"]}) as r:
                (missed,) = await _events(r, 1, 5)
                assert missed["event"] == "change" and missed["id"] != change["id"]
            async with s.get(base + "stream", params={"token": token, "last": missed["id"]}) as r:
                await ledger.store.read(_nothing)
                await ledger.grant(1001, 1)
                (nxt,) = await _events(r, 1, 5)
                assert nxt["event"] == "change"
    finally:
        await runner.cleanup()


async def test_heartbeat_and_expiry(ledger) -> None:
    runner, base = await _serve(ledger, ttl=30, heartbeat=1)
    live = next(iter(runner.app.on_shutdown)).__self__
    try:
        async with aiohttp.ClientSession() as s:
            token = await _token(s, base)
            async with s.get(base + "stream", params={"token": token}) as r:
                first = await _events(r, 2, 5)
                assert first[0]["event"] == "ready" and first[1] == {"comment": "ping"}
                live.clock = live.tokens.clock = lambda: time.time() + 29.5  # the token's last half second
                rest = await _events(r, 4, 5)
                assert rest[-1].get("event") == "expired" and len(rest) <= 3
                assert await r.content.read() == b""  # the stream ended
            async with s.get(base + "stream", params={"token": token}) as r:
                assert r.status == 401  # expired: mint another
    finally:
        await runner.cleanup()


async def test_every_instance_sees_every_change_on_postgresql(request, tmp_path) -> None:
    if "postgresql" not in BACKENDS:
        pytest.skip("LEDGER_BACKENDS leaves PostgreSQL out")
    url = request.getfixturevalue("pg_url")
    async with await Ledger.open(url) as one, await Ledger.open(url) as two, await Ledger.open(url) as bot:
        await bot.register(1001, first_name="Alice")
        servers = [await _serve(one), await _serve(two)]
        try:
            async with aiohttp.ClientSession() as s:
                streams = []
                for _, base in servers:
                    token = await _token(s, base)
                    r = await s.get(base + "stream", params={"token": token})
                    assert (await _events(r, 1, 5))[0]["event"] == "ready"
                    streams.append(r)
                started = time.monotonic()
                await bot.raise_quota(1001, 500)  # through neither instance's ledger
                for r in streams:
                    (change,) = await _events(r, 1, 5)
                    assert change["event"] == "change"
                assert time.monotonic() - started < 2
                for r in streams:
                    r.close()
            for runner, _ in servers:
                live = next(iter(runner.app.on_shutdown)).__self__
                assert live.changes.listening
        finally:
            for runner, _ in servers:
                await runner.cleanup()


async def _nothing(db) -> None:
    """A read that reads nothing (it waits for the reads before it)."""

"""Review 3 (issue 22 items 3, 6): reproducers against the live routes as app.py mounts them
(the dashboard sub-app and the live routes side by side). A failing test is a defect."""

from __future__ import annotations

import asyncio
import time

import aiohttp
from aiohttp import web

from bot.config import Settings
from bot.delivery import Deliveries
from bot.factory import build_bot
from bot.fake import FakeTelegram, LocalSession
from economy import Ledger
from handlers.admin import credit_notifier
from tests.web.dashsite import ADMIN_EN, STRANGER, TOKEN, auth, init_data
from web import casts
from web.dashboard import install


async def _serve(tmp_path, heartbeat: float = 15.0):
    db = f"sqlite:///{tmp_path}/live.db"
    settings = Settings.from_env({"BOT_TOKEN": TOKEN, "ADMIN_IDS": str(ADMIN_EN.id), "DATABASE_URL": db})
    ledger = await Ledger.open(db, catalog=settings.catalog)
    bot = build_bot(settings, LocalSession(FakeTelegram()))
    app = web.Application()
    install(app, ledger, settings, credit_notifier(bot, Deliveries(ledger, sole=True, default_language="en")))
    live = casts.install(app, ledger, bot_token=TOKEN, admins=frozenset({ADMIN_EN.id}), default_language="en",
                         token_ttl=300, heartbeat=heartbeat)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, ledger, bot, live, f"http://127.0.0.1:{runner.addresses[0][1]}/dashboard/"


async def test_r3_live_routes_speak_the_dashboard_convention(tmp_path) -> None:
    runner, ledger, bot, live, base = await _serve(tmp_path)
    try:
        async with aiohttp.ClientSession() as s:
            async with s.get(base + "api/overview") as r:
                dash = r.status, r.content_type, r.headers.get("WWW-Authenticate")
            async with s.post(base + "live/token") as r:
                mine = r.status, r.content_type, r.headers.get("WWW-Authenticate")
            assert mine[1] == "application/problem+json"
            problems = []
            if mine[2] != "tma":
                problems.append(f"401 from live/token lacks WWW-Authenticate: tma (dashboard: {dash})")
            async with s.get(base + "live/token") as r:  # a wrong method
                if r.content_type != "application/problem+json":
                    problems.append(f"405 on live/token is {r.content_type}")
            async with s.get(base + "live/broadcasts", headers=auth(init_data(STRANGER))) as r:
                if r.headers.get("X-Content-Type-Options") != "nosniff":
                    problems.append("live/* lacks the dashboard's X-Content-Type-Options: nosniff")
            assert not problems, problems
    finally:
        await runner.cleanup()
        await bot.session.close()
        await ledger.close()


async def test_r3_stop_ends_open_streams(tmp_path) -> None:
    runner, ledger, bot, live, base = await _serve(tmp_path, heartbeat=15.0)
    try:
        async with aiohttp.ClientSession() as s:
            async with s.post(base + "live/token", headers=auth(init_data(ADMIN_EN))) as r:
                token = (await r.json())["token"]
            async with s.get(base + "live/stream", params={"token": token}) as r:
                await r.content.readline()
                started = time.monotonic()
                await live.close()
                rest = await asyncio.wait_for(r.content.read(), 5)
                assert time.monotonic() - started < 2 and live.streams == 0, rest
    finally:
        await runner.cleanup()
        await bot.session.close()
        await ledger.close()


async def test_r3_closed_page_stream_is_released_by_the_next_heartbeat(tmp_path) -> None:
    """Bound of the leak above: held until the next heartbeat write fails."""
    runner, ledger, bot, live, base = await _serve(tmp_path, heartbeat=1.0)
    try:
        async with aiohttp.ClientSession() as s:
            async with s.post(base + "live/token", headers=auth(init_data(ADMIN_EN))) as r:
                token = (await r.json())["token"]
            r = await s.get(base + "live/stream", params={"token": token})
            await r.content.readline()
            r.close()
        await asyncio.sleep(3.0)
        assert live.streams == 0
    finally:
        await runner.cleanup()
        await bot.session.close()
        await ledger.close()


async def test_r3_token_in_url_is_bound_to_expiry_and_admin(tmp_path) -> None:
    """Forged / another id / tampered expiry / replay after expiry / admin removed: all refused."""
    runner, ledger, bot, live, base = await _serve(tmp_path)
    try:
        async with aiohttp.ClientSession() as s:
            async with s.post(base + "live/token", headers=auth(init_data(ADMIN_EN))) as r:
                token = (await r.json())["token"]
            admin, expires, mac = token.split(".")
            for bad in (f"{admin}.{int(expires) + 3600}.{mac}", f"1234.{expires}.{mac}", f"0{admin}.{expires}.{mac}",
                        token + "x", "", f"{admin}.{expires}", token.replace(".", "%2E")):
                async with s.get(base + "live/stream", params={"token": bad}) as r:
                    assert r.status == 401, bad
            live.admins = frozenset()
            async with s.get(base + "live/stream", params={"token": token}) as r:
                assert r.status == 401
            live.admins = frozenset({ADMIN_EN.id})
            live.clock = live.tokens.clock = lambda: int(expires) + 1
            async with s.get(base + "live/stream", params={"token": token}) as r:
                assert r.status == 401
    finally:
        await runner.cleanup()
        await bot.session.close()
        await ledger.close()

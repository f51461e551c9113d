"""Hostile review (h), issue 20 group A at the Bot API's edge: a real aiohttp session against a
misbehaving HTTP server on 127.0.0.1 (what a proxy in front of the Bot API may answer)."""

from __future__ import annotations

import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiohttp import web

from bot.config import TOKEN_SHAPE
from bot.failures import classify
from economy.redact import Redactor

TOKEN = "1234567890:AAHfiqksKZ8WmR2zSjiQ7_v4TMAKdiHm9T0"
SECRET = TOKEN.partition(":")[2]


@pytest.fixture
async def proxy(aiohttp_unused_port=None):
    """A server: /loop/... redirects to itself forever; /latin/... a 502 page in windows-1254
    without a charset (a Turkish proxy's 'Ağ geçidi hatası')."""
    async def loop(request):
        raise web.HTTPFound(str(request.url))

    async def latin(request):
        return web.Response(status=502, body="<h1>Ağ geçidi hatası</h1>".encode("cp1254"),
                            headers={"Content-Type": "text/html"})

    app = web.Application()
    app.router.add_route("*", "/loop/{tail:.*}", loop)
    app.router.add_route("*", "/{prefix}/latin/{tail:.*}", latin)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield f"http://127.0.0.1:{port}"
    await runner.cleanup()


async def _fail(base: str) -> BaseException:
    session = AiohttpSession(api=TelegramAPIServer.from_base(base))
    bot = Bot(TOKEN, session=session)
    try:
        await bot.copy_message(1, 2, 3)
    except Exception as exc:  # noqa: BLE001
        return exc
    finally:
        await session.close()
    raise AssertionError("no failure")


async def test_a_redirect_loop_never_puts_the_token_in_a_log_line(proxy):
    """TELEGRAM_API_URL behind a proxy with a path (here /loop/telegram-bot-api): a redirect
    loop makes aiohttp's TooManyRedirects, whose text holds the request URL and so the token;
    classify() cuts it at 120 characters *before* the Redactor sees it, so neither the whole
    token nor its secret half is there to be masked, and TOKEN_SHAPE needs 30 characters."""
    exc = await _fail(proxy + "/loop/telegram-bot-api")
    detail = classify(exc).detail
    shown = Redactor(secrets=[TOKEN, SECRET], patterns=[TOKEN_SHAPE])(detail)
    assert SECRET[:12] not in shown, shown


async def test_a_proxy_page_not_in_utf8_is_transient_not_a_bug(proxy):
    """A proxy's 502 page in a legacy encoding: aiohttp's resp.text() raises UnicodeDecodeError
    (aiogram does not wrap it): classify() calls it a bug (permanent): a /charge is refunded at
    once instead of retried, a notice is marked failed for good, the update is acknowledged
    with a traceback — though it is the same 'HTML 502' item 1 requires to be transient."""
    exc = await _fail(proxy + "/x/latin")
    failure = classify(exc)
    assert failure.transient and not failure.bug, (type(exc).__name__, failure)

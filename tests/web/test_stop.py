"""WebServer.stop in process (issue 20, item 18): while the request in hand has its grace the
server still listens and answers (503 to a new update once `closing` is set), a request still
running after the grace is cut short (its client gets no answer), and the stop is bounded."""

from __future__ import annotations

import asyncio
import time

import aiohttp
from aiogram import Bot, Dispatcher
from aiogram.types import Message

from bot.fake import FakeTelegram, LocalSession, Person, Updates
from web.config import WebSettings
from web.server import CUT_SHORT, WebServer, application
from web.webhook import SECRET_HEADER, Webhook

TOKEN = "123456:" + "S" * 35
HEADERS = {SECRET_HEADER: "s3cret"}


async def test_a_hung_update_is_cut_short_after_the_grace_and_new_ones_get_503_meanwhile():
    dp, entered, cancelled = Dispatcher(), asyncio.Event(), []

    @dp.message()
    async def hangs(message: Message) -> None:  # a reply the Bot API never answers
        entered.set()
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            cancelled.append(message.text)
            raise

    hook = Webhook(Bot(TOKEN, session=LocalSession(FakeTelegram())), dp, "s3cret", lambda r: False)
    app = application()
    app.router.add_post("/hook", hook.handle)
    server = WebServer(WebSettings(port=0, shutdown_timeout=1.5), app)
    await server.start()
    url = f"http://127.0.0.1:{server.ports[0]}/hook"
    async with aiohttp.ClientSession() as session:
        async def post(text: str) -> int | str:
            try:
                async with session.post(url, json=Updates().message(Person(5), text), headers=HEADERS) as r:
                    return r.status
            except aiohttp.ClientError as exc:
                return type(exc).__name__

        first = asyncio.create_task(post("/first"))
        await entered.wait()
        hook.closing = True
        began = time.monotonic()
        stopping = asyncio.create_task(server.stop())
        await asyncio.sleep(0.5)
        assert not stopping.done()
        assert await post("/second") == 503  # still listening, refusing
        await stopping
        took = time.monotonic() - began
        assert 1.4 < took < 1.5 + 2 * CUT_SHORT + 0.5, took
        assert cancelled == ["/first"]
        assert isinstance(await first, str)  # no answer: Telegram sends it again

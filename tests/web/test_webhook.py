"""The webhook route in process: an update is answered only once its handler is done, a
failure is not 2xx, and a stop finishes the update in hand while refusing new ones."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
from aiogram import Bot, Dispatcher
from aiogram.types import Message

from bot.fake import FakeTelegram, LocalSession, Person, Updates
from web.config import WebSettings
from web.server import WebServer, application
from web.webhook import SECRET_HEADER, Webhook

TOKEN = "123456:" + "H" * 35
HEADERS = {SECRET_HEADER: "s3cret"}


async def serve(dp: Dispatcher) -> tuple[WebServer, Webhook, str]:
    hook = Webhook(Bot(TOKEN, session=LocalSession(FakeTelegram())), dp, "s3cret", lambda r: r == "error")
    app = application()
    app.router.add_post("/hook", hook.handle)
    server = WebServer(WebSettings(port=0, shutdown_timeout=5), app)
    await server.start()
    return server, hook, f"http://127.0.0.1:{server.ports[0]}/hook"


def update(text: str = "/x") -> dict[str, Any]:
    return Updates().message(Person(5), text)


async def test_answered_only_after_the_handler_is_done_and_a_stop_finishes_it():
    dp, release, done = Dispatcher(), asyncio.Event(), []

    @dp.message()
    async def slow(message: Message) -> None:
        await release.wait()
        done.append(message.text)

    server, hook, url = await serve(dp)
    async with aiohttp.ClientSession() as session:
        async def post() -> int:
            async with session.post(url, json=update(), headers=HEADERS) as r:
                return r.status

        first = asyncio.create_task(post())
        await asyncio.sleep(0.3)
        assert not first.done() and not done  # no answer while the handler works
        hook.closing = True  # SIGTERM: new updates are refused, the one in hand goes on
        assert await post() == 503
        stopping = asyncio.create_task(server.stop())
        await asyncio.sleep(0.2)
        assert not stopping.done()
        release.set()
        assert await first == 200 and done == ["/x"]
        await stopping


async def test_a_failed_update_is_not_2xx():
    dp = Dispatcher()

    @dp.message()
    async def broken(message: Message) -> None:
        raise RuntimeError("boom")

    outcome = Dispatcher()
    outcome.update.outer_middleware(lambda handler, event, data: _returns("error"))
    for d in (dp, outcome):
        server, _, url = await serve(d)
        try:
            async with aiohttp.ClientSession() as session, session.post(url, json=update(), headers=HEADERS) as r:
                assert r.status == 500
        finally:
            await server.stop()


async def _returns(value: str) -> str:
    return value

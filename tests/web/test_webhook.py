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
    hook = Webhook(Bot(TOKEN, session=LocalSession(FakeTelegram())), dp, "s3cret", lambda r: r == "retry")
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


async def test_one_rule_for_a_failed_update():
    """A failure that may pass (RETRY) is 500 until the last try this instance allows, then 200
    with final_try set; a failure for good ("error") and a raise on the last try are 200; an
    update of no known kind or one that does not decode is logged and 200 (never 400 forever);
    a body that is no update at all is 400."""
    from web.webhook import MAX_TRIES
    seen: list[bool] = []

    async def outcome_of(value: str) -> Any:
        async def middleware(handler, event, data):
            seen.append(data.get("final_try"))
            return "error" if data.get("final_try") else value
        return middleware

    retrying = Dispatcher()
    retrying.update.outer_middleware(await outcome_of("retry"))
    failing = Dispatcher()
    failing.update.outer_middleware(lambda handler, event, data: _returns("error"))
    raising = Dispatcher()

    @raising.message()
    async def broken(message: Message) -> None:
        raise RuntimeError("boom")

    async def statuses(dp: Dispatcher, body: Any, n: int = 1) -> list[int]:
        server, _, url = await serve(dp)
        try:
            async with aiohttp.ClientSession() as session:
                out = []
                for _ in range(n):
                    async with session.post(url, data=body if isinstance(body, bytes) else None,
                                            json=None if isinstance(body, bytes) else body, headers=HEADERS) as r:
                        out.append(r.status)
                return out
        finally:
            await server.stop()

    one = update()
    assert await statuses(retrying, one, MAX_TRIES) == [500] * (MAX_TRIES - 1) + [200]
    assert seen == [False] * (MAX_TRIES - 1) + [True]
    assert await statuses(failing, one) == [200]
    assert await statuses(raising, one, MAX_TRIES) == [500] * (MAX_TRIES - 1) + [200]
    unknown = {"update_id": 77, "some_future_kind": {"x": 1}}
    assert await statuses(failing, unknown) == [200]
    undecodable = {"update_id": 78, "message": {"message_id": "not a number"}}
    assert await statuses(failing, undecodable) == [200]
    assert await statuses(failing, b"<html>502</html>") == [400]
    assert await statuses(failing, {"no": "id"}) == [400]


async def _returns(value: str) -> str:
    return value

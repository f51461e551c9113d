"""A bare aiogram echo bot (no ledger, no middleware): the reference bench/http_bench.py measures
the real bot against, over the same HTTP, in the same run. Polling by default; with WEBHOOK_URL,
WEBHOOK_SECRET and WEB_PORT set it sets the webhook and serves it (aiogram's own handler).

    BOT_TOKEN=... TELEGRAM_API_URL=http://127.0.0.1:PORT python bench/echo_bot.py
"""

from __future__ import annotations

import asyncio
import os
from urllib.parse import urlsplit

from aiogram import Bot, Dispatcher, F
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import Message
from aiogram.webhook.aiohttp_server import SimpleRequestHandler, setup_application
from aiohttp import web


async def main() -> None:
    session = AiohttpSession(api=TelegramAPIServer.from_base(os.environ["TELEGRAM_API_URL"]))
    bot = Bot(os.environ["BOT_TOKEN"], session=session)
    dp = Dispatcher()

    @dp.message(F.text)
    async def echo(message: Message) -> None:
        await message.answer(message.text or "")

    hook = os.environ.get("WEBHOOK_URL")
    if not hook:
        await dp.start_polling(bot, handle_signals=True)
        return
    secret = os.environ["WEBHOOK_SECRET"]
    app = web.Application()
    SimpleRequestHandler(dp, bot, secret_token=secret).register(app, path=urlsplit(hook).path)
    setup_application(app, dp, bot=bot)
    app.router.add_get("/readyz", lambda _: web.Response(text="ok"))
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", int(os.environ["WEB_PORT"])).start()
    await bot.set_webhook(hook, secret_token=secret, max_connections=40, drop_pending_updates=False)
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()


if __name__ == "__main__":
    asyncio.run(main())

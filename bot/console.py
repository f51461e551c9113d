"""`python main.py --console`: chat with the bot in a terminal, no Telegram needed.

The same dispatcher and database as the real bot; Telegram is replaced by bot.fake. Type as a
user; `/as <id>` switches user (an admin id included), a number presses that button of the
last keyboard, `/file <caption>` sends a document with a caption (e.g. `/file /charge 1001 100`),
`/quit` leaves.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Callable
from typing import TextIO

from aiogram import Dispatcher
from aiogram.types import Update

from bot.config import Settings
from bot.factory import build_bot
from bot.fake import FakeTelegram, LocalSession, Person, Sent, Updates
from economy import Ledger

HELP = ("You are user {user}. Type commands as in Telegram (/start, /help, ...).\n"
        "/as <id> switch user · <number> press a button · /file <caption> send a document · /quit\n")


async def run_console(settings: Settings, build_dispatcher: Callable[[Ledger], Dispatcher],
                      stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout) -> int:
    """`build_dispatcher` (from app.py) wires the routers to the ledger opened here."""
    ledger = await Ledger.open(settings.database_url, catalog=settings.catalog)
    # Ids never repeat from one session to the next (a repeated update id is a replay to the
    # ledger, a repeated message id an already-used button): they start at the clock, in
    # microseconds, far above Telegram's own update ids, and grow by one per update.
    first = time.time_ns() // 1000
    telegram = FakeTelegram(first_message_id=first)
    bot = build_bot(settings, LocalSession(telegram))
    dp = build_dispatcher(ledger)
    updates = Updates(start=first, first_message_id=first)
    me = Person(min(settings.admin_ids) if settings.admin_ids else 1001, language_code=settings.default_language)
    buttons: list[tuple[Sent, str]] = []

    def show(sent: Sent) -> None:
        where = "" if sent.chat_id == me.id else f" (to {sent.chat_id})"
        kind = f"[{sent.media}] " if sent.media else ""
        stdout.write(f"bot{where}: {kind}{sent.text}\n")
        if sent.markup:
            buttons.clear()
            for text, data in sent.buttons():
                buttons.append((sent, data))
                stdout.write(f"  [{len(buttons)}] {text}\n")
        stdout.flush()

    telegram.listeners.append(show)
    stdout.write(HELP.format(user=me.id))
    loop = asyncio.get_running_loop()
    try:
        while True:
            stdout.write(f"{me.id}> ")
            stdout.flush()
            line = await loop.run_in_executor(None, stdin.readline)
            if not line:
                break
            line = line.strip()
            if not line:
                continue
            if line in ("/quit", "/exit"):
                break
            if line.startswith("/as"):
                parts = line.split()
                if len(parts) == 2 and parts[1].isascii() and parts[1].isdigit() and int(parts[1]) > 0:
                    me = Person(int(parts[1]), language_code=settings.default_language)
                    stdout.write(f"now user {me.id}\n")
                else:
                    stdout.write("usage: /as <numeric user id>\n")
                continue
            if line.isascii() and line.isdigit():
                n = int(line)
                if not 1 <= n <= len(buttons):
                    stdout.write("no such button\n")
                    continue
                sent, data = buttons[n - 1]
                raw = updates.callback(me, data, sent)
            elif line.startswith("/file "):
                raw = updates.message(me, caption=line[6:], media="document")
            else:
                raw = updates.message(me, line)
            await dp.feed_update(bot, Update.model_validate(raw, context={"bot": bot}))
    finally:
        await bot.session.close()
        await ledger.close()
    return 0

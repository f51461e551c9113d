"""A real dispatcher and ledger with Telegram replaced by bot.fake (no network)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from aiogram.types import Update

from bot.config import Settings
from app import build_dispatcher
from bot.factory import build_bot
from bot.fake import FakeTelegram, LocalSession, Person, Sent, Updates
from economy import Ledger

ADMIN = Person(9000, "Admin", "boss", "en")
ALICE = Person(1001, "Alice", "alice", "en")
AYSE = Person(1002, "Ayşe", "ayse", "tr")
BOB = Person(1003, "Bob", None, "de")  # neither tr nor en: DEFAULT_LANGUAGE (tr)
GROUP = -100500


class Harness:
    def __init__(self, settings: Settings, ledger: Ledger, clock: Any) -> None:
        self.settings, self.ledger, self.clock = settings, ledger, clock
        self.telegram = FakeTelegram(clock=clock)
        self.bot = build_bot(settings, LocalSession(self.telegram))
        self.dp = build_dispatcher(settings, ledger)
        self.updates = Updates(clock=clock)

    async def feed(self, raw: dict[str, Any]) -> list[Sent]:
        before = len(self.telegram.sent)
        await self.dp.feed_update(self.bot, Update.model_validate(raw, context={"bot": self.bot}))
        return self.telegram.sent[before:]

    async def send(self, who: Person, text: str, **kw: Any) -> list[Sent]:
        return await self.feed(self.updates.message(who, text, **kw))

    async def say(self, who: Person, text: str, **kw: Any) -> str:
        """The text of the one reply to a command (in the chat it was typed in)."""
        sent = await self.send(who, text, **kw)
        chat = kw.get("chat", who.id)
        mine = [s for s in sent if s.chat_id == chat]
        assert len(mine) == 1, f"{text!r} got {[(s.chat_id, s.text) for s in sent]}"
        return mine[0].text

    async def press(self, who: Person, message: Sent, data: str) -> list[Sent]:
        raw = self.updates.callback(who, data, message)
        sent = await self.feed(raw)
        qid = raw["callback_query"]["id"]
        assert qid in self.telegram.answered, "the callback query was not answered"
        return sent

    def button(self, message: Sent, label_part: str) -> str:
        found = [data for text, data in message.buttons() if label_part in text]
        assert len(found) == 1, f"{label_part!r} in {message.buttons()}"
        return found[0]

    async def file(self, who: Person, caption: str, media: str = "document") -> list[Sent]:
        return await self.feed(self.updates.message(who, caption=caption, media=media,
                                                    caption_entities=[{"type": "bot_command", "offset": 0,
                                                                       "length": len(caption.split()[0])}]))


def settings_for(tmp_path, **extra: str) -> Settings:
    env = {"BOT_TOKEN": "123456:" + "A" * 35, "ADMIN_IDS": str(ADMIN.id),
           "DATABASE_URL": f"sqlite:///{tmp_path}/bot.db", **extra}
    return Settings.from_env(env)


@asynccontextmanager
async def running(tmp_path, clock, *, store: dict[str, Any] | None = None, **env: str) -> AsyncIterator[Harness]:
    """A harness on a fresh ledger in tmp_path (`env`: extra settings, `store`: Ledger.open
    options such as busy_timeout_ms), closed afterwards."""
    settings = settings_for(tmp_path, **env)
    ledger = await Ledger.open(tmp_path / "bot.db", catalog=settings.catalog, clock=clock, **(store or {}))
    harness = Harness(settings, ledger, clock)
    try:
        yield harness
    finally:
        await harness.bot.session.close()
        await ledger.close()


@pytest.fixture
async def h(tmp_path, clock) -> AsyncIterator[Harness]:
    async with running(tmp_path, clock) as harness:
        yield harness

"""Whatever no other handler took: in a private chat the user is told what to do; in groups
the bot stays quiet (other bots' commands are not ours to answer)."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.types import Message

from bot.context import Ctx

ADMIN_COMMANDS = frozenset({"grant", "quota", "charge", "refund", "user", "users", "stats", "export",
                            "addcontent", "reply", "inbox", "dashboard"})


async def unknown(message: Message, ctx: Ctx) -> None:
    text = message.text or message.caption or ""
    command = text[1:].split(maxsplit=1)[0].split("@", 1)[0].lower() if text.startswith("/") and len(text) > 1 else ""
    await message.answer(ctx.t("admin_only" if command in ADMIN_COMMANDS else "unknown_command"))


def router() -> Router:
    r = Router(name="fallback")
    r.message.register(unknown, F.chat.type == "private", F.forward_origin.is_(None), F.text | F.caption)
    return r

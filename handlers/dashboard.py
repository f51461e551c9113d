"""/dashboard: the admin panel Mini App, opened from an inline web_app button (Telegram hands
the page signed initData only from inline and menu buttons, not from reply keyboards)."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, Message, WebAppInfo

from bot.config import Settings
from bot.context import Ctx


async def dashboard(message: Message, ctx: Ctx, settings: Settings) -> None:
    if settings.dashboard_url is None:
        await message.answer(ctx.t("dashboard_off"))
        return
    button = InlineKeyboardButton(text=ctx.t("dashboard_button"), web_app=WebAppInfo(url=settings.dashboard_url))
    await message.answer(ctx.t("dashboard_open"), reply_markup=InlineKeyboardMarkup(inline_keyboard=[[button]]))


def router() -> Router:
    r = Router(name="dashboard")
    r.message.register(dashboard, Command("dashboard"))
    return r

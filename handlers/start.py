"""/start, /help and the main menu's buttons."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandStart
from aiogram.types import CallbackQuery, Message

from bot import keyboards
from bot.callbacks import Menu
from bot.config import Settings
from bot.context import Ctx
from economy import Ledger
from handlers import shop, wallet


async def start(message: Message, ledger: Ledger, ctx: Ctx) -> None:
    user = message.from_user
    assert user is not None
    reg = await ledger.register(user.id, username=user.username, first_name=user.first_name,
                                language=user.language_code, key=ctx.key())
    name = user.first_name[:64]
    text = ctx.t("start_new", name=name, bonus=reg.bonus) if reg.created else ctx.t("start_back", name=name, xp=reg.xp)
    await message.answer(text, reply_markup=keyboards.menu(ctx.t))


async def help_(message: Message, ctx: Ctx, settings: Settings) -> None:
    text = ctx.t("help", daily=settings.catalog.daily_reward)
    if ctx.is_admin and message.chat.type == "private":
        text += ctx.t("help_admin")
    await message.answer(text)


async def menu(query: CallbackQuery, callback_data: Menu, ledger: Ledger, ctx: Ctx, bot: Bot,
               settings: Settings) -> None:
    views = {
        "balance": wallet.show_balance, "daily": wallet.do_daily, "shop": shop.show_shop,
        "convert": wallet.ask_convert, "history": wallet.show_history, "top": wallet.show_top,
    }
    await views[callback_data.action](query, ledger=ledger, ctx=ctx, bot=bot, settings=settings)


def router() -> Router:
    r = Router(name="start")
    r.message.register(start, CommandStart(ignore_case=True))
    r.message.register(help_, Command("help", ignore_case=True))
    r.callback_query.register(menu, Menu.filter())
    r.callback_query.filter(F.from_user)
    return r

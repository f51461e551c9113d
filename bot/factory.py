"""Building the bot and its dispatcher, and the command menus. The routers come from the
composition root (app.py): bot/ does not import handlers."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from aiogram import BaseMiddleware, Bot, Dispatcher, Router
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.session.base import BaseSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import (
    BotCommand, BotCommandScopeChat, BotCommandScopeDefault, LinkPreviewOptions, MenuButtonWebApp, WebAppInfo,
)

from bot.config import Settings
from bot.delivery import Deliveries
from bot.failures import classify
from bot.middlewares import RetryAfter, Throttle, UpdateMiddleware
from economy import Ledger

log = logging.getLogger("bot")

USER_COMMANDS = {
    "tr": [("start", "Başla ve kayıt ol"), ("help", "Komutlar"), ("balance", "Bakiye ve ayrıcalıklar"),
           ("daily", "Günlük görev"), ("convert", "XP'yi tokene çevir"), ("shop", "Mağaza"), ("buy", "Satın al"),
           ("mycontent", "Premium içeriklerim"), ("history", "Hareket geçmişi"), ("top", "En çok harcayanlar"),
           ("credits", "Kredi kotam"), ("gift", "Token hediye et"), ("notify", "Hatırlatmalar açık/kapalı"),
           ("support", "Adminlere yaz")],
    "en": [("start", "Start and register"), ("help", "Commands"), ("balance", "Balance and perks"),
           ("daily", "Daily task"), ("convert", "Convert XP to tokens"), ("shop", "Shop"), ("buy", "Buy an item"),
           ("mycontent", "My premium content"), ("history", "My history"), ("top", "Top spenders"),
           ("credits", "My credit quota"), ("gift", "Give tokens"), ("notify", "Reminders on/off"),
           ("support", "Write to the admins")],
}
ADMIN_COMMANDS = {
    "tr": [("grant", "XP ver"), ("quota", "Kota artır/düşür"), ("charge", "Dosya ücreti (açıklama)"),
           ("refund", "Kullanım iadesi"), ("user", "Kullanıcı kartı"), ("users", "Kredili kullanıcılar"),
           ("stats", "İstatistikler"), ("export", "Defteri CSV al"), ("addcontent", "Premium içerik ekle"),
           ("inbox", "Destek mesajları"), ("reply", "Destek yanıtı")],
    "en": [("grant", "Grant XP"), ("quota", "Raise/lower a quota"), ("charge", "Charge a file (caption)"),
           ("refund", "Refund usage"), ("user", "User card"), ("users", "Users with credit"),
           ("stats", "Stats"), ("export", "Journal as CSV"), ("addcontent", "Add premium content"),
           ("inbox", "Support messages"), ("reply", "Answer support")],
}
#: Only when DASHBOARD_URL is set: the command, and the chat menu button of each admin.
DASHBOARD_COMMAND = {"tr": ("dashboard", "Yönetim paneli"), "en": ("dashboard", "Admin dashboard")}


def build_bot(settings: Settings, session: BaseSession | None = None, *, retry_after: bool = True) -> Bot:
    """`retry_after=False`: a 429 is raised to the caller (a broadcast holds all its sends)."""
    if session is None:
        session = AiohttpSession(api=TelegramAPIServer.from_base(settings.telegram_api_url)) \
            if settings.telegram_api_url else AiohttpSession()
    if retry_after:
        session.middleware(RetryAfter())
    return Bot(settings.bot_token, session=session,
               default=DefaultBotProperties(parse_mode="HTML",
                                            link_preview=LinkPreviewOptions(is_disabled=True)))


def build_dispatcher(settings: Settings, ledger: Ledger, routers: Iterable[Router],
                     outer: Iterable[BaseMiddleware] = (), *, sole_worker: bool = True) -> Dispatcher:
    """`outer` middlewares wrap the update pipeline from outside (they see its outcome).
    `sole_worker`: this process is the only one handling updates (long polling); False when
    several webhook instances share the database."""
    # No FSM: nothing here is a conversation, and aiogram's memory storage would keep an entry
    # (and a lock) for every user ever seen.
    dp = Dispatcher(ledger=ledger, settings=settings, deliveries=Deliveries(ledger, sole=sole_worker, default_language=settings.default_language),
                    disable_fsm=True)
    for middleware in outer:
        dp.update.outer_middleware(middleware)
    dp.update.outer_middleware(UpdateMiddleware(
        settings.admin_ids, settings.default_language,
        Throttle(settings.throttle_burst, settings.throttle_per_minute),
        commands=frozenset(name for name, _ in USER_COMMANDS["en"]), days=settings.catalog.days,
    ))
    dp.include_routers(*routers)
    return dp


def _commands(pairs: list[tuple[str, str]]) -> list[BotCommand]:
    return [BotCommand(command=c, description=d) for c, d in pairs]


async def set_commands(bot: Bot, settings: Settings) -> None:
    """User commands for everyone (tr, en); user + admin commands in each admin's chat."""
    default = settings.default_language
    try:
        await bot.set_my_commands(_commands(USER_COMMANDS[default]), scope=BotCommandScopeDefault())
        for lang, pairs in USER_COMMANDS.items():
            await bot.set_my_commands(_commands(pairs), scope=BotCommandScopeDefault(), language_code=lang)
    except Exception as exc:  # noqa: BLE001 - any failure (bot.failures): the menu is a nicety
        log.warning("could not set the command menu: %s", classify(exc).detail)
    dashboard = [DASHBOARD_COMMAND[default]] if settings.dashboard_url else []
    for admin in sorted(settings.admin_ids):
        try:
            await bot.set_my_commands(_commands(USER_COMMANDS[default] + ADMIN_COMMANDS[default] + dashboard),
                                      scope=BotCommandScopeChat(chat_id=admin))
            if settings.dashboard_url:
                await bot.set_chat_menu_button(chat_id=admin, menu_button=MenuButtonWebApp(
                    text=DASHBOARD_COMMAND[default][1], web_app=WebAppInfo(url=settings.dashboard_url)))
        except Exception as exc:  # noqa: BLE001 - an admin who never opened the bot: "chat not found"
            log.warning("could not set admin commands for %s: %s", admin, classify(exc).detail)

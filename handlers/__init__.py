"""Thin handlers: parse, one ledger call, render. Routers are built per dispatcher."""

from __future__ import annotations

from aiogram import Router

from bot.filters import IsAdmin
from handlers import admin, broadcast, credits, dashboard, fallback, gifts, shop, start, support, wallet


def routers(admins: frozenset[int]) -> list[Router]:
    """Fresh routers (a router attaches to one dispatcher only), admin ones first."""
    only_admins = IsAdmin(admins)
    admin_routers = [admin.router(), credits.router(), support.admin_router(), dashboard.router(), broadcast.router()]
    for r in admin_routers:
        r.message.filter(only_admins)
        r.callback_query.filter(only_admins)
    return [*admin_routers, start.router(), wallet.router(), shop.router(), gifts.router(), support.router(),
            fallback.router()]

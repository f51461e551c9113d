"""Inline keyboards. Buttons carry only codes and numbers; prices are looked up when tapped."""

from __future__ import annotations

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.callbacks import MENU_ACTIONS, Buy, Convert, HistoryPage, InboxPage, Menu, UsersPage
from bot.texts import Texts
from economy import Catalog
from economy.models import ContentItem

CONTENT_BUTTONS = 10


def _button(text: str, data: object) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text[:64], callback_data=data.pack())  # type: ignore[attr-defined]


button = _button


def menu(t: Texts) -> InlineKeyboardMarkup:
    buttons = [_button(t.catalog[f"menu_{a}"], Menu(action=a)) for a in MENU_ACTIONS]
    return InlineKeyboardMarkup(inline_keyboard=[buttons[i : i + 2] for i in range(0, len(buttons), 2)])


def shop(t: Texts, catalog: Catalog, content: list[ContentItem]) -> InlineKeyboardMarkup:
    rows = [
        [_button(t.catalog["shop_button"].format(name=t.item(code), price=t.number(item.price)), Buy(item=code))]
        for code, item in catalog.items.items() if not item.per_ref
    ]
    for c in content[:CONTENT_BUTTONS]:
        rows.append([_button(t.catalog["shop_button"].format(name="🎬 " + c.title, price=t.number(c.price)),
                             Buy(item="content", ref=c.content_id))])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def convert(t: Texts, xp: int) -> InlineKeyboardMarkup:
    amounts = [n for n in (10, 25, 50, 100) if n < xp]
    row = [_button(str(n), Convert(amount=str(n))) for n in amounts]
    return InlineKeyboardMarkup(inline_keyboard=[row, [_button(t.catalog["convert_all"].format(xp=t.number(xp)),
                                                                Convert(amount="all"))]] if row else
                                [[_button(t.catalog["convert_all"].format(xp=t.number(xp)), Convert(amount="all"))]])


def pager(t: Texts, page: int, pages: int, factory: type[HistoryPage]) -> InlineKeyboardMarkup | None:
    row = []
    if page > 0:
        row.append(_button(t.catalog["prev"], factory(page=page - 1)))
    if page + 1 < pages:
        row.append(_button(t.catalog["next"], factory(page=page + 1)))
    return InlineKeyboardMarkup(inline_keyboard=[row]) if row else None


def offsets(t: Texts, prev: int | None, next_: int | None,
            factory: type[UsersPage] | type[InboxPage]) -> InlineKeyboardMarkup | None:
    """Previous / next buttons of a list whose pages start where the last one stopped."""
    row = [_button(t.catalog[label], factory(offset=at)) for label, at in (("prev", prev), ("next", next_))
           if at is not None]
    return InlineKeyboardMarkup(inline_keyboard=[row]) if row else None

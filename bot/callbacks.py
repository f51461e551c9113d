"""Callback data of every inline button. The client sends it back, so it is untrusted:
`parse` accepts only data that unpacks into one of these, within Telegram's 64 bytes."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData


class Menu(CallbackData, prefix="m"):
    action: str


class Buy(CallbackData, prefix="b"):
    item: str
    ref: str = ""


class Convert(CallbackData, prefix="c"):
    amount: str


class HistoryPage(CallbackData, prefix="h"):
    page: int


class UsersPage(CallbackData, prefix="u"):
    offset: int  # position of the first user shown (pages are as long as what fits)


class InboxPage(CallbackData, prefix="i"):
    offset: int


class GiftOk(CallbackData, prefix="g"):
    """Confirm a gift: only `sender` may press it; the rules are checked again when pressed."""

    sender: int
    recipient: int
    amount: int


class GiftNo(CallbackData, prefix="gx"):
    sender: int


class Cast(CallbackData, prefix="bc"):
    """A broadcast's button: s(end) or c(ancel) its preview, x: cancel it while it is sent."""

    action: str
    id: int


#: Largest position a list button may carry.
MAX_OFFSET = 10**7
FACTORIES: dict[str, type[CallbackData]] = {f.__prefix__: f for f in (Menu, Buy, Convert, HistoryPage, UsersPage,
                                                                       InboxPage, GiftOk, GiftNo, Cast)}
#: Bounds of the numbers a gift button carries (economy.amounts' own bounds).
MAX_USER_ID, MAX_AMOUNT = 2**52, 10**12
ADMIN_ONLY = frozenset({UsersPage.__prefix__, InboxPage.__prefix__, Cast.__prefix__})
MENU_ACTIONS = ("balance", "daily", "shop", "convert", "history", "top")


def parse(data: str | None, *, admin: bool, user: int | None = None) -> CallbackData | None:
    """The button's data if it is one of ours and allowed for this user (`user`: who pressed
    it; a gift's buttons are its sender's only), else None."""
    if not data or len(data.encode()) > 64:
        return None
    factory = FACTORIES.get(data.split(":", 1)[0])
    if factory is None or (factory.__prefix__ in ADMIN_ONLY and not admin):
        return None
    try:
        parsed = factory.unpack(data)
    except (TypeError, ValueError):
        return None
    if isinstance(parsed, Menu) and parsed.action not in MENU_ACTIONS:
        return None
    if isinstance(parsed, HistoryPage) and not 0 <= parsed.page < 10**6:
        return None
    if isinstance(parsed, (UsersPage, InboxPage)) and not 0 <= parsed.offset < MAX_OFFSET:
        return None
    if isinstance(parsed, (GiftOk, GiftNo)) and parsed.sender != user:
        return None
    if isinstance(parsed, GiftOk) and not (0 < parsed.recipient < MAX_USER_ID and 0 < parsed.amount <= MAX_AMOUNT):
        return None
    if isinstance(parsed, Cast) and (parsed.action not in ("s", "c", "x") or not 0 < parsed.id < 2**53):
        return None
    return parsed

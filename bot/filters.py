"""Who may use admin commands: an allowlisted user, typing in a private chat, as themselves."""

from __future__ import annotations

from aiogram.filters import Filter
from aiogram.types import CallbackQuery, Message


class IsAdmin(Filter):
    def __init__(self, admins: frozenset[int]) -> None:
        self.admins = admins

    async def __call__(self, event: Message | CallbackQuery) -> bool:
        user = event.from_user
        if user is None or user.id not in self.admins:
            return False
        if isinstance(event, CallbackQuery):
            message = event.message
            return message is not None and message.chat.type == "private"
        return (
            event.chat.type == "private"
            and event.forward_origin is None
            and event.sender_chat is None
            and not event.is_automatic_forward
            and event.via_bot is None
        )

"""What every handler gets besides the event: who asks, in which language, the update's key."""

from __future__ import annotations

from dataclasses import dataclass

from bot.texts import Texts
from economy import Key
from economy.audit import Actor

#: Telegram keeps an undelivered update for at most 24 h and may restart update ids after a
#: quiet week, so a key built from an update id lives two days: long enough for every
#: redelivery, short enough never to meet a reused id.
UPDATE_KEY_TTL = 48 * 3600


@dataclass(slots=True)
class Ctx:
    update_id: int
    user_id: int | None
    t: Texts
    is_admin: bool
    #: what a refusal is about (e.g. the item's name), for a clearer message
    subject: str | None = None
    #: the amount being parsed is money (TL), for the "not a valid amount" message
    money: bool = False
    #: who asks, as Telegram names them (for the audit trail)
    user_name: str = ""

    @property
    def lang(self) -> str:
        return self.t.lang

    def actor(self) -> Actor:
        """The admin acting through the bot, as the audit trail records them."""
        return Actor("bot", self.user_name or str(self.user_id), self.user_id)

    def key(self, suffix: str = "") -> Key:
        """The idempotency key of this update's `suffix`-th write."""
        return Key(f"u:{self.update_id}{suffix}", ttl=UPDATE_KEY_TTL)

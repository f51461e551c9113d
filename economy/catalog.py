"""The shop: what can be bought with tokens, at which price, for how long.

Defaults are the seed's prices; any of them can be changed through a mapping (the bot and the
CLI pass the environment), e.g. `PRICE_VIP=30`, `BOOST_HOURS=48`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from economy.amounts import check_amount, parse_units
from economy.errors import InvalidAmount, NotFound
from economy.localdays import LocalDays


@dataclass(frozen=True, slots=True)
class Item:
    code: str
    price: int
    #: seconds an entitlement lasts; None means permanent (owned once, never bought again)
    duration: int | None = None
    #: an item bought per reference (premium content is bought per content id)
    per_ref: bool = False


CONTENT, VIP, BOOST, BADGE, DM = "content", "vip", "boost", "badge", "dm"
#: The seed's items (each with its revenue account since v1).
ITEM_CODES = (CONTENT, VIP, BOOST, BADGE, DM)
#: A streak freeze (issue 23): held, not owned; covers one missed day of /daily, used by itself.
FREEZE = "freeze"
#: The most freezes a user may hold (a CHECK on wallets.freezes too).
FREEZE_MAX = 2

#: The longest a timed perk may last (ten years): expiry times stay far inside 64 bits.
MAX_HOURS = 10 * 366 * 24

def content_of(ref: str) -> str | None:
    """The content id a journal `ref` names (`content:<id>`, written by a content purchase),
    or None for any other ref."""
    prefix = f"{CONTENT}:"
    return ref[len(prefix):] if ref.startswith(prefix) else None


#: XP amounts paid by the ledger itself.
REGISTRATION_BONUS = 50
DAILY_REWARD = 20
BOOST_FACTOR = 2
#: XP per day of streak beyond the first, counted up to STREAK_CAP days (day 6 on: 25 XP).
STREAK_BONUS = 5
STREAK_CAP = 6
#: Gifts: tokens a sender may send and a recipient receive per local day, and how long a
#: sender must have been registered (hours) before sending any.
GIFT_DAILY_LIMIT = 50
GIFT_RECEIVE_DAILY_LIMIT = 100
GIFT_MIN_AGE_HOURS = 72


@dataclass(frozen=True, slots=True)
class Catalog:
    items: Mapping[str, Item]
    registration_bonus: int = REGISTRATION_BONUS
    daily_reward: int = DAILY_REWARD
    boost_factor: int = BOOST_FACTOR
    streak_bonus: int = STREAK_BONUS
    streak_cap: int = STREAK_CAP
    gift_daily_limit: int = GIFT_DAILY_LIMIT
    gift_receive_daily_limit: int = GIFT_RECEIVE_DAILY_LIMIT
    gift_min_age_hours: int = GIFT_MIN_AGE_HOURS
    #: the community's days (TIMEZONE): /daily, streaks, gift caps and reminders count them
    days: LocalDays = field(default_factory=LocalDays)

    def streak_bonus_for(self, streak: int) -> int:
        """The bonus paid on day `streak` of a streak (0 on the first day)."""
        return self.streak_bonus * (min(streak, self.streak_cap) - 1) if streak > 1 else 0

    def item(self, code: str) -> Item:
        try:
            return self.items[code]
        except KeyError:
            raise NotFound(what="item", ref=str(code)[:32]) from None

    @classmethod
    def default(cls) -> Catalog:
        day = 24 * 3600
        return cls(
            items={
                CONTENT: Item(CONTENT, 10, per_ref=True),
                VIP: Item(VIP, 25),
                BOOST: Item(BOOST, 5, duration=day),
                BADGE: Item(BADGE, 50),
                DM: Item(DM, 15, duration=day),
                FREEZE: Item(FREEZE, 10),
            }
        )

    @classmethod
    def from_mapping(cls, env: Mapping[str, str]) -> Catalog:
        """Apply `PRICE_<ITEM>` (PRICE_FREEZE too), `BOOST_HOURS`, `DM_HOURS`, `REGISTRATION_BONUS`,
        `DAILY_REWARD`, `STREAK_BONUS`, `STREAK_CAP`, `GIFT_DAILY_LIMIT`, `GIFT_RECEIVE_DAILY_LIMIT`,
        `GIFT_MIN_AGE_HOURS` and `TIMEZONE`."""
        base = cls.default()
        items = dict(base.items)

        def number(name: str, default: int, zero: bool = False) -> int:
            raw = env.get(name)
            if raw is None or raw.strip() == "":
                return default
            if zero and raw.strip() == "0":
                return 0
            try:
                return parse_units(raw)
            except InvalidAmount:
                raise ValueError(f"{name} must be a whole {'' if zero else 'positive '}number, got {raw!r}") from None

        for code, item in items.items():
            items[code] = replace(item, price=number(f"PRICE_{code.upper()}", item.price))
        for code, name in ((BOOST, "BOOST_HOURS"), (DM, "DM_HOURS")):
            hours = number(name, items[code].duration // 3600)  # type: ignore[operator]
            if hours > MAX_HOURS:
                raise ValueError(f"{name} must be a whole number of hours from 1 to {MAX_HOURS}, got {hours}")
            items[code] = replace(items[code], duration=check_amount(hours * 3600))
        return cls(
            items=items,
            registration_bonus=number("REGISTRATION_BONUS", base.registration_bonus),
            daily_reward=number("DAILY_REWARD", base.daily_reward),
            streak_bonus=number("STREAK_BONUS", base.streak_bonus, zero=True),
            streak_cap=number("STREAK_CAP", base.streak_cap),
            gift_daily_limit=number("GIFT_DAILY_LIMIT", base.gift_daily_limit),
            gift_receive_daily_limit=number("GIFT_RECEIVE_DAILY_LIMIT", base.gift_receive_daily_limit),
            gift_min_age_hours=number("GIFT_MIN_AGE_HOURS", base.gift_min_age_hours, zero=True),
            days=LocalDays.parse(env.get("TIMEZONE")),
        )

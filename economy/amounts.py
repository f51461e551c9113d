"""Amount parsing and bounds: the one place user-typed numbers become integers.

Only plain ASCII decimals are accepted. `int()` and `Decimal()` would take `-5`, `1e3`,
`١٢` or `１２`, so the text is matched first and converted after.
"""

from __future__ import annotations

import re
from decimal import Decimal

from economy.errors import InvalidAmount, InvalidInput, NotFound

#: Largest amount of any single movement, in the smallest unit. Sums of many such amounts
#: stay far inside SQLite's signed 64-bit integers.
MAX_AMOUNT = 10**12
#: Telegram ids are below 2**52; user account ids are derived as user_id * 4 + n.
MAX_USER_ID = 2**52

_INT = re.compile(r"[0-9]{1,20}", re.ASCII)
_MONEY = re.compile(r"([0-9]{1,20})(?:[.,]([0-9]{1,2}))?", re.ASCII)
#: How the bot shows money, thousands grouped: `1.000,00` (tr) and `1,000.00` (en). Grouped
#: input needs its decimals: `1.000` alone could be a thousand or one, so it is refused.
_GROUPED = (re.compile(r"[0-9]{1,3}(?:\.[0-9]{3}){1,6},[0-9]{1,2}", re.ASCII),
            re.compile(r"[0-9]{1,3}(?:,[0-9]{3}){1,6}\.[0-9]{1,2}", re.ASCII))


def check_amount(value: int, text: str | None = None) -> int:
    """Bound an integer amount in minor units; raise InvalidAmount outside 1..MAX_AMOUNT."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidAmount(text=str(text if text is not None else value), reason="not_integer")
    shown = str(text if text is not None else value)
    if value <= 0:
        raise InvalidAmount(text=shown, reason="not_positive")
    if value > MAX_AMOUNT:
        raise InvalidAmount(text=shown, reason="too_large")
    return value


def parse_units(text: str) -> int:
    """Parse a whole positive number of XP or tokens ("12" -> 12)."""
    raw = (text or "").strip()
    if not _INT.fullmatch(raw):
        raise InvalidAmount(text=raw[:32], reason="not_a_number")
    return check_amount(int(raw), raw[:32])


def parse_money(text: str) -> int:
    """Parse TL with at most two decimals into kuruş ("12.5" -> 1250, "1000" -> 100000,
    "1.000,00" and "1,000.00" -> 100000)."""
    raw = (text or "").strip()
    if _MONEY.fullmatch(raw):
        plain = raw.replace(",", ".")
    elif _GROUPED[0].fullmatch(raw):
        plain = raw.replace(".", "").replace(",", ".")
    elif _GROUPED[1].fullmatch(raw):
        plain = raw.replace(",", "")
    else:
        raise InvalidAmount(text=raw[:32], reason="not_money")
    kurus = Decimal(plain) * 100
    return check_amount(int(kurus), raw[:32])


def format_money(kurus: int) -> str:
    """Kuruş as TL with two decimals: 100000 -> "1000.00", -5 -> "-0.05"."""
    sign = "-" if kurus < 0 else ""
    whole, cents = divmod(abs(kurus), 100)
    return f"{sign}{whole}.{cents:02d}"


def check_user_id(user_id: int) -> int:
    if isinstance(user_id, bool) or not isinstance(user_id, int) or not 0 < user_id < MAX_USER_ID:
        raise InvalidInput(text=str(user_id)[:32], reason="bad_user_id")
    return user_id


#: Row ids (a transfer's, a delivery's) stay below this: both databases' 64-bit integers.
MAX_ROW_ID = 2**62


def check_row_id(value: int, what: str) -> int:
    """A row id the caller names (a transfer's): NotFound for one no row can have, on both
    backends alike (a driver would refuse past 64 bits, each its own way)."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < MAX_ROW_ID:
        raise NotFound(what=what, ref=str(value)[:32])
    return value


def check_actor(actor: int | None) -> int | None:
    """An admin's id kept with a change (None: the user's own): a Telegram user id."""
    return None if actor is None else check_user_id(actor)


def within(value: int, lowest: int, highest: int) -> int:
    """A count or a number of seconds the code passes (a limit, a lease), kept within bounds
    before it reaches SQL."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(text=str(value)[:32], reason="bad_number")
    return max(lowest, min(value, highest))

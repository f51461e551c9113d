"""Who opened the Mini App: Telegram's signed `initData`, checked against the bot token.

https://core.telegram.org/bots/webapps#validating-data-received-via-the-mini-app
"""

from __future__ import annotations

from dataclasses import dataclass

from aiogram.utils.web_app import safe_parse_webapp_init_data

#: initData older than this is refused: a leaked link stops working within the hour.
MAX_AGE = 3600
#: Clocks differ a little; initData stamped further in the future than this is refused.
SKEW = 300
#: Real initData is well under 1 KB; anything much longer is not from Telegram.
MAX_LENGTH = 4096
SCHEME = "tma "


class Unauthorized(Exception):
    """The request does not prove who sent it (missing, forged or expired initData): 401."""


class Forbidden(Exception):
    """A real Telegram user who is not an admin: 403."""


@dataclass(frozen=True, slots=True)
class Viewer:
    user_id: int
    name: str
    language: str | None


def viewer_from(header: str | None, token: str, admins: frozenset[int], now: float) -> Viewer:
    """The admin behind an `Authorization: tma <initData>` header, or Unauthorized/Forbidden."""
    if not header or not header.startswith(SCHEME) or len(header) > MAX_LENGTH:
        raise Unauthorized("no initData")
    try:
        data = safe_parse_webapp_init_data(token, header[len(SCHEME):].strip())
    except (ValueError, TypeError):  # a bad hash, or fields that are not what Telegram sends
        raise Unauthorized("initData does not match the bot token") from None
    age = now - data.auth_date.timestamp()
    if age > MAX_AGE or age < -SKEW:
        raise Unauthorized("initData expired")
    if data.user is None:
        raise Unauthorized("initData names no user")
    if data.user.id not in admins:
        raise Forbidden(str(data.user.id))
    return Viewer(data.user.id, data.user.first_name, data.user.language_code)

"""Every user-facing string, one catalog per language, with locale number formatting.

Catalog strings are HTML; every value put into them goes through `html.escape` here, so a
handler cannot forget to escape a name, a reason or a title.
"""

from __future__ import annotations

import html
import re
import time
from typing import Any

from bot.texts import broadcast, en, tr
from economy.localdays import LocalDays

CATALOGS = {"tr": {**tr.TEXTS, **broadcast.TR}, "en": {**en.TEXTS, **broadcast.EN}}
LIMIT = 4096
_TAG = re.compile(r"<[^<>]*>")


def pick_language(code: str | None, default: str) -> str:
    code = (code or "").lower()
    for lang in CATALOGS:
        if code == lang or code.startswith(lang + "-"):
            return lang
    return default


def number(value: int, lang: str) -> str:
    text = f"{value:,}"
    return text.replace(",", ".") if lang == "tr" else text


def money(kurus: int, lang: str) -> str:
    sign = "-" if kurus < 0 else ""
    whole, cents = divmod(abs(kurus), 100)
    sep = "," if lang == "tr" else "."
    return f"{sign}{number(whole, lang)}{sep}{cents:02d} TL"


def when(ts: int | None, lang: str) -> str:
    if ts is None:
        return "-"
    return time.strftime("%d.%m.%Y %H:%M UTC" if lang == "tr" else "%Y-%m-%d %H:%M UTC", time.gmtime(ts))


class Texts:
    """`t("key", name=...)` in one language; ints are formatted for the locale, str escaped."""

    def __init__(self, lang: str, days: LocalDays | None = None) -> None:
        self.lang = lang
        self.catalog = CATALOGS[lang]
        #: the community's time zone (TIMEZONE), for times that are about its days
        self.days = days

    def __call__(self, key: str, **values: Any) -> str:
        safe = {k: self._value(v) for k, v in values.items()}
        return self.catalog[key].format(**safe)

    def _value(self, value: Any) -> str:
        if isinstance(value, Raw):
            return value.text
        if isinstance(value, bool):
            return self.catalog["yes"] if value else self.catalog["no"]
        if isinstance(value, int):
            return number(value, self.lang)
        return html.escape(str(value), quote=False)

    def money(self, kurus: int) -> Raw:
        return Raw(money(kurus, self.lang))

    def when(self, ts: int | None) -> Raw:
        """A time as the reader's community lives it: in its zone (TIMEZONE) with the zone shown
        ("23.11.2026 00:00 +03"); in UTC, saying so, when no zone was given."""
        if ts is None or self.days is None:
            return Raw(when(ts, self.lang))
        local = self.days.local(ts)
        shown = f"{local:%d.%m.%Y %H:%M}" if self.lang == "tr" else f"{local:%Y-%m-%d %H:%M}"
        return Raw(html.escape(f"{shown} {local.tzname() or local.strftime('%z')}"))

    def local(self, ts: int | None) -> Raw:
        """A time that is about the community's days (/daily, streaks, reminders), in its zone
        with the zone shown ("2026-11-23 00:00 +03"); UTC when no zone was given."""
        if ts is None or self.days is None:
            return self.when(ts)
        return Raw(html.escape(self.days.label(ts)))

    def item(self, code: str) -> str:
        """An item's display name (plain text, safe)."""
        return self.catalog.get(f"item_{code}", code)

    def raw(self, key: str) -> Raw:
        """A catalog string put inside another one as it is."""
        return Raw(self.catalog[key])

    def number(self, value: int) -> str:
        return number(value, self.lang)


class Raw:
    """Already-safe HTML (our own formatting or another catalog string)."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


def visible_length(text: str) -> int:
    """The length Telegram checks against its limits: of the text after entity parsing (tags
    gone, `&amp;` one character), in UTF-16 code units (an emoji is two)."""
    return len(html.unescape(_TAG.sub("", text)).encode("utf-16-le")) // 2


def clip(text: str, limit: int = LIMIT) -> str:
    """Last guard: a plain-text cut (used only on texts without markup)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def join(header: str, lines: list[str], limit: int = LIMIT - 96) -> str:
    """Header and whole lines, stopping before `limit` characters (lines are never cut, so
    their markup stays balanced)."""
    out, size = [header], len(header)
    for i, line in enumerate(lines):
        if size + 1 + len(line) > limit:
            out.append(f"… (+{len(lines) - i})")
            break
        out.append(line)
        size += 1 + len(line)
    return "\n".join(out)

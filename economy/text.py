"""Text the database can store: the one check for every string a user or an admin gives the
ledger (reasons, notes, titles, support messages, names, API key names).

Both backends store UTF-8. A lone surrogate ("\\ud800", what a non-UTF-8 byte decodes to with
`surrogateescape`, or a JSON "\\ud800" escape) cannot be encoded as UTF-8 at all, and
PostgreSQL refuses a NUL in text. Such a string reaching a write would fail at the driver, so
it is refused (or, for a Telegram profile, cleaned) before it is queued.
"""

from __future__ import annotations

import re

from economy.errors import InvalidText

#: What cannot be stored: NUL (PostgreSQL) and every surrogate code point (not UTF-8 encodable;
#: a Python str holds a pair as one code point, so any surrogate in one is a lone one).
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
#: Shown in place of each such character.
REPLACEMENT = "\ufffd"


def clean_text(value: str | None) -> str:
    """`value` with each character that cannot be stored replaced by U+FFFD ("" for None)."""
    if not value:
        return ""
    if value.isascii() and "\x00" not in value:
        return value
    return _UNSTORABLE.sub(REPLACEMENT, value)


def shown(value: object, limit: int = 40) -> str:
    """`value` as a refusal may echo it back (and be stored with its idempotency key): cut to
    `limit` characters, unstorable ones replaced."""
    return clean_text(str(value)[:limit])


def check_text(value: str | None, field: str, limit: int | None = None) -> str:
    """`value` cut to `limit` characters (None: as it is; None -> ""), or InvalidText when it
    holds a character the database cannot store."""
    text = value or ""
    if not isinstance(text, str):
        raise InvalidText(field=field, text=shown(text), reason="not_text")
    found = _UNSTORABLE.search(text) if not text.isascii() or "\x00" in text else None
    if found is not None:
        reason = "nul_character" if found.group() == "\x00" else "lone_surrogate"
        start = max(0, found.start() - 20)
        raise InvalidText(field=field, text=shown(text[start:], 40), reason=reason)
    return text if limit is None else text[:limit]


def profile(username: str | None, first_name: str | None,
            language: str | None) -> tuple[str | None, str, str | None]:
    """A Telegram profile as the ledger stores it: username lower-cased (at most 64), first name
    (at most 64), language code (at most 8), empty ones None. Profiles are cleaned, never
    refused: a name is Telegram's, not something the user typed for this command, and an odd
    character in it must not keep anyone from using the bot."""
    uname = clean_text(username).lower()[:64] or None
    return uname, clean_text(first_name)[:64], clean_text(language)[:8] or None

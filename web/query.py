"""Query strings read strictly. yarl decodes percent escapes leniently (bytes that are not UTF-8,
an escaped lone surrogate among them, turn into U+FFFD) and lets a NUL through to a database that
refuses it (PostgreSQL), so the raw query is decoded here: a value that is not text a person
could type, or is longer than the parameter allows, is bad input (400), never a 500."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import parse_qsl


class BadQuery(ValueError):
    """`name` (empty: the whole query) is not acceptable; the message says why."""

    def __init__(self, name: str, why: str) -> None:
        super().__init__(f"{name} {why}" if name else why)
        self.name = name


def read_query(raw: str, limits: Mapping[str, int]) -> dict[str, str]:
    """The parameters named in `limits` (name -> longest value) from a raw, still encoded query
    string; others are ignored. A parameter given twice is refused (which one would count?)."""
    try:
        pairs = parse_qsl(raw, keep_blank_values=True, errors="strict", max_num_fields=50)
    except UnicodeDecodeError:
        raise BadQuery("", "the query is not UTF-8") from None
    except ValueError:  # too many fields
        raise BadQuery("", "the query has too many parameters") from None
    found: dict[str, str] = {}
    for name, value in pairs:
        if name not in limits:
            continue
        if name in found:
            raise BadQuery(name, "is given twice")
        if len(value) > limits[name]:
            raise BadQuery(name, f"is longer than {limits[name]} characters")
        if any(ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 for c in value):
            raise BadQuery(name, "holds a control character")
        found[name] = value
    return found

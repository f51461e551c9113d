"""Lists longer than one message (/users, /inbox): each page holds as many lines as fit in
Telegram's 4096 characters, counted as Telegram counts them, and its buttons continue from
what was shown, so no line is ever skipped at a cut."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from bot.texts import LIMIT, visible_length
from economy.models import Window

#: The most lines a page is built from (the shortest line is longer than LIMIT / WINDOW).
WINDOW = 50

Fetch = Callable[[int, int], Awaitable[Window]]


@dataclass(frozen=True, slots=True)
class Screen:
    text: str
    prev: int | None  # where the previous page starts, if there is one
    next: int | None  # where the next page starts, if there is one


def fitting(header: str, lines: list[str], limit: int = LIMIT) -> int:
    """How many of `lines` (in order) fit below `header`; at least one."""
    size = visible_length(header)
    for n, line in enumerate(lines):
        size += 1 + visible_length(line)
        if size > limit:
            return max(n, 1)
    return len(lines)


async def screen(fetch: Fetch, line: Callable[[Any], str], title: Callable[[int, int, int], str],
                 offset: int) -> Screen | None:
    """The page starting at `offset` (a page ending at the list's end when `offset` is past
    it: an old or forged button); None for an empty list. `title(first, last, total)` heads
    it (1-based positions)."""
    w = await fetch(offset, WINDOW)
    if not w.total:
        return None
    # Budgeted with the widest header the list can have, so the real one always fits.
    widest = title(w.total, w.total, w.total)
    if w.offset >= w.total:
        w = await fetch(await _start_of_page_before(fetch, line, widest, w.total), WINDOW)
    lines = [line(item) for item in w.items]
    n = fitting(widest, lines)
    start, end = w.offset, w.offset + n
    prev = await _start_of_page_before(fetch, line, widest, start) if start > 0 else None
    return Screen("\n".join([title(start + 1, end, w.total), *lines[:n]]), prev, end if end < w.total else None)


async def _start_of_page_before(fetch: Fetch, line: Callable[[Any], str], header: str, end: int) -> int:
    """Where a page that ends just before position `end` starts (filled backwards)."""
    start = max(0, end - WINDOW)
    w = await fetch(start, end - start)
    lines = [line(item) for item in w.items[: end - w.offset]]
    return end - fitting(header, lines[::-1])

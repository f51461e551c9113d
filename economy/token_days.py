"""Tokens earned and spent per day (the community's days: TIMEZONE), summed once and then kept up to date.

Summing a month of journal on every dashboard refresh would hold the reader for as long as
the month is big (~250 ms per million transfers here) while the bot's reads wait. The journal is
append-only and its ids grow in commit order, so the sums are kept and each refresh reads only
the transfers committed since, a chunk per read so the bot's reads run in between.
"""

from __future__ import annotations

import asyncio
from functools import partial

from economy import queries
from economy.localdays import LocalDays
from economy.models import DayTokens
from economy.storage import Store

#: Transfers summed per read (~10 ms here): the first refresh of a busy month takes several.
CHUNK = 50_000


class TokenDays:
    """Tokens per local day (`days`: the community's TIMEZONE, UTC if none)."""

    def __init__(self, chunk: int = CHUNK, days: LocalDays | None = None) -> None:
        self.chunk = chunk
        self.zone = days or LocalDays("UTC")
        self.since: int | None = None
        self.after: int | None = None
        self.days: dict[int, list[int]] = {}
        self.lock = asyncio.Lock()

    async def last(self, store: Store, days: int) -> list[DayTokens]:
        """The last `days` local days up to today (by the store's clock), oldest first; each
        DayTokens.day is the unix time its local day begins."""
        days = max(1, min(days, 366))
        zone = self.zone
        today = zone.day(int(store.clock()))
        first = today - days + 1
        since = zone.midnight(first)
        async with self.lock:
            if self.since is None or since < self.since:  # first use, or a longer window: start over
                self.since, self.after, self.days = since, None, {}
            while True:
                last, found = await store.read(partial(queries.token_days, after=self.after, since=self.since,
                                                       chunk=self.chunk))
                for piece, (earned, spent) in found.items():
                    figures = self.days.setdefault(zone.day(piece), [0, 0])
                    figures[0] += earned
                    figures[1] += spent
                done = last == self.after or last - (self.after or 0) < self.chunk
                self.after = last
                if done:
                    break
            for day in [d for d in self.days if d < first]:
                del self.days[day]
        return [DayTokens(zone.midnight(day), *self.days.get(day, (0, 0))) for day in range(first, today + 1)]

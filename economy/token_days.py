"""Tokens earned and spent per day, summed once and then kept up to date.

Summing a month of journal on every dashboard refresh would hold the reader for as long as
the month is big (~250 ms per million transfers here) while the bot's reads wait. The journal is
append-only and its ids grow in commit order, so the sums are kept and each refresh reads only
the transfers committed since, a chunk per read so the bot's reads run in between.
"""

from __future__ import annotations

import asyncio
from functools import partial

from economy import queries
from economy.models import DayTokens
from economy.storage import Store

DAY = queries.DAY
#: Transfers summed per read (~10 ms here): the first refresh of a busy month takes several.
CHUNK = 50_000


class TokenDays:
    def __init__(self, chunk: int = CHUNK) -> None:
        self.chunk = chunk
        self.since: int | None = None
        self.after: int | None = None
        self.days: dict[int, list[int]] = {}
        self.lock = asyncio.Lock()

    async def last(self, store: Store, days: int) -> list[DayTokens]:
        """The last `days` UTC days up to today (by the store's clock), oldest first."""
        days = max(1, min(days, 366))
        since = (int(store.clock()) // DAY - days + 1) * DAY
        async with self.lock:
            if self.since is None or since < self.since:  # first use, or a longer window: start over
                self.since, self.after, self.days = since, None, {}
            while True:
                last, found = await store.read(partial(queries.token_days, after=self.after, since=self.since,
                                                       chunk=self.chunk))
                for day, (earned, spent) in found.items():
                    figures = self.days.setdefault(day, [0, 0])
                    figures[0] += earned
                    figures[1] += spent
                done = last == self.after or last - (self.after or 0) < self.chunk
                self.after = last
                if done:
                    break
            for day in [d for d in self.days if d < since]:
                del self.days[day]
        return [DayTokens(day, *self.days.get(day, (0, 0))) for day in range(since, since + days * DAY, DAY)]

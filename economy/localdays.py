"""Days as the community lives them: the calendar days of one IANA time zone (`TIMEZONE`,
Europe/Istanbul by default).

/daily, streaks, the gift caps and the reminders count local days, not UTC ones: a member in
Istanbul whose day turns at 00:00 there (21:00 UTC) must not find /daily still closed until
03:00. A day is numbered like a UTC day number (days since 1970-01-01), but of the local date,
so the numbers of consecutive local days differ by one whatever the zone's offset or its
daylight saving changes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_TIMEZONE = "Europe/Istanbul"
_EPOCH = date(1970, 1, 1).toordinal()


@dataclass(frozen=True, slots=True)
class LocalDays:
    """The local day of a unix time, and the unix time a local day begins."""

    name: str = DEFAULT_TIMEZONE
    zone: ZoneInfo = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        try:
            zone = ZoneInfo(self.name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"TIMEZONE must be an IANA time zone name such as Europe/Istanbul or UTC,"
                             f" got {self.name!r}") from None
        object.__setattr__(self, "zone", zone)

    @classmethod
    def parse(cls, raw: str | None) -> LocalDays:
        """From a setting's text (empty: the default zone)."""
        return cls((raw or "").strip() or DEFAULT_TIMEZONE)

    def local(self, ts: int) -> datetime:
        return datetime.fromtimestamp(ts, self.zone)

    def day(self, ts: int) -> int:
        """The local day number of unix time `ts`."""
        return self.local(ts).date().toordinal() - _EPOCH

    def midnight(self, day: int) -> int:
        """The unix time local day `day` begins (its first second: where a zone skips 00:00 for
        daylight saving, the moment the day starts)."""
        # fold=0: a skipped 00:00 maps to the moment of the jump, a repeated one to its first time
        start = datetime.combine(date.fromordinal(day + _EPOCH), datetime.min.time(), self.zone)
        return int(start.astimezone(UTC).timestamp())

    def next_midnight(self, ts: int) -> int:
        """The unix time the local day after the one of `ts` begins."""
        return self.midnight(self.day(ts) + 1)

    def label(self, ts: int) -> str:
        """`ts` as local time with the zone's abbreviation or offset, e.g. "2026-11-23 00:00 +03"."""
        local = self.local(ts)
        return f"{local:%Y-%m-%d %H:%M} {local.tzname() or local.strftime('%z')}"

    def date_of(self, day: int) -> date:
        return date.fromordinal(day + _EPOCH)

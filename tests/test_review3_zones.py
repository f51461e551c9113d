"""Review 3 (issue 22 item 4): TIMEZONE at day boundaries — a half-hour zone and a DST change —
in the tokens-per-day series, the export's local column and Texts.when."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timezone

import pytest

from bot.config import Settings
from bot.texts import Texts
from economy import Ledger
from tests.conftest import Clock


def _utc(*a) -> int:
    return int(datetime(*a, tzinfo=timezone.utc).timestamp())


async def _ledger(tmp_path, zone: str, clock: Clock) -> Ledger:
    settings = Settings.from_env({"BOT_TOKEN": "123456:" + "A" * 35, "ADMIN_IDS": "1", "TIMEZONE": zone,
                                  "DATABASE_URL": f"sqlite:///{tmp_path}/z.db"})
    return await Ledger.open(tmp_path / "z.db", catalog=settings.catalog, clock=clock)


@pytest.mark.parametrize("zone, boundary", [
    ("Asia/Kolkata", _utc(2026, 12, 3, 18, 30)),      # 00:00 IST on Dec 4
    ("Europe/London", _utc(2026, 10, 24, 23, 0)),     # 00:00 BST on Oct 25, the fall-back day (25 h)
    ("Europe/London", _utc(2026, 10, 26, 0, 0)),      # 00:00 GMT on Oct 26
    ("Europe/London", _utc(2026, 3, 29, 0, 0)),       # 00:00 GMT on Mar 29, the spring-forward day (23 h)
])
async def test_r3_day_boundary_in_series_export_and_texts(tmp_path, zone, boundary) -> None:
    clock = Clock(boundary - 3 * 86400)
    led = await _ledger(tmp_path, zone, clock)
    try:
        await led.register(7, first_name="u")
        await led.grant(7, 5000)
        clock.now = boundary - 60  # the last minute of the day before
        await led.convert(7, 100)
        clock.now = boundary + 60  # the first minute of the day
        await led.convert(7, 200)
        clock.now = boundary + 3600
        days = [d for d in await led.daily_tokens(7) if d.earned]
        assert [d.day for d in days] == [led.catalog.days.midnight(led.catalog.days.day(boundary) - 1), boundary]
        assert days[0].earned * 2 == days[1].earned > 0
        out = io.StringIO()
        await led.export_csv(out) if hasattr(led, "export_csv") else None
        if out.getvalue():
            rows = list(csv.reader(io.StringIO(out.getvalue())))
            assert rows[0][2].startswith("local_time (" + zone)
            conv = [r for r in rows[1:] if int(r[1]) in (boundary - 60, boundary + 60)]
            assert conv and all(r[2][:10] == (datetime.fromtimestamp(int(r[1]), led.catalog.days.zone)
                                                .strftime("%Y-%m-%d")) for r in conv)
        t = Texts("en", led.catalog.days)
        assert t.when(boundary).text.startswith(datetime.fromtimestamp(boundary, led.catalog.days.zone)
                                                .strftime("%Y-%m-%d 00:00"))
    finally:
        await led.close()

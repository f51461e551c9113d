"""The journal export opens safely in a spreadsheet: no cell is taken for a formula, and every
amount says its unit (issue 16, item 9)."""

from __future__ import annotations

import time

import csv
import io

import pytest

HOSTILE = ["=HYPERLINK(\"http://evil\",\"x\")", "+1+1", "-2+3", "@SUM(A1:A9)", "\tcmd", "\r=1", "=cmd|' /C calc'!A0"]


async def _rows(ledger) -> list[dict[str, str]]:
    out = io.StringIO()
    n = await ledger.export_csv(out)
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert len(rows) == n
    return rows


@pytest.mark.parametrize("text", HOSTILE)
async def test_cells_that_a_spreadsheet_would_run_are_neutralised(ledger, text):
    await ledger.register(7, first_name=text)
    await ledger.grant(7, 5, reason=text, actor=1)
    await ledger.raise_quota(7, 10_000, actor=1, note=text)
    await ledger.charge(7, 250, actor=1, note=text)
    await ledger.add_content("clip", title=text, media="document", file_ref="f")
    rows = await _rows(ledger)
    cells = [cell for row in rows for cell in row.values()]
    texts = [c for c in cells if not c.lstrip("-").isdigit()]  # numbers (account -1) are numbers
    assert not [c for c in texts if c[:1] in ("=", "+", "-", "@", "\t", "\r")], texts
    assert sum(c == "'" + text for c in cells) >= 1


async def test_amounts_carry_their_unit_and_reason_codes_stay(ledger):
    await ledger.register(7, first_name="Zeynep")
    await ledger.convert(7, 30)
    await ledger.buy(7, "vip")
    await ledger.raise_quota(7, 100_000, actor=1, note="first quota")
    await ledger.charge(7, 12_345, actor=1)
    rows = await _rows(ledger)
    assert list(rows[0])[:4] == ["id", "ts", "local_time (Europe/Istanbul)", "kind"]
    # the community's time (TIMEZONE, Istanbul by default: UTC+3) beside the UTC unix time
    first = rows[0]
    assert first["local_time (Europe/Istanbul)"] == time.strftime("%Y-%m-%d %H:%M +03",
                                                                 time.gmtime(int(first["ts"]) + 3 * 3600))
    got = [(r["kind"], r["asset"], r["amount"], r["unit"], r["ref"]) for r in rows]
    assert got == [
        ("earn", "XP", "50", "XP", "registration"),
        ("convert", "XP", "30", "XP", ""),
        ("convert", "TOKEN", "30", "tokens", ""),
        ("spend", "TOKEN", "25", "tokens", "vip"),
        ("quota_increase", "CREDIT", "1000.00", "TL", "first quota"),
        ("file_charge", "CREDIT", "123.45", "TL", ""),
    ], got

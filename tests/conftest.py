"""Shared fixtures: a ledger on a file database in tmp_path, with a clock the test moves."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from economy import Ledger

START = 1_795_305_600  # 2026-11-22 00:00:00 UTC


class Clock:
    def __init__(self, now: float = START + 12 * 3600) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def ledger(tmp_path, clock) -> AsyncIterator[Ledger]:
    led = await Ledger.open(tmp_path / "economy.db", clock=clock)
    try:
        yield led
    finally:
        await led.close()


async def snapshot(ledger: Ledger, *users: int) -> tuple:
    """Everything a refusal must leave unchanged."""
    balances = [await ledger.balance(u) for u in users]
    stats = await ledger.stats()
    rows = [row async for row in ledger.journal()]
    return balances, stats, rows

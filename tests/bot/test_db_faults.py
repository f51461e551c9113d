"""The database failing under the bot: disk full, read-only, a lock held too long. The user
is told to try again, nothing is half-written, the bot keeps running and recovers."""

from __future__ import annotations

import sqlite3

import pytest

from bot.fake import Person
from economy import Ledger, NotFound
from tests.bot.conftest import ALICE, running
from tests.conftest import snapshot

BUSY_EN = "The service is busy right now; nothing was changed. Please try again in a moment."


async def _pragma(ledger: Ledger, sql: str) -> None:
    await ledger.store.in_writer(lambda db: db.execute(sql))


@pytest.fixture
async def fh(tmp_path, clock):
    async with running(tmp_path, clock, store={"busy_timeout_ms": 50, "lock_wait_s": 0.3}) as h:
        await h.send(ALICE, "/start")
        await h.ledger.grant(ALICE.id, 100)
        yield h


async def test_disk_full(fh):
    pages = (await fh.ledger.store.read(lambda db: db.execute("PRAGMA page_count"))).fetchone()[0]
    await _pragma(fh.ledger, f"PRAGMA max_page_count = {pages}")
    busy_for = None
    for i in range(600):  # new users until the file cannot grow
        who = Person(20_000 + i, f"N{i}", None, "en")
        if await fh.say(who, "/start") == BUSY_EN:
            busy_for = who
            break
    assert busy_for is not None, "the database never filled up"
    assert await fh.ledger.verify() == []
    with pytest.raises(NotFound):  # nothing of the refused registration was kept
        await fh.ledger.profile(busy_for.id)
    assert "Tokens: 0" in await fh.say(ALICE, "/balance")  # the bot keeps running
    await _pragma(fh.ledger, "PRAGMA max_page_count = 1073741823")
    assert "You got 50 XP" in await fh.say(busy_for, "/start")
    assert await fh.ledger.verify() == []


async def test_read_only_database(fh):
    before = await snapshot(fh.ledger, ALICE.id)
    await _pragma(fh.ledger, "PRAGMA query_only = 1")
    assert await fh.say(ALICE, "/convert 10") == BUSY_EN
    assert "Tokens: 0" in await fh.say(ALICE, "/balance")  # reads still work
    assert await snapshot(fh.ledger, ALICE.id) == before
    await _pragma(fh.ledger, "PRAGMA query_only = 0")
    assert "Converted 10 XP" in await fh.say(ALICE, "/convert 10")


async def test_a_lock_held_by_another_process_longer_than_the_timeout(fh, tmp_path):
    before = await snapshot(fh.ledger, ALICE.id)
    other = sqlite3.connect(tmp_path / "bot.db", isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    try:
        assert await fh.say(ALICE, "/convert 10") == BUSY_EN
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert await snapshot(fh.ledger, ALICE.id) == before
    assert "Converted 10 XP" in await fh.say(ALICE, "/convert 10")

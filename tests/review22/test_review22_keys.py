"""Hostile review 22 (pre-existing; failed until Ledger._key refused such a key before
queueing it): an idempotency key the database cannot take failed the whole batch, not its own
request.

The keys are read in the batch's first trip (select_keys, outside run_batch's per-request
handling). A lone surrogate is refused while psycopg/sqlite3 encode the parameter. A NUL is
refused by the server (PostgreSQL). Either way the error ends run_batch, and every request of
the batch gets StorageBusy("error"). The web API's keys are ASCII (web/body.py), but Ledger's
own API takes any str (economy/ledger.py _key), and the store's docstring promises that a
request's bad data fails that request alone.
"""

from __future__ import annotations

import asyncio

import pytest

from economy.errors import InvalidText


@pytest.mark.parametrize("bad", ["k\ud800", "k\x00"], ids=["surrogate", "nul"])
async def test_a_key_the_database_cannot_take_fails_only_its_request(ledger, bad) -> None:
    # (SQLite would store a NUL in a key; the ledger refuses one on both backends, as any text)
    await asyncio.gather(*(ledger.register(u) for u in range(1, 6)))
    results = await asyncio.gather(*(ledger.grant(u, 5) for u in range(1, 6)), ledger.grant(1, 5, key=bad),
                                   return_exceptions=True)
    assert [r for r in results[:-1] if isinstance(r, BaseException)] == [], results
    assert isinstance(results[-1], InvalidText) and results[-1].field == "key", results[-1]

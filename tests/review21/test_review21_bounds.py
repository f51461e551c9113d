"""Hostile review 21: an integer past 64 bits given to a public read of the Ledger reaches the
driver unchecked, and the driver's own error reaches the caller (sqlite3's OverflowError,
psycopg's NumericValueOutOfRange); the same call answers NotFound on the other backend."""

from __future__ import annotations

import pytest

from economy.errors import EconomyError

BIG = 2**70


@pytest.mark.parametrize("call", [
    pytest.param(lambda led: led.delivery(BIG), id="delivery"),
    pytest.param(lambda led: led.notice(BIG), id="notice"),
    pytest.param(lambda led: led.unsettled("deliveries", limit=BIG), id="unsettled-limit"),
    pytest.param(lambda led: led.unsettled("notices", lease=BIG), id="unsettled-lease"),
    pytest.param(lambda led: led.due_reminders(BIG), id="due_reminders"),
])
async def test_a_number_past_64_bits_in_a_read_is_a_clean_answer(ledger, call):
    await ledger.register(1)
    try:
        await call(ledger)
    except EconomyError:
        pass  # a refusal (NotFound, InvalidInput): what the caller can handle
    except Exception as exc:  # noqa: BLE001
        raise AssertionError(f"the driver's error reached the caller: {type(exc).__module__}.{type(exc).__name__}: {exc}")
    assert (await ledger.balance(1)).xp == 50  # and the reader still works


async def test_a_transfer_id_past_64_bits_gets_the_same_answer_on_both_backends(ledger):
    """claim_delivery(2**70): Unstorable ("the database refused the data") on SQLite, NotFound
    on PostgreSQL: the bound is the driver's, not the ledger's."""
    from economy import NotFound
    await ledger.register(1)
    with pytest.raises(NotFound):
        await ledger.claim_delivery(BIG)

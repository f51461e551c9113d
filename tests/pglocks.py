"""Locks on a test's PostgreSQL database: another connection's transaction holding one, and
the backends waiting for one (pg_stat_activity)."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg

from economy.storage.postgres import BATCH_LOCK

#: what holds every ledger's batch lock (the lock a batch's first trip waits for)
THE_BATCH_LOCK = f"SELECT pg_advisory_xact_lock({BATCH_LOCK})"
#: what holds a system account's row (the lock a batch's write trip waits for)
AN_ACCOUNT_ROW = "SELECT * FROM accounts WHERE id = %s FOR UPDATE"


@contextmanager
def holding(url: str, sql: str, params: Sequence[Any] | None = None) -> Iterator[psycopg.Connection[Any]]:
    """Another connection's transaction that has run `sql` (and so holds what it locks) until
    the block ends (rolled back then, unless the block ended it)."""
    with psycopg.connect(url, autocommit=True) as holder:
        holder.execute("BEGIN")
        try:
            holder.execute(sql, params)
            yield holder
        finally:
            if holder.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
                holder.execute("ROLLBACK")


def lock_waiters(url: str, kind: str = "advisory", at_least: int = 1, timeout: float = 20.0) -> list[int]:
    """The pids of the backends of `url`'s database waiting for a lock of `kind` (pg_stat_activity's
    wait_event: advisory, transactionid, ...), once at least `at_least` of them are."""
    deadline = time.monotonic() + timeout
    with psycopg.connect(url, autocommit=True) as look:
        while True:
            pids = [r[0] for r in look.execute(
                "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND wait_event = %s"
                " AND datname = current_database()", (kind,))]
            if len(pids) >= at_least:
                return pids
            assert time.monotonic() < deadline, f"fewer than {at_least} waited for a lock ({kind})"
            time.sleep(0.02)

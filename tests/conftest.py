"""Shared fixtures: a ledger on each backend (a file database in tmp_path, and a fresh database
on a throwaway PostgreSQL cluster the tests start themselves), with a clock the test moves.

LEDGER_BACKENDS=sqlite runs without PostgreSQL on purpose; otherwise a PostgreSQL that cannot
be started fails the tests that need it (it is never skipped silently).
"""

from __future__ import annotations

import itertools
import os
from collections.abc import AsyncIterator, Iterator

import pytest

from economy import Ledger

START = 1_795_305_600  # 2026-11-22 00:00:00 UTC
BACKENDS = [b.strip() for b in os.environ.get("LEDGER_BACKENDS", "sqlite,postgresql").split(",") if b.strip()]
_databases = itertools.count(1)


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


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[object]:
    if "postgresql" not in BACKENDS:
        pytest.skip("LEDGER_BACKENDS leaves PostgreSQL out on purpose")
    from tests.pgcluster import Cluster, ClusterError
    try:
        cluster = Cluster(fsync=False).start()
    except (ClusterError, OSError) as exc:
        pytest.fail(f"cannot start a PostgreSQL for the tests: {exc}"
                    " (install the postgresql package, or set LEDGER_BACKENDS=sqlite on purpose)", pytrace=False)
    try:
        yield cluster
    finally:
        cluster.stop()


def new_pg_database(cluster) -> str:  # type: ignore[no-untyped-def]
    """A URL of a new, empty database on the test cluster: a schema of its own, first on the
    search path of every connection made with that URL (a whole database would cost a copy of
    the template, ~8 MB, per test)."""
    import psycopg
    name = f"t{os.getpid()}_{next(_databases)}"
    with psycopg.connect(cluster.url, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {name}")
    return f"{cluster.url}?options=-csearch_path%3D{name}"


@pytest.fixture
def pg_url(pg_cluster) -> str:
    return new_pg_database(pg_cluster)


@pytest.fixture(params=BACKENDS)
def db_url(request, tmp_path) -> str:
    """Where a test's ledger lives, once per backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'economy.db'}"
    if request.param == "postgresql":
        return request.getfixturevalue("pg_url")
    raise ValueError(f"LEDGER_BACKENDS names an unknown backend {request.param!r}")


@pytest.fixture(scope="session", params=BACKENDS)
def fresh_url(request, tmp_path_factory):  # type: ignore[no-untyped-def]
    """A function returning the URL of a new, empty database each time, once per backend."""
    if request.param == "sqlite":
        return lambda: f"sqlite:///{tmp_path_factory.mktemp('db') / 'economy.db'}"
    cluster = request.getfixturevalue("pg_cluster")
    return lambda: new_pg_database(cluster)


@pytest.fixture
async def ledger(db_url, clock) -> AsyncIterator[Ledger]:
    led = await Ledger.open(db_url, clock=clock)
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


async def raw_sql(ledger: Ledger, sql: str, params: tuple = ()) -> BaseException | None:
    """Run one statement behind the ledger's back (its writer connection, between batches, in
    autocommit) on either backend; return what the database raised, or None."""
    async def run(db):  # type: ignore[no-untyped-def]
        try:
            await db.execute(sql, params)
        except Exception as exc:  # noqa: BLE001 - the test looks at it
            return exc
        return None

    return await ledger.store.in_writer(run)

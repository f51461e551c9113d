"""Hostile review 22 (failed until statements sent in a trip were no longer prepared):
psycopg's prepared statements went stale in the batch's pipelines.

psycopg prepares a statement on its sixth execution (prepare_threshold=5). In pipeline mode the
Parse is only queued; for a statement psycopg has already counted, it records the name as
prepared at once and never checks the Parse's result. When an earlier statement of the same
pipeline fails (a lock timeout, a deadlock, a CHECK), the server skips the rest of the pipeline,
Parse included, but psycopg keeps the name. Its cache is reset only by a ROLLBACK it has not
seen before, and the store's "ROLLBACK" / "ROLLBACK TO request" are counted (then prepared) on
their first runs. Every later batch that runs the statement fails with
`prepared statement "_pg3_N" does not exist` (StorageBusy "error"). Nothing reconnects, so the
writer stays broken until the process restarts. The parent commit (statements sent one by one,
not pipelined) passes all three tests.
"""

from __future__ import annotations

import asyncio
import random

import pytest

from economy import Ledger
from economy import ledger as ledger_module
from economy.errors import StorageBusy, Unstorable
from economy.storage.schema import XP, XP_ISSUER, account_id
from tests.pglocks import AN_ACCOUNT_ROW, THE_BATCH_LOCK, holding

pg = pytest.mark.usefixtures("pg_cluster")


def _shown(outcomes: list) -> list:
    return [o[0] if isinstance(o[0], BaseException) else "ok" for o in outcomes]


async def _alternate(ledger: Ledger, locked_out) -> tuple[list, list]:  # type: ignore[no-untyped-def]
    """Two lock timeouts, then eight rounds of one good grant and one lock timeout; then four
    more grants. Returns (rounds, after): every grant's outcome."""
    await locked_out()
    await locked_out()
    rounds = []
    for i in range(8):
        rounds.append(await asyncio.gather(ledger.grant(1, 1, key=f"g{i}"), return_exceptions=True))
        await locked_out()
    after = [await asyncio.gather(ledger.grant(1, 5, key=f"a{i}"), return_exceptions=True) for i in range(4)]
    return rounds, after


@pg
async def test_lock_timeouts_on_the_batch_lock_leave_the_writer_broken_for_good(pg_url) -> None:
    """Another instance (or `copy --force`, a migration) holds the batch lock past lock_wait_s a
    few times between ordinary batches. Each timeout is a correct StorageBusy("locked"). But the
    statements queued after pg_advisory_xact_lock in the first trip (the clock, MAX(id), the
    wallets, the top spenders) are skipped, and one of them was being prepared then: from then
    on every batch fails with "prepared statement ... does not exist"."""
    async with await Ledger.open(pg_url, lock_wait_s=0.2) as ledger:
        await ledger.register(1)

        async def locked_out() -> None:
            with holding(pg_url, THE_BATCH_LOCK):
                r = await asyncio.gather(ledger.grant(1, 5), return_exceptions=True)
            assert isinstance(r[0], StorageBusy) and r[0].reason == "locked", r

        rounds, after = await _alternate(ledger, locked_out)
        # observed: ['ok', 'ok', 'ok', StorageBusy('error') x 5] then StorageBusy('error') x 4
        assert _shown(rounds) == ["ok"] * 8, _shown(rounds)
        assert _shown(after) == ["ok"] * 4, _shown(after)


@pg
async def test_a_lock_timeout_in_the_write_trip_leaves_the_writer_broken_for_good(pg_url) -> None:
    """An operator's transaction holds a system account's row (accounts, FOR UPDATE) past
    lock_wait_s now and then. The write trip's UPDATE accounts times out (StorageBusy "locked",
    fine), and the idempotency upsert after it in the same pipeline is skipped while psycopg
    records it as prepared: every keyed batch after that fails."""
    async with await Ledger.open(pg_url, lock_wait_s=0.2) as ledger:
        await ledger.register(1)
        n = [0]

        async def locked_out() -> None:
            n[0] += 1
            with holding(pg_url, AN_ACCOUNT_ROW, (XP_ISSUER,)):
                r = await asyncio.gather(ledger.grant(1, 5, key=f"x{n[0]}"), return_exceptions=True)
            assert isinstance(r[0], StorageBusy) and r[0].reason == "locked", r

        rounds, after = await _alternate(ledger, locked_out)
        assert _shown(rounds) == ["ok"] * 8, _shown(rounds)
        assert _shown(after) == ["ok"] * 4, _shown(after)


@pytest.fixture
def unchecked(monkeypatch):  # type: ignore[no-untyped-def]
    """The ledger's text check turned off, so bad text reaches the group commit (as test_unstorable)."""
    monkeypatch.setattr(ledger_module, "check_text", lambda value, field, limit=None: (value or "")[:limit],
                        raising=False)


@pytest.mark.parametrize("seed", [0, 1, 4])
async def test_refused_requests_mixed_with_good_ones_fail_alone(ledger, unchecked, seed) -> None:
    """Batches of random good requests mixed with requests whose data is refused (a float in a
    wallet column, a CHECK-breaking balance, a surrogate or a NUL in a journal row): each refused
    request must fail alone (Unstorable) and the others commit. Passes on SQLite. On PostgreSQL,
    safe mode's per-request write pipelines keep aborting half-sent Parses ("ROLLBACK TO request"
    no longer resets psycopg's cache): a whole batch (10-21 requests, good ones included) fails
    with StorageBusy("error"), "prepared statement ... does not exist"."""
    rnd = random.Random(seed)
    on_pg = ledger.store.backend == "postgresql"
    users = range(1, 16)
    await asyncio.gather(*(ledger.register(u) for u in users))
    await asyncio.gather(*(ledger.grant(u, 100) for u in users))
    xp = {u: 150 for u in users}
    tokens = {u: 0 for u in users}

    def bad_op(u: int, kind: str):  # type: ignore[no-untyped-def]
        async def op(tx):  # type: ignore[no-untyped-def]
            await tx.transfer("earn", "XP", XP_ISSUER, account_id(u, XP), 2, u)
            w = await tx.wallet(u)
            if kind == "float":
                w.streak = 1.5
            elif kind == "half":
                w.transfers += 0.5
            else:  # a negative token balance: the table's CHECK refuses it
                w.token, w.token_credits = -1, w.token_credits - 1 - w.token
            return "x"
        return ledger.store.write(op, None, "", u)

    for round_ in range(6):
        calls, kinds = [], []
        for j in range(rnd.randint(2, 25)):
            u = rnd.choice(users)
            kind = rnd.choice(["good", "good", "good", "conv", "float", "neg", "sur", "nul", "half"])
            if kind == "good":
                calls.append(ledger.grant(u, 3, key=f"{seed}:{round_}:{j}"))
            elif kind == "conv":
                calls.append(ledger.convert(u, 1))
            elif kind in ("float", "neg", "half"):
                calls.append(bad_op(u, kind))
            else:
                calls.append(ledger.grant(u, 4, reason="a\ud800" if kind == "sur" else "a\x00"))
            kinds.append((kind, u))
        results = await asyncio.gather(*calls, return_exceptions=True)
        for (kind, u), r in zip(kinds, results):
            if kind in ("float", "neg", "sur", "half") or (kind == "nul" and on_pg):
                assert isinstance(r, Unstorable), (round_, kind, r)
                continue
            assert not isinstance(r, BaseException), (round_, kind, r)
            if kind == "good":
                xp[u] += 3
            elif kind == "conv":
                xp[u] -= 1
                tokens[u] += 1
            else:  # a NUL on SQLite
                xp[u] += 4
        for u in users:
            b = await ledger.balance(u)
            assert (b.xp, b.tokens) == (xp[u], tokens[u]), (round_, u)
    assert await ledger.verify() == []

"""A Jepsen-style bank test: many users, random operations from several tasks at once and from
a second OS process on the same database, with the invariants (zero sum per asset, nothing
negative, used <= quota, cached balances = journal) checked again and again while it runs."""

from __future__ import annotations

import asyncio
import random
import subprocess
import sys

from economy import Ledger
from tests.test_cli import ROOT

USERS = range(1, 41)
WORKER = r"""
import asyncio, random, sys
from economy import EconomyError, Ledger

async def main(path, seed, steps):
    rng = random.Random(seed)
    async with await Ledger.open(path) as ledger:
        for _ in range(steps):
            await step(ledger, rng)

async def step(ledger, rng):
    user = rng.randint(1, 40)
    op = rng.choice(["convert", "buy", "grant", "charge", "refund", "raise", "lower", "daily"])
    try:
        if op == "convert":
            await ledger.convert(user, rng.randint(1, 30))
        elif op == "buy":
            await ledger.buy(user, rng.choice(["vip", "boost", "badge", "dm"]))
        elif op == "grant":
            await ledger.grant(user, rng.randint(1, 50), actor=1)
        elif op == "charge":
            await ledger.charge(user, rng.randint(1, 5000), actor=1)
        elif op == "refund":
            await ledger.refund(user, rng.randint(1, 5000), actor=1)
        elif op == "raise":
            await ledger.raise_quota(user, rng.randint(1, 5000), actor=1)
        elif op == "lower":
            await ledger.lower_quota(user, rng.randint(1, 5000), actor=1)
        else:
            await ledger.daily(user)
    except EconomyError:
        pass

if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3])))
"""


async def test_bank_invariants_hold_under_concurrent_tasks_and_a_second_process(tmp_path, db_url):
    path = db_url
    (tmp_path / "worker.py").write_text(WORKER)
    async with await Ledger.open(path) as ledger:
        for user in USERS:
            await ledger.register(user)
            await ledger.raise_quota(user, 10_000, actor=1)
        other = subprocess.Popen([sys.executable, str(tmp_path / "worker.py"), str(path), "99", "600"], cwd=ROOT,
                                 env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
        import importlib.util
        spec = importlib.util.spec_from_file_location("worker", tmp_path / "worker.py")
        worker = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(worker)  # type: ignore[union-attr]
        done = asyncio.Event()
        checks = 0

        async def client(seed: int) -> None:
            rng = random.Random(seed)
            for _ in range(300):
                await worker.step(ledger, rng)

        async def checker() -> None:
            nonlocal checks
            while not done.is_set():
                assert await ledger.verify() == []
                checks += 1
                await asyncio.sleep(0.005)

        watch = asyncio.create_task(checker())
        await asyncio.gather(*(client(seed) for seed in range(6)))
        while other.poll() is None:
            assert await ledger.verify() == []
            checks += 1
            await asyncio.sleep(0.01)
        done.set()
        await watch
        assert other.returncode == 0
        assert await ledger.verify() == []
        assert checks >= 10
        stats = await ledger.stats()
        balances = [await ledger.balance(u) for u in USERS]
        assert sum(b.tokens for b in balances) == stats.tokens_in_circulation
        assert sum(b.credit_used for b in balances) == stats.credit_used
        assert all(b.tokens >= 0 and b.xp >= 0 and 0 <= b.credit_used <= b.credit_quota for b in balances)
        rows = [row async for row in ledger.journal()]
        assert len(rows) > 500

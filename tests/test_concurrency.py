"""Real parallel callers in one process, and a second OS process on the same database."""

import asyncio
import subprocess
import sys
import textwrap

from economy import InsufficientFunds, Ledger, QuotaExceeded


async def test_500_concurrent_spends_exactly_3_succeed(ledger):
    await ledger.register(1)
    await ledger.convert(1, 45)  # affords exactly 3 priority DMs of 15
    results = await asyncio.gather(*(ledger.buy(1, "dm") for _ in range(500)), return_exceptions=True)
    ok = [r for r in results if not isinstance(r, BaseException)]
    refused = [r for r in results if isinstance(r, InsufficientFunds)]
    assert len(ok) == 3 and len(refused) == 497
    assert sorted(r.tokens for r in ok) == [0, 15, 30]
    assert (await ledger.balance(1)).tokens == 0
    assert await ledger.verify() == []


async def test_20_concurrent_charges_against_quota_100(ledger):
    await ledger.register(1)
    await ledger.raise_quota(1, 100)
    results = await asyncio.gather(*(ledger.charge(1, 10) for _ in range(20)), return_exceptions=True)
    assert sum(not isinstance(r, BaseException) for r in results) == 10
    assert sum(isinstance(r, QuotaExceeded) for r in results) == 10
    bal = await ledger.balance(1)
    assert (bal.credit_used, bal.credit_available) == (100, 0)
    assert await ledger.verify() == []


SECOND_PROCESS = textwrap.dedent("""
    import asyncio, sys
    sys.path.insert(0, {root!r})
    from economy import Ledger
    async def main():
        ledger = await Ledger.open({path!r})
        await asyncio.gather(*(ledger.grant(u, 1) for _ in range(100) for u in range(1, 21)))
        await ledger.close()
    asyncio.run(main())
""")


async def test_second_process_writing_the_same_database(db_url):
    path = db_url
    ledger = await Ledger.open(path)
    try:
        await asyncio.gather(*(ledger.register(u) for u in range(1, 21)))
        root = str(__import__("pathlib").Path(__file__).resolve().parents[1])
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-c", SECOND_PROCESS.format(root=root, path=str(path)),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )
        # Meanwhile this process writes the same accounts.
        for _ in range(10):
            await asyncio.gather(*(ledger.grant(u, 1) for _ in range(10) for u in range(1, 21)))
        out, err = await proc.communicate()
        assert proc.returncode == 0, err.decode()
        for u in range(1, 21):
            assert (await ledger.balance(u)).xp == 50 + 100 + 100
        assert await ledger.verify() == []
    finally:
        await ledger.close()

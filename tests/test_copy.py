"""`python -m economy copy SRC_URL DST_URL`: SQLite -> PostgreSQL and back, a non-empty target
refused (or replaced whole with --force), and a copy killed half-way that completes when run
again without doubling anything."""

from __future__ import annotations

import subprocess
import sys

from economy import Ledger
from tests.test_cli import ROOT, cli


async def _rich(url: str) -> None:
    """A ledger with something in every table."""
    async with await Ledger.open(url) as ledger:
        await ledger.add_content("v1", title="Film", media="video", file_ref="f1")
        for user in range(1, 31):
            await ledger.register(user, username=f"user{user}", first_name=f"Ü{user}", language="tr", key=f"u:{user}")
            await ledger.grant(user, 100 + user, reason="weekly", actor=9)
            await ledger.convert(user, 60)
            await ledger.buy(user, "boost", key=f"b:{user}")
            await ledger.raise_quota(user, 10_000 * user, actor=9)
            await ledger.charge(user, 123 * user, actor=9, deliver=user % 2 == 0)
        await ledger.buy(1, "content", "v1", deliver=True)
        await ledger.buy(2, "dm")
        await ledger.support(2, "yardım")
        await ledger.daily(3)
        await ledger.store.write(lambda tx: tx.write("INSERT INTO api_keys VALUES ('ops', 'read', ?, 0, NULL)",
                                                     ("a" * 64,)), None, "api key")


async def _figures(url: str) -> tuple:
    async with await Ledger.open(url) as ledger:
        balances = [await ledger.balance(u) for u in range(1, 31)]
        history = [(await ledger.history(u, 0, 50)).items for u in (1, 2, 3)]
        rows = [r async for r in ledger.journal()]
        return (balances, history, rows, await ledger.stats(), await ledger.top_spenders(50),
                await ledger.inbox(), await ledger.find_user("user7"))


async def test_copy_sqlite_to_postgresql_and_back(tmp_path, pg_url):
    src = f"sqlite:///{tmp_path / 'src.db'}"
    await _rich(src)
    there = cli("copy", src, pg_url)
    assert there.returncode == 0, there.stdout + there.stderr
    assert "ok: copied" in there.stdout and "transfers: " in there.stderr  # progress on stderr
    assert await _figures(pg_url) == await _figures(src)
    back = f"sqlite:///{tmp_path / 'back.db'}"
    again = cli("copy", pg_url, back)
    assert again.returncode == 0, again.stdout + again.stderr
    assert await _figures(back) == await _figures(src)
    async with await Ledger.open(pg_url) as ledger:  # the copy is a working ledger
        ticket = await ledger.support(3, "new")
        assert ticket.ticket_id == 2  # ids go on after the copied ones
        assert (await ledger.buy(5, "vip")).tokens == 55 - 25
        assert await ledger.verify() == []


async def test_a_non_empty_target_is_refused_unless_forced(tmp_path):
    src, dst = f"sqlite:///{tmp_path / 'a.db'}", f"sqlite:///{tmp_path / 'b.db'}"
    await _rich(src)
    async with await Ledger.open(dst) as ledger:
        await ledger.register(99)
    refused = cli("copy", src, dst)
    assert refused.returncode == 2 and "not empty" in refused.stderr and "--force" in refused.stderr
    forced = cli("copy", "--force", src, dst)
    assert forced.returncode == 0, forced.stdout + forced.stderr  # replaced whole: the target's own user is gone
    assert "replaced whole" in forced.stdout
    assert await _figures(dst) == await _figures(src)


async def test_an_interrupted_copy_completes_when_run_again(tmp_path, pg_url):
    src = f"sqlite:///{tmp_path / 'src.db'}"
    await _rich(src)
    proc = subprocess.Popen([sys.executable, "-m", "economy", "copy", "--batch", "3", src, pg_url], cwd=ROOT,
                            stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    for line in proc.stderr:  # type: ignore[union-attr]
        if line.startswith("transfers: 30/"):  # half-way through the journal
            proc.kill()
            break
    proc.wait()
    assert proc.returncode != 0
    async with await Ledger.open(src) as ledger:
        journal = len([r async for r in ledger.journal()])
    async with await Ledger.open(pg_url) as ledger:
        assert 0 < len([r async for r in ledger.journal()]) < journal
    rerun = cli("copy", "--batch", "7", src, pg_url)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert "resuming" in rerun.stderr and "(resumed)" in rerun.stdout
    assert await _figures(pg_url) == await _figures(src)
    assert "not empty" in cli("copy", src, pg_url).stderr  # done: the marker is gone

"""`python -m economy` as an operator runs it."""

import asyncio
import csv
import io
import json
import subprocess
import sys
from pathlib import Path

from economy import Ledger

ROOT = Path(__file__).resolve().parents[1]


def cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "economy", *args], cwd=ROOT, capture_output=True, text=True,
                          env=env, timeout=60)


def seeded(url: str) -> str:
    async def setup():
        async with await Ledger.open(url) as ledger:
            await ledger.register(7, first_name="Zeynep")
            await ledger.convert(7, 30)
            await ledger.buy(7, "vip")
            await ledger.raise_quota(7, 100_000)
            await ledger.charge(7, 12_345)
    asyncio.run(setup())
    return url


def tamper(url: str, *statements: str) -> None:
    """Change the database behind the ledger's back."""
    from tests.conftest import raw_sql

    async def run():
        async with await Ledger.open(url) as ledger:
            for sql in statements:
                assert await raw_sql(ledger, sql) is None
    asyncio.run(run())


def test_balance_history_stats_export_verify(db_url):
    url = seeded(db_url)
    bal = json.loads(cli("--db", url, "balance", "7").stdout)
    assert (bal["xp"], bal["tokens"], bal["vip"]) == (20, 5, True)
    assert (bal["credit_quota"], bal["credit_used"], bal["credit_available"]) == ("1000.00", "123.45", "876.55")
    hist = json.loads(cli("--db", url, "history", "7").stdout)
    assert hist["total"] == 6 and hist["entries"][0]["kind"] == "file_charge"
    stats = json.loads(cli("--db", url, "stats").stdout)
    assert (stats["tokens_in_circulation"], stats["credit_available"]) == (5, "876.55")
    rows = list(csv.reader(io.StringIO(cli("--db", url, "export").stdout)))
    assert rows[0][:4] == ["id", "ts", "local_time (Europe/Istanbul)", "kind"] and len(rows) == 7
    ok = cli("--db", url, "verify")
    assert ok.returncode == 0 and ok.stdout.startswith("ok:")


def test_verify_finds_a_tampered_balance(db_url):
    url = seeded(db_url)
    tamper(url, "UPDATE wallets SET token = token + 1, token_credits = token_credits + 1 WHERE user_id = 7")
    out = cli("--db", url, "verify")
    assert out.returncode == 1
    assert "cached 6" in out.stdout and "TOKEN does not sum to zero: 1" in out.stdout


def test_verify_finds_a_broken_history_chain_and_top_table(db_url):
    url = seeded(db_url)
    tamper(url, "UPDATE wallets SET transfers = transfers - 1 WHERE user_id = 7", "DELETE FROM top_spenders")
    out = cli("--db", url, "verify")
    assert out.returncode == 1
    assert "user 7: wallet says" in out.stdout and "top spenders table" in out.stdout


def test_database_url_from_the_environment(db_url):
    url = seeded(db_url)
    env = {"PATH": "/usr/bin:/bin", "DATABASE_URL": url, "PYTHONPATH": str(ROOT)}
    assert json.loads(cli("balance", "7", env=env).stdout)["tokens"] == 5


def test_bad_arguments_exit_2(tmp_path):
    url = seeded(f"sqlite:///{tmp_path / 'e.db'}")
    for args in (("balance",), ("balance", "x"), ("frobnicate",), ("--db", "postgres://x", "stats"), ("--db", url, "balance", "99")):
        out = cli(*args)
        assert out.returncode == 2, args
        assert out.stderr.strip(), args


def test_demo_plays_the_seed_journeys():
    out = cli("demo")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert any("task boost" in l and "tokens=55" in l for l in lines)
    assert any("three premium contents" in l and "tokens=80" in l for l in lines)
    assert any("available=900.00" in l for l in lines) and "verify: ok" in lines

"""`python -m economy import-legacy`: the seeds' token engine (tokens.db) and credit system (CSV),
bad rows reported with their reason, a dry run that writes nothing, one transaction, idempotent,
sums equal to the source's, and the old transactions in /history marked as imported."""

from __future__ import annotations

import sqlite3

from economy import Ledger
from economy.models import IMPORTED
from tests.conftest import raw_sql
from tests.test_cli import cli

TOKENS_SCHEMA = """
CREATE TABLE balances (user_id TEXT PRIMARY KEY, balance INTEGER DEFAULT 0,
    created_at TEXT DEFAULT CURRENT_TIMESTAMP, updated_at TEXT DEFAULT CURRENT_TIMESTAMP);
CREATE TABLE transactions (id INTEGER PRIMARY KEY AUTOINCREMENT, user_id TEXT NOT NULL, type TEXT NOT NULL,
    amount INTEGER NOT NULL, reason TEXT, timestamp TEXT DEFAULT CURRENT_TIMESTAMP);
"""


def legacy_files(tmp_path):
    tokens = tmp_path / "tokens.db"
    db = sqlite3.connect(tokens)
    db.executescript(TOKENS_SCHEMA)
    db.executemany("INSERT INTO balances(user_id, balance) VALUES (?, ?)", [
        ("1001", 55), ("1002", 80), ("old-7", 30), ("1005", 0),
        ("abc", 10),        # not a Telegram id, not mapped
        ("1003", -5),       # negative
        ("1004", "lots"),   # text in the amount
        ("1006", 12.5),     # not whole
        ("old-8", 40),      # mapped onto 1001, which is already there: a duplicate
    ])
    db.executemany("INSERT INTO transactions(user_id, type, amount, reason, timestamp) VALUES (?, ?, ?, ?, ?)", [
        ("1001", "EARN", 50, "kayıt bonusu", "2025-01-20 10:00:00"),
        ("1001", "EARN", 20, "günlük görev", "2025-01-21 10:00:00"),
        ("1001", "SPEND", -10, "premium <video>", "2025-01-22 10:00:00"),
        ("1001", "SPEND", -5, "görev boost", "2025-01-23 10:00:00"),
        ("1002", "EARN", 200, "haftalık", "2025-01-20 11:00:00"),
        ("1002", "SPEND", -120, "vip+rozet+dm+içerik", "2025-01-24 11:00:00"),
        ("abc", "EARN", 10, "x", "2025-01-20 11:00:00"),       # its user is not imported
        ("1002", "GIFT", 5, "?", "2025-01-25 11:00:00"),       # unknown type
        ("1002", "EARN", "ten", "?", "2025-01-25 11:00:00"),   # text amount
        ("1002", "EARN", 5, "?", "yesterday"),                 # not a time
    ])
    db.commit()
    db.close()
    credits = tmp_path / "credits.csv"
    credits.write_text(
        "id,credits,credit_quota,credit_used\n"
        "1001,1000.00,,\n"          # credits -> quota, nothing used
        "1002,,500,120.50\n"        # quota and used carried over
        "1002,,100,0\n"             # duplicate id
        "abc,10,,\n"                # not a Telegram id
        "1008,-5,,\n"               # negative
        "1009,lots,,\n"             # text
        "1010,,100,200\n"           # used above the quota
        "1011,12.345,,\n",          # three decimals
        encoding="utf-8",
    )
    ids = tmp_path / "ids.csv"
    ids.write_text("old_id,telegram_id\nold-7,1007\nold-8,1001\n", encoding="utf-8")
    return tokens, credits, ids


def run(url, tokens, credits, ids, *extra):
    return cli("--db", url, "import-legacy", "--tokens", str(tokens), "--credits", str(credits), "--map", str(ids),
               *extra)


async def test_a_dry_run_reports_everything_and_writes_nothing(tmp_path, db_url):
    files = legacy_files(tmp_path)
    async with await Ledger.open(db_url):  # the bot's ledger (a dry run never creates one: test_read_only.py)
        pass
    out = run(db_url, *files)
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert "dry run, nothing written" in text
    assert "tokens: 4 users, 165 tokens in opening balances, 6 old transactions kept as history" in text
    assert "credits: 2 users, quota 1500.00 TL, used 120.50 TL" in text
    for reason in ("user_id='abc': not a Telegram id", "user_id='1003': balance -5 is negative",
                   "user_id='1004': balance 'lots' is not a whole number", "user_id='1006': balance 12.5 is not",
                   "user_id='old-8': duplicate: Telegram id 1001", "was not imported", "'GIFT' is neither EARN",
                   "amount 'ten' is not", "timestamp 'yesterday'", "id='1002': duplicate id",
                   "id='abc': not a Telegram id", "id='1008': amount '-5'", "id='1009': amount 'lots'",
                   "id='1010': credit used 200.00 is above the quota 100.00", "id='1011': amount '12.345'"):
        assert reason in text, reason
    assert "rejected: 15 rows" in text
    async with await Ledger.open(db_url) as ledger:
        assert (await ledger.stats()).users == 0
        assert [r async for r in ledger.journal()] == []


async def test_apply_brings_every_balance_once_and_sums_match(tmp_path, db_url):
    files = legacy_files(tmp_path)
    async with await Ledger.open(db_url) as ledger:
        await ledger.register(1002, first_name="Already here")  # 50 XP bonus, then the import adds to them
    first = run(db_url, *files, "--apply")
    assert first.returncode == 0, first.stdout + first.stderr
    assert "applied in one transaction" in first.stdout and "written: 4 users, 6 history rows" in first.stdout
    assert ("sums in the ledger equal the files: tokens 165 (files 165), quota 1500.00 TL (files 1500.00),"
            " used 120.50 TL (files 120.50)") in first.stdout
    async with await Ledger.open(db_url) as ledger:
        tokens = {u: (await ledger.balance(u)).tokens for u in (1001, 1002, 1005, 1007)}
        assert tokens == {1001: 55, 1002: 80, 1005: 0, 1007: 30}
        b1, b2 = await ledger.balance(1001), await ledger.balance(1002)
        assert (b1.credit_quota, b1.credit_used, b2.credit_quota, b2.credit_used, b2.xp) == (100_000, 0, 50_000, 12_050, 50)
        stats = await ledger.stats()
        assert sum(tokens.values()) == 165 == stats.tokens_minted == stats.tokens_in_circulation
        assert (stats.credit_quota, stats.credit_used) == (150_000, 12_050)
        assert await ledger.verify() == []
        journal = [r async for r in ledger.journal()]
    again = run(db_url, *files, "--apply")
    assert again.returncode == 0 and "already imported by an earlier run (left as they are): 6" in again.stdout
    assert "written: 0 users, 0 history rows" in again.stdout and "sums in the ledger equal the files" in again.stdout
    async with await Ledger.open(db_url) as ledger:
        assert [r async for r in ledger.journal()] == journal
        assert {u: (await ledger.balance(u)).tokens for u in tokens} == tokens
        assert await ledger.verify() == []


async def test_old_transactions_are_read_only_history_marked_imported(tmp_path, db_url):
    files = legacy_files(tmp_path)
    assert run(db_url, *files, "--apply").returncode == 0
    async with await Ledger.open(db_url) as ledger:
        page = await ledger.history(1001, 0, 3)
        assert page.total == 2 + 4 and page.pages == 2  # quota + opening transfers, then 4 old ones
        assert [e.kind for e in page.items] == ["legacy_quota", "legacy_open", IMPORTED]
        rest = await ledger.history(1001, 1, 3)
        assert [(e.kind, e.delta, e.ref) for e in rest.items] == [
            (IMPORTED, -10, "premium <video>"), (IMPORTED, 20, "günlük görev"), (IMPORTED, 50, "kayıt bonusu")]
        assert rest.items[-1].ts == 1737367200  # 2025-01-20 10:00:00 UTC
        refused = ledger.store.IntegrityError
        assert isinstance(await raw_sql(ledger, "UPDATE legacy_history SET amount = 1000"), refused)
        assert isinstance(await raw_sql(ledger, "DELETE FROM legacy_history"), refused)


def test_unreadable_files_are_one_line_and_exit_2(tmp_path):
    url = f"sqlite:///{tmp_path / 'l.db'}"
    (tmp_path / "not.db").write_text("hello")
    for args in (("--tokens", str(tmp_path / "missing.db")), ("--tokens", str(tmp_path / "not.db")),
                 ("--credits", str(tmp_path / "not.db")), ()):
        out = cli("--db", url, "import-legacy", *args)
        assert out.returncode == 2 and len(out.stderr.strip().splitlines()) == 1, (args, out.stderr)


async def test_the_sums_check_reads_the_ledger_not_the_plan(tmp_path, ledger):
    from economy import legacy
    plan = legacy.make_plan(*legacy_files(tmp_path))
    before = await legacy.ledger_sums(ledger, plan)  # nothing imported yet
    assert before == {"tokens": 0, "credit_quota": 0, "credit_used": 0} != plan.sums()
    assert any(line.startswith("SUMS DIFFER") for line in legacy.report(plan, set(), None, before))
    await legacy.apply(ledger, plan)
    assert await legacy.ledger_sums(ledger, plan) == plan.sums() == {
        "tokens": 165, "credit_quota": 150_000, "credit_used": 12_050}

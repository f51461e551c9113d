"""`python -m economy import-legacy`: the seeds' token engine (tokens.db) and credit system (CSV),
bad rows reported with their reason, a dry run that writes nothing, chunks (tests/test_legacy_chunks.py), idempotent,
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
    assert "applied in 2 transactions of up to 500 rows, taking turns" in first.stdout
    assert "written: 4 users, 6 history rows" in first.stdout
    assert ("sums in the ledger equal the files: tokens 165 (files 165), quota 1500.00 TL (files 1500.00),"
            " used 120.50 TL (files 120.50), old transactions kept 6 (files 6)") in first.stdout
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
    assert again.returncode == 0
    assert "already imported by an earlier run (left as they are): 6 users' rows, 6 old transactions" in again.stdout
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
    assert before == {"tokens": 0, "credit_quota": 0, "credit_used": 0, "history": 0} != plan.sums()
    assert any(line.startswith("SUMS DIFFER") for line in legacy.report(plan, set(), None, before))
    await legacy.apply(ledger, plan)
    assert await legacy.ledger_sums(ledger, plan) == plan.sums() == {
        "tokens": 165, "credit_quota": 150_000, "credit_used": 12_050, "history": 6}


# -- rows the import must refuse with a reason (issue 20, item 16) --

NOW = 1_795_305_600  # 2026-11-22 00:00:00 UTC: what the plan takes as "now" below


def odd_tokens(tmp_path, *, column="INTEGER"):
    """A tokens.db whose transactions table has no primary key on id and a timestamp column of
    another affinity (an older engine's, or one filled by hand): integers stay integers there."""
    tokens = tmp_path / "odd.db"
    db = sqlite3.connect(tokens)
    db.executescript(f"""
        CREATE TABLE balances (user_id TEXT PRIMARY KEY, balance INTEGER DEFAULT 0);
        CREATE TABLE transactions (id INTEGER, user_id TEXT NOT NULL, type TEXT NOT NULL,
            amount INTEGER NOT NULL, reason TEXT, timestamp {column});
    """)
    db.executemany("INSERT INTO balances VALUES (?, ?)", [("2001", 70), ("2002", 5)])
    db.executemany("INSERT INTO transactions VALUES (?, ?, ?, ?, ?, ?)", [
        (1, "2001", "EARN", 50, "seconds", 1_737_367_200),            # kept
        (2, "2001", "EARN", 10, "text seconds", "1737367260"),        # kept: whole seconds as text
        (3, "2001", "EARN", 10, "iso", "2025-01-20 10:02:00"),        # kept
        (4, "2001", "EARN", 1, "milliseconds", 1_700_000_000_000),   # year 55840
        (5, "2001", "EARN", 1, "huge", 2**62),                        # /history could never show it
        (6, "2001", "EARN", 1, "before 2000", 946_684_799),
        (7, "2001", "EARN", 1, "2033: past tomorrow", 2_000_000_000),
        (8, "2001", "EARN", 1, "negative", -5),
        (9, "2001", "EARN", 1, "iso, 1999", "1999-12-31 23:59:59"),
        (10, "2002", "EARN", 5, "first of two", "2025-01-21 10:00:00"),   # kept
        (10, "2002", "EARN", 7, "second of two", "2025-01-22 10:00:00"),  # the same old id again
    ])
    db.commit()
    db.close()
    return tokens


def test_out_of_range_timestamps_and_duplicate_ids_are_rejected_rows(tmp_path):
    from economy import legacy
    plan = legacy.make_plan(odd_tokens(tmp_path), None, None, now=NOW)
    assert sorted(h[0] for h in plan.history) == [1, 2, 3, 10]
    assert {h[0]: h[5] for h in plan.history} == {1: 1_737_367_200, 2: 1_737_367_260, 3: 1_737_367_320,
                                                  10: 1_737_453_600}
    assert [h[3] for h in plan.history if h[0] == 10] == [5]  # the first row with id 10 is the one kept
    reasons = {r.where.rsplit("id=", 1)[1]: r.reason for r in plan.rejected}
    for tx_id in ("4", "5", "6", "7", "8", "9"):
        assert "outside 2000-01-01" in reasons[tx_id], (tx_id, reasons.get(tx_id))
    assert "milliseconds" in reasons["4"]
    assert reasons["10"].startswith("duplicate id")
    assert len(plan.rejected) == 7


async def test_every_row_counted_as_kept_is_in_the_ledger(tmp_path, db_url):
    odd = odd_tokens(tmp_path)
    await (await Ledger.open(db_url)).close()  # the dry run reads a ledger; it never creates one
    dry = cli("--db", db_url, "import-legacy", "--tokens", str(odd))
    applied = cli("--db", db_url, "import-legacy", "--tokens", str(odd), "--apply")
    assert dry.returncode == 0 and applied.returncode == 0, dry.stderr + applied.stdout + applied.stderr
    # the dry run and the apply report the same rejected rows, the same way
    assert dry.stdout.split("rejected:", 1)[1] == applied.stdout.split("rejected:", 1)[1]
    assert "rejected: 7 rows" in applied.stdout and "4 old transactions kept as history" in applied.stdout
    async with await Ledger.open(db_url) as ledger:
        page = await ledger.history(2001, 0, 50)
        old = [e for e in page.items if e.kind == IMPORTED]
        assert [(e.ref, e.ts) for e in old] == [("iso", 1_737_367_320), ("text seconds", 1_737_367_260),
                                                ("seconds", 1_737_367_200)]
        assert [(e.delta, e.ref) for e in (await ledger.history(2002, 0, 50)).items if e.kind == IMPORTED] == [
            (5, "first of two")]
        assert await ledger.verify() == []


def test_credit_used_without_a_quota_is_a_rejected_row(tmp_path):
    from economy import legacy
    credits = tmp_path / "credits.csv"
    credits.write_text(
        "id,credits,credit_quota,credit_used\n"
        "3001,,,150.00\n"       # used, and no quota at all: was imported as 0/0
        "3002,500,,100\n"       # credits (the quota, nothing used) and a credit_used: which is it?
        "3003,,,\n"             # no amount at all
        "3004,200,300,0\n"      # credits and credit_quota disagree
        "3005,200,,0\n"         # credits, used 0: the seed's migration, fine
        "3006,,300,50\n"        # carried over, fine
        "3007,300,300,50\n",    # both say 300, fine
        encoding="utf-8")
    plan = legacy.make_plan(None, credits, None)
    assert plan.credits == {3005: ("3005", 20_000, 0), 3006: ("3006", 30_000, 5_000), 3007: ("3007", 30_000, 5_000)}
    reasons = {r.where.split("id=", 1)[1]: r.reason for r in plan.rejected}
    assert set(reasons) == {"'3001'", "'3002'", "'3003'", "'3004'"}
    assert "credit_used 150.00 without a credit_quota" in reasons["'3001'"]
    assert "credit_used 100.00 without a credit_quota" in reasons["'3002'"]
    assert "no credits or credit_quota" in reasons["'3003'"]
    assert "credits 200.00 and credit_quota 300.00 disagree" in reasons["'3004'"]


def test_a_field_past_the_csv_limit_is_one_line_and_exit_2(tmp_path):
    url = f"sqlite:///{tmp_path / 'l.db'}"
    credits = tmp_path / "credits.csv"
    # an unbalanced quote: everything after it is one field, past csv's 128 KiB limit
    credits.write_text("id,credits\n1001,\"1000.00\n" + "".join(f"{1002 + n},10\n" for n in range(20_000)),
                       encoding="utf-8")
    ids = tmp_path / "ids.csv"
    ids.write_text("old_id,telegram_id\n\"old-1,1001\n" + "x,1\n" * 40_000, encoding="utf-8")
    for args in (("--credits", str(credits)), ("--credits", str(credits), "--apply"),
                 ("--tokens", str(odd_tokens(tmp_path)), "--map", str(ids))):
        out = cli("--db", url, "import-legacy", *args)
        assert out.returncode == 2, (args, out.stderr[-500:])
        assert len(out.stderr.strip().splitlines()) == 1 and "line 2" in out.stderr, (args, out.stderr[-500:])
        assert "quote" in out.stderr


async def test_an_old_transaction_id_the_ledger_keeps_with_other_content_is_a_rejected_row(tmp_path, db_url):
    assert run(db_url, *legacy_files(tmp_path), "--apply").returncode == 0
    second = tmp_path / "second"
    second.mkdir()
    other = second / "tokens.db"  # another community's engine: its ids start at 1 too
    db = sqlite3.connect(other)
    db.executescript(TOKENS_SCHEMA)
    db.execute("INSERT INTO balances(user_id, balance) VALUES ('4001', 9)")
    db.executemany("INSERT INTO transactions(user_id, type, amount, reason, timestamp) VALUES (?, ?, ?, ?, ?)", [
        ("4001", "EARN", 9, "another system", "2025-02-01 10:00:00")])  # id 1: the first import's has it
    db.commit()
    db.close()
    for extra in ((), ("--apply",)):
        out = cli("--db", db_url, "import-legacy", "--tokens", str(other), *extra)
        assert out.returncode == 0, out.stdout + out.stderr
        assert "tokens.db transactions id=1: the ledger already keeps another old transaction with this id" in out.stdout
        assert "0 old transactions kept as history" in out.stdout
    assert "old transactions kept 0 (files 0)" in out.stdout
    async with await Ledger.open(db_url) as ledger:
        assert (await ledger.balance(4001)).tokens == 9
        assert [e.ref for e in (await ledger.history(1001, 0, 10)).items if e.kind == IMPORTED][-1] == "kayıt bonusu"
        assert await ledger.verify() == []


async def test_a_nul_in_an_old_reason_is_cleaned_on_both_backends(tmp_path, db_url):
    tokens = tmp_path / "nul.db"
    db = sqlite3.connect(tokens)
    db.executescript(TOKENS_SCHEMA)
    db.execute("INSERT INTO balances(user_id, balance) VALUES ('5001', 3)")
    db.execute("INSERT INTO transactions(user_id, type, amount, reason, timestamp)"
               " VALUES ('5001', 'EARN', 3, ?, '2025-01-20 10:00:00')", ("gün\x00lük",))
    db.commit()
    db.close()
    out = cli("--db", db_url, "import-legacy", "--tokens", str(tokens), "--apply")
    assert out.returncode == 0, out.stdout + out.stderr
    async with await Ledger.open(db_url) as ledger:
        assert [e.ref for e in (await ledger.history(5001, 0, 10)).items if e.kind == IMPORTED] == ["günlük"]
        assert await ledger.verify() == []

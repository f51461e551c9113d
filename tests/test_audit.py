"""The audit trail on both backends: one row per audited action, written in the transaction of its
effect (a refused action writes none, a replayed one none again, a row the database refuses
takes the action with it), append-only, and what the CLI shows of it."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from economy import Ledger
from economy.apikeys import ApiKeys
from economy.audit import CLI, Actor, AuditFilter, AuditLog
from economy.errors import NotFound, QuotaExceeded, RefundTooLarge
from tests.conftest import raw_sql
from tests.test_cli import cli

ADMIN = Actor("bot", "Ayşe Admin", 9000)


async def trail(ledger: Ledger, **flt: object) -> list:
    return [e async for e in AuditLog(ledger.store).walk(AuditFilter(**flt))]  # type: ignore[arg-type]


async def test_each_admin_write_is_one_row_with_the_figures_before_and_after(ledger):
    await ledger.register(7, first_name="Zeynep")
    await ledger.grant(7, 100, reason="weekly", actor=9000, key="g1", audit_as=ADMIN)
    await ledger.raise_quota(7, 100_000, actor=9000, note="new customer", key="q1", audit_as=ADMIN)
    await ledger.charge(7, 12_345, actor=9000, note="invoice 4", key="c1", audit_as=ADMIN)
    await ledger.refund(7, 345, actor=9000, key="r1", audit_as=ADMIN)
    await ledger.lower_quota(7, 1_000, actor=9000, key="l1", audit_as=ADMIN)
    await ledger.add_content("v1", title="Video", media="document", file_ref="f", key="a1", audit_as=ADMIN)
    await ledger.close_tickets(7, key="t1", audit_as=ADMIN, note="thanks")
    api = Actor("api", "crm")
    await ledger.earn(8, 30, reason="quiz", key="e1", audit_as=api)  # a new user: no figures before
    await ledger.convert(8, 20, key="v1", audit_as=api)
    await ledger.buy(8, "boost", key="b1", audit_as=api)
    rows = await trail(ledger)
    assert [r.action for r in rows] == ["spend", "convert", "earn", "reply", "add_content", "quota_lower", "refund",
                                        "charge", "quota_raise", "grant"]  # newest first
    by = {r.action: r for r in rows}
    grant = by["grant"]
    assert (grant.via, grant.actor_id, grant.actor, grant.user_id, grant.amount, grant.unit, grant.note) == \
        ("bot", 9000, "Ayşe Admin", 7, 100, "XP", "weekly")
    assert grant.before["xp"] == 50 and grant.after["xp"] == 150
    charge = by["charge"]
    assert charge.before == {"xp": 150, "tokens": 0, "quota": 100_000, "used": 0}
    assert charge.after == {"xp": 150, "tokens": 0, "quota": 100_000, "used": 12_345}
    assert charge.note == "invoice 4" and charge.as_dict()["amount"] == "123.45"
    assert charge.as_dict()["after"]["used"] == "123.45"
    journal = {row[0]: row for row in [r async for r in ledger.journal()]}
    for r in rows:
        if r.transfer_id is not None:
            assert journal[r.transfer_id][7] == r.user_id  # the movement it made
    assert by["earn"].before == {} and by["earn"].after["xp"] == 30 and by["earn"].actor == "crm"
    assert by["spend"].note == "boost" and by["spend"].after["tokens"] == by["spend"].before["tokens"] - 5
    assert not await ledger.verify()


async def test_a_refused_action_writes_no_row_and_a_replay_none_again(ledger):
    await ledger.register(7)
    await ledger.raise_quota(7, 1_000, key="q", audit_as=ADMIN)
    with pytest.raises(QuotaExceeded):
        await ledger.charge(7, 5_000, key="c", audit_as=ADMIN)
    with pytest.raises(RefundTooLarge):
        await ledger.refund(7, 1, key="r", audit_as=ADMIN)
    with pytest.raises(NotFound):
        await ledger.grant(999, 5, key="g", audit_as=ADMIN)
    assert [r.action for r in await trail(ledger)] == ["quota_raise"]
    again = await ledger.raise_quota(7, 1_000, key="q", audit_as=ADMIN)  # the same update delivered again
    assert again.replayed and len(await trail(ledger)) == 1
    with pytest.raises(QuotaExceeded):  # the refusal replayed: still nothing
        await ledger.charge(7, 5_000, key="c", audit_as=ADMIN)
    assert len(await trail(ledger)) == 1


async def test_concurrent_actions_each_get_their_row(ledger):
    await ledger.register(7)
    await asyncio.gather(*(ledger.grant(7, 1, key=f"g{i}", audit_as=ADMIN) for i in range(40)))
    rows = await trail(ledger, user_id=7)
    assert len(rows) == 40 and sorted(r.transfer_id for r in rows) == sorted({r.transfer_id for r in rows})
    assert [r.after["xp"] for r in rows] == list(range(90, 50, -1))  # each saw the one before it


async def _refuse_audit_rows(ledger: Ledger) -> None:
    if ledger.store.backend == "sqlite":
        sql = ["CREATE TRIGGER test_refuse BEFORE INSERT ON audit BEGIN SELECT RAISE(ABORT, 'no'); END"]
    else:
        sql = [("CREATE FUNCTION test_refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
                " RAISE EXCEPTION 'no' USING ERRCODE = 'check_violation'; END $$"),
               "CREATE TRIGGER test_refuse BEFORE INSERT ON audit FOR EACH ROW EXECUTE FUNCTION test_refuse()"]
    for statement in sql:
        assert await raw_sql(ledger, statement) is None


async def test_the_row_and_its_effect_are_one_transaction(ledger):
    """A row the database refuses takes its action with it: nothing of the grant is kept."""
    await ledger.register(7)
    await ledger.raise_quota(7, 1_000)
    before = (await ledger.balance(7), [r async for r in ledger.journal()])
    await _refuse_audit_rows(ledger)
    for call in (ledger.grant(7, 10, key="g", audit_as=ADMIN), ledger.charge(7, 100, key="c", audit_as=ADMIN),
                 ApiKeys(ledger.store).create("k", "read")):
        with pytest.raises(Exception):  # noqa: B017 - the database's refusal, whichever form it takes
            await call
    assert (await ledger.balance(7), [r async for r in ledger.journal()]) == before
    assert await ApiKeys(ledger.store).list() == []
    await ledger.grant(7, 10)  # unaudited writes go on
    assert (await ledger.balance(7)).xp == 60


@pytest.mark.parametrize("statement", ["UPDATE audit SET note = 'x'", "UPDATE audit SET actor_id = 1",
                                       "DELETE FROM audit WHERE id = 1", "DELETE FROM audit", "TRUNCATE audit"])
async def test_the_trail_is_append_only(ledger, statement):
    await ledger.register(7)
    await ledger.grant(7, 10, audit_as=ADMIN)
    rows = await trail(ledger)
    if statement.startswith("TRUNCATE") and ledger.store.backend == "sqlite":
        statement = "DELETE FROM audit"  # SQLite has no TRUNCATE; this is its truncate optimization
    refused = await raw_sql(ledger, statement)
    assert refused is not None and "append-only" in str(refused)
    assert await trail(ledger) == rows


def test_cli_filters_by_user_actor_and_date_newest_first(db_url):
    async def setup() -> None:
        async with await Ledger.open(db_url) as ledger:
            await ledger.register(7)
            await ledger.register(8)
            await ledger.grant(7, 1, audit_as=ADMIN)
            await ledger.grant(8, 2, audit_as=Actor("bot", "Other", 9001))
            await ledger.raise_quota(7, 500, audit_as=Actor("api", "crm"))
            await ApiKeys(ledger.store).create("ops", "read")  # the CLI's own: actor cli

            async def old(tx: Any) -> None:  # a row from long ago, as an older run would have left it
                await tx.write("INSERT INTO audit(ts, via, actor, action, user_id) VALUES (?, 'cli', 'cli', 'old', 7)",
                         (1_500_000_000,))  # 2017-07-14
            await ledger.store.write(old, None, "test")

    asyncio.run(setup())

    def lines(*args: str) -> list[dict]:
        done = cli("--db", db_url, "audit", *args)
        assert done.returncode == 0, done.stderr
        return [json.loads(line) for line in done.stdout.splitlines()]

    every = lines()
    assert [r["action"] for r in every] == ["old", "apikey_create", "quota_raise", "grant", "grant"]
    assert [r["id"] for r in every[1:]] == sorted((r["id"] for r in every[1:]), reverse=True)
    assert [(r["action"], r["amount"]) for r in lines("--user", "7")] == [("old", None), ("quota_raise", "5.00"),
                                                                         ("grant", 1)]
    assert [r["user_id"] for r in lines("--actor", "9001")] == [8]
    assert [r["action"] for r in lines("--actor", "crm")] == ["quota_raise"]
    assert [r["action"] for r in lines("--actor", "cli", "--since", "2020-01-01")] == ["apikey_create"]
    assert [r["action"] for r in lines("--user", "7", "--since", "2017-07-14T02:40:00+00:00")] == \
        ["old", "quota_raise", "grant"]
    assert [r["action"] for r in lines("--user", "7", "--since", "2017-07-14T02:40:01")] == ["quota_raise", "grant"]
    assert len(lines("--limit", "2")) == 2
    bad = cli("--db", db_url, "audit", "--since", "yesterday")
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "2026-12-01" in bad.stderr


def test_cli_writes_are_audited_as_cli(db_url, tmp_path):
    assert cli("--db", db_url, "apikey", "create", "crm", "--scope", "write").returncode == 0
    assert cli("--db", db_url, "apikey", "revoke", "crm").returncode == 0
    assert cli("--db", db_url, "apikey", "revoke", "nobody").returncode == 2  # refused: no row
    from tests.test_legacy import legacy_files
    tokens, _, ids = legacy_files(tmp_path)
    first = cli("--db", db_url, "import-legacy", "--tokens", str(tokens), "--map", str(ids), "--apply")
    assert first.returncode == 0, first.stdout + first.stderr
    again = cli("--db", db_url, "import-legacy", "--tokens", str(tokens), "--map", str(ids), "--apply")  # nothing new: no row
    assert again.returncode == 0, again.stdout + again.stderr
    rows = [json.loads(line) for line in cli("--db", db_url, "audit").stdout.splitlines()]
    assert [(r["action"], r["via"], r["actor"]) for r in rows] == [
        ("import_legacy", "cli", "cli"), ("import_legacy", "cli", "cli"), ("apikey_revoke", "cli", "cli"),
        ("apikey_create", "cli", "cli")]
    assert rows[2]["note"] == "crm"


def test_the_audit_is_exported(db_url):
    async def setup() -> None:
        async with await Ledger.open(db_url) as ledger:
            await ledger.register(7)
            await ledger.raise_quota(7, 1_050, note="=HYPERLINK()", audit_as=ADMIN)
    asyncio.run(setup())
    done = cli("--db", db_url, "export", "--audit")
    assert done.returncode == 0, done.stderr
    import csv
    import io
    rows = list(csv.reader(io.StringIO(done.stdout)))
    assert rows[0][:6] == ["id", "at", "via", "actor_id", "actor", "action"] and len(rows) == 2
    assert rows[1][5:9] == ["quota_raise", "7", "10.50", "TL"] and rows[1][11] == "'=HYPERLINK()"


async def test_copy_moves_the_trail_and_adds_its_own_row(db_url, tmp_path):
    src = f"sqlite:///{tmp_path / 'src.db'}"
    async with await Ledger.open(src) as ledger:
        await ledger.register(7)
        await ledger.grant(7, 5, audit_as=ADMIN)
    done = await asyncio.to_thread(cli, "copy", src, db_url)
    assert done.returncode == 0, done.stdout + done.stderr
    async with await Ledger.open(db_url) as ledger:
        rows = await trail(ledger)
    assert [(r.action, r.via) for r in rows] == [("copy", "cli"), ("grant", "bot")]
    assert rows[0].note == f"from {src}" and rows[1].actor == "Ayşe Admin"


def test_cli_actor_is_cli():
    assert CLI == Actor("cli", "cli")

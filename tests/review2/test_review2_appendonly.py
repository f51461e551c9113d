"""Hostile review 2: the audit trail's append-only rule on SQLite has a REPLACE hole: a
REPLACE conflict resolution deletes the old row without firing DELETE triggers (SQLite fires
them only with PRAGMA recursive_triggers on), so a row can be rewritten in place."""

from __future__ import annotations

from economy import Ledger
from economy.audit import Actor, AuditFilter, AuditLog
from tests.conftest import raw_sql


async def test_sqlite_audit_row_rewritten_with_insert_or_replace(tmp_path, clock):
    ledger = await Ledger.open(tmp_path / "e.db", clock=clock)
    try:
        await ledger.register(1)
        await ledger.grant(1, 500, audit_as=Actor("bot", "mallory", 9))
        (row,) = [e async for e in AuditLog(ledger.store).walk(AuditFilter())]
        err = await raw_sql(ledger,
                            "INSERT OR REPLACE INTO audit(id, ts, via, actor_id, actor, action, user_id, amount, unit,"
                            " before, after, note, transfer_id) VALUES (?, ?, 'bot', 1, 'someone else', 'grant', 1, 5,"
                            " 'XP', '{}', '{}', '', NULL)", (row.id, row.ts))
        (after,) = [e async for e in AuditLog(ledger.store).walk(AuditFilter())]
        print("verify after the rewrite:", await ledger.verify())
        assert err is not None and (after.actor, after.amount) == ("mallory", 500), \
            f"audit row {row.id} rewritten: now by {after.actor!r}, amount {after.amount}"
    finally:
        await ledger.close()


async def test_sqlite_gift_row_rewritten_with_replace(tmp_path, clock):
    ledger = await Ledger.open(tmp_path / "e.db", clock=clock)
    try:
        clock.now -= 4 * 86400
        for u in (1, 2):
            await ledger.register(u)
            await ledger.grant(u, 100)
            await ledger.convert(u, 100)
        clock.now += 4 * 86400
        g = await ledger.gift(1, 2, 10)
        err = await raw_sql(ledger, "REPLACE INTO gifts SELECT transfer_id, sender, recipient, amount,"
                            " sender_day - 1, created_at FROM gifts WHERE transfer_id = ?", (g.transfer_id,))
        print("verify after the rewrite:", await ledger.verify())
        assert err is not None, "a gift moved to yesterday (its caps freed) by REPLACE"
    finally:
        await ledger.close()

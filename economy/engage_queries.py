"""Issue 23's reads: the streak as it stands, reminders due, gift flows, and what `verify`
checks of streak bonuses, gifts, freezes and reminders. Run by Store.read, like economy/queries.py."""

from __future__ import annotations

from typing import Any

from economy import queries
from economy.catalog import FREEZE_MAX
from economy.localdays import LocalDays
from economy.models import GiftFlow, Reminder
from economy.storage.schema import FREEZE_REVENUE, GIFT_IN, GIFT_OUT, GIFTS, STREAK, TOKEN, XP, XP_ISSUER

Db = Any
#: A reminder is sent this long before a boost or a priority DM ends...
PERK_NOTICE = 3600
#: ...and this long before the local midnight that ends a streak's day.
STREAK_NOTICE = 3 * 3600
#: Streaks this long or longer get the evening reminder.
STREAK_REMINDED = 3
#: A reminder still pending after this many seconds is reported by verify.
STUCK_AFTER = 3600


def streak_now(days: LocalDays, now: int, daily_at: int | None, streak: int, freezes: int) -> tuple[int, bool]:
    """(the streak a /daily today would continue, 0 if it is gone; /daily taken today)."""
    if daily_at is None:
        return 0, False
    last, today = days.day(daily_at), days.day(now)
    if last >= today:
        return streak, True
    return (streak if today - last - 1 <= freezes else 0), False


_PERKS = {"boost": "boost_until", "dm": "dm_until"}


async def due_reminders(db: Db, now: int, days: LocalDays, limit: int) -> list[Reminder]:
    """Reminders due at `now` with no record yet, for active users who want them: a boost or
    priority DM ending within the hour; from three hours before local midnight, a streak of
    STREAK_REMINDED days or more not continued today that a claim today would still continue."""
    out: list[Reminder] = []
    for kind, column in _PERKS.items():
        rows = (await db.execute(
            f"SELECT w.user_id, w.{column}, u.language FROM wallets w JOIN users u ON u.user_id = w.user_id"
            f" WHERE w.{column} > ? AND w.{column} <= ? AND u.notify = 1 AND u.active = 1 AND NOT EXISTS"
            f" (SELECT 1 FROM reminders r WHERE r.kind = ? AND r.user_id = w.user_id AND r.ref = w.{column})"
            f" ORDER BY w.{column}, w.user_id LIMIT ?",
            (now, now + PERK_NOTICE, kind, limit),
        )).fetchall()
        out += [Reminder(kind, uid, until, until, lang) for uid, until, lang in rows]
    today = days.day(now)
    ends = days.midnight(today + 1)
    if now >= ends - STREAK_NOTICE:
        # alive: the last claim was yesterday, or as many days before as the freezes held cover
        since = [days.midnight(today - 1 - n) for n in range(FREEZE_MAX + 1)]
        alive = " OR ".join(f"(w.freezes >= {n} AND w.daily_at >= ?)" for n in range(FREEZE_MAX + 1))
        rows = (await db.execute(
            "SELECT w.user_id, w.streak, u.language FROM wallets w JOIN users u ON u.user_id = w.user_id"
            f" WHERE w.streak >= ? AND w.daily_at < ? AND ({alive}) AND u.notify = 1 AND u.active = 1"
            " AND NOT EXISTS (SELECT 1 FROM reminders r WHERE r.kind = 'streak' AND r.user_id = w.user_id"
            " AND r.ref = ?) ORDER BY w.user_id LIMIT ?",
            (STREAK_REMINDED, days.midnight(today), *since, today, limit),
        )).fetchall()
        out += [Reminder("streak", uid, today, ends, lang, streak) for uid, streak, lang in rows]
    return out[:limit]


async def reminders(db: Db, user_id: int) -> list[Reminder]:
    rows = (await db.execute("SELECT kind, ref, state FROM reminders WHERE user_id = ? ORDER BY claimed_at, kind, ref",
                      (user_id,))).fetchall()
    return [Reminder(kind, user_id, ref, ref, state=state) for kind, ref, state in rows]


async def gift_flows(db: Db, since: int, limit: int) -> list[GiftFlow]:
    rows = (await db.execute(
        "SELECT g.sender, s.first_name, g.recipient, r.first_name, COUNT(*), SUM(g.amount) FROM gifts g"
        " JOIN users s ON s.user_id = g.sender JOIN users r ON r.user_id = g.recipient WHERE g.created_at >= ?"
        " GROUP BY g.sender, s.first_name, g.recipient, r.first_name ORDER BY SUM(g.amount) DESC, g.sender,"
        " g.recipient LIMIT ?", (since, max(1, min(limit, queries.MAX_PER_PAGE))),
    )).fetchall()
    return [GiftFlow(*row) for row in rows]


async def verify(db: Db, now: int | None = None) -> list[str]:
    """Streak bonuses follow their /daily, every gift is its two lines and its row, GIFTS is
    back at zero, nobody holds freezes they did not buy, no reminder is left pending."""
    problems: list[str] = []
    for (tid,) in await db.execute(
        "SELECT s.id FROM transfers s LEFT JOIN transfers d ON d.id = s.user_prev WHERE s.kind = ? AND"
        " (d.id IS NULL OR d.kind <> 'earn' OR d.ref <> 'daily' OR d.ts <> s.ts OR d.user_id <> s.user_id"
        f" OR s.asset <> 'XP' OR s.debit_id <> {XP_ISSUER} OR s.credit_id <> s.user_id * 4 + {XP}) LIMIT 10",
        (STREAK,),
    ):
        problems.append(f"streak bonus {tid} does not follow its user's /daily")
    mine = f"* 4 + {TOKEN}"
    for (tid,) in await db.execute(
        "SELECT g.transfer_id FROM gifts g LEFT JOIN transfers o ON o.id = g.transfer_id"
        " LEFT JOIN transfers i ON i.id = g.transfer_id + 1 WHERE o.id IS NULL OR i.id IS NULL"
        f" OR o.kind <> ? OR o.amount <> g.amount OR o.debit_id <> g.sender {mine} OR o.credit_id <> {GIFTS}"
        f" OR o.user_id <> g.sender OR i.kind <> ? OR i.amount <> g.amount OR i.debit_id <> {GIFTS}"
        f" OR i.credit_id <> g.recipient {mine} OR i.user_id <> g.recipient OR i.ts <> o.ts LIMIT 10",
        (GIFT_OUT, GIFT_IN),
    ):
        problems.append(f"gift {tid} does not match its two journal lines")
    stray = (await db.execute(
        "SELECT COUNT(*) FROM transfers t WHERE (t.kind = ? AND NOT EXISTS (SELECT 1 FROM gifts g"
        " WHERE g.transfer_id = t.id)) OR (t.kind = ? AND NOT EXISTS (SELECT 1 FROM gifts g"
        " WHERE g.transfer_id = t.id - 1))", (GIFT_OUT, GIFT_IN),
    )).fetchone()[0]
    if stray:
        problems.append(f"{stray} gift lines belong to no gift")
    transit = (await db.execute("SELECT balance FROM accounts WHERE id = ?", (GIFTS,))).fetchone()
    if transit is None or transit[0] != 0:
        problems.append(f"the gifts account holds {transit[0] if transit else 'nothing (missing)'}, not 0")
    for user, held in await db.execute(
        "SELECT w.user_id, w.freezes FROM wallets w WHERE w.freezes > 0 AND w.freezes > (SELECT COUNT(*)"
        f" FROM transfers t WHERE t.credit_id = {FREEZE_REVENUE} AND t.debit_id = w.user_id {mine}) LIMIT 10"
    ):
        problems.append(f"user {user} holds {held} streak freezes, more than they bought")
    odd = (await db.execute("SELECT COUNT(*) FROM wallets WHERE (daily_at IS NULL) <> (streak = 0)")).fetchone()[0]
    if odd:
        problems.append(f"{odd} wallets have a streak without a /daily, or a /daily without a streak")
    if now is not None:
        for kind, user, ref, claimed in await db.execute(
            "SELECT kind, user_id, ref, claimed_at FROM reminders WHERE state = 'pending' AND claimed_at < ?"
            " ORDER BY claimed_at LIMIT 10", (now - STUCK_AFTER,),
        ):
            problems.append(f"{kind} reminder {ref} of user {user} pending since {claimed}: is the bot running?")
    return problems

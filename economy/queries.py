"""Reads, each run inside one read transaction by Store.read (a consistent snapshot)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from economy import audit
from economy.catalog import ITEM_CODES, content_of
from economy.errors import InvalidInput, NotFound
from economy.models import (
    IMPORTED, Balance, ContentItem, CreditUser, Delivery, Entry, Notice, Page, Profile, Spender, Stats, Ticket, Window,
    decode_outcome,
)
from economy.storage import Db
from economy.storage.schema import (
    CREDIT, FREEZE_REVENUE, LEGACY_CREDIT, LEGACY_TOKENS, QUOTA_ISSUER, REVENUE, TOKEN, TOKEN_MINT, TOP_KEEP,
    USER_ACCOUNTS, XP, XP_CONVERTED, XP_ISSUER, account_id,
)

MAX_PER_PAGE = 50
#: The longest search text (the dashboard's search field holds as much).
MAX_SEARCH = 64


async def schema_version(db: Db) -> int:
    return await db.schema_version()


async def balance(db: Db, user_id: int, now: int) -> tuple[Balance, int | None, int, int]:
    """Balances, perks and content owned, with the streak's stored fields (daily_at, streak,
    freezes): one statement (a row per content item owned, or one row without), so it needs no
    transaction of its own (Store.read_single)."""
    rows = (await db.execute(
        "SELECT w.xp, w.token, w.credit, w.credit_used, w.vip_since, w.badge_since, w.boost_until, w.dm_until,"
        " w.daily_at, w.streak, w.freezes, e.ref FROM wallets w LEFT JOIN entitlements e"
        " ON e.user_id = w.user_id AND e.item = 'content' WHERE w.user_id = ? ORDER BY e.ref", (user_id,),
    )).fetchall()
    if not rows:
        raise NotFound(what="user", ref=str(user_id))
    xp, tokens, avail, used, vip, badge, boost, dm, daily_at, streak, freezes, _ = rows[0]
    content = tuple(r[-1] for r in rows if r[-1] is not None)
    return Balance(
        user_id, xp, tokens, avail + used, used, vip=vip is not None, badge=badge is not None,
        boost_until=boost if boost is not None and boost > now else None,
        dm_until=dm if dm is not None and dm > now else None, content=content,
    ), daily_at, streak, freezes


def _profile(row: tuple) -> Profile:  # type: ignore[type-arg]
    return Profile(row[0], row[1], row[2], row[3], bool(row[4]), row[5], bool(row[6]))


_PROFILE = "SELECT user_id, username, first_name, language, active, registered_at, notify FROM users"


async def profile(db: Db, user_id: int) -> Profile:
    row = (await db.execute(f"{_PROFILE} WHERE user_id = ?", (user_id,))).fetchone()
    if row is None:
        raise NotFound(what="user", ref=str(user_id))
    return _profile(row)


async def find_user(db: Db, username: str) -> Profile:
    name = username.lstrip("@").lower()[:64]
    row = (await db.execute(f"{_PROFILE} WHERE username = ?", (name,))).fetchone()  # unique since v4
    if row is None:
        raise NotFound(what="user", ref="@" + name)
    return _profile(row)


def _page(total: int, page: int, per_page: int) -> tuple[int, int, int]:
    per_page = max(1, min(per_page, MAX_PER_PAGE))
    pages = max(1, -(-total // per_page))
    page = max(0, min(page, pages - 1))
    return page, pages, per_page


async def history(db: Db, user_id: int, page: int, per_page: int) -> Page:
    """The user's journal lines, newest first: their chain through the journal, from the last;
    then the old system's transactions brought in by import-legacy (kind IMPORTED), newest first."""
    await profile(db, user_id)
    last, total = (await db.execute("SELECT last_transfer, transfers FROM wallets WHERE user_id = ?",
                                    (user_id,))).fetchone()
    imported = (await db.execute("SELECT COUNT(*) FROM legacy_history WHERE user_id = ?", (user_id,))).fetchone()[0]
    page, pages, per_page = _page(total + imported, page, per_page)
    mine = {account_id(user_id, n) for n in (XP, TOKEN, CREDIT)}
    skip = page * per_page
    rows = (await db.execute(
        "WITH RECURSIVE chain(id, n) AS (SELECT CAST(? AS BIGINT), 0 UNION ALL"
        " SELECT t.user_prev, chain.n + 1 FROM chain JOIN transfers t ON t.id = chain.id"
        " WHERE t.user_prev IS NOT NULL AND chain.n + 1 < ?)"
        " SELECT t.id, t.ts, t.kind, t.asset, t.debit_id, t.amount, t.ref, t.actor, c.title FROM chain"
        " JOIN transfers t ON t.id = chain.id"
        " LEFT JOIN content c ON t.ref LIKE 'content:%' AND c.content_id = substr(t.ref, 9)"
        " WHERE chain.n >= ? ORDER BY chain.n",
        (last, skip + per_page, skip),
    )).fetchall() if last is not None and skip < total else []
    items = tuple(
        Entry(tid, ts, kind, asset, -amount if debit in mine else amount, ref, actor, title or "")
        for tid, ts, kind, asset, debit, amount, ref, actor, title in rows
    )
    if imported and len(items) < per_page:
        old = (await db.execute(
            "SELECT id, ts, amount, reason FROM legacy_history WHERE user_id = ? ORDER BY id DESC LIMIT ? OFFSET ?",
            (user_id, per_page - len(items), max(0, skip - total)),
        )).fetchall()
        items += tuple(Entry(tid, ts, IMPORTED, "TOKEN", amount, reason, None) for tid, ts, amount, reason in old)
    return Page(items, page, pages, total + imported)


async def top_spenders(db: Db, limit: int) -> list[Spender]:
    rows = (await db.execute(
        "SELECT t.user_id, u.first_name, u.username, t.spent, w.vip_since IS NOT NULL FROM top_spenders t"
        " JOIN users u ON u.user_id = t.user_id JOIN wallets w ON w.user_id = t.user_id"
        " ORDER BY t.spent DESC, t.user_id LIMIT ?",
        (max(1, min(limit, MAX_PER_PAGE)),),
    )).fetchall()
    return [Spender(uid, name, uname, spent, bool(vip)) for uid, name, uname, spent, vip in rows]


async def stats(db: Db) -> Stats:
    """System figures from the system accounts (no journal scan)."""
    system = dict((await db.execute("SELECT id, balance FROM accounts WHERE id < 0")).fetchall())
    spent = {code: system[REVENUE[code]] for code in ITEM_CODES}
    users, active = (await db.execute("SELECT COUNT(*), COALESCE(SUM(active), 0) FROM users")).fetchone()
    used = (await db.execute("SELECT COALESCE(SUM(credit_used), 0) FROM wallets WHERE credit_used > 0")).fetchone()[0]
    credit_users = (await db.execute("SELECT COUNT(*) FROM wallets WHERE credit_credits > 0")).fetchone()[0]
    # Balances brought in by import-legacy count as minted, and as quota given.
    freezes = system.get(FREEZE_REVENUE, 0)
    minted, tokens_spent = -system[TOKEN_MINT] - system.get(LEGACY_TOKENS, 0), sum(spent.values()) + freezes
    issued, converted = -system[XP_ISSUER], system[XP_CONVERTED]
    return Stats(
        users=users, active_users=active, credit_users=credit_users, xp_issued=issued,
        xp_converted=converted, xp_outstanding=issued - converted, tokens_minted=minted,
        tokens_spent=tokens_spent, tokens_in_circulation=minted - tokens_spent, spent_per_item=spent,
        credit_quota=-system[QUOTA_ISSUER] - system.get(LEGACY_CREDIT, 0), credit_used=used,
        freeze_spent=freezes,
    )


async def credit_users(db: Db, page: int, per_page: int) -> Page:
    """Users who were ever given a quota, with their figures, by user id."""
    total = (await db.execute("SELECT COUNT(*) FROM wallets WHERE credit_credits > 0")).fetchone()[0]
    page, pages, per_page = _page(total, page, per_page)
    return Page(await _credit_users(db, page * per_page, per_page), page, pages, total)


async def credit_users_window(db: Db, offset: int, limit: int) -> Window:
    """`credit_users` from any position (for pages as long as what fits)."""
    total = (await db.execute("SELECT COUNT(*) FROM wallets WHERE credit_credits > 0")).fetchone()[0]
    offset = max(0, min(offset, total))
    return Window(await _credit_users(db, offset, max(1, min(limit, MAX_PER_PAGE))), offset, total)


async def _credit_users(db: Db, offset: int, limit: int) -> tuple[CreditUser, ...]:
    rows = (await db.execute(
        "SELECT w.user_id, u.first_name, u.username, w.credit, w.credit_used FROM wallets w"
        " JOIN users u ON u.user_id = w.user_id WHERE w.credit_credits > 0 ORDER BY w.user_id LIMIT ? OFFSET ?",
        (limit, offset),
    )).fetchall()
    return tuple(CreditUser(uid, name, uname, avail + used, used) for uid, name, uname, avail, used in rows)


_CONTENT = "SELECT content_id, title, media, file_ref, price FROM content"


async def content(db: Db, content_id: str) -> ContentItem:
    row = (await db.execute(f"{_CONTENT} WHERE content_id = ?", (content_id,))).fetchone()
    if row is None:
        raise NotFound(what="content", ref=str(content_id)[:40])
    return ContentItem(*row)


async def list_content(db: Db) -> list[ContentItem]:
    return [ContentItem(*row) for row in await db.execute(f"{_CONTENT} ORDER BY added_at, content_id LIMIT 200")]


async def owned_content(db: Db, user_id: int) -> list[ContentItem]:
    await profile(db, user_id)
    return [ContentItem(*row) for row in await db.execute(
        f"{_CONTENT} WHERE content_id IN (SELECT ref FROM entitlements WHERE user_id = ? AND item = 'content')"
        " ORDER BY content_id", (user_id,))]


async def inbox(db: Db, limit: int, offset: int = 0) -> list[Ticket]:
    """Open support messages: priority ones first, then oldest first."""
    rows = (await db.execute(
        "SELECT id, user_id, text, priority, created_at FROM support_messages WHERE answered_at IS NULL"
        " ORDER BY priority DESC, id LIMIT ? OFFSET ?", (max(1, min(limit, MAX_PER_PAGE)), max(0, offset)),
    )).fetchall()
    return [Ticket(tid, uid, text, bool(prio), ts) for tid, uid, text, prio, ts in rows]


async def inbox_window(db: Db, offset: int, limit: int) -> Window:
    """`inbox` from any position, with the number of open messages."""
    total = (await db.execute("SELECT COUNT(*) FROM support_messages WHERE answered_at IS NULL")).fetchone()[0]
    offset = max(0, min(offset, total))
    return Window(tuple(await inbox(db, limit, offset)), offset, total)


async def recorded(db: Db, key: str, now: int) -> object | None:
    """What the write under idempotency key `key` returned (a result, or the refusal as an
    exception instance), or None when the key is unknown or expired."""
    row = (await db.execute("SELECT result, expires_at FROM idempotency WHERE key = ?", (key,))).fetchone()
    if row is None or (row[1] is not None and row[1] <= now):
        return None
    return decode_outcome(row[0])


@dataclass(frozen=True, slots=True)
class FoundDelivery:
    """A delivery with what settling it needs: its claim and its movement (kind, asset,
    debit_id, credit_id, amount, user_id, ref)."""

    delivery: Delivery
    claimed_at: int
    claimed_by: str
    transfer: tuple[Any, ...]

    @property
    def state(self) -> str:
        return self.delivery.state


async def found_delivery(db: Db, transfer_id: int) -> FoundDelivery:
    row = (await db.execute(
        "SELECT d.user_id, d.kind, d.state, d.claimed_at, d.claimed_by, d.message_id, d.refund_id, d.reason,"
        " d.source, t.kind, t.asset, t.debit_id, t.credit_id, t.amount, t.user_id, t.ref"
        " FROM deliveries d JOIN transfers t ON t.id = d.transfer_id WHERE d.transfer_id = ?", (transfer_id,),
    )).fetchone()
    if row is None:
        raise NotFound(what="delivery", ref=str(transfer_id))
    user_id, kind, state, claimed_at, claimed_by, message_id, refund_id, reason, source = row[:9]
    transfer = tuple(row[9:])
    return FoundDelivery(Delivery(transfer_id, user_id, kind, state, transfer[4], content_of(transfer[6]) or "",
                                  message_id, refund_id, reason, source=source), claimed_at, claimed_by, transfer)


async def delivery(db: Db, transfer_id: int) -> Delivery:
    return (await found_delivery(db, transfer_id)).delivery


async def pending_deliveries(db: Db, user_id: int, limit: int = 5) -> list[Delivery]:
    """A user's deliveries not settled yet, oldest first."""
    rows = (await db.execute(
        "SELECT d.transfer_id, d.kind, t.amount, t.ref, t.ts FROM deliveries d JOIN transfers t ON t.id = d.transfer_id"
        " WHERE d.user_id = ? AND d.state = 'pending' ORDER BY d.transfer_id LIMIT ?", (user_id, limit),
    )).fetchall()
    return [Delivery(tid, user_id, kind, "pending", amount, content_of(ref) or "",
                     since=ts) for tid, kind, amount, ref, ts in rows]


@dataclass(frozen=True, slots=True)
class FoundNotice:
    notice: Notice
    claimed_at: int
    claimed_by: str

    @property
    def state(self) -> str:
        return self.notice.state


async def found_notice(db: Db, transfer_id: int) -> FoundNotice:
    row = (await db.execute(
        "SELECT user_id, kind, data, state, claimed_at, claimed_by, message_id, reason FROM notices"
        " WHERE transfer_id = ?", (transfer_id,),
    )).fetchone()
    if row is None:
        raise NotFound(what="notice", ref=str(transfer_id))
    user_id, kind, data, state, claimed_at, claimed_by, message_id, reason = row
    return FoundNotice(Notice(transfer_id, user_id, kind, json.loads(data), state, message_id, reason),
                       claimed_at, claimed_by)


async def notice(db: Db, transfer_id: int) -> Notice:
    return (await found_notice(db, transfer_id)).notice


async def unsettled(db: Db, table: str, now: int, lease: int, limit: int = 100) -> list[int]:
    """The pending rows of `deliveries` or `notices` (transfer ids, oldest first) whose claim
    is older than `lease` seconds: nobody is sending them (a live send never outlasts a lease)."""
    assert table in ("deliveries", "notices")
    return [tid for (tid,) in await db.execute(
        f"SELECT transfer_id FROM {table} WHERE state = 'pending' AND claimed_at <= ? ORDER BY transfer_id LIMIT ?",
        (now - lease, limit))]


async def journal(db: Db, after: int = 0, limit: int = 5000) -> list[tuple]:  # type: ignore[type-arg]
    return (await db.execute(
        "SELECT id, ts, kind, asset, debit_id, credit_id, amount, user_id, ref, actor FROM transfers"
        " WHERE id > ? ORDER BY id LIMIT ?", (after, limit),
    )).fetchall()


def _asset_of(column: str) -> str:
    """SQL for the asset of the account whose id is in `column`."""
    users = " ".join(f"WHEN {n} THEN '{asset}'" for n, (_, asset) in USER_ACCOUNTS.items())
    return (f"CASE WHEN {column} > 0 THEN CASE {column} % 4 {users} END"
            f" ELSE (SELECT asset FROM accounts WHERE id = {column}) END")


#: A delivery still pending this long after its charge was given up by every worker.
STUCK_AFTER = 3600


async def verify(db: Db, now: int | None = None) -> list[str]:
    """Check every invariant; return what is wrong (empty when all hold). With `now`, a delivery
    pending for over STUCK_AFTER seconds is reported too (nobody will settle it by itself)."""
    problems: list[str] = []
    try:
        lines = await db.integrity_check()
        if lines:
            problems.append(f"damaged: integrity_check found {len(lines)} problems: " + "; ".join(lines[:5]))
        await _verify_ledger(db, problems, now)
        from economy import engage_queries  # imports this module: imported here, once needed
        problems += await engage_queries.verify(db, now)
    except db.damage as exc:  # a damaged page: what was found so far, and that
        problems.append(f"damaged: the ledger cannot be read to the end ({exc})")
    return problems


async def _verify_ledger(db: Db, problems: list[str], now: int | None) -> None:
    sums = "SELECT acc, SUM(d), SUM(c) FROM (SELECT debit_id AS acc, amount AS d, 0 AS c FROM transfers" \
           " UNION ALL SELECT credit_id, 0, amount FROM transfers) AS moves GROUP BY acc"
    journal_sums = {acc: (d, c) for acc, d, c in await db.execute(sums)}
    for acc, user, name, bal, debits, credits in await db.execute(
        "SELECT id, user_id, name, balance, debits, credits FROM all_accounts"
    ):
        d, c = journal_sums.pop(acc, (0, 0))
        if (debits, credits) != (d, c) or bal != c - d:
            problems.append(f"account {acc} ({name}): cached {bal} (debits {debits}, credits {credits}),"
                            f" journal {c - d} (debits {d}, credits {c})")
        if user is not None and bal < 0:
            problems.append(f"account {acc} ({name}) of user {user} is negative: {bal}")
    for acc in journal_sums:
        problems.append(f"journal names account {acc}, which does not exist")
    for asset, total in await db.execute("SELECT asset, SUM(balance) FROM all_accounts GROUP BY asset"):
        if total != 0:
            problems.append(f"{asset} does not sum to zero: {total}")
    for tid, asset, da, ca in await db.execute(
        f"SELECT id, asset, da, ca FROM (SELECT id, asset, {_asset_of('debit_id')} AS da,"
        f" {_asset_of('credit_id')} AS ca FROM transfers) AS sides WHERE da <> asset OR ca <> asset LIMIT 10"
    ):
        problems.append(f"transfer {tid} moves {asset} between {da} and {ca} accounts")
    over = (await db.execute("SELECT COUNT(*) FROM wallets WHERE credit < 0")).fetchone()[0]
    if over:
        problems.append(f"{over} users have credit used above their quota")
    for (tid,) in await db.execute(
        "SELECT id FROM (SELECT id, user_prev, LAG(id) OVER (PARTITION BY user_id ORDER BY id) AS prev"
        " FROM transfers WHERE user_id IS NOT NULL) AS chain WHERE user_prev IS DISTINCT FROM prev LIMIT 10"
    ):
        problems.append(f"transfer {tid} does not point at its user's previous transfer")
    for user, last, count in await db.execute(
        "SELECT w.user_id, w.last_transfer, w.transfers FROM wallets w LEFT JOIN (SELECT user_id, MAX(id) AS last,"
        " COUNT(*) AS n FROM transfers WHERE user_id IS NOT NULL GROUP BY user_id) j ON j.user_id = w.user_id"
        " WHERE w.last_transfer IS DISTINCT FROM j.last OR w.transfers <> COALESCE(j.n, 0) LIMIT 10"
    ):
        problems.append(f"user {user}: wallet says {count} transfers up to {last}, the journal does not")
    for tid, state, problem in await db.execute(
        "SELECT * FROM (SELECT d.transfer_id, d.state, CASE WHEN t.id IS NULL THEN 'names no transfer'"
        " WHEN t.kind NOT IN ('file_charge', 'spend') OR t.user_id IS DISTINCT FROM d.user_id"
        " THEN 'names another movement'"
        " WHEN d.refund_id IS NOT NULL AND (r.id IS NULL OR r.kind <> 'delivery_refund' OR r.amount <> t.amount"
        " OR r.debit_id <> t.credit_id OR r.credit_id <> t.debit_id) THEN 'has no matching refund' END"
        " AS problem FROM deliveries d LEFT JOIN transfers t ON t.id = d.transfer_id"
        " LEFT JOIN transfers r ON r.id = d.refund_id) AS checked WHERE problem IS NOT NULL LIMIT 10"
    ):
        problems.append(f"delivery of transfer {tid} ({state}) {problem}")
    if now is not None:
        for tid, user, claimed in await db.execute(
            "SELECT transfer_id, user_id, claimed_at FROM deliveries WHERE state = 'pending' AND claimed_at < ?"
            " ORDER BY transfer_id LIMIT 10", (now - STUCK_AFTER,),
        ):
            problems.append(f"delivery of transfer {tid} to user {user} pending since {claimed}: settle it by hand")
        for tid, user, claimed in await db.execute(
            "SELECT transfer_id, user_id, claimed_at FROM notices WHERE state = 'pending' AND claimed_at < ?"
            " ORDER BY transfer_id LIMIT 10", (now - STUCK_AFTER,),
        ):
            problems.append(f"notice of transfer {tid} to user {user} pending since {claimed}: is the bot running?")
    unmatched = (await db.execute(
        "SELECT COUNT(*) FROM transfers t WHERE t.kind = 'delivery_refund'"
        " AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.refund_id = t.id)"
    )).fetchone()[0]
    if unmatched:
        problems.append(f"{unmatched} delivery refunds belong to no delivery")
    kept = (await db.execute("SELECT user_id, spent FROM top_spenders ORDER BY spent DESC, user_id")).fetchall()
    true = (await db.execute(
        "SELECT user_id, token_debits - tokens_given FROM wallets WHERE token_debits - tokens_given > 0"
        " ORDER BY token_debits - tokens_given DESC, user_id LIMIT ?", (TOP_KEEP,),
    )).fetchall()
    if kept != true:
        problems.append(f"top spenders table {kept[:3]}... is not the top {TOP_KEEP} {true[:3]}...")
    problems.extend(await audit.check(db))


DAY = 86400
#: The journal's tokens per day are summed in quarter hours (see token_days).
SLICE = 900
#: How a list of users can be ordered: the column, biggest first.
USER_ORDERS = {"available": "w.credit", "used": "w.credit_used"}


async def _first_transfer_at(db: Db, since: int) -> int | None:
    """Id of the first transfer stamped `since` or later, by binary search over ids (a batch
    is stamped with one time when it commits, so times grow with ids); no index on ts."""
    last = (await db.execute("SELECT MAX(id) FROM transfers")).fetchone()[0]
    if last is None:
        return None
    lo, hi = 1, last + 1
    while lo < hi:
        mid = (lo + hi) // 2
        row = (await db.execute("SELECT ts FROM transfers WHERE id >= ? ORDER BY id LIMIT 1", (mid,))).fetchone()
        if row is not None and row[0] >= since:
            hi = mid
        else:
            lo = mid + 1
    return lo if lo <= last else None


async def token_days(db: Db, after: int | None, since: int, chunk: int) -> tuple[int, dict[int, list[int]]]:
    """Tokens minted and spent (net of reversals) per quarter hour (SLICE seconds: every time
    zone's offset is a whole number of them, so the caller sums them into its local days), among
    at most `chunk` transfers following id `after` (None: from the first one stamped `since` or
    later); and the last id read. Ids grow in commit order, so a caller that goes on from there
    never misses one."""
    last = (await db.execute("SELECT COALESCE(MAX(id), 0) FROM transfers")).fetchone()[0]
    if after is None:
        first = await _first_transfer_at(db, since)
        after = last if first is None else first - 1
    end = min(last, after + max(1, chunk))
    mint, revenue = TOKEN_MINT, ", ".join(str(acc) for acc in (*REVENUE.values(), FREEZE_REVENUE))
    rows = (await db.execute(
        f"SELECT ts / {SLICE},"
        f" SUM(CASE WHEN debit_id = {mint} THEN amount WHEN credit_id = {mint} THEN -amount ELSE 0 END),"
        f" SUM(CASE WHEN credit_id IN ({revenue}) THEN amount WHEN debit_id IN ({revenue}) THEN -amount ELSE 0 END)"
        f" FROM transfers WHERE id > ? AND id <= ? AND ts >= ? AND asset = 'TOKEN' GROUP BY ts / {SLICE}",
        (after, end, since),
    )).fetchall()
    return end, {piece * SLICE: [earned, spent] for piece, earned, spent in rows}


def _utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def search_users(db: Db, text: str, order: str, page: int, per_page: int) -> Page:
    """Users with a quota (no `text`), or every user whose id is `text`, whose @username starts
    with it or whose name or username contains it; biggest `order` figure first."""
    if order not in USER_ORDERS:
        raise InvalidInput(text=str(order)[:32], reason="bad_order")
    text = (text or "").strip()
    if len(text) > MAX_SEARCH:
        raise InvalidInput(text=text[:32], reason="too_long")
    if "\x00" in text or not _utf8(text):  # PostgreSQL refuses a NUL; no backend takes a lone surrogate
        raise InvalidInput(text=text[:32], reason="not_text")
    where, args = "w.credit_credits > 0", []
    if text.startswith("@"):
        where, args = "u.username LIKE ? ESCAPE '\\'", [_like(text[1:].lower()) + "%"]
    elif text:
        pattern = "%" + _like(text.lower()) + "%"
        where, args = "lower(u.first_name) LIKE ? ESCAPE '\\' OR u.username LIKE ? ESCAPE '\\'", [pattern, pattern]
        if text.isascii() and text.isdigit() and len(text) <= 16:
            where, args = f"u.user_id = ? OR {where}", [int(text), *args]
    source = f"FROM wallets w JOIN users u ON u.user_id = w.user_id WHERE {where}"
    total = (await db.execute(f"SELECT COUNT(*) {source}", args)).fetchone()[0]
    page, pages, per_page = _page(total, page, per_page)
    rows = (await db.execute(
        f"SELECT w.user_id, u.first_name, u.username, w.credit, w.credit_used {source}"
        f" ORDER BY {USER_ORDERS[order]} DESC, w.user_id LIMIT ? OFFSET ?", (*args, per_page, page * per_page),
    )).fetchall()
    items = tuple(CreditUser(uid, name, uname, avail + used, used) for uid, name, uname, avail, used in rows)
    return Page(items, page, pages, total)

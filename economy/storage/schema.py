"""What both dialects' schemas share: account ids, the wallet's columns, the states of a
delivery and a notice, and the refusal of a database at another schema.

The DDL itself lives per dialect, one plain function per version (schema_sqlite.py,
schema_postgres.py); tests/test_schema_parity.py compares the two after migration.
"""

from __future__ import annotations

from economy.catalog import ITEM_CODES

# Account ids. A user's accounts are user_id * 4 + n, so no lookup is needed to find them.
USED, XP, TOKEN, CREDIT = 0, 1, 2, 3
USER_ACCOUNTS = {XP: ("xp", "XP"), TOKEN: ("token", "TOKEN"), CREDIT: ("credit", "CREDIT"), USED: ("credit_used", "CREDIT")}

XP_ISSUER, XP_CONVERTED, TOKEN_MINT, QUOTA_ISSUER = -1, -2, -3, -4
REVENUE = {code: -10 - i for i, code in enumerate(ITEM_CODES)}
SYSTEM_ACCOUNTS = {
    XP_ISSUER: ("xp_issuer", "XP"),
    XP_CONVERTED: ("xp_converted", "XP"),
    TOKEN_MINT: ("token_mint", "TOKEN"),
    QUOTA_ISSUER: ("quota_issuer", "CREDIT"),
    **{acc: (f"revenue:{code}", "TOKEN") for code, acc in REVENUE.items()},
}


def account_id(user_id: int, n: int) -> int:
    return user_id * 4 + n


#: Since v3 a user's four accounts live in one `wallets` row, next to their perks, so a
#: purchase rewrites one row (one page) instead of an account row, an entitlement row and two
#: index entries. Each account keeps balance, debits and credits: account n of user u is the
#: columns ACCOUNT_COLUMNS[n] of wallet u.
ACCOUNT_COLUMNS = {n: (name, f"{name}_debits", f"{name}_credits") for n, (name, _) in USER_ACCOUNTS.items()}
BALANCE_COLUMNS = tuple(column for columns in ACCOUNT_COLUMNS.values() for column in columns)
PERK_COLUMNS = {"vip": "vip_since", "badge": "badge_since", "boost": "boost_until", "dm": "dm_until"}
#: Since v8 /daily keeps the time of the last claim (`daily_at`, compared as local days: see
#: economy/localdays.py), the streak it is on and the streak freezes held, instead of a UTC day.
#: `tokens_given`: the part of token_debits that went out as gifts (not spending: top spenders
#: rank token_debits - tokens_given).
STREAK_COLUMNS = ("daily_at", "streak", "freezes", "tokens_given")
WALLET_COLUMNS = (*BALANCE_COLUMNS, *PERK_COLUMNS.values(), *STREAK_COLUMNS, "last_transfer", "transfers")
#: How many of the biggest spenders `top_spenders` keeps (the most /top can ask for).
TOP_KEEP = 50


#: What became of a movement that is worth something only once a file reaches the user (a file
#: charge, a content purchase). The row is written with the movement, so a redelivered update
#: finds it: `pending` until the send is settled, then `delivered` (with the message id),
#: `refunded` (with the reversing transfer and the reason) or `kept` (a purchase the owner takes
#: later with /mycontent). Only a pending row may change.
DELIVERY_STATES = ("pending", "delivered", "refunded", "kept")


#: Where the balances brought in from the seeds' old systems come from (python -m economy
#: import-legacy): per asset a system account, so every asset still sums to zero.
LEGACY_TOKENS, LEGACY_CREDIT = -30, -31
LEGACY_ACCOUNTS = {LEGACY_TOKENS: ("legacy_tokens", "TOKEN"), LEGACY_CREDIT: ("legacy_credit", "CREDIT")}
#: The journal kinds of an import: an opening token balance, a quota, the credit already used.
LEGACY_KINDS = ("legacy_open", "legacy_quota", "legacy_used")


#: What became of a notice a committed change owes a user (an admin's grant, a quota change, a
#: refund): written with the change, `pending` until it is sent (`sent`, with the message id) or
#: given up (`failed`, with the reason: the user blocked the bot, Telegram refused it). Only a
#: pending row may change; rows are kept.
NOTICE_STATES = ("pending", "sent", "failed")


#: Through what an audited action came (economy/audit.py).
AUDIT_VIAS = ("bot", "dashboard", "api", "cli")


#: Issue 23's system accounts: what streak freezes earn, and gifts on their way (a gift is one
#: movement written as two journal lines, sender -> GIFTS -> recipient, so each side's history
#: shows it; the account is back at zero after every gift).
FREEZE_REVENUE, GIFTS = -15, -16
ENGAGE_ACCOUNTS = {FREEZE_REVENUE: ("revenue:freeze", "TOKEN"), GIFTS: ("gifts", "TOKEN")}
#: The journal kinds of a gift's two lines, and of a streak bonus (ref `streak:<day>`).
GIFT_OUT, GIFT_IN, STREAK = "gift_out", "gift_in", "streak"
#: The reminders the scheduler sends (bot/reminders.py), and what became of each: recorded
#: `pending` before it is sent, then `sent`, `failed` (Telegram refused it for good) or `lost`
#: (its worker died during the send: never sent again, so never twice).
REMINDER_KINDS = ("boost", "dm", "streak")
REMINDER_STATES = ("pending", "sent", "failed", "lost")
#: The daily claims made before v9 were kept as a UTC day; their time is the journal's (the
#: user's own /daily: an admin's grant whose reason is "daily" has an actor and is no claim).
DAILY_AT = (
    "UPDATE wallets SET daily_at = j.at, streak = 1 FROM (SELECT user_id, MAX(ts) AS at FROM transfers"
    " WHERE kind = 'earn' AND ref = 'daily' AND actor IS NULL AND user_id IS NOT NULL GROUP BY user_id) AS j"
    " WHERE wallets.user_id = j.user_id AND wallets.last_daily_day IS NOT NULL"
)
#: A claim whose journal line is missing: the last second of its UTC day (never paid twice).
DAILY_AT_FALLBACK = ("UPDATE wallets SET daily_at = last_daily_day * 86400 + 86399, streak = 1"
                      " WHERE last_daily_day IS NOT NULL AND daily_at IS NULL")


def engage_tables(kind_int: str, options: str) -> str:
    """v9's new tables in either dialect (`kind_int`: INTEGER or BIGINT; `options`: the table
    options, ' STRICT' on SQLite)."""
    kinds = ", ".join(f"'{k}'" for k in REMINDER_KINDS)
    states = ", ".join(f"'{s}'" for s in REMINDER_STATES)
    return f"""
        CREATE TABLE gifts (
            transfer_id {kind_int} PRIMARY KEY,
            sender {kind_int} NOT NULL REFERENCES users(user_id),
            recipient {kind_int} NOT NULL REFERENCES users(user_id),
            amount {kind_int} NOT NULL CHECK (amount > 0),
            sender_day {kind_int} NOT NULL,
            created_at {kind_int} NOT NULL,
            CHECK (sender <> recipient)
        ){options};
        CREATE INDEX gifts_sent ON gifts(sender, sender_day);
        CREATE INDEX gifts_received ON gifts(recipient, sender_day);
        CREATE INDEX gifts_recent ON gifts(created_at);
        CREATE TABLE reminders (
            kind TEXT NOT NULL CHECK (kind IN ({kinds})),
            user_id {kind_int} NOT NULL REFERENCES users(user_id),
            ref {kind_int} NOT NULL,
            state TEXT NOT NULL CHECK (state IN ({states})),
            claimed_at {kind_int} NOT NULL,
            claimed_by TEXT NOT NULL,
            message_id {kind_int},
            reason TEXT NOT NULL DEFAULT '',
            updated_at {kind_int} NOT NULL,
            PRIMARY KEY (kind, user_id, ref),
            CHECK ((state = 'sent') = (message_id IS NOT NULL))
        ){options};
        CREATE INDEX reminders_pending ON reminders(claimed_at) WHERE state = 'pending';
        CREATE INDEX wallets_boost ON wallets(boost_until) WHERE boost_until IS NOT NULL;
        CREATE INDEX wallets_dm ON wallets(dm_until) WHERE dm_until IS NOT NULL;
        CREATE INDEX wallets_streak ON wallets(daily_at) WHERE streak >= 3;
    """


#: Broadcasts: an admin's message to a segment of users, and each recipient's state. A
#: recipient is `pending`, then `sending` (claimed just before its send), then `sent` (with
#: Telegram's message id), `blocked` (403), `failed` (refused) or `unknown` (its send was under
#: way at a crash, or its answer never came) or `skipped` (claimed, then the broadcast was
#: cancelled before its turn came: not sent): a claimed recipient never goes back to pending,
#: so nobody is sent the same broadcast twice, and an outcome is final.
BROADCAST_STATES = ("draft", "sending", "done", "cancelled")
RECIPIENT_STATES = ("pending", "sending", "sent", "blocked", "failed", "unknown", "skipped")
SEGMENTS = ("all", "vip", "quota", "active7", "tr", "en")
BROADCAST_KINDS = ("text", "photo", "document", "video")


def quoted(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{v}'" for v in values)


class SchemaMismatch(RuntimeError):
    """A database this code must not use as it is: no ledger there, or a ledger at another
    schema version (a reader never migrates, and nothing runs a newer schema). Its text is one
    line for the operator."""


def newer(where: str | None, found: int, current: int) -> str:
    return (f"the ledger{f' at {where}' if where else ''} is at schema {found}, newer than this code's {current}:"
            " use the newer version of the bot and its CLI")

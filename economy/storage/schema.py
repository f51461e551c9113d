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
WALLET_COLUMNS = (*BALANCE_COLUMNS, *PERK_COLUMNS.values(), "last_daily_day", "last_transfer", "transfers")
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


class SchemaMismatch(RuntimeError):
    """A database this code must not use as it is: no ledger there, or a ledger at another
    schema version (a reader never migrates, and nothing runs a newer schema). Its text is one
    line for the operator."""


def newer(where: str | None, found: int, current: int) -> str:
    return (f"the ledger{f' at {where}' if where else ''} is at schema {found}, newer than this code's {current}:"
            " use the newer version of the bot and its CLI")

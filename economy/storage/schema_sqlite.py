"""SQLite's versioned migrations, applied on open and counted by `PRAGMA user_version`: one
plain async function per version, run statement by statement on the store's connection
(economy/storage/sqlite.py's SqliteDb) inside one BEGIN IMMEDIATE.

Invariants live in the tables too: user balances cannot go negative, balance always equals
credits minus debits, the journal refuses UPDATE and DELETE. PostgreSQL's DDL for the same
versions is economy/storage/schema_postgres.py; tests/test_schema_parity.py keeps them alike.
"""

from __future__ import annotations

from typing import Any

from economy.catalog import FREEZE_MAX
from economy.storage.schema import (
    ACCOUNT_COLUMNS, AUDIT_VIAS, BALANCE_COLUMNS, BROADCAST_KINDS, BROADCAST_STATES, DAILY_AT, DAILY_AT_FALLBACK,
    DELIVERY_STATES, ENGAGE_ACCOUNTS, LEGACY_ACCOUNTS, NOTICE_STATES, PERK_COLUMNS, RECIPIENT_STATES, SEGMENTS,
    SYSTEM_ACCOUNTS, TOP_KEEP, USER_ACCOUNTS, SchemaMismatch, engage_tables, newer, quoted,
)

#: the connection a step gets: execute(), executemany() and executescript(), all awaited
Db = Any


async def _v1(db: Db) -> None:
    await db.executescript(
        """
        CREATE TABLE users (
            user_id INTEGER PRIMARY KEY CHECK (user_id > 0),
            username TEXT,
            first_name TEXT NOT NULL DEFAULT '',
            language TEXT,
            registered_at INTEGER NOT NULL,
            last_daily_day INTEGER,
            active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1))
        ) STRICT;
        CREATE INDEX users_username ON users(username) WHERE username IS NOT NULL;

        CREATE TABLE accounts (
            id INTEGER PRIMARY KEY,
            user_id INTEGER,
            asset TEXT NOT NULL CHECK (asset IN ('XP', 'TOKEN', 'CREDIT')),
            name TEXT NOT NULL,
            balance INTEGER NOT NULL DEFAULT 0,
            debits INTEGER NOT NULL DEFAULT 0 CHECK (debits >= 0),
            credits INTEGER NOT NULL DEFAULT 0 CHECK (credits >= 0),
            CHECK (balance = credits - debits),
            CHECK (user_id IS NULL OR balance >= 0)
        ) STRICT;
        CREATE INDEX accounts_top_spenders ON accounts(debits DESC, user_id) WHERE name = 'token';
        CREATE INDEX accounts_credit ON accounts(user_id) WHERE name = 'credit' AND credits > 0;
        CREATE INDEX accounts_used ON accounts(balance) WHERE name = 'credit_used' AND balance > 0;

        CREATE TABLE transfers (
            id INTEGER PRIMARY KEY,
            ts INTEGER NOT NULL,
            kind TEXT NOT NULL,
            asset TEXT NOT NULL,
            debit_id INTEGER NOT NULL,
            credit_id INTEGER NOT NULL,
            amount INTEGER NOT NULL CHECK (amount > 0),
            user_id INTEGER,
            ref TEXT NOT NULL DEFAULT '',
            actor INTEGER,
            CHECK (debit_id <> credit_id)
        ) STRICT;
        CREATE INDEX transfers_user ON transfers(user_id, id);
        CREATE TRIGGER transfers_no_update BEFORE UPDATE ON transfers
            BEGIN SELECT RAISE(ABORT, 'the journal is append-only'); END;
        CREATE TRIGGER transfers_no_delete BEFORE DELETE ON transfers
            BEGIN SELECT RAISE(ABORT, 'the journal is append-only'); END;

        CREATE TABLE entitlements (
            user_id INTEGER NOT NULL,
            item TEXT NOT NULL,
            ref TEXT NOT NULL DEFAULT '',
            since INTEGER NOT NULL,
            until INTEGER,
            PRIMARY KEY (user_id, item, ref)
        ) STRICT, WITHOUT ROWID;

        CREATE TABLE content (
            content_id TEXT PRIMARY KEY,
            title TEXT NOT NULL,
            media TEXT NOT NULL,
            file_ref TEXT NOT NULL,
            price INTEGER NOT NULL CHECK (price > 0),
            added_by INTEGER,
            added_at INTEGER NOT NULL
        ) STRICT, WITHOUT ROWID;

        CREATE TABLE idempotency (
            key TEXT PRIMARY KEY,
            fingerprint TEXT NOT NULL,
            result TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            expires_at INTEGER
        ) STRICT, WITHOUT ROWID;
        CREATE INDEX idempotency_expiry ON idempotency(expires_at) WHERE expires_at IS NOT NULL;
        """
    )
    await db.executemany(
        "INSERT INTO accounts(id, user_id, asset, name) VALUES (?, NULL, ?, ?)",
        [(acc, asset, name) for acc, (name, asset) in SYSTEM_ACCOUNTS.items()],
    )


async def _v2(db: Db) -> None:
    await db.executescript(
        """
        CREATE TABLE support_messages (
            id INTEGER PRIMARY KEY,
            user_id INTEGER NOT NULL,
            text TEXT NOT NULL,
            priority INTEGER NOT NULL CHECK (priority IN (0, 1)),
            created_at INTEGER NOT NULL,
            answered_at INTEGER
        ) STRICT;
        CREATE INDEX support_open ON support_messages(priority DESC, id) WHERE answered_at IS NULL;
        """
    )


async def _v3(db: Db) -> None:
    """Wallets (user accounts and perks in one row), an exact top-spenders table, and a
    per-user chain through the journal instead of an index on it."""
    balances = " ".join(f"{column} INTEGER NOT NULL DEFAULT 0 CHECK ({column} >= 0)," for column in BALANCE_COLUMNS)
    sums = ", ".join(f"CHECK ({bal} = {credits} - {debits})" for bal, debits, credits in ACCOUNT_COLUMNS.values())
    await db.executescript(
        f"""
        CREATE TABLE wallets (
            user_id INTEGER PRIMARY KEY REFERENCES users(user_id),
            {balances}
            vip_since INTEGER,
            badge_since INTEGER,
            boost_until INTEGER,
            dm_until INTEGER,
            last_daily_day INTEGER,
            last_transfer INTEGER,
            transfers INTEGER NOT NULL DEFAULT 0 CHECK (transfers >= 0),
            {sums}
        ) STRICT;
        CREATE INDEX wallets_credit ON wallets(user_id) WHERE credit_credits > 0;
        CREATE INDEX wallets_used ON wallets(credit_used) WHERE credit_used > 0;

        CREATE TABLE top_spenders (
            user_id INTEGER PRIMARY KEY REFERENCES users(user_id),
            spent INTEGER NOT NULL CHECK (spent > 0)
        ) STRICT;

        ALTER TABLE transfers ADD COLUMN user_prev INTEGER;
        """
    )
    pivot = ", ".join(
        f"SUM(CASE WHEN a.id % 4 = {n} THEN a.{part} END)"
        for n in USER_ACCOUNTS for part in ("balance", "debits", "credits")
    )
    perks = ", ".join(
        f"(SELECT {'until' if column.endswith('until') else 'since'} FROM entitlements e"
        f" WHERE e.user_id = u.user_id AND e.item = '{item}' AND e.ref = '')"
        for item, column in PERK_COLUMNS.items()
    )
    columns = ", ".join((*BALANCE_COLUMNS, *PERK_COLUMNS.values(), "last_daily_day"))
    await db.execute(
        f"INSERT INTO wallets(user_id, {columns})"
        f" SELECT u.user_id, {pivot}, {perks}, u.last_daily_day FROM users u"
        " JOIN accounts a ON a.user_id = u.user_id GROUP BY u.user_id"
    )
    await db.execute(f"DELETE FROM entitlements WHERE item IN ({', '.join(repr(i) for i in PERK_COLUMNS)})")
    await db.execute(
        "INSERT INTO top_spenders SELECT user_id, token_debits FROM wallets WHERE token_debits > 0"
        f" ORDER BY token_debits DESC, user_id LIMIT {TOP_KEEP}"
    )
    # The journal is append-only; this one backfill of the new column is the exception.
    await db.execute("DROP TRIGGER transfers_no_update")
    await db.execute(
        "UPDATE transfers SET user_prev = p.prev FROM (SELECT id, LAG(id) OVER (PARTITION BY user_id ORDER BY id)"
        " AS prev FROM transfers WHERE user_id IS NOT NULL) p WHERE transfers.id = p.id"
    )
    await db.execute(
        "UPDATE wallets SET (last_transfer, transfers) = (SELECT MAX(id), COUNT(*) FROM transfers t"
        " WHERE t.user_id = wallets.user_id)"
    )
    await db.executescript(
        """
        CREATE TRIGGER transfers_no_update BEFORE UPDATE ON transfers
            BEGIN SELECT RAISE(ABORT, 'the journal is append-only'); END;
        DROP INDEX transfers_user;
        DROP INDEX accounts_top_spenders;
        DROP INDEX accounts_credit;
        DROP INDEX accounts_used;
        DELETE FROM accounts WHERE user_id IS NOT NULL;
        ALTER TABLE users DROP COLUMN last_daily_day;
        """
    )
    views = " UNION ALL ".join(
        f"SELECT user_id * 4 + {n}, user_id, '{asset}', '{name}', {', '.join(ACCOUNT_COLUMNS[n])} FROM wallets"
        for n, (name, asset) in USER_ACCOUNTS.items()
    )
    await db.execute(
        "CREATE VIEW all_accounts(id, user_id, asset, name, balance, debits, credits) AS"
        f" SELECT id, user_id, asset, name, balance, debits, credits FROM accounts UNION ALL {views}"
    )


async def _v4(db: Db) -> None:
    """Deliveries, and a username belongs to one user at a time."""
    states = ", ".join(f"'{s}'" for s in DELIVERY_STATES)
    await db.executescript(
        f"""
        CREATE TABLE deliveries (
            transfer_id INTEGER PRIMARY KEY,
            user_id INTEGER NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('file_charge', 'content')),
            state TEXT NOT NULL CHECK (state IN ({states})),
            claimed_at INTEGER NOT NULL,
            claimed_by TEXT NOT NULL DEFAULT '',
            message_id INTEGER,
            refund_id INTEGER UNIQUE,
            reason TEXT NOT NULL DEFAULT '',
            updated_at INTEGER NOT NULL,
            CHECK ((state = 'delivered') = (message_id IS NOT NULL)),
            CHECK (state = 'refunded' OR refund_id IS NULL),
            CHECK (state <> 'refunded' OR refund_id IS NOT NULL OR reason = 'by_hand')
        ) STRICT;
        CREATE INDEX deliveries_pending ON deliveries(claimed_at) WHERE state = 'pending';
        CREATE TRIGGER deliveries_final BEFORE UPDATE ON deliveries WHEN OLD.state <> 'pending'
            BEGIN SELECT RAISE(ABORT, 'a delivery outcome is final'); END;
        CREATE TRIGGER deliveries_no_delete BEFORE DELETE ON deliveries
            BEGIN SELECT RAISE(ABORT, 'deliveries are kept'); END;
        """
    )
    # Before v4 a username could stay with a user who had given it up; keep it with whoever
    # registered last (the likelier holder), the next update from the others corrects them.
    await db.execute(
        "UPDATE users SET username = NULL WHERE user_id IN (SELECT user_id FROM (SELECT user_id, ROW_NUMBER()"
        " OVER (PARTITION BY username ORDER BY registered_at DESC, user_id DESC) AS n FROM users"
        " WHERE username IS NOT NULL) WHERE n > 1)"
    )
    await db.executescript(
        """
        DROP INDEX users_username;
        CREATE UNIQUE INDEX users_username ON users(username) WHERE username IS NOT NULL;
        """
    )


async def _v5(db: Db) -> None:
    """Keys of the HTTP API, made by the operator CLI: only a SHA-256 of each key is kept (a
    key is 32 random bytes, so a fast hash is enough); a revoked key stays for the record."""
    await db.executescript(
        """
        CREATE TABLE api_keys (
            name TEXT PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 64),
            scope TEXT NOT NULL CHECK (scope IN ('read', 'write')),
            key_hash TEXT NOT NULL UNIQUE CHECK (length(key_hash) = 64),
            created_at INTEGER NOT NULL,
            revoked_at INTEGER
        ) STRICT;
        """
    )


async def _v6(db: Db) -> None:
    """The legacy import: which old rows were brought in (so a second run brings nothing), and
    the old token engine's transactions, kept read-only as history."""
    await db.executescript(
        """
        CREATE TABLE legacy_imports (
            source TEXT NOT NULL CHECK (source IN ('tokens', 'credits')),
            old_id TEXT NOT NULL,
            user_id INTEGER NOT NULL,
            imported_at INTEGER NOT NULL,
            PRIMARY KEY (source, old_id)
        ) STRICT, WITHOUT ROWID;
        CREATE TABLE legacy_history (
            id INTEGER PRIMARY KEY,
            user_id INTEGER NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('EARN', 'SPEND')),
            amount INTEGER NOT NULL,
            reason TEXT NOT NULL DEFAULT '',
            ts INTEGER NOT NULL
        ) STRICT;
        CREATE INDEX legacy_history_user ON legacy_history(user_id, id);
        CREATE TRIGGER legacy_history_no_update BEFORE UPDATE ON legacy_history
            BEGIN SELECT RAISE(ABORT, 'imported history is read-only'); END;
        CREATE TRIGGER legacy_history_no_delete BEFORE DELETE ON legacy_history
            BEGIN SELECT RAISE(ABORT, 'imported history is read-only'); END;
        """
    )
    await db.executemany(
        "INSERT INTO accounts(id, user_id, asset, name) VALUES (?, NULL, ?, ?)",
        [(acc, asset, name) for acc, (name, asset) in LEGACY_ACCOUNTS.items()],
    )


async def _v7(db: Db) -> None:
    """What a sweep needs to finish the sends that follow a commit without the update that made
    them: where a charged file is copied from (`deliveries.source`, opaque to the ledger), and
    the notices owed to users."""
    states = ", ".join(f"'{s}'" for s in NOTICE_STATES)
    await db.executescript(
        f"""
        ALTER TABLE deliveries ADD COLUMN source TEXT NOT NULL DEFAULT '';
        CREATE TABLE notices (
            transfer_id INTEGER PRIMARY KEY,
            user_id INTEGER NOT NULL,
            kind TEXT NOT NULL,
            data TEXT NOT NULL,
            state TEXT NOT NULL CHECK (state IN ({states})),
            claimed_at INTEGER NOT NULL,
            claimed_by TEXT NOT NULL DEFAULT '',
            message_id INTEGER,
            reason TEXT NOT NULL DEFAULT '',
            updated_at INTEGER NOT NULL,
            CHECK ((state = 'sent') = (message_id IS NOT NULL))
        ) STRICT;
        CREATE INDEX notices_pending ON notices(claimed_at) WHERE state = 'pending';
        CREATE TRIGGER notices_final BEFORE UPDATE ON notices WHEN OLD.state <> 'pending'
            BEGIN SELECT RAISE(ABORT, 'a notice outcome is final'); END;
        CREATE TRIGGER notices_no_delete BEFORE DELETE ON notices
            BEGIN SELECT RAISE(ABORT, 'notices are kept'); END;
        """
    )


async def _v8(db: Db) -> None:
    """The audit trail (economy/audit.py): one row per admin action, written in the transaction of
    its effect, append-only like the journal."""
    vias = ", ".join(f"'{v}'" for v in AUDIT_VIAS)
    await db.executescript(
        f"""
        CREATE TABLE audit (
            id INTEGER PRIMARY KEY,
            ts INTEGER NOT NULL,
            via TEXT NOT NULL CHECK (via IN ({vias})),
            actor_id INTEGER,
            actor TEXT NOT NULL,
            action TEXT NOT NULL,
            user_id INTEGER,
            amount INTEGER,
            unit TEXT NOT NULL DEFAULT '',
            before TEXT NOT NULL DEFAULT '{{}}',
            after TEXT NOT NULL DEFAULT '{{}}',
            note TEXT NOT NULL DEFAULT '',
            transfer_id INTEGER
        ) STRICT;
        CREATE INDEX audit_user ON audit(user_id, id) WHERE user_id IS NOT NULL;
        CREATE INDEX audit_actor ON audit(actor_id, id) WHERE actor_id IS NOT NULL;
        CREATE INDEX audit_actor_name ON audit(actor, id);
        CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
            BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
        CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
            BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
        """
    )


async def _v9(db: Db) -> None:
    """Issue 23: streaks and freezes on the wallet, /notify per user, gifts, reminders."""
    await db.executescript(
        f"""
        ALTER TABLE wallets ADD COLUMN daily_at INTEGER;
        ALTER TABLE wallets ADD COLUMN streak INTEGER NOT NULL DEFAULT 0 CHECK (streak >= 0);
        ALTER TABLE wallets ADD COLUMN freezes INTEGER NOT NULL DEFAULT 0
            CHECK (freezes BETWEEN 0 AND {FREEZE_MAX});
        ALTER TABLE wallets ADD COLUMN tokens_given INTEGER NOT NULL DEFAULT 0
            CHECK (tokens_given BETWEEN 0 AND token_debits);
        ALTER TABLE users ADD COLUMN notify INTEGER NOT NULL DEFAULT 1 CHECK (notify IN (0, 1));
        """
    )
    await db.execute(DAILY_AT)
    await db.execute(DAILY_AT_FALLBACK)
    await db.execute("ALTER TABLE wallets DROP COLUMN last_daily_day")
    await db.executescript(engage_tables("INTEGER", " STRICT"))
    await db.executescript(
        """
        CREATE TRIGGER gifts_no_update BEFORE UPDATE ON gifts
            BEGIN SELECT RAISE(ABORT, 'gifts are kept as given'); END;
        CREATE TRIGGER gifts_no_delete BEFORE DELETE ON gifts
            BEGIN SELECT RAISE(ABORT, 'gifts are kept as given'); END;
        CREATE TRIGGER reminders_final BEFORE UPDATE ON reminders WHEN OLD.state <> 'pending'
            BEGIN SELECT RAISE(ABORT, 'a reminder outcome is final'); END;
        CREATE TRIGGER reminders_no_delete BEFORE DELETE ON reminders
            BEGIN SELECT RAISE(ABORT, 'reminders are kept'); END;
        """
    )
    await db.executemany(
        "INSERT INTO accounts(id, user_id, asset, name) VALUES (?, NULL, ?, ?)",
        [(acc, asset, name) for acc, (name, asset) in ENGAGE_ACCOUNTS.items()],
    )


async def _v10(db: Db) -> None:
    """Broadcasts and their recipients (see economy/storage/schema.py RECIPIENT_STATES)."""
    await db.executescript(
        f"""
        CREATE TABLE broadcasts (
            id INTEGER PRIMARY KEY,
            admin_id INTEGER NOT NULL,
            segment TEXT NOT NULL CHECK (segment IN ({quoted(SEGMENTS)})),
            kind TEXT NOT NULL CHECK (kind IN ({quoted(BROADCAST_KINDS)})),
            file_id TEXT NOT NULL DEFAULT '',
            text TEXT NOT NULL DEFAULT '',
            entities TEXT NOT NULL DEFAULT '[]',
            state TEXT NOT NULL CHECK (state IN ({quoted(BROADCAST_STATES)})),
            chat_id INTEGER,
            message_id INTEGER,
            total INTEGER NOT NULL DEFAULT 0 CHECK (total >= 0),
            rev INTEGER NOT NULL DEFAULT 0,
            claimed_by TEXT NOT NULL DEFAULT '',
            claimed_at INTEGER NOT NULL DEFAULT 0,
            created_at INTEGER NOT NULL,
            started_at INTEGER,
            finished_at INTEGER,
            updated_at INTEGER NOT NULL
        ) STRICT;
        CREATE INDEX broadcasts_running ON broadcasts(id) WHERE state = 'sending';
        CREATE TABLE broadcast_recipients (
            broadcast_id INTEGER NOT NULL REFERENCES broadcasts(id),
            user_id INTEGER NOT NULL,
            state TEXT NOT NULL CHECK (state IN ({quoted(RECIPIENT_STATES)})),
            message_id INTEGER,
            reason TEXT NOT NULL DEFAULT '',
            updated_at INTEGER NOT NULL,
            PRIMARY KEY (broadcast_id, user_id),
            CHECK ((state = 'sent') = (message_id IS NOT NULL))
        ) STRICT, WITHOUT ROWID;
        CREATE INDEX broadcast_pending ON broadcast_recipients(broadcast_id, user_id) WHERE state = 'pending';
        CREATE TRIGGER broadcast_recipient_final BEFORE UPDATE ON broadcast_recipients
            WHEN OLD.state NOT IN ('pending', 'sending') OR (OLD.state = 'sending' AND NEW.state = 'pending')
            BEGIN SELECT RAISE(ABORT, 'a recipient claimed for a send is never sent it again'); END;
        CREATE TRIGGER broadcast_recipient_kept BEFORE DELETE ON broadcast_recipients
            BEGIN SELECT RAISE(ABORT, 'broadcast recipients are kept'); END;
        """
    )


async def _v11(db: Db) -> None:
    """PostgreSQL's v11 mends a refund rule its first store wrote (schema_postgres._v11); a
    SQLite file has had today's rule since v4: nothing to change, the version keeps both alike."""


MIGRATIONS = (_v1, _v2, _v3, _v4, _v5, _v6, _v7, _v8, _v9, _v10, _v11)
VERSION = len(MIGRATIONS)


async def migrate(db: Db) -> int:
    """Bring the file to VERSION in one transaction; return the old version."""
    await db.execute("BEGIN IMMEDIATE")
    try:
        start = (await db.execute("PRAGMA user_version")).fetchone()[0]
        if start > VERSION:
            raise SchemaMismatch(newer(None, start, VERSION))
        await upgrade(db, start)
        await db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            await db.execute("ROLLBACK")
        raise
    return start  # type: ignore[no-any-return]


async def upgrade(db: Db, start: int) -> None:
    """The steps from version `start` to VERSION, inside the caller's transaction."""
    for version in range(start, VERSION):
        await MIGRATIONS[version](db)
        await db.execute(f"PRAGMA user_version = {version + 1}")

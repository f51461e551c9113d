"""Keys of the HTTP API: made, listed and revoked by the operator CLI, checked per request.

A key is "ek_" and 32 random bytes (base64url); only its SHA-256 is stored, so the database
never holds a usable key. A key is shown once, when it is made.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass

from economy.audit import CLI, Actor, record
from economy.errors import AlreadyExists, InvalidInput, NotFound
from economy.storage import Db, Store, Tx
from economy.text import check_text, shown

NAME = re.compile(r"[A-Za-z0-9_.-]{1,64}", re.ASCII)
SCOPES = ("read", "write")
PREFIX = "ek_"
SHAPE = re.compile(r"ek_[A-Za-z0-9_-]{43}", re.ASCII)


@dataclass(frozen=True, slots=True)
class ApiKey:
    name: str
    scope: str
    created_at: int
    #: The key itself, not its name (a revoked name may be used again, a key never): the first
    #: 32 hex digits of its SHA-256. What a client keeps (its Idempotency-Keys) belongs to this.
    key_id: str
    revoked_at: int | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def allows(self, scope: str) -> bool:
        """A write key may read too; a read key may only read."""
        return self.scope == "write" or scope == "read"


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


_COLUMNS = "SELECT name, scope, created_at, key_hash, revoked_at FROM api_keys"
KEY_ID_DIGITS = 32


def _api_key(name: str, scope: str, created_at: int, key_hash: str, revoked_at: int | None) -> ApiKey:
    return ApiKey(name, scope, created_at, key_hash[:KEY_ID_DIGITS], revoked_at)


class ApiKeys:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def create(self, name: str, scope: str, *, audit_as: Actor | None = CLI) -> tuple[ApiKey, str]:
        """A new key named `name` (a revoked name may be used again); returns it with the key,
        which is not kept anywhere. Audited (`audit_as`, the CLI by default) with the change."""
        if not NAME.fullmatch(check_text(name, "name")):
            raise InvalidInput(text=shown(name, 64), reason="bad_key_name")
        if scope not in SCOPES:
            raise InvalidInput(text=shown(scope, 16), reason="bad_scope")
        key = PREFIX + secrets.token_urlsafe(32)

        async def op(tx: Tx) -> ApiKey:
            row = (await tx.db.execute("SELECT revoked_at FROM api_keys WHERE name = ?", (name,))).fetchone()
            if row is not None and row[0] is None:
                raise AlreadyExists(what="api key", ref=name)
            await tx.write("INSERT INTO api_keys(name, scope, key_hash, created_at) VALUES (?, ?, ?, ?)"
                     " ON CONFLICT(name) DO UPDATE SET scope = excluded.scope, key_hash = excluded.key_hash,"
                     " created_at = excluded.created_at, revoked_at = NULL", (name, scope, digest(key), tx.now))
            if audit_as is not None:
                await record(tx, audit_as, "apikey_create", note=f"{name} ({scope})")
            return _api_key(name, scope, tx.now, digest(key), None)

        return await self.store.write(op, None, "apikey_create"), key

    async def revoke(self, name: str, *, audit_as: Actor | None = CLI) -> ApiKey:
        check_text(name, "name")

        async def op(tx: Tx) -> ApiKey:
            row = (await tx.db.execute(f"{_COLUMNS} WHERE name = ?", (name,))).fetchone()
            if row is None:
                raise NotFound(what="api key", ref=shown(name, 64))
            if row[4] is not None:
                return _api_key(*row)
            await tx.write("UPDATE api_keys SET revoked_at = ? WHERE name = ?", (tx.now, name))
            if audit_as is not None:
                await record(tx, audit_as, "apikey_revoke", note=name)
            return _api_key(*row[:4], tx.now)

        return await self.store.write(op, None, "apikey_revoke")  # type: ignore[no-any-return]

    async def list(self) -> list[ApiKey]:
        async def query(db: Db) -> list[ApiKey]:
            return [_api_key(*row) for row in await db.execute(f"{_COLUMNS} ORDER BY name")]

        return await self.store.read(query)

    async def find(self, key: str) -> ApiKey | None:
        """The key's record (revoked ones too), or None for a key that was never made."""
        if not SHAPE.fullmatch(key):
            return None
        hashed = digest(key)

        async def query(db: Db) -> ApiKey | None:
            row = (await db.execute(f"{_COLUMNS} WHERE key_hash = ?", (hashed,))).fetchone()
            return _api_key(*row) if row is not None else None

        return await self.store.read(query)

"""API keys through the operator CLI, and the ledger calls the HTTP API adds (earn, remember)."""

from __future__ import annotations

import hashlib
import json
import sqlite3

import pytest

from economy import AlreadyExists, IdempotencyConflict, InvalidInput, Key, NotFound
from economy.apikeys import ApiKeys
from tests.test_cli import cli


def test_create_list_revoke_through_the_cli(tmp_path):
    url = f"sqlite:///{tmp_path / 'k.db'}"
    made = cli("--db", url, "apikey", "create", "billing", "--scope", "write")
    assert made.returncode == 0, made.stderr
    key = made.stdout.strip().splitlines()[-1]
    assert key.startswith("ek_") and len(key) == 46 and " " not in key
    again = cli("--db", url, "apikey", "create", "billing", "--scope", "read")
    assert again.returncode == 2 and "AlreadyExists" in again.stderr
    listed = json.loads(cli("--db", url, "apikey", "list").stdout)
    assert [(k["name"], k["scope"], k["revoked_at"]) for k in listed] == [("billing", "write", None)]
    assert key not in cli("--db", url, "apikey", "list").stdout
    # only the hash is stored
    rows = sqlite3.connect(tmp_path / "k.db").execute("SELECT key_hash FROM api_keys").fetchall()
    assert rows == [(hashlib.sha256(key.encode()).hexdigest(),)]
    assert cli("--db", url, "apikey", "revoke", "billing").returncode == 0
    assert json.loads(cli("--db", url, "apikey", "list").stdout)[0]["revoked_at"] is not None
    assert cli("--db", url, "apikey", "revoke", "nobody").returncode == 2
    # a revoked name may be used again, with a new key
    newer = cli("--db", url, "apikey", "create", "billing", "--scope", "read").stdout.strip().splitlines()[-1]
    assert newer != key
    bad = cli("--db", url, "apikey", "create", "two words", "--scope", "read")
    assert bad.returncode == 2 and "bad_key_name" in bad.stderr
    assert cli("--db", url, "apikey", "create", "x", "--scope", "admin").returncode == 2


async def test_find_tells_known_revoked_and_unknown_keys(ledger):
    keys = ApiKeys(ledger.store)
    made, key = await keys.create("reader", "read")
    found = await keys.find(key)
    assert found == made and found.active and found.allows("read") and not found.allows("write")
    assert await keys.find(key[:-1] + ("A" if key[-1] != "A" else "B")) is None
    assert await keys.find("not-a-key") is None and await keys.find("") is None
    await keys.revoke("reader")
    assert not (await keys.find(key)).active
    with pytest.raises(NotFound):
        await keys.revoke("nobody")
    with pytest.raises(InvalidInput):
        await keys.create("", "read")
    _, other = await keys.create("writer", "write")
    with pytest.raises(AlreadyExists):
        await keys.create("writer", "write")
    assert (await keys.find(other)).allows("write")


async def test_earn_creates_a_user_without_the_bonus_and_is_idempotent(ledger):
    first = await ledger.earn(42, 20, reason="task 7", key="api:k:1")
    assert (first.amount, first.xp) == (20, 20)
    again = await ledger.earn(42, 20, reason="task 7", key="api:k:1")
    assert again.replayed and again == first
    with pytest.raises(IdempotencyConflict):
        await ledger.earn(42, 21, reason="task 7", key="api:k:1")
    assert (await ledger.earn(42, 5)).xp == 25
    assert (await ledger.balance(42)).xp == 25
    registered = await ledger.register(42, first_name="Later")
    assert not registered.created and registered.bonus == 0  # the bonus is paid only to users /start creates
    assert await ledger.verify() == []


async def test_remember_keeps_the_first_answer(ledger):
    kept = await ledger.remember(Key("a"), "body-1", "first")
    assert kept.text == "first" and not kept.replayed
    again = await ledger.remember(Key("a"), "body-1", "second")
    assert again.text == "first" and again.replayed
    with pytest.raises(IdempotencyConflict):
        await ledger.remember(Key("a"), "body-2", "third")
    assert await ledger.ready()


async def test_a_key_has_an_id_that_a_new_key_of_the_same_name_does_not_share(ledger, clock):
    keys = ApiKeys(ledger.store)
    made, key = await keys.create("billing", "write")
    assert made.key_id == hashlib.sha256(key.encode()).hexdigest()[:32]
    assert (await keys.find(key)).key_id == made.key_id
    await keys.revoke("billing")
    clock.advance(1)
    again, newer = await keys.create("billing", "write")
    assert again.key_id != made.key_id and (await keys.find(newer)).key_id == again.key_id
    assert await keys.find(key) is None  # the name's row now holds the new key's hash
    assert [k.key_id for k in await keys.list()] == [again.key_id]

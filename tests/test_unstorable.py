"""One request's bad data fails that request alone (issue 20, item 6), on both backends.

Text the database cannot store (a NUL: PostgreSQL; a lone surrogate: both) is refused by the
ledger before it is queued (InvalidText). Should such data reach a group commit anyway (a
check bypassed, a number out of range, a constraint), the database's refusal fails that
request alone (Unstorable, not "busy") and every other request of the batch commits.
"""

from __future__ import annotations

import asyncio

import pytest

from economy import InvalidInput, Key, Ledger, NotFound
from economy import ledger as ledger_module
from economy.apikeys import ApiKeys
from economy.errors import InvalidText, Unstorable
from economy.models import Done
from economy.storage.schema import XP, XP_ISSUER, account_id

NUL, SURROGATE = "a\x00b", "\ud800"
USERS = range(1, 61)


def _bad_texts(ledger) -> list[str]:
    """What this backend cannot store (SQLite keeps a NUL)."""
    return [SURROGATE, NUL] if ledger.store.backend == "postgresql" else [SURROGATE]


async def _users(ledger) -> None:
    await asyncio.gather(*(ledger.register(u, first_name=f"u{u}") for u in USERS))
    await ledger.add_content("v1", title="Film", media="video", file_ref="f")
    await asyncio.gather(*(ledger.grant(u, 100) for u in USERS))
    await asyncio.gather(*(ledger.convert(u, 60) for u in USERS))
    await ledger.raise_quota(1, 100_000)


def _unrelated(ledger) -> list:
    """150 writes of every kind, none touching user 61 (the poisoned one's)."""
    calls = []
    for u in USERS:
        calls.append(ledger.grant(u, 5, reason="weekly", actor=9, key=f"g:{u}"))
        calls.append(ledger.buy(u, "content", "v1", key=f"b:{u}") if u % 2 else ledger.buy(u, "boost"))
    calls += [ledger.support(u, f"help {u}", key=f"s:{u}") for u in USERS[:20]]
    calls += [ledger.charge(1, 100, actor=9, note=f"file {n}", key=f"c:{n}") for n in range(10)]
    return calls


async def _one_batch(ledger, calls: list, poison) -> tuple[list, object]:
    """Run `calls` and `poison` in one group commit; return their outcomes."""
    before = ledger.store.batches
    *results, bad = await asyncio.gather(*calls, poison, return_exceptions=True)
    assert ledger.store.batches == before + 1, "the writes did not land in one group commit"
    return results, bad


async def _assert_all_applied(ledger, results: list, tickets: int = 20) -> None:
    failed = [r for r in results if isinstance(r, BaseException)]
    assert not failed, failed
    for u in USERS:
        b = await ledger.balance(u)
        assert b.xp == 50 + 100 - 60 + 5
        assert b.tokens == 60 - (10 if u % 2 else 5)
    assert len(await ledger.inbox(100)) == tickets
    assert (await ledger.balance(1)).credit_used == 1000
    assert await ledger.verify() == []


@pytest.fixture
def unchecked(monkeypatch):
    """The ledger's text check turned off, so bad text reaches the group commit."""
    monkeypatch.setattr(ledger_module, "check_text", lambda value, field, limit=None: (value or "")[:limit],
                        raising=False)  # (before the check existed: nothing to turn off)


@pytest.mark.parametrize("bad", [SURROGATE, NUL], ids=["surrogate", "nul"])
@pytest.mark.parametrize("where", ["journal", "own_write"])
async def test_text_the_database_refuses_fails_only_its_request(ledger, unchecked, where, bad):
    await _users(ledger)
    await ledger.register(61)
    poison = (ledger.grant(61, 7, reason=bad, key="bad") if where == "journal"  # a journal row's text
              else ledger.support(61, bad, key="bad"))  # an operation's own INSERT
    results, refused = await _one_batch(ledger, _unrelated(ledger), poison)
    if bad == NUL and ledger.store.backend == "sqlite":  # SQLite stores a NUL like any character
        assert not isinstance(refused, BaseException)
        await _assert_all_applied(ledger, results, tickets=20 + (where == "own_write"))
        return
    await _assert_all_applied(ledger, results)
    assert isinstance(refused, Unstorable), refused
    assert ledger.store.safe_batches >= 1
    assert (await ledger.balance(61)).xp == 50 and (await ledger.history(61)).total == 1
    assert await ledger.recorded("bad") is None  # nothing of it was kept, its key neither
    # the same request with storable text then works
    assert (await ledger.grant(61, 7, reason="ok", key="bad")).xp == 57


async def test_a_number_out_of_range_fails_only_its_request(ledger):
    await _users(ledger)

    async def too_big(tx):  # past 64 bits: sqlite3 cannot bind it, PostgreSQL says out of range
        await tx.write("UPDATE users SET registered_at = ? WHERE user_id = 1", (2**63,))
        return "written"

    results, refused = await _one_batch(ledger, _unrelated(ledger), ledger.store.write(too_big, None, "too_big"))
    assert isinstance(refused, Unstorable), refused
    await _assert_all_applied(ledger, results)


async def test_an_idempotency_key_the_database_cannot_store_fails_only_its_request(ledger):
    await _users(ledger)

    async def earn_1000(tx):
        return Done("earned", str((await tx.transfer("earn", "XP", XP_ISSUER, account_id(1, XP), 1000, 1)).id))

    poison = ledger.store.write(earn_1000, Key("fp"), "fingerprint " + SURROGATE)
    results, refused = await _one_batch(ledger, _unrelated(ledger), poison)
    assert isinstance(refused, Unstorable), refused
    await _assert_all_applied(ledger, results)  # user 1's 1000 XP undone with its key


async def test_a_constraint_the_database_enforces_fails_only_its_request(ledger):
    await _users(ledger)

    async def overdraw(tx):  # a bug: skips transfer()'s check; the CHECK refuses the write-back
        w = await tx.wallet(2)
        w.token, w.token_debits = -5, w.token_debits + w.token + 5
        return "done"

    results, refused = await _one_batch(ledger, _unrelated(ledger), ledger.store.write(overdraw, None, "bug"))
    assert isinstance(refused, Unstorable), refused
    await _assert_all_applied(ledger, results)


# -- the edge: refused before anything is queued --

async def _refused(call) -> InvalidText:
    with pytest.raises(InvalidText) as info:
        await call
    assert "\x00" not in info.value.text and "\ud800" not in info.value.text
    return info.value


@pytest.mark.parametrize("bad", [NUL, SURROGATE, "\udcff", "ok\x00"])
async def test_every_text_the_ledger_stores_is_checked(ledger, bad):
    await ledger.register(1)
    await ledger.raise_quota(1, 10_000)
    batches = ledger.store.batches
    checks = {
        "reason": [ledger.grant(1, 5, reason=bad), ledger.earn(1, 5, reason=bad)],
        "note": [ledger.raise_quota(1, 5, note=bad), ledger.lower_quota(1, 5, note=bad),
                 ledger.charge(1, 5, note=bad), ledger.refund(1, 5, note=bad)],
        "title": [ledger.add_content("v2", title=bad, media="video", file_ref="f")],
        "file_ref": [ledger.add_content("v3", title="t", media="video", file_ref=bad)],
        "text": [ledger.support(1, bad)],
        "name": [ApiKeys(ledger.store).create(bad, "read"), ApiKeys(ledger.store).revoke(bad)],
    }
    for field, calls in checks.items():
        for call in calls:
            refused = await _refused(call)
            assert refused.field == field
            assert refused.reason == ("nul_character" if "\x00" in bad else "lone_surrogate")
            assert isinstance(refused, InvalidInput)
    assert (await _refused(ledger.find_user("@" + bad))).field == "username"  # a read, not an error of the driver
    assert ledger.store.batches == batches  # nothing reached the database
    assert (await ledger.balance(1)).xp == 50 and await ledger.inbox() == []
    assert await ledger.verify() == []


async def test_refusals_that_echo_the_input_show_it_storable(ledger):
    with pytest.raises(NotFound) as info:
        await ledger.buy(1, "content", "x\x00\ud800")
    assert info.value.ref == "x\ufffd\ufffd"
    with pytest.raises(InvalidInput) as info:
        await ledger.add_content("\ud800", title="t", media="video", file_ref="f")
    assert info.value.text == "\ufffd"


async def test_a_profile_with_odd_characters_is_cleaned_never_refused(ledger):
    reg = await ledger.register(1, username="Ali\ud800", first_name="A\x00li \udcff", language="e\x00n")
    assert reg.created
    p = await ledger.profile(1)
    assert (p.username, p.first_name, p.language) == ("ali\ufffd", "A\ufffdli \ufffd", "e\ufffdn")
    # the same odd profile again is no change; another one is stored cleaned
    assert (await ledger.refresh_profile(1, username="Ali\ud800", first_name="A\x00li \udcff",
                                         language="e\x00n")).what == "unchanged"
    assert (await ledger.refresh_profile(1, username=None, first_name="\x00", language=None)).what == "refreshed"
    assert (await ledger.profile(1)).first_name == "\ufffd"
    assert (await ledger.register(1, first_name="B\ud800")).created is False
    assert (await ledger.profile(1)).first_name == "B\ufffd"
    assert await ledger.verify() == []


async def test_a_delivery_reason_is_cleaned_so_the_outcome_is_recorded(ledger):
    await ledger.register(1)
    await ledger.raise_quota(1, 10_000)
    done = await ledger.charge(1, 1000, deliver=True, key="u:1")
    settled = await ledger.refund_delivery(done.transfer_id, "gone\x00\ud800")
    assert settled.state == "refunded" and settled.reason == "gone\ufffd\ufffd"
    assert (await ledger.balance(1)).credit_used == 0
    assert await ledger.verify() == []


async def test_an_imported_reason_with_a_nul_is_cleaned(tmp_path, db_url):
    import sqlite3

    from economy.models import IMPORTED
    from tests.test_cli import cli
    from tests.test_legacy import TOKENS_SCHEMA

    tokens = tmp_path / "tokens.db"
    db = sqlite3.connect(tokens)
    db.executescript(TOKENS_SCHEMA)
    db.execute("INSERT INTO balances(user_id, balance) VALUES ('1001', 50)")
    db.execute("INSERT INTO transactions(user_id, type, amount, reason, timestamp) VALUES (?, ?, ?, ?, ?)",
               ("1001", "EARN", 50, "kayıt\x00bonusu", "2025-01-20 10:00:00"))
    db.commit()
    db.close()
    done = cli("--db", db_url, "import-legacy", "--tokens", str(tokens), "--apply")
    assert done.returncode == 0, done.stdout + done.stderr
    async with await Ledger.open(db_url) as ledger:
        old = [e for e in (await ledger.history(1001)).items if e.kind == IMPORTED]
        assert [e.ref for e in old] == ["kayıtbonusu"]  # a NUL says nothing: dropped (economy/legacy.py)
        assert await ledger.verify() == []

"""Broadcasts as the ledger keeps them: a draft, the recipients snapshotted at Send, each
recipient claimed (`sending`) in its own commit before its send and given its outcome after
it, so a crash leaves at most the sends under way `sending`, and a runner that takes the
broadcast over counts those `unknown` instead of sending them again (schema v10's triggers
refuse a claimed recipient going back to `pending`). Imports nothing from aiogram."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any

from economy.errors import InvalidInput, NotFound
from economy.ledger import Ledger
from economy.storage.schema import BROADCAST_KINDS, RECIPIENT_STATES, SEGMENTS
from economy.text import check_text, clean_text

#: Seconds a runner's claim on a broadcast holds without a sign of life (every claim of a
#: recipient and every progress tick renews it): then another instance takes it over.
LEASE = 60
#: Outcomes a send may get (`sending` is the claim, `pending` the start).
OUTCOMES = ("sent", "blocked", "failed", "unknown", "skipped")
WEEK = 7 * 86400


@dataclass(frozen=True, slots=True)
class Broadcast:
    id: int
    admin_id: int
    segment: str
    kind: str
    file_id: str
    text: str
    entities: list[dict[str, Any]]
    state: str
    chat_id: int | None
    message_id: int | None
    total: int
    created_at: int
    started_at: int | None
    finished_at: int | None
    #: recipients per state (RECIPIENT_STATES), every state present
    counts: dict[str, int] = field(default_factory=dict)
    claimed_by: str = ""
    #: this runner holds it now (take)
    claimed: bool = False

    @property
    def left(self) -> int:
        return self.counts.get("pending", 0) + self.counts.get("sending", 0)

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "admin_id": self.admin_id, "segment": self.segment, "kind": self.kind,
                "text": self.text[:200], "state": self.state, "total": self.total, "counts": self.counts,
                "created_at": self.created_at, "started_at": self.started_at, "finished_at": self.finished_at}


_COLUMNS = ("id, admin_id, segment, kind, file_id, text, entities, state, chat_id, message_id, total, created_at,"
            " started_at, finished_at, claimed_by")


def segment_sql(segment: str, default_language: str, now: int) -> tuple[str, tuple[Any, ...]]:
    """The active users of `segment` (user ids, in order): SQL and its parameters. `tr`/`en`
    follow the bot's choice of language (bot.texts.pick_language): the user's Telegram language,
    else the default one. `active7`: did something the journal records (a daily, a purchase, a
    conversion, a charge...) in the last 7 days."""
    base = "SELECT u.user_id FROM users u JOIN wallets w ON w.user_id = u.user_id WHERE u.active = 1"
    if segment == "all":
        return base + " ORDER BY u.user_id", ()
    if segment == "vip":
        return base + " AND w.vip_since IS NOT NULL ORDER BY u.user_id", ()
    if segment == "quota":
        return base + " AND w.credit_credits > 0 ORDER BY u.user_id", ()
    if segment == "active7":
        return (base + " AND w.last_transfer IS NOT NULL AND (SELECT t.ts FROM transfers t WHERE t.id = w.last_transfer)"
                " >= ? ORDER BY u.user_id", (now - WEEK,))
    if segment in ("tr", "en"):
        is_lang = "(lower(COALESCE(u.language, '')) = ? OR lower(COALESCE(u.language, '')) LIKE ?)"
        other = "en" if segment == "tr" else "tr"
        if segment == default_language:  # theirs, or none of the catalogues' languages
            return base + f" AND NOT {is_lang} ORDER BY u.user_id", (other, other + "-%")
        return base + f" AND {is_lang} ORDER BY u.user_id", (segment, segment + "-%")
    raise InvalidInput(text=clean_text(segment)[:16], reason="bad_segment")


async def _counts(db: Any, broadcast_id: int) -> dict[str, int]:
    counts = dict.fromkeys(RECIPIENT_STATES, 0)
    for state, n in await db.execute("SELECT state, COUNT(*) FROM broadcast_recipients WHERE broadcast_id = ?"
                               " GROUP BY state", (broadcast_id,)):
        counts[state] = n
    return counts


async def _row(db: Any, broadcast_id: int, *, counts: bool = True) -> Broadcast:
    row = (await db.execute(f"SELECT {_COLUMNS} FROM broadcasts WHERE id = ?", (broadcast_id,))).fetchone()
    if row is None:
        raise NotFound(what="broadcast", ref=str(broadcast_id))
    (bid, admin, segment, kind, file_id, text, entities, state, chat, message, total, created, started, finished,
     claimed_by) = row
    return Broadcast(bid, admin, segment, kind, file_id, text, json.loads(entities), state, chat, message, total,
                     created, started, finished, await _counts(db, bid) if counts else {}, claimed_by)


class Broadcasts:
    """The broadcasts of one ledger (its group commit for writes, its reader for reads)."""

    def __init__(self, ledger: Ledger, default_language: str = "tr") -> None:
        self.store, self.default_language = ledger.store, default_language

    def _write(self, op: Any, *fingerprint: object) -> Any:
        return self.store.write(op, None, "|".join(map(str, fingerprint)), None)

    async def count(self, segment: str) -> int:
        sql, params = segment_sql(segment, self.default_language, int(self.store.clock()))
        return (await self.store.read(partial(_one, sql=f"SELECT COUNT(*) FROM ({sql}) s", params=params)))[0]

    async def create(self, admin_id: int, segment: str, kind: str, text: str, entities: list[dict[str, Any]],
                     file_id: str = "") -> Broadcast:
        """A draft (nothing is sent until `start`)."""
        if segment not in SEGMENTS:
            raise InvalidInput(text=clean_text(segment)[:16], reason="bad_segment")
        if kind not in BROADCAST_KINDS:
            raise InvalidInput(text=clean_text(kind)[:16], reason="bad_kind")
        text = check_text(text, "text", 4096)
        blob = check_text(json.dumps(entities, ensure_ascii=False), "entities", 64_000)
        file_id = check_text(file_id, "file_id", 512)

        async def op(tx: Any) -> Broadcast:
            bid = (await tx.write("INSERT INTO broadcasts(admin_id, segment, kind, file_id, text, entities, state, created_at,"
                           " updated_at) VALUES (?, ?, ?, ?, ?, ?, 'draft', ?, ?) RETURNING id",
                           (admin_id, segment, kind, file_id, text, blob, tx.now, tx.now))).fetchone()[0]
            return await _row(tx.db, bid)

        return await self._write(op, "broadcast_create", admin_id, segment)  # type: ignore[no-any-return]

    async def start(self, broadcast_id: int, *, worker: str, chat_id: int, message_id: int) -> tuple[Broadcast, bool]:
        """Send a draft: its recipients are the segment's active users now (inactive ones — who
        blocked the bot — are left out). (the broadcast, whether this call started it): a second
        click finds it started already."""
        default = self.default_language

        async def op(tx: Any) -> tuple[Broadcast, bool]:
            found = await _row(tx.db, broadcast_id, counts=False)
            if found.state != "draft":
                return await _row(tx.db, broadcast_id), False
            sql, params = segment_sql(found.segment, default, tx.now)
            total = (await tx.write(f"INSERT INTO broadcast_recipients(broadcast_id, user_id, state, updated_at)"
                             f" SELECT ?, s.user_id, 'pending', ? FROM ({sql}) s", (broadcast_id, tx.now, *params))).rowcount
            await tx.write("UPDATE broadcasts SET state = 'sending', total = ?, chat_id = ?, message_id = ?, claimed_by = ?,"
                     " claimed_at = ?, started_at = ?, updated_at = ?, rev = rev + 1 WHERE id = ?",
                     (total, chat_id, message_id, worker, tx.now, tx.now, tx.now, broadcast_id))
            return await _row(tx.db, broadcast_id), True

        return await self._write(op, "broadcast_start", broadcast_id, worker)  # type: ignore[no-any-return]

    async def cancel(self, broadcast_id: int) -> Broadcast:
        """Stop a draft or a broadcast under way: no send starts after this commit (the one
        under way, if any, finishes and is recorded)."""
        async def op(tx: Any) -> Broadcast:
            found = await _row(tx.db, broadcast_id, counts=False)
            if found.state in ("draft", "sending"):
                await tx.write("UPDATE broadcasts SET state = 'cancelled', finished_at = ?, updated_at = ?, rev = rev + 1"
                         " WHERE id = ?", (tx.now, tx.now, broadcast_id))
            return await _row(tx.db, broadcast_id)

        return await self._write(op, "broadcast_cancel", broadcast_id)  # type: ignore[no-any-return]

    async def take(self, broadcast_id: int, *, worker: str, take_over: bool = False, lease: int = LEASE) -> Broadcast:
        """Claim (or renew the claim on) a broadcast under way for `worker` (`claimed=True`):
        when the claim is its own, older than `lease`, or `take_over` (no other runner can be
        alive). Taking it from another runner marks that runner's sends under way `unknown`."""
        async def op(tx: Any) -> Broadcast:
            found = await _row(tx.db, broadcast_id, counts=False)
            if found.state != "sending":
                return await _row(tx.db, broadcast_id)
            mine = found.claimed_by == worker
            row = (await tx.db.execute("SELECT claimed_at FROM broadcasts WHERE id = ?", (broadcast_id,))).fetchone()
            if not (mine or take_over or row[0] + lease <= tx.now):
                return await _row(tx.db, broadcast_id)
            if not mine:
                await tx.write("UPDATE broadcast_recipients SET state = 'unknown', reason = 'crash', updated_at = ?"
                         " WHERE broadcast_id = ? AND state = 'sending'", (tx.now, broadcast_id))
            await tx.write("UPDATE broadcasts SET claimed_by = ?, claimed_at = ?, updated_at = ?, rev = rev + ? WHERE id = ?",
                     (worker, tx.now, tx.now, 0 if mine else 1, broadcast_id))
            return replace(await _row(tx.db, broadcast_id), claimed=True)

        return await self._write(op, "broadcast_take", broadcast_id, worker, take_over)  # type: ignore[no-any-return]

    async def claim_next(self, broadcast_id: int, *, worker: str) -> int | None:
        """The next recipient, marked `sending` (committed before the send), or None when the
        broadcast is over for this runner: nobody left, cancelled, or taken by another."""
        async def op(tx: Any) -> int | None:
            row = (await tx.db.execute("SELECT state, claimed_by FROM broadcasts WHERE id = ?", (broadcast_id,))).fetchone()
            if row is None or row[0] != "sending" or row[1] != worker:
                return None
            got = (await tx.write("UPDATE broadcast_recipients SET state = 'sending', updated_at = ? WHERE broadcast_id = ?"
                           " AND state = 'pending' AND user_id = (SELECT user_id FROM broadcast_recipients"
                           " WHERE broadcast_id = ? AND state = 'pending' ORDER BY user_id LIMIT 1) RETURNING user_id",
                           (tx.now, broadcast_id, broadcast_id))).fetchone()
            if got is None:
                return None
            await tx.write("UPDATE broadcasts SET claimed_at = ? WHERE id = ?", (tx.now, broadcast_id))
            return int(got[0])

        return await self._write(op, "broadcast_claim", broadcast_id, worker)  # type: ignore[no-any-return]

    async def record(self, broadcast_id: int, user_id: int, state: str, *, message_id: int | None = None,
                     reason: str = "") -> bool:
        """A claimed recipient's outcome (OUTCOMES); `blocked` also marks the user inactive, so
        later broadcasts leave them out. False when it was not `sending` any more (another
        runner took the broadcast over and counted it unknown)."""
        if state not in OUTCOMES:
            raise ValueError(state)
        reason = clean_text(reason)[:64]

        async def op(tx: Any) -> bool:
            n = (await tx.write("UPDATE broadcast_recipients SET state = ?, message_id = ?, reason = ?, updated_at = ?"
                         " WHERE broadcast_id = ? AND user_id = ? AND state = 'sending'",
                         (state, message_id if state == "sent" else None, reason, tx.now, broadcast_id,
                          user_id))).rowcount
            if n and state == "blocked":
                await tx.write("UPDATE users SET active = 0 WHERE user_id = ?", (user_id,))
            await tx.write("UPDATE broadcasts SET rev = rev + 1, updated_at = ? WHERE id = ?", (tx.now, broadcast_id))
            return bool(n)

        return await self._write(op, "broadcast_record", broadcast_id, user_id, state)  # type: ignore[no-any-return]

    async def finish(self, broadcast_id: int, *, worker: str) -> Broadcast:
        """Mark a broadcast this runner holds done once nobody is left to send to."""
        async def op(tx: Any) -> Broadcast:
            b = await _row(tx.db, broadcast_id)
            if b.state == "sending" and b.claimed_by == worker and b.left == 0:
                await tx.write("UPDATE broadcasts SET state = 'done', finished_at = ?, updated_at = ?, rev = rev + 1"
                         " WHERE id = ?", (tx.now, tx.now, broadcast_id))
                return await _row(tx.db, broadcast_id)
            return b

        return await self._write(op, "broadcast_finish", broadcast_id, worker)  # type: ignore[no-any-return]

    # -- reads --
    async def get(self, broadcast_id: int) -> Broadcast:
        return await self.store.read(partial(_row, broadcast_id=broadcast_id))

    async def recent(self, limit: int = 20, before: int | None = None) -> list[Broadcast]:
        """The newest broadcasts first (ids below `before`), with their counts."""
        async def query(db: Any) -> list[Broadcast]:
            ids = (await db.execute("SELECT id FROM broadcasts WHERE id < ? ORDER BY id DESC LIMIT ?",
                                    (before if before is not None else 2**62, max(1, min(limit, 100))))).fetchall()
            return [await _row(db, i) for (i,) in ids]

        return await self.store.read(query)

    async def running(self) -> list[int]:
        """Broadcasts under way (a runner may have died with them)."""
        rows = await self.store.read(partial(_all, sql="SELECT id FROM broadcasts WHERE state = 'sending' ORDER BY id"))
        return [i for (i,) in rows]

    async def language(self, user_id: int) -> str | None:
        """The language Telegram last showed for a user (the admin's, for the progress)."""
        row = await self.store.read(partial(_one, sql="SELECT language FROM users WHERE user_id = ?",
                                            params=(user_id,)))
        return None if row is None else row[0]

    async def sent_to(self, broadcast_id: int, user_id: int) -> tuple[str, int | None] | None:
        """A recipient's (state, message id), None if not one."""
        row = await self.store.read(partial(
            _one, sql="SELECT state, message_id FROM broadcast_recipients WHERE broadcast_id = ? AND user_id = ?",
            params=(broadcast_id, user_id)))
        return None if row is None else (row[0], row[1])


async def _one(db: Any, sql: str, params: tuple[Any, ...] = ()) -> Any:
    return (await db.execute(sql, params)).fetchone()


async def _all(db: Any, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
    return (await db.execute(sql, params)).fetchall()


async def version(db: Any) -> tuple[int, int]:
    """What the live dashboard watches, cheaply: the journal's last transfer id and the sum of
    the broadcasts' revisions (each recorded outcome, start, cancel and end adds one)."""
    last = (await db.execute("SELECT COALESCE(MAX(id), 0) FROM transfers")).fetchone()[0]
    revs = (await db.execute("SELECT COALESCE(SUM(rev), 0) FROM broadcasts")).fetchone()[0]
    return int(last), int(revs)

"""The use cases. Every write is one request to the store's group commit, with an optional
idempotency key; every refusal is raised before anything of it is kept."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any, TextIO

from economy import audit, engage, engage_queries, export, queries
from economy.amounts import check_actor, check_amount, check_row_id, check_user_id, within
from economy.audit import Actor
from economy.catalog import CONTENT, FREEZE, Catalog, content_of
from economy.token_days import TokenDays
from economy.errors import (
    AlreadyExists, AlreadyOwned, InsufficientFunds, InvalidInput, NotFound,
    QuotaBelowUsage, QuotaExceeded, RefundTooLarge,
)
from economy.models import (
    Answer, Balance, ContentItem, Conversion, CreditChange, CreditUser, DayTokens, Delivery, Done, Earning, Entry, Gift,
    GiftFlow, Key, Notice, Page, Profile, Purchase, Registration, Reminder, Spender, Stats, Ticket, Window,
)
from economy.storage.schema import (
    CREDIT, PERK_COLUMNS, QUOTA_ISSUER, REVENUE, TOKEN, TOKEN_MINT, USED, XP, XP_CONVERTED, XP_ISSUER,
    account_id,
)
from economy.storage import Store, Tx, open_store
from economy.text import check_text, clean_text, profile, shown

CONTENT_ID = re.compile(r"[A-Za-z0-9_.-]{1,40}", re.ASCII)
MAX_TEXT = 200
SUPPORT_TEXT = 1000


def _key(key: Key | str | None) -> Key | None:
    """The request's idempotency key; InvalidText (before anything is queued) for one the
    database cannot store: the batch reads its keys first, so such a key would fail every
    request of the batch, not just its own."""
    key = Key(key) if isinstance(key, str) else key
    if key is not None:
        check_text(key.value, "key")
        if key.former is not None:
            check_text(key.former, "key")
    return key


#: The reason of a refunded delivery whose usage an admin had already refunded by hand.
BY_HAND = "by_hand"
#: Seconds a claim holds before another worker may take it over, for callers that name none.
#: The bot passes its own, built to outlast its longest send and record (bot/delivery.LEASE).
DELIVERY_LEASE = 45


async def _take_username(tx: Tx, user_id: int, username: str | None) -> None:
    """Telegram usernames are unique at any moment: whoever held this one gave it up."""
    if username is not None:
        await tx.write("UPDATE users SET username = NULL WHERE username = ? AND user_id <> ?", (username, user_id))


async def _pending_delivery(tx: Tx, transfer_id: int, user_id: int, kind: str, worker: str, source: str = "") -> None:
    await tx.write("INSERT INTO deliveries(transfer_id, user_id, kind, state, claimed_at, claimed_by, updated_at,"
                   " source) VALUES (?, ?, ?, 'pending', ?, ?, ?, ?)",
                   (transfer_id, user_id, kind, tx.now, worker, tx.now, source))


async def _pending_notice(tx: Tx, transfer_id: int, user_id: int, kind: str, data: dict[str, Any]) -> None:
    """The notice this change owes its user, kept with the change (sent after the commit, by
    the caller or, if it dies first, by a sweep). Unclaimed: whoever comes first sends it."""
    await tx.write("INSERT INTO notices(transfer_id, user_id, kind, data, state, claimed_at, claimed_by, updated_at)"
             " VALUES (?, ?, ?, ?, 'pending', ?, '', ?)",
             (transfer_id, user_id, kind, json.dumps(data, ensure_ascii=False), tx.now, tx.now))


#: The audit trail's name of each credit movement.
AUDIT_ACTIONS = {"quota_increase": "quota_raise", "quota_decrease": "quota_lower", "file_charge": "charge",
                 "usage_remove": "refund"}


async def _figures(tx: Tx, user_id: int) -> tuple[int, int]:
    """(quota, used) of a user, read inside the transaction."""
    w = await tx.wallet(user_id)
    return w.credit + w.credit_used, w.credit_used


class Ledger:
    def __init__(self, store: Store, catalog: Catalog | None = None) -> None:
        self.store = store
        self.catalog = catalog or Catalog.default()

    @classmethod
    async def open(
        cls, where: str | Path, *, catalog: Catalog | None = None, synchronous: str = "FULL",
        clock: Callable[[], float] | None = None, busy_timeout_ms: int = 5000, lock_wait_s: float = 30.0,
        read_only: bool = False,
    ) -> Ledger:
        """Open `where` (a path, a `sqlite:///...` or a `postgresql://...` URL), migrating it to
        the current schema; `read_only`: for reads only, on a ledger already at the current
        schema (economy.storage.SchemaMismatch if it is not), nothing created or migrated."""
        store = open_store(where, synchronous=synchronous, clock=clock, busy_timeout_ms=busy_timeout_ms,
                           lock_wait_s=lock_wait_s, read_only=read_only)
        return cls(await store.open(), catalog)

    async def close(self) -> None:
        await self.store.close()

    async def __aenter__(self) -> Ledger:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def _write(self, op: Callable[[Tx], Awaitable[Any]], key: Key | str | None, *fingerprint: object,
               user: int | None = None) -> Any:
        """Queue `op`; `user` names the wallet it works on, read with the batch's others."""
        return self.store.write(op, _key(key), "|".join(map(str, fingerprint)), user)

    # -- users and XP --
    async def register(
        self, user_id: int, *, username: str | None = None, first_name: str = "",
        language: str | None = None, key: Key | str | None = None,
    ) -> Registration:
        """Create the user (and pay the bonus, once ever) or refresh their profile (cleaned, never
        refused: see economy.text.profile)."""
        check_user_id(user_id)
        uname, name, lang = profile(username, first_name, language)
        bonus = self.catalog.registration_bonus

        async def op(tx: Tx) -> Registration:
            await _take_username(tx, user_id, uname)
            created = (await tx.write(
                "INSERT INTO users(user_id, username, first_name, language, registered_at)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (user_id, uname, name, lang, tx.now),
            )).rowcount
            if not created:
                await tx.write(
                    "UPDATE users SET username = ?, first_name = ?, language = ?, active = 1 WHERE user_id = ?",
                    (uname, name, lang, user_id),
                )
                return Registration(user_id, False, 0, await tx.balance(account_id(user_id, XP)))
            await tx.write("INSERT INTO wallets(user_id) VALUES (?)", (user_id,))
            await tx.transfer("earn", "XP", XP_ISSUER, account_id(user_id, XP), bonus, user_id, "registration")
            return Registration(user_id, True, bonus, bonus)

        return await self._write(op, key, "register", user_id, user=user_id)

    async def refresh_profile(self, user_id: int, *, username: str | None, first_name: str = "",
                              language: str | None = None) -> Done:
        """Keep a registered user's name, username and language as Telegram last showed them;
        a username they now hold is taken from whoever had it before (usernames change hands).
        Writes nothing when nothing changed or the user is not registered. A character the
        database cannot store is replaced, not refused (economy.text.profile)."""
        check_user_id(user_id)
        uname, name, lang = profile(username, first_name, language)

        async def op(tx: Tx) -> Done:
            row = (await tx.db.execute("SELECT username, first_name, language FROM users WHERE user_id = ?",
                                (user_id,))).fetchone()
            if row is None:
                return Done("unknown", str(user_id))
            if tuple(row) == (uname, name, lang):
                return Done("unchanged", str(user_id))
            await _take_username(tx, user_id, uname)
            await tx.write("UPDATE users SET username = ?, first_name = ?, language = ? WHERE user_id = ?",
                     (uname, name, lang, user_id))
            return Done("refreshed", str(user_id))

        return await self._write(op, None, "refresh_profile", user_id, uname, name, lang)

    async def daily(self, user_id: int, *, key: Key | str | None = None) -> Earning:
        """Pay the daily reward once per local day (TIMEZONE), doubled while a boost is active,
        with the streak bonus from the second day of a streak on (economy/engage.py)."""
        check_user_id(user_id)
        return await self._write(partial(engage.daily, cat=self.catalog, user_id=user_id), key, "daily", user_id,
                                 user=user_id)

    async def grant(
        self, user_id: int, amount: int, *, reason: str = "", actor: int | None = None,
        key: Key | str | None = None, notify: bool = False, audit_as: Actor | None = None,
    ) -> Earning:
        """An admin's XP reward (weekly tasks and the like). `notify`: the user is owed a notice
        (kept with the grant; see `claim_notice`). `audit_as` (here and in every admin write):
        who acts, recorded in the audit trail in this transaction (economy/audit.py)."""
        check_user_id(user_id)
        check_amount(amount)
        check_actor(actor)
        reason = check_text(reason, "reason", MAX_TEXT)

        async def op(tx: Tx) -> Earning:
            before = await audit.figures(tx, user_id)
            moved = await tx.transfer("earn", "XP", XP_ISSUER, account_id(user_id, XP), amount, user_id,
                                      reason or "grant",
                                actor)
            xp = await tx.balance(account_id(user_id, XP))
            if notify:
                await _pending_notice(tx, moved.id, user_id, "grant", {"amount": amount, "xp": xp, "reason": reason})
            if audit_as is not None:
                await audit.record(tx, audit_as, "grant", user_id=user_id, amount=amount, unit="XP", before=before,
                                   after=await audit.figures(tx, user_id), note=reason, transfer_id=moved.id)
            return Earning(user_id, amount, xp, transfer_id=moved.id)

        return await self._write(op, key, "grant", user_id, amount, reason, actor, user=user_id)

    async def earn(
        self, user_id: int, amount: int, *, reason: str = "", key: Key | str | None = None,
        audit_as: Actor | None = None,
    ) -> Earning:
        """XP from elsewhere on the platform (the HTTP API): creates the user if new, without
        the registration bonus (which only the bot's /start pays, to users it creates)."""
        check_user_id(user_id)
        check_amount(amount)
        reason = check_text(reason, "reason", MAX_TEXT)

        async def op(tx: Tx) -> Earning:
            try:
                before = await audit.figures(tx, user_id)
            except NotFound:
                before = {}
                await tx.write("INSERT INTO users(user_id, registered_at) VALUES (?, ?)", (user_id, tx.now))
                await tx.write("INSERT INTO wallets(user_id) VALUES (?)", (user_id,))
            moved = await tx.transfer("earn", "XP", XP_ISSUER, account_id(user_id, XP), amount, user_id,
                                      reason or "earn")
            if audit_as is not None:
                await audit.record(tx, audit_as, "earn", user_id=user_id, amount=amount, unit="XP", before=before,
                                   after=await audit.figures(tx, user_id), note=reason, transfer_id=moved.id)
            return Earning(user_id, amount, moved.credit_balance)  # type: ignore[arg-type]

        return await self._write(op, key, "earn", user_id, amount, reason, user=user_id)

    async def convert(self, user_id: int, amount: int | None = None, *, key: Key | str | None = None,
                      audit_as: Actor | None = None) -> Conversion:
        """XP to tokens, 1:1; `amount=None` converts all the XP there is."""
        check_user_id(user_id)
        if amount is not None:
            check_amount(amount)

        async def op(tx: Tx) -> Conversion:
            before = await audit.figures(tx, user_id) if audit_as is not None else {}
            n = amount
            if n is None:
                n = await tx.balance(account_id(user_id, XP))
                if n == 0:
                    raise InsufficientFunds(asset="XP", needed=1, available=0)
            xp = (await tx.transfer("convert", "XP", account_id(user_id, XP), XP_CONVERTED, n, user_id)).debit_balance
            moved = await tx.transfer("convert", "TOKEN", TOKEN_MINT, account_id(user_id, TOKEN), n, user_id)
            if audit_as is not None:
                await audit.record(tx, audit_as, "convert", user_id=user_id, amount=n, unit="XP", before=before,
                                   after=await audit.figures(tx, user_id), transfer_id=moved.id)
            return Conversion(user_id, n, xp, moved.credit_balance)  # type: ignore[arg-type]

        return await self._write(op, key, "convert", user_id, amount, user=user_id)

    # -- the shop --
    async def buy(self, user_id: int, code: str, ref: str = "", *, deliver: bool = False, worker: str = "",
                  source: str = "", key: Key | str | None = None, audit_as: Actor | None = None) -> Purchase:
        """Buy an item: permanent ones once, timed ones extend; the price is the server's.
        `deliver=True` (content only) records a pending delivery with the spend, claimed by
        `worker`, settled later by `delivered`, `refund_delivery` or `keep_delivery`; `source`
        is kept with it for whoever finishes it (see `charge`)."""
        check_user_id(user_id)
        item = self.catalog.item(code)
        if item.code == FREEZE:
            return await self._write(partial(engage.buy_freeze, cat=self.catalog, user_id=user_id), key, "buy",
                                     user_id, FREEZE, "", user=user_id)
        ref = ref if item.per_ref else ""
        if item.per_ref and not CONTENT_ID.fullmatch(ref):
            raise NotFound(what="content", ref=shown(ref, 40))
        revenue = REVENUE[item.code]

        async def op(tx: Tx) -> Purchase:
            before = await audit.figures(tx, user_id) if audit_as is not None else {}
            bought = await _buy(tx)
            if audit_as is not None:
                await audit.record(tx, audit_as, "spend", user_id=user_id, amount=bought.price, unit="tokens",
                                   before=before, after=await audit.figures(tx, user_id),
                                   note=f"{bought.item}:{bought.ref}" if bought.ref else bought.item,
                                   transfer_id=bought.transfer_id)
            return bought

        async def _buy(tx: Tx) -> Purchase:
            if item.code == CONTENT:
                row = (await tx.db.execute("SELECT price FROM content WHERE content_id = ?", (ref,))).fetchone()
                if row is None:
                    raise NotFound(what="content", ref=ref)
                if (await tx.db.execute(
                    "SELECT 1 FROM entitlements WHERE user_id = ? AND item = ? AND ref = ?", (user_id, CONTENT, ref)
                )).fetchone():
                    raise AlreadyOwned(item=CONTENT, ref=ref)
                moved = await tx.transfer("spend", "TOKEN", account_id(user_id, TOKEN), revenue, row[0], user_id,
                                    f"{CONTENT}:{ref}")
                await tx.write("INSERT INTO entitlements VALUES (?, ?, ?, ?, NULL)", (user_id, CONTENT, ref, tx.now))
                if deliver:
                    await _pending_delivery(tx, moved.id, user_id, CONTENT, worker, source)
                return Purchase(user_id, CONTENT, ref, row[0], moved.debit_balance, None,  # type: ignore[arg-type]
                                moved.id)
            w, perk = await tx.wallet(user_id), PERK_COLUMNS[item.code]
            held = getattr(w, perk)
            if held is not None and item.duration is None:
                raise AlreadyOwned(item=item.code, ref="")
            moved = await tx.transfer("spend", "TOKEN", account_id(user_id, TOKEN), revenue, item.price, user_id,
                                      item.code)
            until = None
            if item.duration is None:
                setattr(w, perk, tx.now)
            else:
                until = max(held or 0, tx.now) + item.duration
                setattr(w, perk, until)
            return Purchase(user_id, item.code, "", item.price, moved.debit_balance, until,  # type: ignore[arg-type]
                            moved.id)

        return await self._write(op, key, "buy", user_id, item.code, ref, *(["deliver"] if deliver else []),
                                 user=user_id)

    async def add_content(
        self, content_id: str, *, title: str, media: str, file_ref: str, price: int | None = None,
        actor: int | None = None, key: Key | str | None = None, audit_as: Actor | None = None,
    ) -> ContentItem:
        """Register premium content the bot can deliver (`media` + `file_ref` are opaque here)."""
        if not CONTENT_ID.fullmatch(content_id or ""):
            raise InvalidInput(text=shown(content_id or "", 40), reason="bad_content_id")
        price = check_amount(price if price is not None else self.catalog.item(CONTENT).price)
        check_actor(actor)
        item = ContentItem(content_id, check_text(title or content_id, "title", 100), check_text(media, "media", 16),
                           check_text(file_ref, "file_ref", 512), price)

        async def op(tx: Tx) -> ContentItem:
            if not (await tx.db.execute(
                "INSERT INTO content VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (item.content_id, item.title, item.media, item.file_ref, item.price, actor, tx.now),
            )).rowcount:
                raise AlreadyExists(what="content", ref=content_id)
            tx.dirty = True
            if audit_as is not None:
                await audit.record(tx, audit_as, "add_content", amount=item.price, unit="tokens",
                                   note=f"{item.content_id}: {item.title}")
            return item

        return await self._write(op, key, "add_content", content_id, item.title, item.file_ref, price)

    # -- reverse credit --
    async def raise_quota(self, user_id: int, amount: int, *, actor: int | None = None, note: str = "",
                          key: Key | str | None = None, notify: bool = False,
                          audit_as: Actor | None = None) -> CreditChange:
        """`notify` (here, in `lower_quota` and `refund`): the user is owed a notice, kept with
        the change (see `claim_notice`)."""
        return await self._credit("quota_increase", user_id, amount, actor, note, key, notify=notify,
                                  audit_as=audit_as)

    async def lower_quota(self, user_id: int, amount: int, *, actor: int | None = None, note: str = "",
                          key: Key | str | None = None, notify: bool = False,
                          audit_as: Actor | None = None) -> CreditChange:
        return await self._credit("quota_decrease", user_id, amount, actor, note, key, notify=notify,
                                  audit_as=audit_as)

    async def charge(self, user_id: int, amount: int, *, actor: int | None = None, note: str = "",
                     deliver: bool = False, worker: str = "", source: str = "",
                     key: Key | str | None = None, audit_as: Actor | None = None) -> CreditChange:
        """Charge a file to the user's credit; refused if used + amount would pass the quota.
        `deliver=True` records a pending delivery with the charge (see `buy`); `source` says,
        in the sender's terms, where the file comes from (so a sweep can send it without the
        request that made the charge)."""
        return await self._credit("file_charge", user_id, amount, actor, note, key, deliver, worker, source=source,
                                  audit_as=audit_as)

    async def refund(self, user_id: int, amount: int, *, actor: int | None = None, note: str = "",
                     key: Key | str | None = None, notify: bool = False,
                     audit_as: Actor | None = None) -> CreditChange:
        """Take `amount` off the credit used; refused if more than is used."""
        return await self._credit("usage_remove", user_id, amount, actor, note, key, notify=notify,
                                  audit_as=audit_as)

    async def _credit(self, kind: str, user_id: int, amount: int, actor: int | None, note: str,
                      key: Key | str | None, deliver: bool = False, worker: str = "", *, source: str = "",
                      notify: bool = False, audit_as: Actor | None = None) -> CreditChange:
        check_user_id(user_id)
        check_amount(amount)
        check_actor(actor)
        note = check_text(note, "note", MAX_TEXT)
        source = check_text(source, "source", 128)
        avail, used = account_id(user_id, CREDIT), account_id(user_id, USED)
        debit, credit = {
            "quota_increase": (QUOTA_ISSUER, avail), "quota_decrease": (avail, QUOTA_ISSUER),
            "file_charge": (avail, used), "usage_remove": (used, avail),
        }[kind]

        async def op(tx: Tx) -> CreditChange:
            before = await audit.figures(tx, user_id) if audit_as is not None else {}
            try:
                moved = await tx.transfer(kind, "CREDIT", debit, credit, amount, user_id, note, actor)
            except InsufficientFunds:
                quota, spent = await _figures(tx, user_id)
                if kind == "file_charge":
                    raise QuotaExceeded(amount=amount, quota=quota, used=spent) from None
                if kind == "usage_remove":
                    raise RefundTooLarge(amount=amount, used=spent) from None
                raise QuotaBelowUsage(amount=amount, quota=quota, used=spent) from None
            if deliver:
                await _pending_delivery(tx, moved.id, user_id, kind, worker, source)
            quota, spent = await _figures(tx, user_id)
            if notify:
                await _pending_notice(tx, moved.id, user_id, kind, {"amount": amount, "available": quota - spent})
            if audit_as is not None:
                await audit.record(tx, audit_as, AUDIT_ACTIONS[kind], user_id=user_id, amount=amount, unit="TL",
                                   before=before, after=await audit.figures(tx, user_id), note=note,
                                   transfer_id=moved.id)
            return CreditChange(user_id, kind, amount, quota, spent, moved.id)

        return await self._write(op, key, kind, user_id, amount, note, actor, *(["deliver"] if deliver else []),
                                 user=user_id)

    # -- deliveries: what became of a charge or purchase that a file must follow --
    async def claim_delivery(self, transfer_id: int, *, worker: str = "", take_over: bool = False,
                             lease: int = DELIVERY_LEASE) -> Delivery:
        """The delivery of `transfer_id`, claimed for `worker` (`claimed=True`: send it now) when
        it is pending and its claim is this worker's own, or older than `lease` seconds, or
        `take_over` says no other worker can be alive (one polling process). A settled one is
        returned as recorded: the caller reports it and sends nothing."""
        check_row_id(transfer_id, "delivery")
        lease = within(lease, 0, 10**9)

        async def op(tx: Tx) -> Delivery:
            found = await queries.found_delivery(tx.db, transfer_id)
            if found.state != "pending":
                return found.delivery
            if not (take_over or found.claimed_by == worker or found.claimed_at + lease <= tx.now):
                return found.delivery
            await tx.write("UPDATE deliveries SET claimed_at = ?, claimed_by = ?, updated_at = ? WHERE transfer_id = ?",
                     (tx.now, worker, tx.now, transfer_id))
            return replace(found.delivery, claimed=True)

        return await self._write(op, None, "claim_delivery", transfer_id, worker, take_over)

    async def delivered(self, transfer_id: int, message_id: int) -> Delivery:
        """The file arrived (Telegram gave it `message_id`)."""
        return await self._settle(transfer_id, "delivered", message_id=message_id)

    async def keep_delivery(self, transfer_id: int, reason: str) -> Delivery:
        """A purchase stays paid without a send now: its owner takes it later (/mycontent)."""
        return await self._settle(transfer_id, "kept", reason=reason)

    async def refund_delivery(self, transfer_id: int, reason: str) -> Delivery:
        """The file could not be delivered: reverse the charge or purchase (and take back the
        content it entitled to), so the user pays nothing for it."""
        return await self._settle(transfer_id, "refunded", reason=reason)

    async def _settle(self, transfer_id: int, state: str, *, message_id: int | None = None,
                      reason: str = "") -> Delivery:
        # The bot's own word for an outcome that must be recorded whatever it is: cleaned, not refused.
        reason = clean_text(reason)[:64]

        async def op(tx: Tx) -> Delivery:
            found = await queries.found_delivery(tx.db, transfer_id)
            if found.state != "pending":
                return found.delivery  # settled already (by a replay or another instance)
            refund_id, why = None, reason
            if state == "refunded":
                kind, asset, debit, credit, amount, user_id, ref = found.transfer
                try:
                    refund_id = (await tx.transfer("delivery_refund", asset, credit, debit, amount, user_id, ref)).id
                except InsufficientFunds:
                    # An admin took the usage off by hand meanwhile: the user pays nothing for
                    # this file already, there is nothing left to reverse.
                    why = BY_HAND
                if kind == "spend" and (content := content_of(ref)) is not None:
                    await tx.write("DELETE FROM entitlements WHERE user_id = ? AND item = ? AND ref = ?",
                             (user_id, CONTENT, content))
            await tx.write("UPDATE deliveries SET state = ?, message_id = ?, refund_id = ?, reason = ?, updated_at = ?"
                     " WHERE transfer_id = ?", (state, message_id, refund_id, why, tx.now, transfer_id))
            return replace(found.delivery, state=state, message_id=message_id, refund_id=refund_id, reason=why)

        return await self._write(op, None, "settle", transfer_id, state, message_id, reason,
                                 user=None)

    async def recorded(self, key: Key | str) -> object | None:
        """The first outcome kept under an idempotency key (None if unknown or expired)."""
        value = key.value if isinstance(key, Key) else key
        return await self.store.read(partial(queries.recorded, key=value, now=int(self.store.clock())))

    async def delivery(self, transfer_id: int) -> Delivery:
        return await self.store.read(partial(queries.delivery, transfer_id=check_row_id(transfer_id, "delivery")))

    async def pending_deliveries(self, user_id: int) -> list[Delivery]:
        return await self.store.read(partial(queries.pending_deliveries, user_id=check_user_id(user_id)))

    async def unsettled(self, what: str, *, lease: int = DELIVERY_LEASE, limit: int = 100) -> list[int]:
        """Transfer ids of pending `deliveries` or `notices` whose claim ran out (see
        queries.unsettled), oldest first: what a sweep may claim."""
        return await self.store.read(partial(queries.unsettled, table=what, now=int(self.store.clock()),
                                             lease=within(lease, 0, 10**9), limit=within(limit, 1, 1000)))

    # -- notices: what a committed change owes its user (an admin's grant, quota, refund) --
    async def claim_notice(self, transfer_id: int, *, worker: str = "", take_over: bool = False,
                           lease: int = DELIVERY_LEASE) -> Notice:
        """The notice of `transfer_id`, claimed for `worker` (`claimed=True`: send it now) when it
        is pending and unclaimed, or its claim is this worker's own or older than `lease`, or
        `take_over` (see `claim_delivery`)."""
        check_row_id(transfer_id, "notice")
        lease = within(lease, 0, 10**9)

        async def op(tx: Tx) -> Notice:
            found = await queries.found_notice(tx.db, transfer_id)
            if found.state != "pending":
                return found.notice
            if not (take_over or found.claimed_by in ("", worker) or found.claimed_at + lease <= tx.now):
                return found.notice
            await tx.write("UPDATE notices SET claimed_at = ?, claimed_by = ?, updated_at = ? WHERE transfer_id = ?",
                     (tx.now, worker, tx.now, transfer_id))
            return replace(found.notice, claimed=True)

        return await self._write(op, None, "claim_notice", transfer_id, worker, take_over)

    async def notice_sent(self, transfer_id: int, message_id: int) -> Notice:
        return await self._settle_notice(transfer_id, "sent", message_id, "")

    async def notice_failed(self, transfer_id: int, reason: str) -> Notice:
        """Given up for good (the user blocked the bot, Telegram refused it): the change stands."""
        return await self._settle_notice(transfer_id, "failed", None, clean_text(reason)[:64])

    async def _settle_notice(self, transfer_id: int, state: str, message_id: int | None, reason: str) -> Notice:
        check_row_id(transfer_id, "notice")

        async def op(tx: Tx) -> Notice:
            found = await queries.found_notice(tx.db, transfer_id)
            if found.state != "pending":
                return found.notice
            await tx.write("UPDATE notices SET state = ?, message_id = ?, reason = ?, updated_at = ?"
                           " WHERE transfer_id = ?",
                     (state, message_id, reason, tx.now, transfer_id))
            return replace(found.notice, state=state, message_id=message_id, reason=reason)

        return await self._write(op, None, "settle_notice", transfer_id, state, message_id, reason)

    async def notice(self, transfer_id: int) -> Notice:
        return await self.store.read(partial(queries.notice, transfer_id=check_row_id(transfer_id, "notice")))

    # -- support --
    async def support(self, user_id: int, text: str, *, key: Key | str | None = None) -> Ticket:
        """Keep a message for the admins; it is a priority one while the user's DM perk is active."""
        check_user_id(user_id)
        body = check_text(text, "text").strip()[:SUPPORT_TEXT]
        if not body:
            raise InvalidInput(text="", reason="empty_text")

        async def op(tx: Tx) -> Ticket:
            until = (await tx.wallet(user_id)).dm_until  # NotFound for a stranger
            priority = until is not None and until > tx.now
            tid = (await tx.write(
                "INSERT INTO support_messages(user_id, text, priority, created_at) VALUES (?, ?, ?, ?) RETURNING id",
                (user_id, body, int(priority), tx.now),
            )).fetchone()[0]
            return Ticket(tid, user_id, body, priority, tx.now)  # type: ignore[arg-type]

        return await self._write(op, key, "support", user_id, body, user=user_id)

    async def close_tickets(self, user_id: int, *, key: Key | str | None = None, audit_as: Actor | None = None,
                            note: str = "") -> Done:
        """Mark a user's open support messages answered (an admin replied: `note` is the reply,
        kept in the audit trail)."""
        check_user_id(user_id)

        async def op(tx: Tx) -> Done:
            n = (await tx.write("UPDATE support_messages SET answered_at = ? WHERE user_id = ? AND answered_at IS NULL",
                                (tx.now, user_id))).rowcount
            if audit_as is not None:
                await audit.record(tx, audit_as, "reply", user_id=user_id, note=note)
            return Done("answered", str(n))

        return await self._write(op, key, "close_tickets", user_id, user=user_id)

    async def remember(self, key: Key | str, fingerprint: str, text: str) -> Answer:
        """Keep `text` under `key` unless something is kept there already: returns the first
        text kept for this key and fingerprint (IdempotencyConflict for another fingerprint)."""
        text, fingerprint = check_text(text, "answer"), check_text(fingerprint, "fingerprint")
        async def op(tx: Tx) -> Answer:
            return Answer(text)

        return await self._write(op, key, "remember", fingerprint)  # type: ignore[no-any-return]

    async def purge_keys(self) -> int:
        """Forget idempotency keys past their expiry; return how many."""
        async def op(tx: Tx) -> Done:
            n = (await tx.write("DELETE FROM idempotency WHERE expires_at IS NOT NULL AND expires_at <= ?",
                                (tx.now,))).rowcount
            return Done("purged", str(n))

        return int((await self._write(op, None, "purge_keys")).ref)

    async def set_active(self, user_id: int, active: bool) -> Done:
        """Mark a user (in)active, e.g. after Telegram says they blocked the bot."""
        check_user_id(user_id)

        async def op(tx: Tx) -> Done:
            changed = await tx.db.execute("UPDATE users SET active = ? WHERE user_id = ?", (int(active), user_id))
            if not changed.rowcount:
                raise NotFound(what="user", ref=str(user_id))
            tx.dirty = True
            return Done("active" if active else "inactive", str(user_id))

        return await self._write(op, None, "set_active", user_id, active)

    # -- gifts, /notify, reminders (issue 23) --
    async def gift(self, sender: int, recipient: int, amount: int, *, key: Key | str | None = None,
                   audit_as: Actor | None = None) -> Gift:
        """Give `amount` tokens to another user, within the caps (economy/engage.py). `audit_as`
        (an API key): the gift is recorded in the audit trail with its effect."""
        check_user_id(sender)
        check_user_id(recipient)
        check_amount(amount)
        cat = self.catalog

        async def op(tx: Tx) -> Gift:
            before = await audit.figures(tx, sender) if audit_as is not None else {}
            done = await engage.gift(tx, cat, sender, recipient, amount)
            if audit_as is not None:
                await audit.record(tx, audit_as, "gift", user_id=sender, amount=amount, unit="tokens", before=before,
                                   after=await audit.figures(tx, sender), note=f"to {recipient}",
                                   transfer_id=done.transfer_id)
            return done

        return await self._write(op, key, "gift", sender, recipient, amount, user=sender)

    async def void(self, key: Key | str) -> Done:
        """Keep `key` used, with no effect: a write that later comes with it (another operation)
        is refused as a conflict, and the same void again is a replay."""
        async def op(tx: Tx) -> Done:
            return Done("void", "")

        return await self._write(op, key, "void")

    async def set_notify(self, user_id: int, on: bool, *, key: Key | str | None = None) -> Done:
        check_user_id(user_id)
        return await self._write(partial(engage.set_notify, user_id=user_id, on=on), key, "notify", user_id, on)

    async def due_reminders(self, limit: int = 100) -> list[Reminder]:
        """Reminders due now and not recorded yet, for users who want them."""
        now = int(self.store.clock())
        return await self.store.read(partial(engage_queries.due_reminders, now=now, days=self.catalog.days,
                                             limit=within(limit, 1, 1000)))

    async def claim_reminder(self, reminder: Reminder, worker: str) -> Reminder:
        return await self._write(partial(engage.claim_reminder, r=reminder, worker=worker), None, "claim_reminder",
                                 reminder.kind, reminder.user_id, reminder.ref)

    async def settle_reminder(self, reminder: Reminder, state: str, message_id: int | None = None,
                              reason: str = "") -> Done:
        return await self._write(partial(engage.settle_reminder, r=reminder, state=state, message_id=message_id,
                                         reason=clean_text(reason)[:64]), None, "settle_reminder", reminder.kind,
                                 reminder.user_id, reminder.ref, state)

    async def lose_reminders(self, older_than: int) -> int:
        """Mark reminders pending for more than `older_than` seconds lost (never sent again)."""
        older_than = within(older_than, 0, 10**9)

        async def op(tx: Tx) -> Done:
            return await engage.lose_reminders(tx, tx.now - older_than)

        return int((await self._write(op, None, "lose_reminders")).ref)

    async def reminders(self, user_id: int) -> list[Reminder]:
        return await self.store.read(partial(engage_queries.reminders, user_id=check_user_id(user_id)))

    async def gift_flows(self, days: int = 7, limit: int = 10) -> list[GiftFlow]:
        """The biggest sender -> recipient flows of the last `days` days (alt-account farming)."""
        since = int(self.store.clock()) - max(1, min(days, 366)) * 86400
        return await self.store.read(partial(engage_queries.gift_flows, since=since, limit=limit))

    # -- reads --
    async def ready(self) -> bool:
        """The database answers and is at this code's schema version."""
        return await self.store.read(queries.schema_version) == self.store.version

    async def balance(self, user_id: int) -> Balance:
        """Balances and perks, with the streak as it stands now (local days)."""
        now = int(self.store.clock())
        b, daily_at, streak, freezes = await self.store.read_single(
            partial(queries.balance, user_id=check_user_id(user_id), now=now))
        alive, today = engage_queries.streak_now(self.catalog.days, now, daily_at, streak, freezes)
        return replace(b, streak=alive, freezes=freezes, claimed_today=today)

    async def profile(self, user_id: int) -> Profile:
        return await self.store.read_single(partial(queries.profile, user_id=check_user_id(user_id)))

    async def find_user(self, username: str) -> Profile:
        """The holder of `username` (InvalidText for a name no stored one can equal: a NUL
        would be a driver error on PostgreSQL, a surrogate on both)."""
        return await self.store.read(partial(queries.find_user, username=check_text(username, "username")))

    async def history(self, user_id: int, page: int = 0, per_page: int = 10) -> Page:
        return await self.store.read(partial(queries.history, user_id=check_user_id(user_id), page=page, per_page=per_page))

    async def top_spenders(self, limit: int = 10) -> list[Spender]:
        return await self.store.read(partial(queries.top_spenders, limit=limit))

    async def stats(self) -> Stats:
        return await self.store.read(queries.stats)

    async def credit_users(self, page: int = 0, per_page: int = 20) -> Page:
        return await self.store.read(partial(queries.credit_users, page=page, per_page=per_page))

    async def content(self, content_id: str) -> ContentItem:
        return await self.store.read(partial(queries.content, content_id=content_id))

    async def list_content(self) -> list[ContentItem]:
        return await self.store.read(queries.list_content)

    async def owned_content(self, user_id: int) -> list[ContentItem]:
        return await self.store.read(partial(queries.owned_content, user_id=check_user_id(user_id)))

    async def inbox(self, limit: int = 20) -> list[Ticket]:
        return await self.store.read(partial(queries.inbox, limit=limit))

    async def credit_users_window(self, offset: int = 0, limit: int = 50) -> Window:
        """Credit users from position `offset` (pages as long as what fits on a screen)."""
        return await self.store.read(partial(queries.credit_users_window, offset=offset, limit=limit))

    async def inbox_window(self, offset: int = 0, limit: int = 50) -> Window:
        """Open support messages from position `offset`, with how many are open."""
        return await self.store.read(partial(queries.inbox_window, offset=offset, limit=limit))

    async def journal(self, chunk: int = 5000) -> AsyncIterator[tuple[Any, ...]]:
        """Every transfer in id order (ids grow in commit order, so chunks never miss one)."""
        after = 0
        while rows := await self.store.read(partial(queries.journal, after=after, limit=chunk)):
            for row in rows:
                yield row
            after = rows[-1][0]

    async def export_csv(self, out: TextIO) -> int:
        """Write the whole journal as CSV to `out` (see economy.export); return the number of
        transfers."""
        return await export.write_csv(self.journal(), out, self.catalog.days)

    async def verify(self, *, timed: bool = True) -> list[str]:
        """Every invariant, checked against the journal; an empty list means all hold. `timed`:
        also what has waited too long (a delivery, a notice, a reminder pending for over an
        hour): an operational note about a running bot, not about the data (a backup leaves it out)."""
        return await self.store.read(partial(queries.verify, now=int(self.store.clock()) if timed else None))

    # -- reads for the dashboard --
    _token_days: TokenDays | None = None

    async def daily_tokens(self, days: int = 30) -> list[DayTokens]:
        """Tokens earned (minted) and spent per UTC day, the last `days` days, oldest first
        (summed once, then only what was committed since is read: economy/token_days.py)."""
        if self._token_days is None:
            self._token_days = TokenDays(days=self.catalog.days)
        return await self._token_days.last(self.store, days)

    async def search_users(self, text: str = "", order: str = "used", page: int = 0, per_page: int = 20) -> Page:
        """Users with a quota, or those matching `text` (id, @username prefix, name); `order`:
        "available" or "used", biggest first."""
        return await self.store.read(partial(queries.search_users, text=text, order=order, page=page,
                                             per_page=per_page))


__all__ = ["CreditUser", "Entry", "Ledger"]

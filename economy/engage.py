"""Issue 23's writes, as operations of the group commit (economy/storage/batch.py Tx): /daily with
its streak, a streak freeze bought, a gift, /notify, and the reminders' records.

Days are the community's local days (Catalog.days, TIMEZONE). The ledger (economy/ledger.py)
queues these with their idempotency keys; every refusal here is raised before anything of
the request is written.
"""

from __future__ import annotations

import json

from economy.catalog import FREEZE, FREEZE_MAX, Catalog
from economy.errors import AlreadyClaimed, FreezeLimit, GiftRefused, InsufficientFunds, NotFound, StreakEnded
from economy.storage import Tx
from economy.models import Done, Earning, Gift, Purchase, Reminder
from economy.storage.schema import FREEZE_REVENUE, GIFT_IN, GIFT_OUT, GIFTS, STREAK, TOKEN, XP, XP_ISSUER, account_id


async def daily(tx: Tx, cat: Catalog, user_id: int) -> Earning:
    """Pay /daily once per local day, and the streak bonus as its own journal line.

    A day between two claims that was missed is covered by a freeze if one is held (each covers
    one day, used by itself); a gap freezes cannot cover starts the streak over and keeps them.
    A clock that went back (now before the last claim's local day) pays nothing.
    """
    days = cat.days
    today = days.day(tx.now)
    w = await tx.wallet(user_id)
    lost = used = 0
    if w.daily_at is None:
        streak = 1
    else:
        last = days.day(w.daily_at)
        if last >= today:  # claimed today already, or the clock went back
            raise AlreadyClaimed(next_at=days.midnight(max(last, today) + 1))
        missed = today - last - 1
        if missed <= w.freezes:
            used, streak = missed, w.streak + 1
        else:
            lost, streak = w.streak, 1
    w.daily_at, w.streak, w.freezes = tx.now, streak, w.freezes - used
    boosted = w.boost_until is not None and w.boost_until > tx.now
    amount = cat.daily_reward * (cat.boost_factor if boosted else 1)  # the boost doubles the base only
    to = account_id(user_id, XP)
    xp = (await tx.transfer("earn", "XP", XP_ISSUER, to, amount, user_id, "daily")).credit_balance
    bonus = cat.streak_bonus_for(streak)
    if bonus:
        xp = (await tx.transfer(STREAK, "XP", XP_ISSUER, to, bonus, user_id, f"streak:{streak}")).credit_balance
    return Earning(user_id, amount, xp, boosted, days.midnight(today + 1),  # type: ignore[arg-type]
                   streak=streak, bonus=bonus, freezes_used=used, freezes=w.freezes, lost=lost)


async def buy_freeze(tx: Tx, cat: Catalog, user_id: int) -> Purchase:
    price = cat.item(FREEZE).price
    w = await tx.wallet(user_id)
    if w.freezes >= FREEZE_MAX:
        raise FreezeLimit(held=w.freezes, most=FREEZE_MAX)
    if w.daily_at is not None:
        missed = cat.days.day(tx.now) - cat.days.day(w.daily_at) - 1
        if missed > w.freezes:  # the gap behind ended the streak already: no freeze revives it
            raise StreakEnded(missed=missed)
    moved = await tx.transfer("spend", "TOKEN", account_id(user_id, TOKEN), FREEZE_REVENUE, price, user_id, FREEZE)
    w.freezes += 1
    return Purchase(user_id, FREEZE, "", price, moved.debit_balance, None, moved.id,  # type: ignore[arg-type]
                    held=w.freezes)


async def _given(tx: Tx, column: str, user_id: int, day: int) -> int:
    return int((await tx.db.execute(f"SELECT COALESCE(SUM(amount), 0) FROM gifts WHERE {column} = ?"
                                    " AND sender_day = ?",
                                    (user_id, day))).fetchone()[0])


async def gift(tx: Tx, cat: Catalog, sender: int, recipient: int, amount: int) -> Gift:
    """Move `amount` tokens from `sender` to `recipient`: sender -> GIFTS -> recipient, two
    journal lines (each side's history shows its own), one gifts row. The caps count the
    sender's local day, for both sides."""
    if sender == recipient:
        raise GiftRefused(reason="self", limit=0, left=0)
    w = await tx.wallet(sender)  # NotFound(user) for a sender who never started the bot
    if w.token < amount:  # more than the sender has: said before any cap
        raise InsufficientFunds(asset="TOKEN", needed=amount, available=w.token)
    try:
        await tx.wallet(recipient)
    except NotFound:
        raise NotFound(what="recipient", ref=str(recipient)) from None
    registered = (await tx.db.execute("SELECT registered_at FROM users WHERE user_id = ?", (sender,))).fetchone()[0]
    old_enough = registered + cat.gift_min_age_hours * 3600
    if tx.now < old_enough:
        raise GiftRefused(reason="too_new", limit=cat.gift_min_age_hours, left=-(-(old_enough - tx.now) // 3600))
    day = cat.days.day(tx.now)
    sent = await _given(tx, "sender", sender, day)
    if sent + amount > cat.gift_daily_limit:
        raise GiftRefused(reason="send_limit", limit=cat.gift_daily_limit, left=max(0, cat.gift_daily_limit - sent))
    received = await _given(tx, "recipient", recipient, day)
    if received + amount > cat.gift_receive_daily_limit:
        raise GiftRefused(reason="receive_limit", limit=cat.gift_receive_daily_limit,
                          left=max(0, cat.gift_receive_daily_limit - received))
    w.tokens_given += amount
    out = await tx.transfer(GIFT_OUT, "TOKEN", account_id(sender, TOKEN), GIFTS, amount, sender, f"gift:{recipient}")
    into = await tx.transfer(GIFT_IN, "TOKEN", GIFTS, account_id(recipient, TOKEN), amount, recipient, f"gift:{sender}")
    await tx.write("INSERT INTO gifts VALUES (?, ?, ?, ?, ?, ?)", (out.id, sender, recipient, amount, day, tx.now))
    # The recipient is told by a notice kept with the gift (sent after the commit, or by the sweep).
    name, username = (await tx.db.execute("SELECT first_name, username FROM users WHERE user_id = ?",
                                          (sender,))).fetchone()
    data = {"amount": amount, "tokens": into.credit_balance, "name": name or (f"@{username}" if username else ""),
            "sender": sender}
    await tx.write("INSERT INTO notices(transfer_id, user_id, kind, data, state, claimed_at, claimed_by, updated_at)"
             " VALUES (?, ?, ?, ?, 'pending', ?, '', ?)",
             (into.id, recipient, GIFT_IN, json.dumps(data, ensure_ascii=False), tx.now, tx.now))
    return Gift(sender, recipient, amount, out.debit_balance, into.credit_balance, out.id,  # type: ignore[arg-type]
                sent + amount, received + amount)


async def set_notify(tx: Tx, user_id: int, on: bool) -> Done:
    if not (await tx.db.execute("SELECT 1 FROM users WHERE user_id = ?", (user_id,))).fetchone():
        raise NotFound(what="user", ref=str(user_id))
    await tx.write("UPDATE users SET notify = ? WHERE user_id = ?", (int(on), user_id))
    return Done("notify_on" if on else "notify_off", str(user_id))


async def claim_reminder(tx: Tx, r: Reminder, worker: str) -> Reminder:
    """Record the reminder before it is sent; `claimed` only for the one caller that recorded
    it (the primary key (kind, user_id, ref) makes a second record impossible), and only while
    the user still wants reminders."""
    wants = (await tx.db.execute("SELECT notify FROM users WHERE user_id = ?", (r.user_id,))).fetchone()
    if not wants or not wants[0]:
        return r
    kept = (await tx.write(
        "INSERT INTO reminders(kind, user_id, ref, state, claimed_at, claimed_by, updated_at)"
        " VALUES (?, ?, ?, 'pending', ?, ?, ?) ON CONFLICT DO NOTHING",
        (r.kind, r.user_id, r.ref, tx.now, worker, tx.now),
    )).rowcount
    return Reminder(r.kind, r.user_id, r.ref, r.at, r.language, r.streak, "pending", claimed=bool(kept))


async def settle_reminder(tx: Tx, r: Reminder, state: str, message_id: int | None, reason: str) -> Done:
    n = (await tx.write("UPDATE reminders SET state = ?, message_id = ?, reason = ?, updated_at = ?"
                 " WHERE kind = ? AND user_id = ? AND ref = ? AND state = 'pending'",
                 (state, message_id, reason, tx.now, r.kind, r.user_id, r.ref))).rowcount
    return Done(state if n else "settled", f"{r.kind}:{r.user_id}:{r.ref}")


async def lose_reminders(tx: Tx, before: int) -> Done:
    """Reminders recorded before `before` and never settled: their worker died during the send.
    Whether Telegram got it is unknown, so they are never sent again (at most once)."""
    n = (await tx.write("UPDATE reminders SET state = 'lost', reason = 'worker_died', updated_at = ?"
                 " WHERE state = 'pending' AND claimed_at < ?", (tx.now, before))).rowcount
    return Done("lost", str(n))

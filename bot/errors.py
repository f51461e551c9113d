"""Refusals from the ledger turned into the user's words, in one place."""

from __future__ import annotations

from bot.context import Ctx
from economy.errors import (
    AlreadyClaimed, AlreadyExists, AlreadyOwned, EconomyError, FreezeLimit, GiftRefused, IdempotencyConflict,
    StreakEnded,
    InsufficientFunds, InvalidAmount, InvalidInput, InvalidText, NotFound, QuotaBelowUsage, QuotaExceeded,
    RefundTooLarge, StorageBusy, Unstorable,
)


def render(ctx: Ctx, exc: EconomyError) -> str:
    t = ctx.t
    match exc:
        case InsufficientFunds(asset="XP", available=0):
            return t("no_xp_at_all")
        case InsufficientFunds(asset="XP"):
            return t("no_xp", needed=exc.needed, available=exc.available)
        case InsufficientFunds() if ctx.subject:
            return t("no_tokens_item", name=ctx.subject, needed=exc.needed, available=exc.available,
                     short=exc.shortfall)
        case InsufficientFunds():
            return t("no_tokens", needed=exc.needed, available=exc.available)
        case QuotaExceeded():
            return t("quota_exceeded", amount=t.money(exc.amount), quota=t.money(exc.quota),
                     used=t.money(exc.used), available=t.money(exc.available))
        case RefundTooLarge():
            return t("refund_too_large", amount=t.money(exc.amount), used=t.money(exc.used))
        case QuotaBelowUsage():
            return t("quota_below_usage", amount=t.money(exc.amount), quota=t.money(exc.quota),
                     used=t.money(exc.used))
        case NotFound(what="user") if exc.ref == str(ctx.user_id):
            return t("not_registered")
        case NotFound(what="user"):
            return t("no_user", ref=exc.ref)
        case NotFound(what="recipient"):
            return t("no_recipient", ref=ctx.subject or exc.ref)
        case NotFound(what="content"):
            return t("no_content", ref=exc.ref)
        case NotFound():
            return t("no_item", ref=exc.ref)
        case AlreadyOwned(item="content"):
            return t("already_owned", name=f"{t.item(exc.item)} {exc.ref}")
        case AlreadyOwned():
            return t("already_owned", name=ctx.subject or t.item(exc.item))
        case AlreadyClaimed():
            return t("already_claimed", at=t.local(exc.next_at))
        case FreezeLimit():
            return t("freeze_limit", held=exc.held, most=exc.most)
        case StreakEnded():
            return t("streak_ended", missed=exc.missed)
        case GiftRefused(reason="receive_limit"):
            return t("gift_receive_limit_anon", limit=exc.limit, left=exc.left)
        case GiftRefused():
            return t(f"gift_{exc.reason}", limit=exc.limit, left=exc.left)
        case AlreadyExists():
            return t("already_exists", ref=exc.ref)
        case InvalidAmount():
            return t("bad_amount", text=exc.text or "∅", money=t.raw("bad_amount_money") if ctx.money else "")
        case InvalidText():
            return t("bad_text", text=exc.text or "∅")
        case Unstorable():
            return t("unstorable")
        case InvalidInput():
            return t("bad_input", text=exc.text or "∅")
        case IdempotencyConflict():
            return t("conflict")
        case StorageBusy():
            return t("busy")
    return t("oops")

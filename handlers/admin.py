"""The admin desk: XP grants, quotas, refunds, user cards, lists, stats and the export."""

from __future__ import annotations

import html
import io
from collections.abc import Awaitable, Callable

from aiogram import Bot, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import BufferedInputFile, CallbackQuery, Message

from bot import keyboards, paging
from bot.callbacks import UsersPage
from bot.context import Ctx
from bot.delivery import Deliveries
from bot.texts import Raw, Texts, join
from economy import Ledger, parse_money, parse_units
from economy.audit import AuditEntry, AuditLog
from economy.catalog import FREEZE, ITEM_CODES
from economy.models import CreditChange
from handlers.common import credit_figures, edit, entry_line, name_of, resolve_user

USER_CARD_MOVES = 5


def _args(command: CommandObject, at_least: int, split: int = -1) -> list[str] | None:
    parts = (command.args or "").split(maxsplit=split) if split >= 0 else (command.args or "").split()
    return parts if len(parts) >= at_least else None


async def grant(message: Message, command: CommandObject, ledger: Ledger, ctx: Ctx, bot: Bot,
                deliveries: Deliveries) -> None:
    args = _args(command, 2, split=2)
    if args is None:
        await message.answer(ctx.t("usage_grant"))
        return
    who = await resolve_user(ledger, args[0])
    amount = parse_units(args[1])
    reason = args[2].strip() if len(args) > 2 else ""
    done = await ledger.grant(who.user_id, amount, reason=reason, actor=ctx.user_id, key=ctx.key(), notify=True,
                              audit_as=ctx.actor())
    # The user's notice first: it is owed by the commit (a replay sends it if it is still owed).
    await deliveries.notify(bot, done.transfer_id)
    await message.answer(ctx.t("granted", name=name_of(who), amount=done.amount, xp=done.xp))


async def quota(message: Message, command: CommandObject, ledger: Ledger, ctx: Ctx, bot: Bot,
                deliveries: Deliveries) -> None:
    args = _args(command, 2, split=2)
    if args is None:
        await message.answer(ctx.t("usage_quota"))
        return
    who = await resolve_user(ledger, args[0])
    ctx.money = True
    lower = args[1].startswith("-")
    amount = parse_money(args[1][1:] if lower else args[1])
    note = args[2] if len(args) > 2 else ""
    change = ledger.lower_quota if lower else ledger.raise_quota
    done = await change(who.user_id, amount, actor=ctx.user_id, note=note, key=ctx.key(), notify=True,
                        audit_as=ctx.actor())
    await deliveries.notify(bot, done.transfer_id)
    figures = credit_figures(ctx.t, done)
    await message.answer(ctx.t("quota_lowered" if lower else "quota_raised", name=name_of(who), **figures))


async def refund(message: Message, command: CommandObject, ledger: Ledger, ctx: Ctx, bot: Bot,
                 deliveries: Deliveries) -> None:
    args = _args(command, 2, split=2)
    if args is None:
        await message.answer(ctx.t("usage_refund"))
        return
    who = await resolve_user(ledger, args[0])
    ctx.money = True
    amount = parse_money(args[1])
    done = await ledger.refund(who.user_id, amount, actor=ctx.user_id, note=args[2] if len(args) > 2 else "",
                               key=ctx.key(), notify=True, audit_as=ctx.actor())
    await deliveries.notify(bot, done.transfer_id)
    await message.answer(ctx.t("refunded", name=name_of(who), **credit_figures(ctx.t, done)))


async def user_card(message: Message, command: CommandObject, ledger: Ledger, ctx: Ctx) -> None:
    args = _args(command, 1)
    if args is None or len(args) != 1:
        await message.answer(ctx.t("usage_user"))
        return
    who = await resolve_user(ledger, args[0])
    b = await ledger.balance(who.user_id)
    recent = await ledger.history(who.user_id, 0, USER_CARD_MOVES)
    t = ctx.t
    card = t(
        "user_card", name=who.first_name or "-", username=f"@{who.username}" if who.username else "",
        user=str(who.user_id), since=t.when(who.registered_at), active=who.active, xp=b.xp, tokens=b.tokens,
        quota=t.money(b.credit_quota), used=t.money(b.credit_used), available=t.money(b.credit_available),
    )
    pending = await ledger.pending_deliveries(who.user_id)
    lines = [t("user_card_pending", amount=t.money(d.amount) if d.kind == "file_charge" else Raw(f"{d.amount} token"),
               since=t.when(d.since), id=str(d.transfer_id)) for d in pending]
    if recent.items:  # admins see their notes on credit movements here (users never do)
        lines += ["", t("user_card_history"), *(entry_line(t, e, notes=True) for e in recent.items)]
    actions = await AuditLog(ledger.store).recent(who.user_id, USER_CARD_MOVES)
    if actions:
        lines += ["", t("user_card_audit"), *(audit_line(t, a) for a in actions)]
    if lines:
        card = join(card, lines)
    await message.answer(card)


def audit_line(t: Texts, a: AuditEntry) -> str:
    """One audit row for /user: when, what, how much, by whom and through what."""
    amount = ("-" if a.amount is None else t.money(a.amount).text if a.unit == "TL"
              else f"{t.number(a.amount)} {a.unit}")
    return t("audit_line", when=t.when(a.ts), action=a.action, amount=Raw(html.escape(amount)), by=a.actor[:64],
             via=a.via)


async def _users(ledger: Ledger, ctx: Ctx, offset: int) -> tuple[str, object]:
    t = ctx.t
    page = await paging.screen(
        ledger.credit_users_window,
        lambda u: t("users_line", user=str(u.user_id), name=(u.name or (u.username or ""))[:64],
                    quota=t.money(u.quota), used=t.money(u.used), available=t.money(u.available)),
        lambda first, last, total: t("users_title", total=total, first=first, last=last), offset)
    if page is None:
        return t("users_empty"), None
    return page.text, keyboards.offsets(t, page.prev, page.next, UsersPage)


async def users(message: Message, command: CommandObject, ledger: Ledger, ctx: Ctx) -> None:
    arg = (command.args or "").strip()  # where to start: /users 41 shows the 41st on
    text, markup = await _users(ledger, ctx, parse_units(arg) - 1 if arg else 0)
    await message.answer(text, reply_markup=markup)  # type: ignore[arg-type]


async def users_page(query: CallbackQuery, callback_data: UsersPage, ledger: Ledger, ctx: Ctx, bot: Bot) -> None:
    text, markup = await _users(ledger, ctx, callback_data.offset)
    assert query.message is not None  # IsAdmin checked the private chat
    await edit(bot, query.message.chat.id, query.message.message_id, text, markup)  # type: ignore[arg-type]


async def stats(message: Message, ledger: Ledger, ctx: Ctx) -> None:
    t = ctx.t
    s = await ledger.stats()
    card = t("stats", quota=t.money(s.credit_quota), used=t.money(s.credit_used), available=t.money(s.credit_available),
             credit_users=s.credit_users, users=s.users, active=s.active_users, circulation=s.tokens_in_circulation,
             minted=s.tokens_minted, spent=s.tokens_spent, xp=s.xp_outstanding)
    items = [t("stats_item", name=t.item(code), spent=s.spent_per_item.get(code, 0)) for code in ITEM_CODES]
    items.append(t("stats_item", name=t.item(FREEZE), spent=s.freeze_spent))
    top = await ledger.top_spenders(5)
    leaders = [t("top_line", rank=i, name=p.name[:64] or str(p.user_id), vip=" ⭐" if p.vip else "", spent=p.spent)
               for i, p in enumerate(top, 1)]
    # who gives whom the most: alt accounts funnelling rewards show here
    flows = [t("stats_gift_line", sender=str(f.sender), sender_name=f.sender_name[:32], recipient=str(f.recipient),
               recipient_name=f.recipient_name[:32], amount=f.amount, gifts=f.gifts)
             for f in await ledger.gift_flows(7, 5)]
    await message.answer(join(card, ["", *items, "", t("stats_top"), *(leaders or [t("top_empty")]), "",
                                     t("stats_gifts"), *(flows or [t("stats_gifts_none")])]))


async def export(message: Message, ledger: Ledger, ctx: Ctx) -> None:
    out = io.StringIO()
    rows = await ledger.export_csv(out)
    data = out.getvalue().encode()
    await message.answer_document(BufferedInputFile(data, filename="journal.csv"),
                                  caption=ctx.t("export_caption", rows=rows))
    trail = io.StringIO()
    actions = await AuditLog(ledger.store).export_csv(trail)
    await message.answer_document(BufferedInputFile(trail.getvalue().encode(), filename="audit.csv"),
                                  caption=ctx.t("export_audit_caption", rows=actions))


def credit_notifier(bot: Bot, deliveries: Deliveries) -> Callable[[CreditChange], Awaitable[None]]:
    """How the dashboard tells a user about its quota and refund actions: the notice the change
    owes (recorded with it), sent once, as /quota and /refund send it."""
    async def tell(done: CreditChange) -> None:
        await deliveries.notify(bot, done.transfer_id)

    return tell


def router() -> Router:
    r = Router(name="admin")
    r.message.register(grant, Command("grant", ignore_case=True))
    r.message.register(quota, Command("quota", ignore_case=True))
    r.message.register(refund, Command("refund", ignore_case=True))
    r.message.register(user_card, Command("user", ignore_case=True))
    r.message.register(users, Command("users", ignore_case=True))
    r.message.register(stats, Command("stats", ignore_case=True))
    r.message.register(export, Command("export", ignore_case=True))
    r.callback_query.register(users_page, UsersPage.filter())
    return r

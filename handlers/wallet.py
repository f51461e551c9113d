"""What a user has: /balance, /convert, /daily, /history, /top, /credits."""

from __future__ import annotations

from typing import Any

from aiogram import Bot, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message

from bot import keyboards
from bot.callbacks import Convert, HistoryPage
from bot.context import Ctx
from bot.texts import Raw, Texts, join
from economy import Key, Ledger, parse_units
from economy.catalog import FREEZE_MAX
from economy.models import IMPORTED, Conversion, Earning, Entry
from economy.storage.schema import LEGACY_KINDS
from handlers.common import edit, entry_line, target

HISTORY_PAGE = 10
TOP = 10


async def _send(event: Message | CallbackQuery, bot: Bot, text: str, markup: Any = None) -> None:
    await bot.send_message(target(event), text, reply_markup=markup)


async def show_balance(event: Message | CallbackQuery, *, ledger: Ledger, ctx: Ctx, bot: Bot, **_: Any) -> None:
    user = event.from_user
    assert user is not None
    b = await ledger.balance(user.id)
    t = ctx.t
    lines = [t("balance", name=user.first_name[:64], xp=b.xp, tokens=b.tokens)]
    if b.vip:
        lines.append(t("balance_vip"))
    if b.badge:
        lines.append(t("balance_badge"))
    if b.boost_until:
        lines.append(t("balance_boost", until=t.when(b.boost_until)))
    if b.dm_until:
        lines.append(t("balance_dm", until=t.when(b.dm_until)))
    if b.content:
        lines.append(t("balance_content", count=len(b.content)))
    if b.streak:
        lines.append(t("balance_streak", streak=b.streak, today=t.raw("balance_streak_today") if b.claimed_today else ""))
    if b.freezes:
        lines.append(t("balance_freezes", count=b.freezes, most=FREEZE_MAX))
    if b.credit_quota or b.credit_used:
        lines.append(t("balance_credit", quota=t.money(b.credit_quota), used=t.money(b.credit_used),
                       available=t.money(b.credit_available)))
    await _send(event, bot, "\n".join(lines))


async def ask_convert(event: Message | CallbackQuery, *, ledger: Ledger, ctx: Ctx, bot: Bot, **_: Any) -> None:
    b = await ledger.balance(event.from_user.id)  # type: ignore[union-attr]
    markup = keyboards.convert(ctx.t, b.xp) if b.xp else None
    await _send(event, bot, ctx.t("convert_ask", xp=b.xp), markup)


def _converted(ctx: Ctx, done: Conversion) -> str:
    return ctx.t("convert_done", amount=done.amount, xp=done.xp, tokens=done.tokens)


async def convert(message: Message, command: CommandObject, ledger: Ledger, ctx: Ctx, bot: Bot) -> None:
    arg = (command.args or "").strip()
    if not arg:
        await ask_convert(message, ledger=ledger, ctx=ctx, bot=bot)
        return
    # "HEPSİ".lower() is "hepsi̇" (with a combining dot): Turkish capitals first.
    amount = None if arg.replace("İ", "i").lower() in ("all", "hepsi", "tümü") else parse_units(arg)
    done = await ledger.convert(message.from_user.id, amount, key=ctx.key())  # type: ignore[union-attr]
    await message.answer(_converted(ctx, done))


async def convert_button(query: CallbackQuery, callback_data: Convert, ledger: Ledger, ctx: Ctx, bot: Bot) -> None:
    amount = None if callback_data.amount == "all" else parse_units(callback_data.amount)
    # One conversion per button of a message: a double tap does not convert twice, and
    # each amount is its own action.
    where = f"{target(query)}:{query.message.message_id if query.message else 0}"
    key = Key(f"conv:{query.from_user.id}:{where}:{callback_data.amount}", keep_refusals=False)
    done = await ledger.convert(query.from_user.id, amount, key=key)
    await _send(query, bot, _converted(ctx, done))


def daily_text(t: Texts, done: Earning) -> str:
    """/daily's answer: the reward, the streak and its bonus, a freeze used or a streak lost,
    and when the next one opens (in the community's time zone, shown)."""
    lines = [t("daily_boosted" if done.boosted else "daily_done", amount=done.amount, xp=done.xp)]
    if done.streak:
        lines.append(t("daily_streak", streak=done.streak)
                     + (t("daily_bonus", bonus=done.bonus) if done.bonus else ""))
    if done.freezes_used:
        lines.append(t("daily_freeze_used", count=done.freezes_used, left=done.freezes))
    elif done.freezes:
        lines.append(t("balance_freezes", count=done.freezes, most=FREEZE_MAX))
    if done.lost > 1:
        lines.append(t("daily_streak_lost", lost=done.lost))
    if done.next_at:
        lines.append(t("daily_next", at=t.local(done.next_at)))
    return "\n".join(lines)


async def do_daily(event: Message | CallbackQuery, *, ledger: Ledger, ctx: Ctx, bot: Bot, **_: Any) -> None:
    done = await ledger.daily(event.from_user.id, key=ctx.key())  # type: ignore[union-attr]
    await _send(event, bot, daily_text(ctx.t, done))


async def _history(ledger: Ledger, ctx: Ctx, user_id: int, page: int) -> tuple[str, Any]:
    t = ctx.t
    p = await ledger.history(user_id, page, HISTORY_PAGE)
    if not p.total:
        return t("history_empty"), None
    lines = [_line(t, e) for e in p.items]
    text = join(t("history_title", page=p.page + 1, pages=p.pages), lines)
    return text, keyboards.pager(t, p.page, p.pages, HistoryPage)


def _line(t: Texts, e: Entry) -> str:
    """A history line; what import-legacy brought (an opening balance or quota, an old
    transaction kept read-only) is marked as coming from the old system."""
    if e.kind != IMPORTED and e.kind not in LEGACY_KINDS:
        return entry_line(t, e)
    what = t("history_imported", reason=e.ref[:60]) if e.kind == IMPORTED else t(f"reason_{e.kind}")
    amount = t.money(abs(e.delta)).text if e.asset == "CREDIT" else t.number(abs(e.delta))
    return t("history_line", when=t.when(e.ts), what=Raw(what), delta=Raw(("+" if e.delta > 0 else "−") + amount),
             asset="" if e.asset == "CREDIT" else e.asset)


async def show_history(event: Message | CallbackQuery, *, ledger: Ledger, ctx: Ctx, bot: Bot, **_: Any) -> None:
    text, markup = await _history(ledger, ctx, event.from_user.id, 0)  # type: ignore[union-attr]
    await _send(event, bot, text, markup)


async def history(message: Message, command: CommandObject, ledger: Ledger, ctx: Ctx) -> None:
    arg = (command.args or "").strip()
    page = parse_units(arg) - 1 if arg else 0
    text, markup = await _history(ledger, ctx, message.from_user.id, page)  # type: ignore[union-attr]
    await message.answer(text, reply_markup=markup)


async def history_page(query: CallbackQuery, callback_data: HistoryPage, ledger: Ledger, ctx: Ctx, bot: Bot) -> None:
    text, markup = await _history(ledger, ctx, query.from_user.id, callback_data.page)
    if query.message is not None and query.message.chat.id == query.from_user.id:
        await edit(bot, query.message.chat.id, query.message.message_id, text, markup)
    else:  # someone else's list in a group: show the tapper their own, privately
        await bot.send_message(query.from_user.id, text, reply_markup=markup)


async def show_top(event: Message | CallbackQuery, *, ledger: Ledger, ctx: Ctx, bot: Bot, **_: Any) -> None:
    t = ctx.t
    top = await ledger.top_spenders(TOP)
    if not top:
        await _send(event, bot, t("top_empty"))
        return
    lines = [t("top_line", rank=i, name=s.name[:64] or str(s.user_id), vip=" ⭐" if s.vip else "", spent=s.spent)
             for i, s in enumerate(top, 1)]
    await _send(event, bot, join(t("top_title"), lines))


async def credits(message: Message, ledger: Ledger, ctx: Ctx) -> None:
    b = await ledger.balance(message.from_user.id)  # type: ignore[union-attr]
    t = ctx.t
    if not (b.credit_quota or b.credit_used):
        await message.answer(t("credits_none"))
        return
    await message.answer(t("credits", quota=t.money(b.credit_quota), used=t.money(b.credit_used),
                           available=t.money(b.credit_available)))


def router() -> Router:
    r = Router(name="wallet")
    r.message.register(show_balance, Command("balance", ignore_case=True))
    r.message.register(convert, Command("convert", ignore_case=True))
    r.message.register(do_daily, Command("daily", ignore_case=True))
    r.message.register(history, Command("history", ignore_case=True))
    r.message.register(show_top, Command("top", ignore_case=True))
    r.message.register(credits, Command("credits", ignore_case=True))
    r.callback_query.register(convert_button, Convert.filter())
    r.callback_query.register(history_page, HistoryPage.filter())
    return r

"""/shop, /buy, the buy buttons and /mycontent. Prices always come from the ledger."""

from __future__ import annotations

from typing import Any

from aiogram import Bot, Router
from aiogram.exceptions import TelegramForbiddenError
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message

from bot import delivery, keyboards
from bot.delivery import Deliveries
from bot.callbacks import Buy
from bot.config import Settings
from bot.context import Ctx
from bot.texts import Raw, join
from economy import Key, Ledger
from economy.catalog import CONTENT, FREEZE
from economy.models import Purchase
from handlers.common import target

SHOP_CONTENT = 20
MYCONTENT = 20


async def show_shop(event: Message | CallbackQuery, *, ledger: Ledger, ctx: Ctx, bot: Bot, settings: Settings,
                    **_: Any) -> None:
    t = ctx.t
    b = await ledger.balance(event.from_user.id)  # type: ignore[union-attr]
    content = await ledger.list_content()
    lines = []
    for code, item in settings.catalog.items.items():
        if item.per_ref:
            continue
        extra = Raw(t("shop_hours", hours=item.duration // 3600) if item.duration else "")
        lines.append(t("shop_line", name=t.item(code), price=item.price, extra=extra))
    lines += [t("shop_content_line", title=c.title, id=c.content_id, price=c.price) for c in content[:SHOP_CONTENT]]
    await bot.send_message(target(event), join(t("shop_title", tokens=b.tokens), lines),
                           reply_markup=keyboards.shop(t, settings.catalog, content))


def _where(chat_id: int, user_id: int) -> str:
    """Kept with a content purchase: bought in a group, it stays paid for a buyer the bot cannot
    write to privately yet (whoever finishes the delivery decides alike)."""
    return delivery.BOUGHT_IN_GROUP if chat_id != user_id else ""


async def _content_bought(bot: Bot, ledger: Ledger, deliveries: Deliveries, ctx: Ctx, chat_id: int,
                          done: Purchase, tapped_again: bool) -> None:
    """Deliver bought content to the buyer's private chat (never to a group), then say what
    became of it: delivered, kept for /mycontent (they cannot be written to privately yet), or
    refunded. A replay reads the recorded outcome and sends nothing again."""
    t = ctx.t
    item = await ledger.content(done.ref)
    if done.transfer_id:
        try:
            outcome = await deliveries.complete(
                done.transfer_id, lambda: delivery.send_content(bot, done.user_id, item, t("content_caption", title=item.title)),
                first=not done.replayed, keep_if_blocked=chat_id != done.user_id)
            state, reason = outcome.state, outcome.reason
        except delivery.Unrecorded as exc:  # what happened stands; its record follows
            if exc.intended == "refunded":
                await bot.send_message(chat_id, t("content_refund_later", title=item.title, price=done.price))
                return
            state, reason = exc.intended, exc.reason
    else:  # bought before deliveries were recorded, and sent then
        state, reason = "delivered", ""
    figures = {"title": item.title, "price": done.price, "tokens": done.tokens}
    if state == "refunded":
        await bot.send_message(chat_id, t("content_refunded", title=item.title, price=done.price,
                                          reason=t.raw(f"delivery_{reason}")))
    elif tapped_again:
        await bot.send_message(chat_id, t("already_bought", name=item.content_id))
    elif state == "delivered":
        await bot.send_message(chat_id, t("bought_content" if chat_id == done.user_id else "bought_content_private",
                                          **figures))
    elif state == "kept":
        await bot.send_message(chat_id, t("bought_content_kept", **figures))
    else:
        await bot.send_message(chat_id, t("content_pending", title=item.title))


async def _bought(bot: Bot, ledger: Ledger, deliveries: Deliveries, ctx: Ctx, chat_id: int, done: Purchase,
                  tapped_again: bool = False) -> None:
    t = ctx.t
    if done.item == CONTENT:
        await _content_bought(bot, ledger, deliveries, ctx, chat_id, done, tapped_again)
    elif tapped_again:
        await bot.send_message(chat_id, t("already_bought", name=t.item(done.item)))
    elif done.item == FREEZE:
        await bot.send_message(chat_id, t("bought_freeze", price=done.price, held=done.held, tokens=done.tokens))
    elif done.until:
        await bot.send_message(chat_id, t("bought_until", name=t.item(done.item), price=done.price,
                                          tokens=done.tokens, until=t.when(done.until)))
    else:
        await bot.send_message(chat_id, t("bought", name=t.item(done.item), price=done.price, tokens=done.tokens))


async def buy(message: Message, command: CommandObject, ledger: Ledger, ctx: Ctx, bot: Bot,
              settings: Settings, deliveries: Deliveries) -> None:
    args = (command.args or "").split()
    if not args or len(args) > 2 or (args[0].lower() == CONTENT) != (len(args) == 2):
        await message.answer(ctx.t("buy_usage"))
        return
    code = args[0].lower()
    ref = args[1] if len(args) == 2 else ""
    if code in settings.catalog.items:
        ctx.subject = ctx.t.item(code)
    done = await ledger.buy(message.from_user.id, code, ref, deliver=code == CONTENT,  # type: ignore[union-attr]
                            worker=deliveries.worker, key=ctx.key(),
                            source=_where(message.chat.id, message.from_user.id))  # type: ignore[union-attr]
    await _bought(bot, ledger, deliveries, ctx, message.chat.id, done)


async def buy_button(query: CallbackQuery, callback_data: Buy, ledger: Ledger, ctx: Ctx, bot: Bot,
                     settings: Settings, deliveries: Deliveries) -> None:
    code, ref = callback_data.item, callback_data.ref
    if code in settings.catalog.items:
        ctx.subject = ctx.t.item(code)
    chat = target(query)
    # Each shop message sells each item once to each user: a double tap or a replayed
    # update finds this key and charges nothing. Refusals are not kept, so the same
    # button works once the user has the tokens.
    message_id = query.message.message_id if query.message is not None else 0
    key = Key(f"shop:{query.from_user.id}:{chat}:{message_id}:{code}:{ref}"[:200], keep_refusals=False)
    done = await ledger.buy(query.from_user.id, code, ref, deliver=code == CONTENT, worker=deliveries.worker,
                            key=key, source=_where(chat, query.from_user.id))
    await _bought(bot, ledger, deliveries, ctx, chat, done, tapped_again=done.replayed)


async def mycontent(message: Message, ledger: Ledger, ctx: Ctx, bot: Bot) -> None:
    owned = await ledger.owned_content(message.from_user.id)  # type: ignore[union-attr]
    if not owned:
        await message.answer(ctx.t("mycontent_empty"))
        return
    await message.answer(ctx.t("mycontent_title", count=len(owned)))
    try:
        for item in owned[:MYCONTENT]:  # always to the private chat, never to a group
            await delivery.send_content(bot, message.from_user.id, item, ctx.t("content_caption", title=item.title))
    except TelegramForbiddenError:  # asked in a group by someone who never opened a private chat
        await message.answer(ctx.t("mycontent_private"))


def router() -> Router:
    r = Router(name="shop")
    r.message.register(show_shop, Command("shop", ignore_case=True))
    r.message.register(buy, Command("buy", ignore_case=True))
    r.message.register(mycontent, Command("mycontent", ignore_case=True))
    r.callback_query.register(buy_button, Buy.filter())
    return r

"""/gift (confirmed with a button) and /notify. The gift's rules are the ledger's: these
handlers only find the recipient, ask, and say what happened."""

from __future__ import annotations

from aiogram import Bot, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message

from bot.callbacks import GiftNo, GiftOk
from bot.config import Settings
from bot.context import Ctx
from bot.delivery import Deliveries
from economy import IdempotencyConflict, GiftRefused, Key, Ledger, parse_units
from handlers.common import edit, name_of, resolve_user, target


def _button(text: str, data: GiftOk | GiftNo) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text[:64], callback_data=data.pack())


async def gift(message: Message, command: CommandObject, ledger: Ledger, ctx: Ctx, bot: Bot) -> None:
    """`/gift <user> <tokens>`, or `/gift <tokens>` in reply to the recipient's message."""
    t, sender = ctx.t, message.from_user
    assert sender is not None
    args = (command.args or "").split()
    replied = message.reply_to_message.from_user if message.reply_to_message is not None else None
    if len(args) == 1 and replied is not None:
        if replied.is_bot:
            raise GiftRefused(reason="bot", limit=0, left=0)
        recipient, name = replied.id, replied.first_name or str(replied.id)
        amount = parse_units(args[0])
        if recipient != sender.id and not replied.is_bot:
            await ledger.profile(recipient)  # NotFound for someone who never started the bot
    elif len(args) == 2:
        amount = parse_units(args[1])
        me = await bot.me()
        if args[0] == str(me.id) or args[0].lower() == f"@{me.username or ''}".lower():  # never registered
            raise GiftRefused(reason="bot", limit=0, left=0)
        profile = await resolve_user(ledger, args[0])
        recipient, name = profile.user_id, name_of(profile)
    else:
        await message.answer(t("gift_usage"))
        return
    if recipient == sender.id:
        raise GiftRefused(reason="self", limit=0, left=0)
    tokens = (await ledger.balance(sender.id)).tokens
    markup = InlineKeyboardMarkup(inline_keyboard=[[
        _button(t("gift_confirm_button", amount=amount), GiftOk(sender=sender.id, recipient=recipient, amount=amount)),
        _button(t("gift_cancel_button"), GiftNo(sender=sender.id)),
    ]])
    await message.answer(t("gift_confirm", amount=amount, name=name[:64], tokens=tokens), reply_markup=markup)


async def confirm(query: CallbackQuery, callback_data: GiftOk, ledger: Ledger, ctx: Ctx, bot: Bot,
                  settings: Settings, deliveries: Deliveries) -> None:
    """Only the sender's press gets here (bot.callbacks.parse). One gift per confirm message: a
    double tap or a replayed update finds the key and gives nothing again; a refusal is not
    kept, so the same button works once the refusal's reason is gone."""
    t, chat = ctx.t, target(query)
    message_id = query.message.message_id if query.message is not None else 0
    name = name_of(await ledger.profile(callback_data.recipient))
    key = _confirm_key(query.from_user.id, chat, message_id)
    try:
        done = await ledger.gift(query.from_user.id, callback_data.recipient, callback_data.amount, key=key)
    except GiftRefused as exc:
        if exc.reason != "receive_limit":
            raise
        await bot.send_message(chat, t("gift_receive_limit", name=name[:64], limit=exc.limit, left=exc.left))
        return
    if done.replayed:
        await bot.send_message(chat, t("gift_already"))
    else:
        text = t("gift_sent", amount=done.amount, name=name[:64], tokens=done.tokens, sent=done.sent_today,
                 limit=settings.catalog.gift_daily_limit)
        if query.message is not None:
            await edit(bot, chat, message_id, text, None)
        else:
            await bot.send_message(chat, text)
    await deliveries.notify(bot, done.transfer_id + 1)  # the recipient's line; once, or by the sweep


def _confirm_key(user_id: int, chat: int, message_id: int) -> Key:
    return Key(f"gift:{user_id}:{chat}:{message_id}", keep_refusals=False)


async def cancel(query: CallbackQuery, callback_data: GiftNo, ledger: Ledger, ctx: Ctx, bot: Bot) -> None:
    """Cancel kept under the confirm's own key: that preview's Give button (on another device,
    or replayed) can no longer give — it finds the key used for something else."""
    chat = target(query)
    message_id = query.message.message_id if query.message is not None else 0
    try:
        await ledger.void(_confirm_key(query.from_user.id, chat, message_id))
    except IdempotencyConflict:  # given already (its Give was pressed first): say so
        await bot.send_message(chat, ctx.t("gift_already"))
        return
    if query.message is not None:
        await edit(bot, query.message.chat.id, query.message.message_id, ctx.t("gift_cancelled"), None)


async def notify_setting(message: Message, command: CommandObject, ledger: Ledger, ctx: Ctx) -> None:
    """`/notify off|on`; with neither, the current state."""
    t, arg = ctx.t, (command.args or "").strip().lower()
    user = message.from_user
    assert user is not None
    if arg in ("on", "off", "açık", "kapalı", "ac", "kapat"):
        on = arg in ("on", "açık", "ac")
        await ledger.set_notify(user.id, on, key=ctx.key())
        await message.answer(t("notify_on" if on else "notify_off"))
        return
    on = (await ledger.profile(user.id)).notify
    await message.answer(t("notify_usage", state=t.raw("state_on" if on else "state_off")))


def router() -> Router:
    r = Router(name="gifts")
    r.message.register(gift, Command("gift", ignore_case=True))
    r.message.register(notify_setting, Command("notify", ignore_case=True))
    r.callback_query.register(confirm, GiftOk.filter())
    r.callback_query.register(cancel, GiftNo.filter())
    return r

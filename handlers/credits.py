"""Files as captions: /charge (reverse credit: charge the quota, deliver the file) and
/addcontent (register premium content)."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message

from bot import delivery
from bot.delivery import Deliveries
from bot.config import Settings
from bot.context import Ctx
from economy import IdempotencyConflict, Ledger, parse_money
from economy.models import CreditChange
from handlers.common import credit_figures, name_of, resolve_user, texts_for

FILES = F.document | F.photo | F.video


def media_of(message: Message) -> tuple[str, str]:
    if message.document is not None:
        return "document", message.document.file_id
    if message.photo:
        return "photo", message.photo[-1].file_id
    assert message.video is not None
    return "video", message.video.file_id


async def charge(message: Message, command: CommandObject, ledger: Ledger, ctx: Ctx, bot: Bot,
                 settings: Settings, deliveries: Deliveries) -> None:
    args = (command.args or "").split(maxsplit=2)
    if len(args) < 2:
        await message.answer(ctx.t("usage_charge"))
        return
    who = await resolve_user(ledger, args[0])
    ctx.money = True
    amount = parse_money(args[1])
    note = args[2].strip() if len(args) > 2 else ""
    # Charge first (a refusal, "credit limit would be exceeded", sends nothing), with a pending
    # delivery recorded in the same transaction; then the file, then the outcome recorded.
    try:
        done = await ledger.charge(who.user_id, amount, actor=ctx.user_id, note=note, deliver=True,
                                   worker=deliveries.worker, key=ctx.key(),
                                   source=delivery.charge_source(message.chat.id, message.message_id),
                                   audit_as=ctx.actor())
    except IdempotencyConflict:
        # This update was handled before, when <user> named someone else (a username changed
        # hands between a crash and this redelivery): finish what it did then.
        first = await ledger.recorded(ctx.key())
        if not isinstance(first, CreditChange):
            raise
        done, who = first, await ledger.profile(first.user_id)
    theirs = texts_for(who, settings.default_language)
    # The note is for admins (/user, the export): the user sees the charge, not the note.
    caption = theirs("user_charged", amount=theirs.money(done.amount), available=theirs.money(done.available))

    async def send() -> int:
        sent = await bot.copy_message(who.user_id, message.chat.id, message.message_id, caption=caption,
                                      request_timeout=delivery.SEND_TIMEOUT)
        return sent.message_id

    t = ctx.t
    try:
        outcome = await deliveries.complete(done.transfer_id, send, first=not done.replayed)
    except delivery.Unrecorded as exc:  # the truth: what happened, and that the record will follow
        key = "charge_unrecorded_sent" if exc.intended == "delivered" else "charge_unrecorded_refund"
        await message.answer(t(key, name=name_of(who), amount=t.money(amount)))
        return
    if outcome.state == "delivered":
        await message.answer(t("charged", name=name_of(who), **credit_figures(t, done)))
    elif outcome.state == "refunded":
        if outcome.reason == delivery.BLOCKED and not done.replayed:
            await ledger.set_active(who.user_id, False)
        await message.answer(t("charge_refunded", name=name_of(who), amount=t.money(amount),
                               reason=t.raw(f"delivery_{outcome.reason}")))
    else:  # another worker holds the claim: its outcome will be recorded
        await message.answer(t("charge_pending", name=name_of(who), amount=t.money(amount)))


async def add_content(message: Message, command: CommandObject, ledger: Ledger, ctx: Ctx) -> None:
    args = (command.args or "").split(maxsplit=1)
    if not args:
        await message.answer(ctx.t("usage_addcontent"))
        return
    media, file_id = media_of(message)
    item = await ledger.add_content(args[0], title=args[1].strip() if len(args) > 1 else args[0], media=media,
                                    file_ref=file_id, actor=ctx.user_id, key=ctx.key(),
                                    audit_as=ctx.actor())
    await message.answer(ctx.t("content_added", id=item.content_id, title=item.title, price=item.price))


async def usage_charge(message: Message, ctx: Ctx) -> None:
    await message.answer(ctx.t("usage_charge"))


async def usage_addcontent(message: Message, ctx: Ctx) -> None:
    await message.answer(ctx.t("usage_addcontent"))


def router() -> Router:
    r = Router(name="credits")
    r.message.register(charge, Command("charge", ignore_case=True), FILES)
    r.message.register(add_content, Command("addcontent", ignore_case=True), FILES)
    r.message.register(usage_charge, Command("charge", ignore_case=True))
    r.message.register(usage_addcontent, Command("addcontent", ignore_case=True))
    return r

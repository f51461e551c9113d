"""/support for users (priority while the DM perk lasts); /inbox and /reply for admins."""

from __future__ import annotations

from aiogram import Bot, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message

from bot.config import Settings
from bot.context import Ctx
from bot.texts import Texts, join
from economy import Ledger
from handlers.common import name_of, notify, resolve_user, texts_for

INBOX = 20


async def support(message: Message, command: CommandObject, ledger: Ledger, ctx: Ctx, bot: Bot,
                  settings: Settings) -> None:
    text = (command.args or "").strip()
    if not text:
        await message.answer(ctx.t("support_usage"))
        return
    user = message.from_user
    assert user is not None
    ticket = await ledger.support(user.id, text, key=ctx.key())
    if not ticket.replayed:
        t = Texts(settings.default_language)
        for admin in sorted(settings.admin_ids):
            await notify(bot, admin, t("support_to_admin", flag=t.raw("priority_flag") if ticket.priority else "",
                                       id=str(ticket.ticket_id), name=user.first_name[:64], user=str(user.id),
                                       text=ticket.text))
    await message.answer(ctx.t("support_sent_priority" if ticket.priority else "support_sent"))


async def inbox(message: Message, ledger: Ledger, ctx: Ctx) -> None:
    t = ctx.t
    tickets = await ledger.inbox(INBOX)
    if not tickets:
        await message.answer(t("inbox_empty"))
        return
    lines = [t("inbox_line", flag=t.raw("priority_flag") if k.priority else "", id=str(k.ticket_id), user=str(k.user_id),
               when=t.when(k.created_at), text=k.text[:150]) for k in tickets]
    await message.answer(join(t("inbox_title", count=len(tickets)), lines))


async def reply(message: Message, command: CommandObject, ledger: Ledger, ctx: Ctx, bot: Bot,
                settings: Settings) -> None:
    parts = (command.args or "").split(maxsplit=1)
    if len(parts) != 2:
        await message.answer(ctx.t("usage_reply"))
        return
    who = await resolve_user(ledger, parts[0])
    theirs = texts_for(who, settings.default_language)
    if await notify(bot, who.user_id, theirs("admin_reply", text=parts[1][:3000])):
        await ledger.close_tickets(who.user_id, key=ctx.key())
        await message.answer(ctx.t("reply_sent", name=name_of(who)))
    else:
        await message.answer(ctx.t("reply_failed", name=name_of(who), reason=ctx.t.raw("delivery_failed")))


def router() -> Router:
    r = Router(name="support")
    r.message.register(support, Command("support", ignore_case=True))
    return r


def admin_router() -> Router:
    r = Router(name="support-admin")
    r.message.register(inbox, Command("inbox", ignore_case=True))
    r.message.register(reply, Command("reply", ignore_case=True))
    return r

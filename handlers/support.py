"""/support for users (priority while the DM perk lasts); /inbox and /reply for admins."""

from __future__ import annotations

from aiogram import Bot, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

from bot import keyboards, paging
from bot.callbacks import InboxPage
from bot.config import Settings
from bot.context import Ctx
from bot.texts import Texts
from economy import Ledger
from handlers.common import edit, name_of, notify, resolve_user, texts_for

#: Characters of a ticket shown in /inbox (the admin answers with /reply).
TICKET_SHOWN = 150


async def support(message: Message, command: CommandObject, ledger: Ledger, ctx: Ctx, bot: Bot,
                  settings: Settings, retry: bool = False) -> None:
    text = (command.args or "").strip()
    if not text:
        await message.answer(ctx.t("support_usage"))
        return
    user = message.from_user
    assert user is not None
    ticket = await ledger.support(user.id, text, key=ctx.key())
    # The admins hear of a new ticket at least once: a try handled again (`retry`: the one before
    # failed for now, before or after their notices) tells them again; a ticket seen again
    # otherwise (a redelivery) was told the first time.
    if not ticket.replayed or retry:
        t = Texts(settings.default_language)
        for admin in sorted(settings.admin_ids):
            await notify(bot, admin, t("support_to_admin", flag=t.raw("priority_flag") if ticket.priority else "",
                                       id=str(ticket.ticket_id), name=user.first_name[:64], user=str(user.id),
                                       text=ticket.text))
    await message.answer(ctx.t("support_sent_priority" if ticket.priority else "support_sent"))


async def _inbox(ledger: Ledger, ctx: Ctx, offset: int) -> tuple[str, InlineKeyboardMarkup | None]:
    t = ctx.t
    page = await paging.screen(
        ledger.inbox_window,
        lambda k: t("inbox_line", flag=t.raw("priority_flag") if k.priority else "", id=str(k.ticket_id),
                    user=str(k.user_id), when=t.when(k.created_at), text=k.text[:TICKET_SHOWN]),
        lambda first, last, total: t("inbox_title", count=total, first=first, last=last), offset)
    if page is None:
        return t("inbox_empty"), None
    return page.text, keyboards.offsets(t, page.prev, page.next, InboxPage)


async def inbox(message: Message, ledger: Ledger, ctx: Ctx) -> None:
    text, markup = await _inbox(ledger, ctx, 0)
    await message.answer(text, reply_markup=markup)


async def inbox_page(query: CallbackQuery, callback_data: InboxPage, ledger: Ledger, ctx: Ctx, bot: Bot) -> None:
    text, markup = await _inbox(ledger, ctx, callback_data.offset)
    assert query.message is not None  # IsAdmin checked the private chat
    await edit(bot, query.message.chat.id, query.message.message_id, text, markup)


async def reply(message: Message, command: CommandObject, ledger: Ledger, ctx: Ctx, bot: Bot,
                settings: Settings) -> None:
    parts = (command.args or "").split(maxsplit=1)
    if len(parts) != 2:
        await message.answer(ctx.t("usage_reply"))
        return
    who = await resolve_user(ledger, parts[0])
    theirs = texts_for(who, settings.default_language)
    if await ledger.recorded(ctx.key()) is not None:  # handled before: the tickets were closed
        await message.answer(ctx.t("reply_sent", name=name_of(who)))  # after the user had the reply
        return
    if await notify(bot, who.user_id, theirs("admin_reply", text=parts[1][:3000])):
        await ledger.close_tickets(who.user_id, key=ctx.key(), audit_as=ctx.actor(), note=parts[1][:500])
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
    r.callback_query.register(inbox_page, InboxPage.filter())
    return r

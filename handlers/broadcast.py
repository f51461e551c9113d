"""/broadcast: a preview (the message as users will see it, the recipient count) with Send /
Cancel, the sending in the background (bot/broadcast.py), status and cancel."""

from __future__ import annotations

import re
from typing import Any

from aiogram import Bot, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

from bot.broadcast import Broadcaster, deliver, render_status
from bot.callbacks import Cast
from bot.context import Ctx
from bot.keyboards import button
from economy import NotFound
from economy.storage.schema import SEGMENTS
from handlers.common import edit

#: "/broadcast all " — the command, the segment and the blank after it, ahead of the message
_HEAD = re.compile(r"\S+[ \t\n]+(\S+)[ \t]*\n?")


def _utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


#: What a bot may put under a photo, video or document (UTF-16 units, as Telegram counts).
CAPTION_LIMIT = 1024


def body(message: Message) -> tuple[str, list[dict[str, Any]]] | None:
    """The message after `/broadcast <segment>`, with its formatting moved along (entities
    count UTF-16 units); None without a segment."""
    text = message.text if message.text is not None else (message.caption or "")
    head = _HEAD.match(text)
    if head is None:
        return None
    cut = _utf16(text[:head.end()])
    entities = []
    for e in (message.entities if message.text is not None else message.caption_entities) or []:
        start, end = max(e.offset, cut), e.offset + e.length
        if end > start:
            entities.append({**e.model_dump(exclude_none=True), "offset": start - cut, "length": end - start})
    return text[head.end():], entities


def _media(message: Message) -> tuple[str, str]:
    if message.photo:
        return "photo", message.photo[-1].file_id
    if message.video is not None:
        return "video", message.video.file_id
    if message.document is not None:
        return "document", message.document.file_id
    return "text", ""


async def broadcast(message: Message, command: CommandObject, ctx: Ctx, bot: Bot, broadcaster: Broadcaster) -> None:
    t, casts = ctx.t, broadcaster.casts
    words = (command.args or "").split()
    first = words[0].lower() if words else ""
    if first == "status":
        await message.answer(await _status(ctx, broadcaster))
        return
    if first == "cancel" and len(words) == 2 and words[1].isascii() and words[1].isdigit():
        await message.answer(await _cancel(ctx, broadcaster, int(words[1])))
        return
    found = body(message)
    if first not in SEGMENTS or found is None:
        await message.answer(t("usage_broadcast"))
        return
    text, entities = found
    kind, file_id = _media(message)
    if kind == "text" and not text.strip():
        await message.answer(t("bc_empty"))
        return
    if kind != "text" and _utf16(text) > CAPTION_LIMIT:  # Premium admins may write more than bots may send
        await message.answer(t("bc_caption_too_long", limit=CAPTION_LIMIT, length=_utf16(text)))
        return
    draft = await casts.create(ctx.user_id or 0, first, kind, text, entities, file_id)
    total = await casts.count(first)
    await deliver(bot, message.chat.id, draft)  # the preview: the very message users get
    if not total:
        await message.answer(t("bc_nobody", id=draft.id, segment=first))
        await casts.cancel(draft.id)
        return
    markup = InlineKeyboardMarkup(inline_keyboard=[[button(t("bc_send"), Cast(action="s", id=draft.id)),
                                                    button(t("bc_cancel"), Cast(action="c", id=draft.id))]])
    await message.answer(t("bc_preview", id=draft.id, segment=first, total=total), reply_markup=markup)


async def pressed(query: CallbackQuery, callback_data: Cast, ctx: Ctx, bot: Bot, broadcaster: Broadcaster) -> None:
    """Send / Cancel under a preview, Cancel under the progress (the query is answered already)."""
    assert query.message is not None  # IsAdmin checked the private chat
    chat, message_id = query.message.chat.id, query.message.message_id
    casts = broadcaster.casts
    try:
        if callback_data.action == "s":
            b, _ = await casts.start(callback_data.id, worker=broadcaster.worker, chat_id=chat, message_id=message_id)
        else:
            b = await casts.cancel(callback_data.id)
            broadcaster.stop(b.id)
    except NotFound:
        await edit(bot, chat, message_id, ctx.t("bc_not_found", id=str(callback_data.id)), None)
        return
    if b.state == "sending":  # started now, or already (a second tap, a replay): make sure it runs
        markup = InlineKeyboardMarkup(inline_keyboard=[[button(ctx.t("bc_cancel"), Cast(action="x", id=b.id))]])
        if b.message_id == message_id:
            await edit(bot, chat, message_id, render_status(ctx.t, b), markup)
        broadcaster.launch(b.id, bot)
        return
    await edit(bot, chat, message_id, render_status(ctx.t, b), None)


async def _status(ctx: Ctx, broadcaster: Broadcaster) -> str:
    recent = await broadcaster.casts.recent(5)
    if not recent:
        return ctx.t("bc_none")
    return "\n\n".join(render_status(ctx.t, b) for b in recent)


async def _cancel(ctx: Ctx, broadcaster: Broadcaster, broadcast_id: int) -> str:
    if not 0 < broadcast_id < 2**53:  # no such id is ever made: bound it before SQL
        return ctx.t("bc_not_found", id=str(broadcast_id)[:24])
    try:
        b = await broadcaster.casts.cancel(broadcast_id)
    except NotFound:
        return ctx.t("bc_not_found", id=str(broadcast_id))
    broadcaster.stop(b.id)
    return render_status(ctx.t, b)


def router() -> Router:
    r = Router(name="broadcast")
    r.message.register(broadcast, Command("broadcast", ignore_case=True))
    r.callback_query.register(pressed, Cast.filter())
    return r

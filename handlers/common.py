"""Helpers shared by handlers: who `<user>` is, where to reply, how to tell another user."""

from __future__ import annotations

import logging

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

from bot.failures import BLOCKED, classify
from bot.texts import Raw, Texts, pick_language
from economy import InvalidInput, Ledger
from economy.catalog import content_of
from economy.models import CreditChange, Entry, Profile

log = logging.getLogger("bot.handlers")


async def resolve_user(ledger: Ledger, text: str) -> Profile:
    """`<user>`: a numeric id or the @username of someone who started the bot."""
    text = text.strip()
    if text.startswith("@") and 1 < len(text) <= 33:
        return await ledger.find_user(text)
    if text.isascii() and text.isdigit() and len(text) <= 16:
        return await ledger.profile(int(text))
    raise InvalidInput(text=text[:32], reason="bad_user")


def name_of(profile: Profile) -> str:
    return profile.first_name or (f"@{profile.username}" if profile.username else str(profile.user_id))


def texts_for(profile: Profile, default: str) -> Texts:
    return Texts(pick_language(profile.language, default))


async def notify(bot: Bot, user_id: int, text: str) -> bool:
    """Tell a user something; a user who blocked the bot is not an error for the admin. Any
    failure (classified by bot.failures) is one log line and False."""
    try:
        await bot.send_message(user_id, text)
        return True
    except Exception as exc:  # noqa: BLE001 - every failure is classified
        failure = classify(exc)
        if failure.reason != BLOCKED:
            log.warning("could not notify %s: %s", user_id, failure.detail, exc_info=failure.bug)
        return False


def credit_figures(t: Texts, done: CreditChange) -> dict[str, Raw]:
    """A credit change's figures, formatted as money for the texts' `{amount}`, `{quota}`, ..."""
    return {"amount": t.money(done.amount), "quota": t.money(done.quota), "used": t.money(done.used),
            "available": t.money(done.available)}


#: Journal kinds whose `ref` is an admin's note: for admins only (/user, the export).
NOTE_KINDS = frozenset({"quota_increase", "quota_decrease", "file_charge", "usage_remove"})
#: `ref`s the ledger itself writes for an XP earning (with no actor).
LEDGER_REFS = frozenset({"registration", "daily"})


def describe(t: Texts, e: Entry) -> str:
    """A journal line in the reader's words: what it was, never an internal code. A reward's
    reason (typed by an admin for the user) is shown; a credit note (for admins) is not."""
    content = content_of(e.ref)
    if e.kind == "earn":
        if e.ref in LEDGER_REFS and e.actor is None:  # the ledger's own; an admin's reason has an actor
            return t(f"reason_{e.ref}")
        return t("reason_grant") if e.ref in ("", "grant") else t("reason_grant_for", reason=e.ref[:80])
    if e.kind == "streak":
        return t("reason_streak", day=e.ref.partition(":")[2][:12])
    if e.kind in ("gift_out", "gift_in"):
        return t(f"reason_{e.kind}", who=e.ref.partition(":")[2][:20])
    if e.kind == "convert":
        return t("reason_convert")
    if e.kind == "spend":
        return t("reason_content", title=(e.title or content or "")[:60]) if content is not None else t.item(e.ref)
    if e.kind == "delivery_refund":
        if content is not None:
            return t("reason_refund_content", title=(e.title or content)[:60])
        return t("reason_refund_file")
    if e.kind in NOTE_KINDS:
        return t(f"reason_{e.kind}")
    return t("reason_other")


def entry_line(t: Texts, e: Entry, *, notes: bool = False) -> str:
    """One history line; `notes=True` (admins) adds the admin's note of a credit movement."""
    sign = "+" if e.delta > 0 else "−"
    amount = t.money(abs(e.delta)).text if e.asset == "CREDIT" else t.number(abs(e.delta))
    line = t("history_line", when=t.when(e.ts), what=Raw(describe(t, e)), delta=Raw(sign + amount),
             asset="" if e.asset == "CREDIT" else e.asset)
    if notes and e.kind in NOTE_KINDS and e.ref:
        line += t("history_note", note=e.ref[:80])
    return line


def target(event: Message | CallbackQuery) -> int:
    """The chat to answer in: the message's chat, or the user's private chat."""
    if isinstance(event, Message):
        return event.chat.id
    return event.message.chat.id if event.message is not None else event.from_user.id


async def edit(bot: Bot, chat_id: int, message_id: int, text: str, markup: InlineKeyboardMarkup | None) -> None:
    """Replace a message's text; a tap that changes nothing ("message is not modified") is fine."""
    try:
        await bot.edit_message_text(text=text, chat_id=chat_id, message_id=message_id, reply_markup=markup)
    except TelegramBadRequest as exc:
        if "not modified" not in exc.message:
            raise

"""The update pipeline around every handler: context, throttle, callback answers, refusals,
unexpected errors and the one log line per update."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware, Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.dispatcher.event.bases import UNHANDLED
from aiogram.exceptions import TelegramRetryAfter
from aiogram.methods import TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import CallbackQuery, Message, TelegramObject, Update, User

from bot import callbacks, errors
from bot.context import Ctx
from bot.failures import BLOCKED, Failure, classify
from bot.profiles import Profiles
from bot.texts import Texts, pick_language
from economy.localdays import LocalDays
from economy.errors import EconomyError

log = logging.getLogger("bot.updates")

#: Telegram's stand-ins for a message sent on behalf of a chat: an anonymous group admin
#: (GroupAnonymousBot) and a channel (Channel_Bot). They are not a person with a wallet.
CHAT_SENDERS = frozenset({1087968824, 136817688})


class Throttle:
    """A token bucket per user: `burst` commands at once, then `per_minute`."""

    def __init__(self, burst: int, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.burst, self.rate, self.clock = burst, per_minute / 60.0, clock
        self.buckets: dict[int, list[float]] = {}  # user -> [tokens, last seen, notified]

    def take(self, user_id: int) -> tuple[bool, bool]:
        """(allowed, first refusal since the bucket ran dry)."""
        now = self.clock()
        bucket = self.buckets.get(user_id)
        if bucket is None:
            if len(self.buckets) > 50_000:
                self._prune(now)
            bucket = self.buckets[user_id] = [float(self.burst), now, 0.0]
        bucket[0] = min(self.burst, bucket[0] + (now - bucket[1]) * self.rate)
        bucket[1] = now
        if bucket[0] >= 1:
            bucket[0] -= 1
            bucket[2] = 0.0
            return True, False
        first = not bucket[2]
        bucket[2] = 1.0
        return False, first

    def _prune(self, now: float) -> None:
        full = [u for u, (tokens, last, _) in self.buckets.items() if tokens + (now - last) * self.rate >= self.burst]
        for user in full:
            del self.buckets[user]


def describe(update: Update) -> str:
    """The command or button of an update, for the log (never its arguments)."""
    if update.message is not None:
        text = update.message.text or update.message.caption or ""
        return text.split(maxsplit=1)[0][:32] if text.startswith("/") else f"<{update.message.content_type}>"
    if update.callback_query is not None:
        return "button:" + (update.callback_query.data or "").split(":", 1)[0][:8]
    return f"<{update.event_type}>"


#: The outcome of an update whose handling failed for good (bot.failures: permanent, or
#: transient on its last try): logged, the user got an apology where they can be written to,
#: and the update is acknowledged.
FAILED = "error"
#: The outcome of an update whose handling failed for now (transient: the Bot API or the
#: database did not answer): nothing said to the user, and the update is not acknowledged, so
#: it is handled again (a write already made is replayed by its key). The poller and the
#: webhook pass `final_try=True` to `feed_update` on the last try they allow.
RETRY = "retry"


class UpdateMiddleware(BaseMiddleware):
    """Outer middleware of `dp.update`. Returns the update's outcome, which `dp.feed_update`
    passes on: "ok", "ignored", "throttled", "stale_button", "refused:<error>" or FAILED."""

    def __init__(self, admins: frozenset[int], default_language: str, throttle: Throttle,
                 profiles: Profiles | None = None, commands: frozenset[str] = frozenset(),
                 days: LocalDays | None = None) -> None:
        self.admins, self.default_language, self.throttle = admins, default_language, throttle
        #: TIMEZONE: the texts show the times of the community's days in it
        self.days = days
        self.profiles = profiles or Profiles()
        #: the user commands (lower case): on behalf of a chat they get a short answer
        self.commands = commands

    async def __call__(
        self, handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]], update: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        assert isinstance(update, Update)
        started = time.perf_counter()
        user: User | None = data.get("event_from_user")
        lang = pick_language(user.language_code if user else None, self.default_language)
        ctx = Ctx(update.update_id, user.id if user else None, Texts(lang, self.days),
                  bool(user and user.id in self.admins), user_name=user.full_name if user else "")
        data["ctx"] = ctx
        outcome = "ok"
        try:
            outcome = await self._run(handler, update, data, ctx)
        except asyncio.CancelledError:
            outcome = "cancelled"
            raise
        except Exception as exc:
            outcome = await self._failed(update, ctx, exc, final=data.get("final_try", True))
        finally:
            log.info("update=%s user=%s cmd=%s outcome=%s ms=%.1f", update.update_id, ctx.user_id,
                     describe(update), outcome, (time.perf_counter() - started) * 1000)
        return outcome

    async def _failed(self, update: Update, ctx: Ctx, exc: Exception, *, final: bool) -> str:
        """One rule for a failed update, in every mode (see FAILED, RETRY, bot.failures)."""
        failure = classify(exc)
        if failure.transient and not final:
            log.warning("update %s failed for now (user %s, %s): %s; it will be handled again", update.update_id,
                        ctx.user_id, describe(update), failure.detail)
            return RETRY
        if isinstance(exc, EconomyError):  # a refusal ("busy" too, on the last try): said to the user
            told = await self._tell(update, errors.render(ctx, exc))
            if told is not None and told.transient and not final:  # the user must hear why: again
                return RETRY
            return f"refused:{type(exc).__name__}"
        if failure.bug:
            log.exception("update %s failed (user %s, %s)", update.update_id, ctx.user_id, describe(update))
        else:
            log.warning("update %s failed for good (user %s, %s): %s; acknowledged", update.update_id, ctx.user_id,
                        describe(update), failure.detail)
        if failure.reason != BLOCKED:  # who blocked the bot cannot be written to
            await self._tell(update, ctx.t("oops"))
        return FAILED

    async def _run(self, handler: Callable[..., Awaitable[Any]], update: Update, data: dict[str, Any],
                   ctx: Ctx) -> str:
        query = update.callback_query
        if update.message is not None and update.message.from_user is None:
            return "no_sender"  # nobody to answer or to charge: not an error
        if update.message is not None and (update.message.sender_chat is not None
                                           or update.message.from_user.id in CHAT_SENDERS):  # type: ignore[union-attr]
            # An anonymous group admin or a channel: one "user" shared by everyone who may
            # speak for the chat. Nothing is done on its behalf; our own commands get an answer.
            if await self._ours(update.message, data["bot"]):
                await self._tell(update, ctx.t("on_behalf_of_chat"))
            return "on_behalf_of_chat"
        # An update handled again (a transient failure) was let through the first time.
        if ctx.user_id is not None and not ctx.is_admin and (update.message or query) and not data.get("retry"):
            allowed, first = self.throttle.take(ctx.user_id)
            if not allowed:
                if query is not None:
                    await _answer(query, ctx.t("throttled"))
                elif first:
                    await self._tell(update, ctx.t("throttled"))
                return "throttled"
        if query is not None:
            parsed = callbacks.parse(query.data, admin=ctx.is_admin, user=ctx.user_id)
            # Every button gets its answer first, before any work: the spinner stops at once.
            await _answer(query, None if parsed is not None else ctx.t("stale_button"))
            if parsed is None:
                return "stale_button"
        user: User | None = data.get("event_from_user")
        if user is not None and "ledger" in data:  # after the button's answer: it is work too
            await self.profiles.refresh(data["ledger"], user)
        result = await handler(update, data)
        return "ignored" if result is UNHANDLED else "ok"

    async def _ours(self, message: Message, bot: Bot) -> bool:
        """Whether the message is one of our user commands (not another bot's)."""
        text = message.text or message.caption or ""
        if not text.startswith("/") or len(text) < 2:
            return False
        name, _, mention = text[1:].split(maxsplit=1)[0].partition("@")
        if name.lower() not in self.commands:
            return False
        return not mention or mention.lower() == ((await bot.me()).username or "").lower()

    async def _tell(self, update: Update, text: str) -> Failure | None:
        """A reply where the update came from (the user's private chat for a button); how it
        failed, if it did (logged here)."""
        try:
            if update.message is not None:
                await update.message.answer(text)
            elif update.callback_query is not None:
                query = update.callback_query
                chat = query.message.chat.id if query.message is not None else query.from_user.id
                await query.bot.send_message(chat, text)  # type: ignore[union-attr]
        except Exception as exc:  # noqa: BLE001 - classified; the caller decides
            failure = classify(exc)
            log.warning("update %s: could not reply: %s", update.update_id, failure.detail)
            return failure
        return None


async def _answer(query: CallbackQuery, text: str | None) -> None:
    try:
        await query.answer(text)
    except Exception as exc:  # noqa: BLE001 - e.g. "query is too old": the work is still done
        log.warning("callback %s not answered: %s", query.id, classify(exc).detail)


class RetryAfter(BaseRequestMiddleware):
    """429 Too Many Requests: wait `retry_after` and send again (aiogram does not). A chat's
    flood wait is remembered: the next request to that chat waits for its end instead of
    drawing another 429, and only requests to that chat wait (the poller keeps other chats'
    updates going meanwhile)."""

    def __init__(self, attempts: int = 5, max_wait: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.attempts, self.max_wait, self.clock = attempts, max_wait, clock
        self.flooded: dict[int | str, float] = {}  # chat -> end of its flood wait

    async def __call__(
        self, make_request: NextRequestMiddlewareType[TelegramType], bot: Bot, method: TelegramMethod[TelegramType],
    ) -> Any:
        chat = getattr(method, "chat_id", None)
        if not isinstance(chat, (int, str)):
            chat = None
        if chat is not None and chat in self.flooded:
            left = self.flooded[chat] - self.clock()
            if left > 0:
                await asyncio.sleep(min(left, self.max_wait))
        for attempt in range(self.attempts):
            try:
                return await make_request(bot, method)
            except TelegramRetryAfter as exc:
                if chat is not None:
                    self._flood(chat, exc.retry_after)
                if attempt == self.attempts - 1 or exc.retry_after > self.max_wait:
                    raise
                log.warning("429 on %s: retrying in %ss", type(method).__name__, exc.retry_after)
                await asyncio.sleep(exc.retry_after)
        raise AssertionError("unreachable")

    def _flood(self, chat: int | str, seconds: float) -> None:
        now = self.clock()
        if len(self.flooded) > 10_000:
            self.flooded = {c: end for c, end in self.flooded.items() if end > now}
        self.flooded[chat] = now + seconds


__all__ = ["FAILED", "RETRY", "UpdateMiddleware", "Throttle", "RetryAfter", "Message"]

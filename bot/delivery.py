"""Sending what a commit owes: a charged file, a bought content item, a notice to a user.

The ledger records a pending delivery with the charge or purchase, and a pending notice with
an admin's grant, quota change or refund (one transaction each). Here the file or notice is
sent, with bounded retries for what may pass, and the outcome is recorded: a file delivered
(with Telegram's message id) or refunded with the reason, so the user never pays for a file
that did not arrive; a notice sent, or failed for good. What the Bot API answers is classified
once, in bot/failures.py. An update delivered again (a crash before it was confirmed, a webhook
retry) reads the recorded outcome instead of sending again, and what nobody finished (a crash,
an error, an outcome the database refused) is finished by the sweep (`sweep_every`), in
polling and webhook mode alike.

A claim is a lease: stamped when its batch holds the write lock, and longer by construction
than the longest send (SEND_BUDGET: every try with its timeout and pause) and the recording of
its outcome, so no other worker takes over a send still under way.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from aiogram import Bot

from bot.failures import BLOCKED, FLOOD, REFUSED, UNAVAILABLE, classify, sent_anyway
from bot.periodic import every
from bot.texts import Texts, pick_language
from economy import Ledger, NotFound, StorageBusy
from economy.models import ContentItem, Delivery, Notice

log = logging.getLogger("bot.delivery")

__all__ = ["BLOCKED", "FLOOD", "REFUSED", "UNAVAILABLE", "Deliveries", "Undeliverable", "Unrecorded",
           "send_with_retries", "send_content"]

T = TypeVar("T")

#: Sends tried before a delivery is given up (429s up to the bot's wait are retried by the
#: session's RetryAfter middleware inside one try).
ATTEMPTS = 3
#: Pause before the second and third try.
BACKOFF = (1.0, 2.0)
#: Seconds one try may take (copying a file Telegram already has is quick).
SEND_TIMEOUT = 10
#: Every try of one send, with its timeouts and pauses: a send never runs longer.
SEND_BUDGET = ATTEMPTS * (SEND_TIMEOUT + 2) + sum(BACKOFF)
#: Tries to record an outcome while the database says it is busy, and the pauses between.
SETTLE_ATTEMPTS = 3
SETTLE_BACKOFF = (0.5, 2.0)
#: Seconds the database may keep one write waiting for its lock (the ledger's lock_wait_s).
LOCK_WAIT = 30
#: A claim's lease: the whole send, then the first try to record its outcome, with a margin.
LEASE = int(SEND_BUDGET + LOCK_WAIT + 6)
#: Seconds between background tries to record what could not be recorded at once.
SETTLE_LATER = 5.0
#: Seconds a replay waits for another worker's fresh claim to settle before it reports the
#: delivery as still under way (a claim that old is taken over).
CLAIM_WAIT = LEASE + 3
#: Seconds between two sweeps for deliveries and notices nobody finished.
SWEEP_EVERY = 30.0


async def _try_recording(how: Callable[[], Awaitable[T]]) -> T | None:
    """`how()`'s record, tried SETTLE_ATTEMPTS times while the database says it is busy; None
    when it never took it."""
    for attempt in range(SETTLE_ATTEMPTS):
        try:
            return await how()
        except StorageBusy:
            if attempt < SETTLE_ATTEMPTS - 1:
                await asyncio.sleep(SETTLE_BACKOFF[attempt])
    return None


class Undeliverable(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


async def send_with_retries(send: Callable[[], Awaitable[T]], what: str, budget: float = SEND_BUDGET) -> T:
    """`send()`'s result; Undeliverable once it is clear it will not pass: at once for a
    permanent failure, after ATTEMPTS tries (all within `budget` seconds) for a transient one."""
    deadline = time.monotonic() + budget
    for attempt in range(ATTEMPTS):
        left = deadline - time.monotonic()
        try:
            return await asyncio.wait_for(send(), min(SEND_TIMEOUT + 2, left))  # a 429 waited out inside counts too
        except Exception as exc:  # noqa: BLE001 - every failure is classified, none escapes
            confirmed = sent_anyway(exc)
            if confirmed is not None:  # Telegram took it; only its answer could not be read
                log.warning("%s: Telegram confirmed it in an answer that could not be read; not sent again", what)
                return confirmed  # type: ignore[return-value]
            failure = classify(exc)
        if failure.bug:
            log.error("%s failed: %s", what, failure.detail, exc_info=True)
        if failure.permanent:
            log.warning("%s refused for good (%s)", what, failure.detail)
            raise Undeliverable(failure.reason) from None
        pause = failure.retry_after if failure.retry_after is not None else BACKOFF[min(attempt, len(BACKOFF) - 1)]
        if attempt == ATTEMPTS - 1 or time.monotonic() + pause + 1 >= deadline:
            log.warning("%s failed %d times (%s), giving up", what, attempt + 1, failure.detail)
            raise Undeliverable(failure.reason) from None
        log.info("%s failed (%s), try %d of %d in %.0fs", what, failure.detail, attempt + 2, ATTEMPTS, pause)
        await asyncio.sleep(pause)
    raise AssertionError("unreachable")


async def send_content(bot: Bot, chat_id: int, item: ContentItem, caption: str) -> int:
    """Send a premium content item (the file the admin registered) to a chat; its message id."""
    send = {"photo": bot.send_photo, "video": bot.send_video}.get(item.media, bot.send_document)
    sent = await send(chat_id, item.file_ref, caption=caption, request_timeout=SEND_TIMEOUT)
    return sent.message_id


#: The source kept with a content purchase made in a group: the buyer may not have opened a
#: private chat yet, and then keeps what they paid for (/mycontent), as the handler decides.
BOUGHT_IN_GROUP = "group"


def charge_source(chat_id: int, message_id: int) -> str:
    """Where a charged file is copied from, as kept with the charge (`Deliveries.resume` reads it)."""
    return f"copy:{chat_id}:{message_id}"


def _copy_from(source: str) -> tuple[int, int] | None:
    kind, _, rest = source.partition(":")
    chat, _, message = rest.partition(":")
    try:
        return (int(chat), int(message)) if kind == "copy" else None
    except ValueError:
        return None


class Unrecorded(Exception):
    """The send was settled (`intended`: delivered, kept or refunded) but the database did not
    take the record; the worker keeps trying in the background and a replay tries again."""

    def __init__(self, transfer_id: int, intended: str, reason: str) -> None:
        super().__init__(f"delivery of transfer {transfer_id}: {intended} not recorded")
        self.transfer_id, self.intended, self.reason = transfer_id, intended, reason


class Deliveries:
    """Delivers for one worker (this process). `sole`: no other worker can hold a claim (one
    polling process: a claim left by an earlier run is a crashed one, taken over at once);
    with several webhook instances a fresh claim of another one is waited for."""

    def __init__(self, ledger: Ledger, *, sole: bool, worker: str | None = None,
                 default_language: str = "tr") -> None:
        self.ledger, self.sole, self.default_language = ledger, sole, default_language
        self.worker = worker or uuid.uuid4().hex[:16]
        #: outcomes sent but not yet recorded (the database failed): transfer id -> (state, how)
        self.unsettled: dict[int, tuple[str, str, Callable[[], Awaitable[Delivery]]]] = {}
        self._settler: asyncio.Task[None] | None = None
        #: notices sent but not yet recorded (the database failed): transfer id -> how to record it
        self.unsettled_notices: dict[int, Callable[[], Awaitable[Notice]]] = {}
        #: what this worker is sending now (("delivery" | "notice", transfer id) -> its outcome):
        #: a replay or the sweep waits for it instead of claiming it a second time
        self._inflight: dict[tuple[str, int], asyncio.Future[Any]] = {}

    async def _once(self, what: tuple[str, int], work: Callable[[], Awaitable[T]]) -> T:
        running = self._inflight.get(what)
        if running is not None:
            return await asyncio.shield(running)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._inflight[what] = future
        try:
            result = await work()
        except BaseException as exc:
            future.set_exception(exc if isinstance(exc, Exception) else asyncio.CancelledError())
            future.exception()  # retrieved: nobody may be waiting
            raise
        finally:
            del self._inflight[what]
        future.set_result(result)
        return result

    async def complete(self, transfer_id: int, send: Callable[[], Awaitable[int]], *, first: bool,
                       keep_if_blocked: bool = False) -> Delivery:
        """Settle the delivery of `transfer_id` and return it as recorded.

        `first`: this worker made the charge just now and holds the claim. Otherwise (a
        replay) the recorded outcome is returned when there is one; a pending delivery is
        claimed (waiting up to CLAIM_WAIT seconds while another worker's claim is fresh) and
        sent. `keep_if_blocked`: a purchase stays paid when the user cannot be written to
        privately (they take it later with /mycontent). Raises Unrecorded when the outcome
        could not be written (it is then retried in the background, never sent again)."""
        return await self._once(("delivery", transfer_id), lambda: self._complete(
            transfer_id, send, first=first, keep_if_blocked=keep_if_blocked, wait=not first))

    async def _complete(self, transfer_id: int, send: Callable[[], Awaitable[int]] | None, *, first: bool,
                        keep_if_blocked: bool, wait: bool, bot: Bot | None = None) -> Delivery:
        ledger = self.ledger
        if transfer_id in self.unsettled:  # sent (or given up) already: only the record is missing
            state, reason, how = self.unsettled[transfer_id]
            return await self._record(transfer_id, state, reason, how)
        if not first:
            deadline = time.monotonic() + (CLAIM_WAIT if wait else 0)
            while True:
                found = await ledger.claim_delivery(transfer_id, worker=self.worker, take_over=self.sole,
                                                    lease=LEASE)
                if found.claimed or found.settled or time.monotonic() >= deadline:
                    break
                await asyncio.sleep(1.0)
            if not found.claimed:
                return found
            if send is None and bot is not None:
                send = await self._resend(found, bot)
                keep_if_blocked = found.source == BOUGHT_IN_GROUP
        what = f"delivery of transfer {transfer_id}"
        try:
            if send is None:
                raise Undeliverable(UNAVAILABLE)
            message_id = await send_with_retries(send, what)
        except Undeliverable as exc:
            reason = exc.reason  # `exc` is gone after this block; the record may be retried later
            if reason == BLOCKED and keep_if_blocked:
                return await self._record(transfer_id, "kept", reason,
                                          lambda: ledger.keep_delivery(transfer_id, reason))
            log.info("%s: %s, refunding", what, reason)
            return await self._record(transfer_id, "refunded", reason,
                                      lambda: ledger.refund_delivery(transfer_id, reason))
        return await self._record(transfer_id, "delivered", "", lambda: ledger.delivered(transfer_id, message_id))

    async def _resend(self, found: Delivery, bot: Bot) -> Callable[[], Awaitable[int]] | None:
        """How to send a delivery from its record alone (the sweep has no update): the charged
        file copied again from where it was sent, a content item from the catalogue. None when
        the record does not say (a charge made before sources were kept): it is refunded."""
        who = await self.ledger.profile(found.user_id)
        t = Texts(pick_language(who.language, self.default_language))
        if found.kind == "file_charge":
            origin = _copy_from(found.source)
            if origin is None:
                return None
            figures = await self.ledger.balance(found.user_id)
            caption = t("user_charged", amount=t.money(found.amount), available=t.money(figures.credit_available))

            async def copy() -> int:
                sent = await bot.copy_message(found.user_id, origin[0], origin[1], caption=caption,
                                              request_timeout=SEND_TIMEOUT)
                return sent.message_id
            return copy
        try:
            item = await self.ledger.content(found.ref)
        except NotFound:
            return None
        return lambda: send_content(bot, found.user_id, item, t("content_caption", title=item.title))

    # -- notices --
    async def notify(self, bot: Bot, transfer_id: int) -> Notice | None:
        """Send the notice a committed change owes its user (see Ledger.grant/raise_quota/...),
        once: a replay, a second click or the sweep finds it sent and sends nothing. None when
        the change owes no notice (made before notices were kept). Never raises for Telegram:
        a transient failure leaves it pending for the sweep, a permanent one records it failed."""
        if not transfer_id:
            return None
        return await self._once(("notice", transfer_id), lambda: self._notify(bot, transfer_id))

    async def _notify(self, bot: Bot, transfer_id: int) -> Notice | None:
        ledger = self.ledger
        if transfer_id in self.unsettled_notices:  # sent (or given up) already: only the record is missing
            return await self._record_notice(transfer_id, self.unsettled_notices[transfer_id])
        try:
            found = await ledger.claim_notice(transfer_id, worker=self.worker, take_over=self.sole, lease=LEASE)
        except NotFound:
            return None
        if not found.claimed:
            return found
        who = await ledger.profile(found.user_id)
        text = render_notice(Texts(pick_language(who.language, self.default_language)), found)

        async def send() -> int:
            return (await bot.send_message(found.user_id, text, request_timeout=SEND_TIMEOUT)).message_id

        what = f"notice of transfer {transfer_id}"
        try:
            message_id = await send_with_retries(send, what)
        except Undeliverable as exc:
            if exc.reason in (UNAVAILABLE, FLOOD):  # may pass later: the sweep tries again
                return found
            reason = exc.reason
            if reason == BLOCKED:
                try:
                    await ledger.set_active(found.user_id, False)
                except StorageBusy:
                    pass  # only a marker; the notice's outcome is what must be kept
            return await self._record_notice(transfer_id, lambda: ledger.notice_failed(transfer_id, reason))
        return await self._record_notice(transfer_id, lambda: ledger.notice_sent(transfer_id, message_id))

    async def _record_notice(self, transfer_id: int, how: Callable[[], Awaitable[Notice]]) -> Notice | None:
        """A notice's outcome, recorded; while the database refuses it, kept here (a replay or
        the sweep records it, never sends it again)."""
        done = await _try_recording(how)
        if done is not None:
            self.unsettled_notices.pop(transfer_id, None)
            return done
        log.error("notice of transfer %s: sent, but the database did not take it; kept to record later", transfer_id)
        self.unsettled_notices[transfer_id] = how
        return None

    # -- the sweep --
    async def sweep(self, bot: Bot) -> int:
        """Finish what nobody finished: pending deliveries and notices whose claim ran out — in
        every mode, the sole polling process too: a claim younger than its lease may be a live
        send of a process still running beside this one (a rolling restart), and a crashed
        run's is taken over at once by its redelivered update anyway. Returns how many it
        settled; a row that fails is one log line, and the rest are still swept."""
        settled = 0
        ledger = self.ledger
        # Sent by this worker but not recorded (the database refused it): the record only.
        deliveries = list(self.unsettled)
        deliveries += [t for t in await ledger.unsettled("deliveries", lease=LEASE) if t not in self.unsettled]
        for transfer_id in deliveries:
            if ("delivery", transfer_id) in self._inflight:
                continue
            try:
                done = await self._once(("delivery", transfer_id), lambda t=transfer_id: self._complete(
                    t, None, first=False, keep_if_blocked=False, wait=False, bot=bot))
            except Exception as exc:  # noqa: BLE001 - Unrecorded, a busy database: the next sweep
                log.warning("sweep: delivery of transfer %s: %s", transfer_id, classify(exc).detail)
                continue
            if done.settled:
                settled += 1
                log.info("sweep: delivery of transfer %s %s%s", transfer_id, done.state,
                         f" ({done.reason})" if done.reason else "")
        notices = list(self.unsettled_notices)
        notices += [t for t in await ledger.unsettled("notices", lease=LEASE) if t not in self.unsettled_notices]
        for transfer_id in notices:
            if ("notice", transfer_id) in self._inflight:
                continue
            try:
                notice = await self.notify(bot, transfer_id)
            except Exception as exc:  # noqa: BLE001
                log.warning("sweep: notice of transfer %s: %s", transfer_id, classify(exc).detail)
                continue
            if notice is not None and notice.settled:
                settled += 1
                log.info("sweep: notice of transfer %s %s", transfer_id, notice.state)
        return settled

    async def sweep_every(self, bot: Bot, stop: asyncio.Event, seconds: float = SWEEP_EVERY) -> None:
        """Sweep every `seconds` until `stop` (the first after `seconds` too: what a crash left
        is first the redelivered updates' to finish, with the words they carry); a failed sweep
        is one log line."""
        await every(seconds, stop, lambda: self.sweep(bot), "sweep", at_start=False)

    async def _record(self, transfer_id: int, state: str, reason: str,
                      how: Callable[[], Awaitable[Delivery]]) -> Delivery:
        done = await _try_recording(how)
        if done is not None:
            self.unsettled.pop(transfer_id, None)
            return done
        log.error("delivery of transfer %s: %s, but the database did not take it; retrying in the background",
                  transfer_id, state)
        self.unsettled[transfer_id] = (state, reason, how)
        if self._settler is None or self._settler.done():
            self._settler = asyncio.create_task(self._settle_later())
        raise Unrecorded(transfer_id, state, reason)

    async def _settle_later(self) -> None:
        while self.unsettled:
            await asyncio.sleep(SETTLE_LATER)
            for transfer_id, (state, _, how) in list(self.unsettled.items()):
                try:
                    await how()
                except StorageBusy:
                    continue
                except Exception:  # noqa: BLE001 - e.g. a refund no longer possible: leave it to an admin
                    log.exception("delivery of transfer %s: recording %s failed", transfer_id, state)
                self.unsettled.pop(transfer_id, None)
                log.info("delivery of transfer %s: %s recorded at last", transfer_id, state)

    async def close(self) -> None:
        """One last try for what is not recorded yet (at a stop)."""
        if self._settler is not None:
            self._settler.cancel()
            await asyncio.gather(self._settler, return_exceptions=True)
        for transfer_id, (state, _, how) in list(self.unsettled.items()):
            try:
                await how()
            except Exception:  # noqa: BLE001
                log.error("delivery of transfer %s stays pending: %s was not recorded", transfer_id, state)


#: A notice's words by the change's journal kind.
NOTICE_TEXTS = {"quota_increase": "user_quota_raised", "quota_decrease": "user_quota_lowered",
                "usage_remove": "user_refunded"}


def render_notice(t: Texts, notice: Notice) -> str:
    data = notice.data
    if notice.kind == "gift_in":
        return t("gift_received", name=str(data.get("name") or data.get("sender") or "")[:64],
                 amount=int(data["amount"]), tokens=int(data["tokens"]))
    if notice.kind == "grant":
        reason = str(data.get("reason") or "")[:200]
        return t("user_granted", amount=int(data["amount"]), xp=int(data["xp"]),
                 reason=f" ({reason})" if reason else "")
    return t(NOTICE_TEXTS[notice.kind], amount=t.money(int(data["amount"])), available=t.money(int(data["available"])))

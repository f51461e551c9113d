"""Sending what was paid for: a charged file, a bought content item.

The ledger records a pending delivery with the charge or purchase (one transaction). Here the
file is sent, with a few bounded retries for what may pass (5xx, network errors), and the
outcome is recorded: delivered (with Telegram's message id), or refunded with the reason, so
the user never pays for a file that did not arrive. An update delivered again (a crash before
it was confirmed, a webhook retry) reads the recorded outcome instead of sending again; a
delivery left pending by a crash is completed by whoever claims it next.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable

from aiogram.exceptions import (
    TelegramBadRequest, TelegramForbiddenError, TelegramNetworkError, TelegramRetryAfter, TelegramServerError,
)

from economy import Ledger, StorageBusy
from economy.ledger import DELIVERY_LEASE
from economy.models import Delivery

log = logging.getLogger("bot.delivery")

#: Sends tried before a delivery is given up (429s up to the bot's wait are retried by the
#: session's RetryAfter middleware inside one try).
ATTEMPTS = 3
#: Pause before the second and third try.
BACKOFF = (1.0, 2.0)
#: Tries to record an outcome while the database says it is busy, and the pauses between.
SETTLE_ATTEMPTS = 3
SETTLE_BACKOFF = (0.5, 2.0)
#: Seconds between background tries to record what could not be recorded at once.
SETTLE_LATER = 5.0
#: Seconds one send may take (copying a file Telegram already has is quick). All tries together
#: stay under the ledger's claim lease, so no other worker takes over a send still under way.
SEND_TIMEOUT = 10
#: Seconds a replay waits for another worker's fresh claim to settle before it reports the
#: delivery as still under way (a claim that old is taken over).
CLAIM_WAIT = DELIVERY_LEASE + 3
#: Reasons recorded with a refund (each has a `delivery_<reason>` text).
BLOCKED, REFUSED, FLOOD, UNAVAILABLE = "blocked", "refused", "flood", "unavailable"


class Undeliverable(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


async def send_with_retries(send: Callable[[], Awaitable[int]], what: str) -> int:
    """`send()` returns the message id; raise Undeliverable once it is clear it will not pass."""
    for attempt in range(ATTEMPTS):
        try:
            return await asyncio.wait_for(send(), SEND_TIMEOUT + 2)  # a 429 waited out inside counts too
        except TelegramForbiddenError:
            raise Undeliverable(BLOCKED) from None
        except TelegramBadRequest as exc:
            log.warning("%s refused by Telegram: %s", what, exc.message)
            raise Undeliverable(REFUSED) from None
        except TelegramRetryAfter as exc:  # longer than the bot waits for one chat
            log.warning("%s: flood wait of %ss, giving up", what, exc.retry_after)
            raise Undeliverable(FLOOD) from None
        except (TelegramServerError, TelegramNetworkError, asyncio.TimeoutError) as exc:
            if attempt == ATTEMPTS - 1:
                log.warning("%s failed %d times (%s), giving up", what, ATTEMPTS, type(exc).__name__)
                raise Undeliverable(UNAVAILABLE) from None
            log.info("%s failed (%s), try %d of %d", what, type(exc).__name__, attempt + 2, ATTEMPTS)
            await asyncio.sleep(BACKOFF[attempt])
    raise AssertionError("unreachable")


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

    def __init__(self, ledger: Ledger, *, sole: bool, worker: str | None = None) -> None:
        self.ledger, self.sole = ledger, sole
        self.worker = worker or uuid.uuid4().hex[:16]
        #: outcomes sent but not yet recorded (the database failed): transfer id -> (state, how)
        self.unsettled: dict[int, tuple[str, str, Callable[[], Awaitable[Delivery]]]] = {}
        self._settler: asyncio.Task[None] | None = None

    async def complete(self, transfer_id: int, send: Callable[[], Awaitable[int]], *, first: bool,
                       keep_if_blocked: bool = False) -> Delivery:
        """Settle the delivery of `transfer_id` and return it as recorded.

        `first`: this worker made the charge just now and holds the claim. Otherwise (a
        replay) the recorded outcome is returned when there is one; a pending delivery is
        claimed (waiting up to CLAIM_WAIT seconds while another worker's claim is fresh) and
        sent. `keep_if_blocked`: a purchase stays paid when the user cannot be written to
        privately (they take it later with /mycontent). Raises Unrecorded when the outcome
        could not be written (it is then retried in the background, never sent again)."""
        ledger = self.ledger
        if transfer_id in self.unsettled:  # sent (or given up) already: only the record is missing
            state, reason, how = self.unsettled[transfer_id]
            return await self._record(transfer_id, state, reason, how)
        if not first:
            deadline = time.monotonic() + CLAIM_WAIT
            while True:
                found = await ledger.claim_delivery(transfer_id, worker=self.worker, take_over=self.sole)
                if found.claimed or found.settled or time.monotonic() >= deadline:
                    break
                await asyncio.sleep(1.0)
            if not found.claimed:
                return found
        what = f"delivery of transfer {transfer_id}"
        try:
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

    async def _record(self, transfer_id: int, state: str, reason: str,
                      how: Callable[[], Awaitable[Delivery]]) -> Delivery:
        for attempt in range(SETTLE_ATTEMPTS):
            try:
                done = await how()
            except StorageBusy:
                if attempt < SETTLE_ATTEMPTS - 1:
                    await asyncio.sleep(SETTLE_BACKOFF[attempt])
                continue
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

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

from economy import Ledger
from economy.ledger import DELIVERY_LEASE
from economy.models import Delivery

log = logging.getLogger("bot.delivery")

#: Sends tried before a delivery is given up (429s up to the bot's wait are retried by the
#: session's RetryAfter middleware inside one try).
ATTEMPTS = 3
#: Pause before the second and third try.
BACKOFF = (1.0, 3.0)
#: Seconds one send may take (copying a file Telegram already has is quick).
SEND_TIMEOUT = 15
#: Seconds a replay waits for another worker's fresh claim to settle before it reports the
#: delivery as still under way (a claim that old is taken over).
CLAIM_WAIT = DELIVERY_LEASE + 5
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
            return await send()
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


class Deliveries:
    """Delivers for one worker (this process). `sole`: no other worker can hold a claim (one
    polling process: a claim left by an earlier run is a crashed one, taken over at once);
    with several webhook instances a fresh claim of another one is waited for."""

    def __init__(self, ledger: Ledger, *, sole: bool, worker: str | None = None) -> None:
        self.ledger, self.sole = ledger, sole
        self.worker = worker or uuid.uuid4().hex[:16]

    async def complete(self, transfer_id: int, send: Callable[[], Awaitable[int]], *, first: bool,
                       keep_if_blocked: bool = False) -> Delivery:
        """Settle the delivery of `transfer_id` and return it as recorded.

        `first`: this worker made the charge just now and holds the claim. Otherwise (a
        replay) the recorded outcome is returned when there is one; a pending delivery is
        claimed (waiting up to CLAIM_WAIT seconds while another worker's claim is fresh) and
        sent. `keep_if_blocked`: a purchase stays paid when the user cannot be written to
        privately (they take it later with /mycontent)."""
        ledger = self.ledger
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
            if exc.reason == BLOCKED and keep_if_blocked:
                return await ledger.keep_delivery(transfer_id, exc.reason)
            log.info("%s: %s, refunding", what, exc.reason)
            return await ledger.refund_delivery(transfer_id, exc.reason)
        return await ledger.delivered(transfer_id, message_id)

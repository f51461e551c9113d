"""Every way a call can fail, classified once: *transient* (it may pass if tried again: retry,
and leave the update unacknowledged so it comes again) or *permanent* (it will not: refund,
log one line, acknowledge). Every caller asks `classify`; a new exception type of a
dependency is one line here, not a hole in five handlers.

The Bot API's answers, as aiogram raises them:

| what came back                                   | aiogram raises                     | kind      | reason      |
|--------------------------------------------------|------------------------------------|-----------|-------------|
| 429 Too Many Requests (`retry_after`)            | TelegramRetryAfter                 | transient | flood       |
| 5xx, "restarting"                                | TelegramServerError                | transient | unavailable |
| a body that is not a Bot API answer (HTML 502)   | ClientDecodeError (not an API error)| transient | unavailable |
| a dropped connection, a timeout                  | TelegramNetworkError, TimeoutError | transient | unavailable |
| 409 Conflict                                     | TelegramConflictError              | transient | unavailable |
| 403 (blocked, kicked, deactivated)               | TelegramForbiddenError             | permanent | blocked     |
| 400 (chat not found, message to copy not found…) | TelegramBadRequest                 | permanent | refused     |
| 404, 413, 401, `migrate_to_chat_id`, other codes | TelegramNotFound, …EntityTooLarge, …Unauthorized, …MigrateToChat, TelegramAPIError | permanent | refused |

Beyond the Bot API: the database saying "busy" is transient; anything else (a bug) is
permanent — trying it again would fail the same way.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from aiogram.exceptions import (
    ClientDecodeError, TelegramAPIError, TelegramConflictError, TelegramEntityTooLarge, TelegramForbiddenError,
    TelegramMigrateToChat, TelegramNetworkError, TelegramRetryAfter, TelegramServerError,
)
from aiohttp import ClientError

from economy import StorageBusy

#: The reasons, each with a `delivery_<reason>` text for the person told about a refund.
BLOCKED, REFUSED, FLOOD, UNAVAILABLE, FAILED = "blocked", "refused", "flood", "unavailable", "failed"


@dataclass(frozen=True, slots=True)
class Failure:
    transient: bool
    reason: str
    #: what to log: the exception's kind and Telegram's words, never a request (it may hold the token)
    detail: str
    #: seconds Telegram asked to wait (a 429), else None
    retry_after: float | None = None
    #: not a failure of the outside world: worth a traceback in the log
    bug: bool = False

    @property
    def permanent(self) -> bool:
        return not self.transient


def classify(exc: BaseException) -> Failure:
    """What `exc` means for whoever made the call. Every exception gets an answer."""
    name = type(exc).__name__
    if isinstance(exc, TelegramRetryAfter):
        return Failure(True, FLOOD, f"{name}: retry after {exc.retry_after}s", retry_after=float(exc.retry_after))
    if isinstance(exc, TelegramEntityTooLarge):  # a TelegramNetworkError, yet it never passes
        return Failure(False, REFUSED, f"{name}: {exc.message[:120]}")
    if isinstance(exc, (TelegramServerError, TelegramNetworkError, TelegramConflictError)):
        return Failure(True, UNAVAILABLE, f"{name}: {exc.message[:120]}")
    if isinstance(exc, ClientDecodeError):
        return Failure(True, UNAVAILABLE, f"{name}: the answer was not a Bot API response")
    if isinstance(exc, (asyncio.TimeoutError, ClientError, ConnectionError)):
        return Failure(True, UNAVAILABLE, name)
    if isinstance(exc, TelegramForbiddenError):
        return Failure(False, BLOCKED, f"{name}: {exc.message[:120]}")
    if isinstance(exc, TelegramMigrateToChat):
        return Failure(False, REFUSED, f"{name}: the group moved to {exc.migrate_to_chat_id}")
    if isinstance(exc, TelegramAPIError):  # 400, 401, 404 and any other code: the same call fails again
        return Failure(False, REFUSED, f"{name}: {exc.message[:120]}")
    if isinstance(exc, StorageBusy):
        return Failure(True, UNAVAILABLE, f"{name}: the database is busy")
    return Failure(False, FAILED, name, bug=True)

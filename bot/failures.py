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
| a page in another encoding                       | UnicodeDecodeError (not wrapped)   | transient | unavailable |
| a dropped connection, a timeout                  | TelegramNetworkError, TimeoutError | transient | unavailable |
| 409 Conflict                                     | TelegramConflictError              | transient | unavailable |
| 403 (blocked, kicked, deactivated)               | TelegramForbiddenError             | permanent | blocked     |
| 400 (chat not found, message to copy not found…) | TelegramBadRequest                 | permanent | refused     |
| 404, 413, 401, `migrate_to_chat_id`, other codes | TelegramNotFound, …EntityTooLarge, …Unauthorized, …MigrateToChat, TelegramAPIError | permanent | refused |

Beyond the Bot API: the database saying "busy" is transient; anything else (a bug) is
permanent — trying it again would fail the same way. One answer is not a failure at all: `ok`
true with a result aiogram cannot read means the message went out (`sent_anyway`). A timeout or
a dropped connection cannot tell whether Telegram took the message first; the issue's rule holds
there (tried again, then refunded), so such a file may arrive twice, never be paid twice.
"""

from __future__ import annotations

import asyncio
import re
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


#: A Bot API path (`/bot<token>/method`) and anything shaped like a token, masked in every
#: detail before it is cut short (a cut could leave part of a token no log filter recognises).
_SECRETS = re.compile(r"/bot[^/\s'\"]+|\b\d{5,}:[A-Za-z0-9_-]{8,}")


def _said(exc: BaseException) -> str:
    text = getattr(exc, "message", None) or str(exc)
    return _SECRETS.sub(lambda m: "/bot***" if m.group().startswith("/bot") else "***", str(text))[:120]


def sent_anyway(exc: BaseException) -> int | None:
    """The message id of a send Telegram confirmed in an answer aiogram could not read (`ok`
    true, a result it cannot validate): the message went out, and must not go again. 0 when it
    went out but its id cannot be read; None when nothing says it went out."""
    if not isinstance(exc, ClientDecodeError):
        return None
    data = exc.data
    if not (isinstance(data, dict) and data.get("ok") is True):
        return None
    result = data.get("result")
    message_id = result.get("message_id") if isinstance(result, dict) else None
    return message_id if isinstance(message_id, int) and not isinstance(message_id, bool) else 0


def classify(exc: BaseException) -> Failure:
    """What `exc` means for whoever made the call. Every exception gets an answer."""
    name = type(exc).__name__
    if isinstance(exc, TelegramRetryAfter):
        return Failure(True, FLOOD, f"{name}: retry after {exc.retry_after}s", retry_after=float(exc.retry_after))
    if isinstance(exc, TelegramEntityTooLarge):  # a TelegramNetworkError, yet it never passes
        return Failure(False, REFUSED, f"{name}: {_said(exc)}")
    if isinstance(exc, (TelegramServerError, TelegramNetworkError, TelegramConflictError)):
        return Failure(True, UNAVAILABLE, f"{name}: {_said(exc)}")
    if isinstance(exc, ClientDecodeError):
        return Failure(True, UNAVAILABLE, f"{name}: the answer was not a Bot API response")
    if isinstance(exc, (asyncio.TimeoutError, ClientError, ConnectionError)):
        return Failure(True, UNAVAILABLE, name)
    if isinstance(exc, UnicodeDecodeError):  # a proxy's page in another encoding (aiogram does not wrap it)
        return Failure(True, UNAVAILABLE, f"{name}: the answer was not a Bot API response")
    if isinstance(exc, TelegramForbiddenError):
        return Failure(False, BLOCKED, f"{name}: {_said(exc)}")
    if isinstance(exc, TelegramMigrateToChat):
        return Failure(False, REFUSED, f"{name}: the group moved to {exc.migrate_to_chat_id}")
    if isinstance(exc, TelegramAPIError):  # 400, 401, 404 and any other code: the same call fails again
        return Failure(False, REFUSED, f"{name}: {_said(exc)}")
    if isinstance(exc, StorageBusy):
        return Failure(True, UNAVAILABLE, f"{name}: the database is busy")
    return Failure(False, FAILED, name, bug=True)

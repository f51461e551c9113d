"""Secrets out of every log line and error message: the secrets a program registers (the bot
token), whatever matches its patterns, and passwords in URLs (`scheme://user:***@host`) or
`password=` pairs are replaced by `***` before anything is written."""

from __future__ import annotations

import logging
import re
import sys
import traceback
from collections.abc import Iterable
from types import TracebackType

MASK = "***"
URL_PASSWORD = re.compile(r"(?P<head>\b[A-Za-z][A-Za-z0-9+.-]*://[^/\s:@]*:)[^\s@/]+@")
PASSWORD_PAIR = re.compile(r"(?P<head>\b(?:password|passwd|pwd)\s*=\s*)[^\s&;,'\"]+", re.IGNORECASE)


class Redactor(logging.Filter):
    """A logging filter (put on a handler, it sees every record that handler writes, from any
    logger) and a function for messages printed without logging."""

    def __init__(self, secrets: Iterable[str] = (), patterns: Iterable[re.Pattern[str]] = ()) -> None:
        super().__init__()
        # Longest first, so a secret that contains another is masked whole; too short a string
        # would mask ordinary words.
        self.secrets = sorted({s for s in secrets if s and len(s) >= 8}, key=len, reverse=True)
        self.patterns = tuple(patterns)

    def __call__(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, MASK)
        for pattern in self.patterns:
            text = pattern.sub(MASK, text)
        text = URL_PASSWORD.sub(rf"\g<head>{MASK}@", text)
        return PASSWORD_PAIR.sub(rf"\g<head>{MASK}", text)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = self(message)
        if clean != message or record.args:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self(record.exc_text)
        if record.stack_info:
            record.stack_info = self(record.stack_info)
        return True

    def install(self) -> Redactor:
        """On every handler of the root logger (configure logging first), and on uncaught
        exceptions, which Python prints without logging."""
        for handler in logging.getLogger().handlers:
            if self not in handler.filters:
                handler.addFilter(self)

        def excepthook(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
            sys.stderr.write(self("".join(traceback.format_exception(kind, exc, tb))))

        sys.excepthook = excepthook
        return self

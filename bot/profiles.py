"""Keep each user's stored profile (username, first name, language) as Telegram shows it.

Usernames change hands: an admin's `/quota @name` must find whoever holds the name now. Every
update carries its sender's current profile; what was last stored is remembered here, so the
ledger is asked (one read) only the first time a user is seen by this process or when the
profile changed, and written only when it differs from the stored one.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from aiogram.types import User

from economy import EconomyError, Ledger
from economy.text import profile

log = logging.getLogger("bot.profiles")

#: Profiles remembered at most (then the memory starts over: a read per user again).
REMEMBER = 100_000


def _shown(user: User) -> tuple[str | None, str, str | None]:
    """The profile as the ledger stores it (Ledger.register's normalisation: a character the
    database cannot store is replaced, never a reason to refuse the update)."""
    return profile(user.username, user.first_name, user.language_code)


#: Seconds a remembered profile is trusted: another instance (webhook mode) may have moved a
#: username meanwhile, so each user's stored profile is read again at least this often.
TRUST = 60.0


class Profiles:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        #: user -> (profile as last stored, when it was read)
        self.stored: dict[int, tuple[tuple[str | None, str, str | None], float]] = {}
        #: username -> the user this process last stored it for
        self.holder: dict[str, int] = {}

    async def refresh(self, ledger: Ledger, user: User) -> None:
        """Bring the stored profile of `user` up to date (a registered user; others are left
        to /start). A storage failure only logs: the update itself goes on."""
        if user.is_bot:
            return
        shown = _shown(user)
        known = self.stored.get(user.id)
        now = self.clock()
        if known is not None and known[0] == shown and now - known[1] < TRUST:
            return
        try:
            p = await ledger.profile(user.id)
            if (p.username, p.first_name, p.language) != shown:
                await ledger.refresh_profile(user.id, username=shown[0], first_name=shown[1], language=shown[2])
        except EconomyError as exc:  # not registered yet (NotFound), or the database is busy
            log.debug("profile of %s not refreshed: %s", user.id, type(exc).__name__)
            return
        if len(self.stored) >= REMEMBER:
            self.stored.clear()
            self.holder.clear()
        self.stored[user.id] = (shown, now)
        if shown[0] is not None:  # whoever this process saw with the name before has lost it
            previous = self.holder.get(shown[0])
            if previous is not None and previous != user.id:
                self.stored.pop(previous, None)
            self.holder[shown[0]] = user.id

"""Keep each user's stored profile (username, first name, language) as Telegram shows it.

Usernames change hands: an admin's `/quota @name` must find whoever holds the name now. Every
update carries its sender's current profile; what was last stored is remembered here, so the
ledger is asked (one read) only the first time a user is seen by this process or when the
profile changed, and written only when it differs from the stored one.
"""

from __future__ import annotations

import logging

from aiogram.types import User

from economy import EconomyError, Ledger

log = logging.getLogger("bot.profiles")

#: Profiles remembered at most (then the memory starts over: a read per user again).
REMEMBER = 100_000


def _shown(user: User) -> tuple[str | None, str, str | None]:
    """The profile as the ledger stores it (same normalisation as Ledger.register)."""
    return ((user.username or "").lower()[:64] or None, (user.first_name or "")[:64],
            (user.language_code or "")[:8] or None)


class Profiles:
    def __init__(self) -> None:
        self.stored: dict[int, tuple[str | None, str, str | None]] = {}

    async def refresh(self, ledger: Ledger, user: User) -> None:
        """Bring the stored profile of `user` up to date (a registered user; others are left
        to /start). A storage failure only logs: the update itself goes on."""
        if user.is_bot:
            return
        shown = _shown(user)
        if self.stored.get(user.id) == shown:
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
        self.stored[user.id] = shown

"""Domain errors: each carries the figures a caller needs for a clear message.

Errors are plain data (keyword fields) so a refusal can be stored with its idempotency key
and returned again, unchanged, when the same key is replayed.
"""

from __future__ import annotations

from typing import Any, ClassVar


class EconomyError(Exception):
    """Base of every refusal the ledger gives; nothing was changed when one is raised."""

    fields: ClassVar[tuple[str, ...]] = ()
    registry: ClassVar[dict[str, type[EconomyError]]] = {}
    #: True on a refusal given again for a repeated idempotency key (not one of its fields)
    replayed: bool = False

    def __init__(self, **values: Any) -> None:
        missing = set(self.fields) - set(values)
        extra = set(values) - set(self.fields)
        if missing or extra:
            raise TypeError(f"{type(self).__name__}: missing {missing or '-'}, unexpected {extra or '-'}")
        self.__dict__.update(values)
        super().__init__(", ".join(f"{k}={values[k]!r}" for k in self.fields))

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        EconomyError.registry[cls.__name__] = cls

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.fields}

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self.to_dict() == other.to_dict()  # type: ignore[union-attr]

    __hash__ = None  # type: ignore[assignment]


class InvalidInput(EconomyError):
    """Text that is not what was asked for (a user id, a content id); `reason` says why."""

    fields = ("text", "reason")


class InvalidText(InvalidInput):
    """Text the database cannot store (economy/text.py): `field` names it, `text` shows where
    (U+FFFD in place of the character), `reason` is nul_character, lone_surrogate or not_text."""

    fields = ("field", "text", "reason")

    def __str__(self) -> str:  # the CLI's one line: `error: InvalidText: <this>`
        return f"the {self.field} holds a character that cannot be stored ({self.reason}): {self.text!r}"


class Unstorable(InvalidInput):
    """The database refused this request's own data (a driver's data or constraint error caught
    by the group commit, e.g. text that escaped the check above); nothing of the request was
    written and the rest of its batch was. `reason` names the driver's error, never the data."""


class InvalidAmount(InvalidInput):
    """Not a plain positive number within bounds (reason: not_a_number, not_positive, ...)."""


class InsufficientFunds(EconomyError):
    """`asset` balance `available` is below `needed`."""

    fields = ("asset", "needed", "available")

    @property
    def shortfall(self) -> int:
        return self.needed - self.available


class QuotaExceeded(EconomyError):
    """A file charge would take credit used past the quota ("credit limit would be exceeded")."""

    fields = ("amount", "quota", "used")

    @property
    def available(self) -> int:
        return self.quota - self.used


class RefundTooLarge(EconomyError):
    """A usage refund asks for more than is used."""

    fields = ("amount", "used")


class QuotaBelowUsage(EconomyError):
    """Lowering a quota would put it under what is already used."""

    fields = ("amount", "quota", "used")


class NotFound(EconomyError):
    """`what` ("user", "content", "item") named `ref` does not exist."""

    fields = ("what", "ref")


class AlreadyOwned(EconomyError):
    fields = ("item", "ref")


class AlreadyClaimed(EconomyError):
    """The daily reward was taken today; `next_at` is the unix time it opens again."""

    fields = ("next_at",)


class AlreadyExists(EconomyError):
    fields = ("what", "ref")


class IdempotencyConflict(EconomyError):
    """The key was used before for an operation with other parameters."""

    fields = ("key",)


class StorageBusy(EconomyError):
    """The database stayed locked or failed for longer than we wait. Mostly nothing was written,
    but a connection lost during COMMIT (PostgreSQL) leaves the outcome unknown: a write with an
    idempotency key is safe to send again, and its answer says what became of it."""

    fields = ("reason",)


class FreezeLimit(EconomyError):
    """A streak freeze bought while `held` of at most `most` are held already."""

    fields = ("held", "most")


class StreakEnded(EconomyError):
    """A streak freeze bought after the streak already ended (`missed` days since the last
    /daily, more than the freezes held then): a freeze covers days to come, never a gap behind."""

    fields = ("missed",)


class GiftRefused(EconomyError):
    """A gift the rules do not allow. `reason`: self, bot, too_new (`limit` hours of membership
    needed, `left` hours to go), send_limit / receive_limit (`limit` tokens a local day, `left`
    still allowed today)."""

    fields = ("reason", "limit", "left")

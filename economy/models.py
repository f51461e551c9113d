"""What the ledger returns: frozen dataclasses of integers (minor units) and strings.

Results of writes are flat so they can be stored with their idempotency key as JSON and
returned again, equal to the first, when the key is replayed.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from economy.errors import EconomyError

_RESULTS: dict[str, type] = {}


def _result(cls: type) -> type:
    _RESULTS[cls.__name__] = cls
    return cls


#: Set on a result returned again for a repeated idempotency key (not part of equality).
REPLAYED = field(default=False, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Key:
    """An idempotency key. `ttl` seconds after first use it may be used again (keys built
    from Telegram update ids must expire); `keep_refusals=False` remembers only successes.

    `former` is how older code spelled this key: what it kept there from `former_since` (unix
    time) on, for the same operation, counts as kept under this key, so a retry that crosses an
    upgrade is not applied twice. Nothing is written under `former`."""

    value: str
    ttl: int | None = None
    keep_refusals: bool = True
    former: str | None = None
    former_since: int = 0


@_result
@dataclass(frozen=True, slots=True)
class Registration:
    user_id: int
    created: bool
    bonus: int
    xp: int
    replayed: bool = REPLAYED


@_result
@dataclass(frozen=True, slots=True)
class Earning:
    user_id: int
    amount: int
    xp: int
    boosted: bool = False
    next_at: int | None = None
    #: the journal line of an admin's grant (0 for other earnings and results stored before v7)
    transfer_id: int = 0
    #: /daily since v9: the streak's day, its bonus (own journal line), the freezes it used and
    #: those left, and the length of a streak this claim started over from (0: none ended)
    streak: int = 0
    bonus: int = 0
    freezes_used: int = 0
    freezes: int = 0
    lost: int = 0
    replayed: bool = REPLAYED


@_result
@dataclass(frozen=True, slots=True)
class Conversion:
    user_id: int
    amount: int
    xp: int
    tokens: int
    replayed: bool = REPLAYED


@_result
@dataclass(frozen=True, slots=True)
class Purchase:
    user_id: int
    item: str
    ref: str
    price: int
    tokens: int
    until: int | None
    #: the spend's journal line (0 in results stored before deliveries were recorded)
    transfer_id: int = 0
    #: streak freezes held after buying one (0 for other items)
    held: int = 0
    replayed: bool = REPLAYED


@_result
@dataclass(frozen=True, slots=True)
class CreditChange:
    user_id: int
    kind: str
    amount: int
    quota: int
    used: int
    transfer_id: int
    replayed: bool = REPLAYED

    @property
    def available(self) -> int:
        return self.quota - self.used


@_result
@dataclass(frozen=True, slots=True)
class ContentItem:
    content_id: str
    title: str
    media: str
    file_ref: str
    price: int
    replayed: bool = REPLAYED


@_result
@dataclass(frozen=True, slots=True)
class Done:
    """A write with nothing to report but that it happened (e.g. a profile update)."""

    what: str
    ref: str = ""
    replayed: bool = REPLAYED


@_result
@dataclass(frozen=True, slots=True)
class Ticket:
    """A support message: `priority` while the sender's priority DM was active."""

    ticket_id: int
    user_id: int
    text: str
    priority: bool
    created_at: int
    replayed: bool = REPLAYED


@_result
@dataclass(frozen=True, slots=True)
class Answer:
    """A caller's answer kept under an idempotency key (e.g. an HTTP response to an
    Idempotency-Key), so a repeated request gets the first answer again."""

    text: str
    replayed: bool = REPLAYED


@dataclass(frozen=True, slots=True)
class Delivery:
    """What became of a file charge or content purchase (see schema.DELIVERY_STATES).
    `claimed` is True for the one caller that should send the file now."""

    transfer_id: int
    user_id: int
    kind: str
    state: str
    amount: int
    ref: str = ""
    message_id: int | None = None
    refund_id: int | None = None
    reason: str = ""
    claimed: bool = False
    #: when the charge or purchase was made (set by reads that list deliveries)
    since: int | None = None
    #: where the file comes from, as the sender wrote it with the charge (opaque to the ledger)
    source: str = ""

    @property
    def settled(self) -> bool:
        return self.state != "pending"


@dataclass(frozen=True, slots=True)
class Profile:
    user_id: int
    username: str | None
    first_name: str
    language: str | None
    active: bool
    registered_at: int
    #: reminders wanted (/notify on|off, since v9)
    notify: bool = True


@dataclass(frozen=True, slots=True)
class Balance:
    user_id: int
    xp: int
    tokens: int
    credit_quota: int
    credit_used: int
    vip: bool = False
    badge: bool = False
    boost_until: int | None = None
    dm_until: int | None = None
    content: tuple[str, ...] = ()
    #: the /daily streak still alive now (0: none), the freezes held, /daily taken today
    streak: int = 0
    freezes: int = 0
    claimed_today: bool = False

    @property
    def credit_available(self) -> int:
        return self.credit_quota - self.credit_used


#: The kind of a history Entry that is a transaction of the old token engine, brought in by
#: import-legacy and kept read-only (not a journal line: its `id` is the old system's).
IMPORTED = "imported"


@dataclass(frozen=True, slots=True)
class Entry:
    """One journal line seen from a user: `delta` is signed for that user's balance."""

    id: int
    ts: int
    kind: str
    asset: str
    delta: int
    ref: str
    actor: int | None
    #: the content's title, for a content purchase (or its refund)
    title: str = ""


@dataclass(frozen=True, slots=True)
class Window:
    """Up to `limit` items of a list from position `offset` (0-based), and the list's length:
    a caller shows as many as fit and continues from what it showed."""

    items: tuple[Any, ...]
    offset: int
    total: int


@dataclass(frozen=True, slots=True)
class Page:
    items: tuple[Any, ...]
    page: int
    pages: int
    total: int


@dataclass(frozen=True, slots=True)
class Spender:
    user_id: int
    name: str
    username: str | None
    spent: int
    vip: bool


@dataclass(frozen=True, slots=True)
class CreditUser:
    user_id: int
    name: str
    username: str | None
    quota: int
    used: int

    @property
    def available(self) -> int:
        return self.quota - self.used


@dataclass(frozen=True, slots=True)
class Stats:
    users: int
    active_users: int
    credit_users: int
    xp_issued: int
    xp_converted: int
    xp_outstanding: int
    tokens_minted: int
    tokens_spent: int
    tokens_in_circulation: int
    spent_per_item: dict[str, int] = field(default_factory=dict)
    credit_quota: int = 0
    credit_used: int = 0
    #: tokens spent on streak freezes (not in spent_per_item, which lists the seed's items)
    freeze_spent: int = 0

    @property
    def credit_available(self) -> int:
        return self.credit_quota - self.credit_used


def encode_outcome(outcome: object) -> str:
    """A write result or a refusal as JSON, for the idempotency table."""
    if isinstance(outcome, EconomyError):
        return json.dumps({"error": type(outcome).__name__, "v": outcome.to_dict()})
    values = asdict(outcome)  # type: ignore[call-overload]
    values.pop("replayed", None)
    return json.dumps({"result": type(outcome).__name__, "v": values})


def decode_outcome(text: str) -> object:
    """The stored outcome again, with `replayed=True` (a result's field, a refusal's attribute)."""
    data = json.loads(text)
    if "error" in data:
        refusal = EconomyError.registry[data["error"]](**data["v"])
        refusal.replayed = True
        return refusal
    return _RESULTS[data["result"]](**data["v"], replayed=True)


@dataclass(frozen=True, slots=True)
class Notice:
    """A notice a committed change owes its user (see schema.NOTICE_STATES): `kind` is the
    change's journal kind, `data` its figures. `claimed` is True for the one caller that should
    send it now."""

    transfer_id: int
    user_id: int
    kind: str
    data: dict[str, Any]
    state: str
    message_id: int | None = None
    reason: str = ""
    claimed: bool = False

    @property
    def settled(self) -> bool:
        return self.state != "pending"


@_result
@dataclass(frozen=True, slots=True)
class Gift:
    """Tokens given: `transfer_id` is the sender's line, the recipient's is the next one.
    `sent_today` / `received_today`: the local day's totals after this gift."""

    sender: int
    recipient: int
    amount: int
    tokens: int
    recipient_tokens: int
    transfer_id: int
    sent_today: int
    received_today: int
    replayed: bool = REPLAYED


@dataclass(frozen=True, slots=True)
class GiftFlow:
    """Tokens one sender gave one recipient over a window (gifts, their sum)."""

    sender: int
    sender_name: str
    recipient: int
    recipient_name: str
    gifts: int
    amount: int


@dataclass(frozen=True, slots=True)
class Reminder:
    """A reminder due or recorded: `kind` (boost, dm, streak), `ref` the perk's end or the
    local day, `at` what it is about (the end time, or the local midnight the streak breaks at)."""

    kind: str
    user_id: int
    ref: int
    at: int
    language: str | None = None
    streak: int = 0
    state: str = "pending"
    claimed: bool = False


@dataclass(frozen=True, slots=True)
class DayTokens:
    """Tokens minted (earned by converting XP) and spent in the shop on one of the community's
    days (TIMEZONE)."""

    day: int  # unix time the local day begins (its 00:00 in TIMEZONE)
    earned: int
    spent: int

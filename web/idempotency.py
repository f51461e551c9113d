"""Where the API keeps what a client's Idempotency-Key stands for, in the ledger's idempotency
table: two entries per request, both belonging to the API key itself (its key_id: a name may
be used again once revoked, a key never):

    api-op:<key id>:<Idempotency-Key>       the operation's outcome, kept in its transaction
    api-answer:<key id>:<Idempotency-Key>   the first HTTP answer, kept right after

The part before the first ":" is fixed and a key id (hex digits) holds no ":", so no
Idempotency-Key (visible ASCII, ":" and "#" included) spells another request's entry.

Before these rules the entries were api:<key name>:<Idempotency-Key> and the same + "#answer";
they stay valid for their 7 days as the `former` spelling of these, for the key that held the
name when they were made (from its created_at on), so a retry across the upgrade is answered,
never applied again.
"""

from __future__ import annotations

from dataclasses import dataclass

from economy.apikeys import ApiKey
from economy.models import Key

#: How long an Idempotency-Key is remembered (Stripe keeps them 24 h).
IDEMPOTENCY_TTL = 7 * 24 * 3600
REPLAYED = {"Idempotent-Replayed": "true"}

#: The 503 of a write whose outcome is unknown (the database did not confirm it) and of one
#: whose operation was applied but whose answer could not be kept.
MAYBE_APPLIED = ("the ledger did not confirm this write ({reason}): it may have been applied, or not. Sending it"
                 " again with the same Idempotency-Key is safe: it is applied at most once, and the answer says"
                 " what became of it")
APPLIED = ("the operation was applied, but its answer could not be kept ({reason}). Send the request again"
           " with the same Idempotency-Key to get the answer: it is not applied again")


@dataclass(frozen=True, slots=True)
class Entries:
    api_key: ApiKey
    idempotency_key: str

    @property
    def _former(self) -> str:
        return f"api:{self.api_key.name}:{self.idempotency_key}"

    @property
    def operation(self) -> Key:
        return Key(f"api-op:{self.api_key.key_id}:{self.idempotency_key}", ttl=IDEMPOTENCY_TTL,
                   former=self._former, former_since=self.api_key.created_at)

    def answer(self, replayed: bool) -> Key:
        """Where the answer is kept. An answer kept before the upgrade can only be a replayed
        operation's: one this request applied has none yet (the old entry there, if any, was
        kept for another operation under the same key)."""
        value = f"api-answer:{self.api_key.key_id}:{self.idempotency_key}"
        if not replayed:
            return Key(value, ttl=IDEMPOTENCY_TTL)
        return Key(value, ttl=IDEMPOTENCY_TTL, former=self._former + "#answer", former_since=self.api_key.created_at)

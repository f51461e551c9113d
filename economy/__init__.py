"""The ledger of the token economy and the credit desk. Knows nothing of Telegram."""

from economy.amounts import format_money, parse_money, parse_units
from economy.catalog import Catalog, Item
from economy.errors import (
    AlreadyClaimed, AlreadyExists, AlreadyOwned, EconomyError, FreezeLimit, GiftRefused, IdempotencyConflict,
    InsufficientFunds, InvalidAmount, InvalidInput, NotFound, QuotaBelowUsage, QuotaExceeded, RefundTooLarge,
    StorageBusy,
)
from economy.ledger import Ledger
from economy.models import Key

__all__ = [
    "AlreadyClaimed", "AlreadyExists", "AlreadyOwned", "Catalog", "EconomyError", "FreezeLimit", "GiftRefused", "IdempotencyConflict",
    "InsufficientFunds", "InvalidAmount", "InvalidInput", "Item", "Key", "Ledger", "NotFound", "QuotaBelowUsage",
    "QuotaExceeded", "RefundTooLarge", "StorageBusy", "format_money", "parse_money", "parse_units",
]

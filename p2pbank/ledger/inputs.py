"""The ledger's input checks: every command argument is checked here before anything is
locked or written, so bad input is a precise field error and never half-written state.
"""

from __future__ import annotations

import re

from p2pbank.errors import (
    ValidationFailed,
)
from p2pbank.ledger.models import (
    EntryKind,
)
from p2pbank.money import Money

ACCOUNT_CODE = re.compile(r"^[a-z][a-z0-9_]*(?::[A-Za-z0-9_-]+)+$")
KIND = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
MAX_CODE_LENGTH = 120
MAX_KEY_LENGTH = 200
MAX_MEMO_LENGTH = 500
MAX_POSTINGS = 100
# Far above any real amount, and below 2**53 so every sum stays exact in canonical JSON.
MAX_AMOUNT_MINOR = 10**15
MAX_REF_ID = 2**53 - 1


# --- input checks ---------------------------------------------------------------------------


def refuse(message: str, field: str = "_") -> ValidationFailed:
    return ValidationFailed.on(field, message)


def check_currency(currency: object) -> str:
    try:
        Money(0, currency)
    except (TypeError, ValueError) as exc:
        message = f"currency must be a three-letter code such as EUR: {exc}"
        raise refuse(message, "currency") from exc
    return currency


def check_code(code: object) -> str:
    if not isinstance(code, str) or len(code) > MAX_CODE_LENGTH or not ACCOUNT_CODE.match(code):
        raise refuse(f"not an account code: {code!r}", "account")
    return code


def check_amount(amount: object) -> int:
    if type(amount) is not int:
        raise refuse(f"amounts are whole minor units (int), not {type(amount).__name__}", "amount")
    if amount == 0:
        raise refuse("a posting of zero moves no money", "amount")
    if abs(amount) > MAX_AMOUNT_MINOR:
        raise refuse("the amount is out of range", "amount")
    return amount


def check_key(key: object) -> str:
    if not isinstance(key, str) or not key.strip() or len(key) > MAX_KEY_LENGTH:
        raise refuse("an idempotency key (1-200 characters) is required", "idempotency_key")
    return key


def check_text(value: object, field: str, limit: int, *, optional: bool) -> str | None:
    if value is None and optional:
        return None
    if not isinstance(value, str) or len(value) > limit:
        raise refuse(f"{field} must be text of at most {limit} characters", field)
    return value


def check_ref_id(ref_id: object) -> int | None:
    if ref_id is None:
        return None
    if type(ref_id) is not int or not 0 <= ref_id <= MAX_REF_ID:
        raise refuse("ref_id must be a non-negative integer id", "ref_id")
    return ref_id


def check_kind(kind: object) -> str:
    if isinstance(kind, EntryKind):
        kind = kind.value
    if not isinstance(kind, str) or not KIND.match(kind):
        raise refuse(f"not an entry kind: {kind!r}", "kind")
    return kind


def check_money(amount: object, field: str = "amount") -> Money:
    if not isinstance(amount, Money):
        raise refuse(f"{field} must be Money, not {type(amount).__name__}", field)
    if not amount.is_positive():
        raise refuse(f"{field} must be positive", field)
    if amount.minor > MAX_AMOUNT_MINOR:
        raise refuse("the amount is out of range", field)
    return amount


def check_postings(postings: object) -> list[tuple[str, int]]:
    if not isinstance(postings, (list, tuple)):
        raise refuse("postings must be a list of (account code, amount) pairs", "postings")
    if not 2 <= len(postings) <= MAX_POSTINGS:
        raise refuse(f"an entry has 2 to {MAX_POSTINGS} postings", "postings")
    legs: list[tuple[str, int]] = []
    for item in postings:
        if not isinstance(item, (list, tuple)) or len(item) != 2:
            raise refuse("each posting is an (account code, amount) pair", "postings")
        legs.append((check_code(item[0]), check_amount(item[1])))
    codes = [code for code, _ in legs]
    if len(set(codes)) != len(codes):
        raise refuse("each account appears at most once in an entry", "postings")
    total = sum(amount for _, amount in legs)
    if total != 0:
        raise refuse(f"the entry does not balance: its postings sum to {total}", "postings")
    return legs

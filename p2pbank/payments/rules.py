"""Payment rules without I/O: deposit limits, amounts typed by people, card fees, IBANs.

Pure standard library (plus p2pbank.money), so every rule is unit-tested on its own.
"""

from __future__ import annotations

import re

from p2pbank.money import percent_of
from p2pbank.money_text import format_minor

# Per-deposit limits in minor units (EUR): €10 to €25,000, configurable per installation.
DEFAULT_MIN_DEPOSIT_MINOR = 10_00
DEFAULT_MAX_DEPOSIT_MINOR = 25_000_00

# Stripe's published price for standard cards issued in the European Economic Area,
# 1.5% + €0.25 per successful card payment (Stripe, "Pricing updates for businesses based
# in the EEA", in force since 10 April 2023; stripe.com/pricing). The test-mode gateway
# charges exactly this so fees show up in the ledger as they would with Stripe; with
# Stripe itself the fee is read from the charge's balance transaction, never computed.
EEA_STANDARD_CARD_BPS = 150
EEA_STANDARD_CARD_FIXED_MINOR = 25


def eea_card_fee_minor(amount_minor: int) -> int:
    """Stripe's standard EEA card fee for a payment of `amount_minor` euro cents."""
    if amount_minor <= 0:
        raise ValueError("a card payment is positive")
    return percent_of(amount_minor, EEA_STANDARD_CARD_BPS) + EEA_STANDARD_CARD_FIXED_MINOR


def deposit_limit_errors(amount_minor: int, *, min_minor: int, max_minor: int) -> list[str]:
    """Why this deposit amount is not allowed (empty when it is)."""
    if type(amount_minor) is not int:
        return ["The amount must be a whole number of cents."]
    if amount_minor < min_minor:
        return [f"The smallest deposit is {format_minor(min_minor)}."]
    if amount_minor > max_minor:
        return [f"The largest deposit is {format_minor(max_minor)}."]
    return []


def normalize_iban(text: str) -> str:
    return re.sub(r"\s+", "", text).upper()


def iban_is_valid(text: str) -> bool:
    """ISO 13616 structure and the ISO 7064 mod-97-10 check digits."""
    iban = normalize_iban(text)
    if not re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]{11,30}", iban):
        return False
    rearranged = iban[4:] + iban[:4]
    digits = "".join(str(int(ch, 36)) for ch in rearranged)
    return int(digits) % 97 == 1

"""Payment rules without I/O: deposit limits, amounts typed by people, card fees, IBANs.

Pure standard library (plus p2pbank.money), so every rule is unit-tested on its own.
"""

from __future__ import annotations

import re

from p2pbank.money import exponent, percent_of

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


def format_minor(amount_minor: int, currency: str = "EUR") -> str:
    """'€10.00'-style text for messages (EUR) or '10.00 USD' for other currencies."""
    places = exponent(currency)
    sign = "-" if amount_minor < 0 else ""
    whole, fraction = divmod(abs(amount_minor), 10**places)
    grouped = f"{whole:,}"
    number = f"{grouped}.{fraction:0{places}d}" if places else grouped
    return f"{sign}€{number}" if currency == "EUR" else f"{sign}{number} {currency}"


_AMOUNT = re.compile(r"^(?P<whole>\d{1,3}(?:,\d{3})+|\d+)(?:[.](?P<fraction>\d+))?$")


def parse_amount(text: str, currency: str = "EUR") -> int:
    """'1,234.5' -> 123450 for EUR. Exact: digits only, never through a float. Raises
    ValueError for signs, letters, too many decimals or an empty string."""
    cleaned = text.strip().replace("€", "").replace(" ", "").replace("\u00a0", "")
    match = _AMOUNT.match(cleaned)
    if not match:
        raise ValueError("not an amount")
    places = exponent(currency)
    fraction = match.group("fraction") or ""
    if len(fraction) > places:
        raise ValueError(f"at most {places} decimals")
    whole = int(match.group("whole").replace(",", ""))
    return int(whole * 10**places + int(fraction.ljust(places, "0") or "0"))


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

"""Stripe's documented test cards and test bank accounts, as the sandbox gateway plays
them: which card is declined with which code, which asks for 3-D Secure, which IBAN
fails its payout.
"""

from __future__ import annotations

from dataclasses import dataclass

from p2pbank.digits import is_ascii_digits


@dataclass(frozen=True)
class TestCard:
    """How one of Stripe's documented test cards behaves."""

    __test__ = False  # not a pytest test class

    brand: str
    decline_code: str | None = None  # declined on every charge with this code
    declined_when_saved: bool = False  # saving it (SetupIntent) fails too
    always_authenticate: bool = False  # 3-D Secure on every payment


TEST_CARDS: dict[str, TestCard] = {
    "4242424242424242": TestCard("visa"),
    "5555555555554444": TestCard("mastercard"),
    "4000000000000002": TestCard("visa", "generic_decline", declined_when_saved=True),
    "4000000000009995": TestCard("visa", "insufficient_funds", declined_when_saved=True),
    "4000002760003184": TestCard("visa", always_authenticate=True),
    "4000000000000341": TestCard("visa", "generic_decline"),
}

DECLINE_MESSAGES = {
    "generic_decline": "Your card was declined.",
    "insufficient_funds": "Your card has insufficient funds.",
    "test_mode_live_card": (
        "Your card was declined. Your request was in test mode, but used a non test card."
    ),
    "authentication_required": "Your card was declined. This transaction requires authentication.",
}

TEST_IBAN_PAYOUT_FAILS = {"DE62370400440532013001": "no_account"}


def luhn_ok(number: str) -> bool:
    """The card number check digit (ISO/IEC 7812-1, the Luhn formula)."""
    if not is_ascii_digits(number) or not 12 <= len(number) <= 19:
        return False
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def card_digits(card_number: str) -> str:
    return "".join(ch for ch in card_number if ch not in " -")

"""The words of the features: step patterns with typed placeholders (a person's name, a
list of roles, an amount), people's addresses, month names and amounts as pages show them."""

from __future__ import annotations

import re

from pytest_bdd import parsers


def _word_type(pattern: str):
    """A parse type that matches `pattern` and returns the text unchanged."""

    def convert(text: str) -> str:
        return text

    convert.pattern = pattern  # type: ignore[attr-defined]
    convert.regex_group_count = 0  # type: ignore[attr-defined]
    return convert


def _amount_type():
    """'25.00' or '-40.00' (two decimals, as written after EUR) -> integer minor units."""

    def convert(text: str) -> int:
        whole, _, cents = text.lstrip("-").partition(".")
        minor = int(whole) * 100 + int(cents)
        return -minor if text.startswith("-") else minor

    convert.pattern = r"-?\d+\.\d{2}"  # type: ignore[attr-defined]
    convert.regex_group_count = 0  # type: ignore[attr-defined]
    return convert


TYPES = {
    "Name": _word_type(r"[A-Z][A-Za-z-]*"),
    "Roles": _word_type(r"[a-z]+(?:(?:, | and )[a-z]+)*"),
    "Amount": _amount_type(),
}


def phrase(text: str) -> parsers.parse:
    """A step pattern where `{name:Name}` is one capitalised word (a person) and
    `{roles:Roles}` is 'lender', 'lender and borrower' or 'lender, borrower and backer';
    `{amount:Amount}` is '25.00' or '-40.00' (given in minor units, 2500). Typed
    placeholders keep steps from swallowing each other's words."""
    return parsers.parse(text, extra_types=TYPES)


ROLE_WORDS = re.compile(r"\s*(?:,|\band\b)\s*")


def email_of(name: str) -> str:
    """A person's e-mail address, from the first name the features use."""
    return f"{name.lower()}@example.test"


def parse_roles(text: str) -> list[str]:
    """'lender and borrower', 'lender, borrower and backer', 'no roles' -> role names."""
    text = text.strip().strip('"')
    if text in ("", "no roles", "none"):
        return []
    return [word for word in ROLE_WORDS.split(text) if word]


MONTHS = {
    name: number
    for number, name in enumerate(
        (
            "January",
            "February",
            "March",
            "April",
            "May",
            "June",
            "July",
            "August",
            "September",
            "October",
            "November",
            "December",
        ),
        start=1,
    )
}


def shown_money(story, minor: int, currency: str = "EUR") -> str:
    """An amount as the pages show it."""
    from p2pbank.web.filters import money

    with story.app.test_request_context():  # type: ignore[attr-defined]
        return money(minor, currency)

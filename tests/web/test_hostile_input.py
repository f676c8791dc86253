"""Hostile but harmless input found by an outside review: each answers 4xx, never 500.

Oversized ids in URLs, NUL bytes in query strings, JSON integers of thousands of digits
and digits that are not ASCII ("²", "١") that `str.isdigit()` accepts but `int()` does not.
"""

from __future__ import annotations

import logging

import pytest
from werkzeug.routing import IntegerConverter

from tests.support.database import row_counts
from tests.support.pages import assert_problem


@pytest.fixture
def nothing_written(session):
    """`with nothing_written(): ...` fails if any table gained or lost rows."""
    from contextlib import contextmanager

    @contextmanager
    def _check():
        before = row_counts(session)
        yield
        session.expire_all()
        assert row_counts(session) == before

    return _check


OVERSIZED_IDS = ("99999999999", "9223372036854775808", "1" + "0" * 40)


def _int_routes(app) -> list:
    """Every GET rule with an integer in its path."""
    return [
        rule
        for rule in app.url_map.iter_rules()
        if "GET" in rule.methods
        and any(isinstance(c, IntegerConverter) for c in rule._converters.values())
    ]


@pytest.mark.parametrize("oversized", OVERSIZED_IDS)
def test_oversized_ids_in_any_url_are_404_for_anyone(app, make_user, signed_in, oversized, caplog):
    """Every route with an integer id, web and API: a quiet 404 for an admin who may see
    everything; anonymous visitors get the 404 too, or a private page's sign-in prompt."""
    admin = make_user(roles=["admin", "auditor", "lender", "borrower"], kyc="verified")
    visitors = {"anonymous": app.test_client(), "admin": signed_in(admin).client}
    routes = _int_routes(app)
    assert len(routes) > 20  # the rule walk really found the id routes
    failures = []
    with caplog.at_level(logging.ERROR):
        for rule in routes:
            path = _fill_path(rule, oversized)
            for who, client in visitors.items():
                response = client.get(path)
                response.close()
                status = response.status_code
                if status != 404 and not (who == "anonymous" and status in (302, 401)):
                    failures.append((who, path, status))
    assert not failures, failures[:20]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def _fill_path(rule, oversized: str) -> str:
    """Build the path by hand: integer parts oversized, enumerations their first choice."""
    parts = []
    for is_dynamic, data in rule._trace:
        if not is_dynamic:
            parts.append(data)
            continue
        converter = rule._converters[data]
        if isinstance(converter, IntegerConverter):
            parts.append(oversized)
        elif hasattr(converter, "regex") and converter.regex.startswith("(?:"):
            parts.append(converter.regex[3:-1].split("|")[0])
        else:
            parts.append("x")
    return "".join(parts).split("|", 1)[-1]


# --- JSON numbers of thousands of digits ------------------------------------------------


@pytest.mark.parametrize("digits", [4_301, 5_000, 50_000])
def test_a_json_integer_of_thousands_of_digits_is_a_400_problem(
    client, make_user, api_token, nothing_written, digits
):
    """Python refuses to read integers past 4,300 digits (a ValueError that is not a JSON
    syntax error): the API says so, instead of a 500."""
    headers = api_token(make_user(), "write")
    body = b'{"name": "x", "scope": "read", "n": ' + b"7" * digits + b"}"
    with nothing_written():
        response = client.post(
            "/api/v1/tokens", data=body, content_type="application/json", headers=headers
        )
        problem = assert_problem(response, 400)
        assert "digits" in problem["detail"]


def test_a_long_json_integer_in_a_money_field_is_a_400_problem(
    client, make_user, api_token, nothing_written
):
    headers = api_token(make_user(kyc="verified"), "write")
    body = b'{"amount_minor": ' + b"9" * 5_000 + b', "currency": "EUR"}'
    with nothing_written():
        response = client.post(
            "/api/v1/payments/deposits",
            data=body,
            content_type="application/json",
            headers={**headers, "Idempotency-Key": "digits-1"},
        )
        assert_problem(response, 400)


# --- NUL bytes in query strings -----------------------------------------------------------

QUERY_NAMES = (
    "q",
    "search",
    "subject",
    "type",
    "since",
    "hidden",
    "index",
    "size",
    "tree_size",
    "old_size",
    "new_size",
    "sort",
    "category",
    "purpose_category",
    "grade",
    "status",
    "kind",
    "currency",
    "prefix",
    "account_code",
    "start",
    "end",
    "after",
    "term_months",
    "funding_model",
    "tier",
    "next",
    "page",
    "per_page",
    "min_rate_bps",
    "limit",
)  # every query parameter a page or the API reads (see the schemas and request.args)


def _plain_get_paths(app) -> list[str]:
    """Every GET route, ids filled with 1 and enumerations with their first choice."""
    paths = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint == "static":
            continue
        parts = []
        for is_dynamic, data in rule._trace:
            if not is_dynamic:
                parts.append(data)
                continue
            converter = rule._converters[data]
            regex = getattr(converter, "regex", "")
            parts.append(regex[3:-1].split("|")[0] if regex.startswith("(?:") else "1")
        paths.append("".join(parts).split("|", 1)[-1])
    return sorted(set(paths))


def test_nul_bytes_in_query_strings_are_refused_everywhere(
    app, make_user, signed_in, api_token, caplog
):
    """Each GET route, web and API, as an admin who may see all: a NUL in any query
    parameter is a 400 (pages: the error page; API: a problem), never a 500, whether or
    not the route reads that parameter (one guard before any view runs)."""
    admin = make_user(roles=["admin", "auditor", "lender", "borrower"], kyc="verified")
    browser = signed_in(admin)
    bearer = api_token(admin, "write")
    query = "&".join(f"{name}=a%00b" for name in QUERY_NAMES)
    failures = []
    with caplog.at_level(logging.ERROR):
        for path in _plain_get_paths(app):
            headers = bearer if path.startswith("/api/") else {}
            response = browser.get(f"{path}?{query}", headers=headers)
            response.close()  # streamed downloads hold their request context until closed
            if response.status_code != 400:
                failures.append((path, response.status_code))
            elif path.startswith("/api/"):
                assert response.mimetype == "application/problem+json"
    assert not failures, failures
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


@pytest.mark.parametrize(
    "path",
    [
        "/admin/people?q=%00",
        "/campaigns?q=x%00",
        "/api/v1/campaigns?q=%00",
        "/lending/?q=%00",
        "/api/v1/lending/listings?q=%00",
    ],
)
def test_a_nul_byte_in_a_search_is_a_400(app, make_user, signed_in, api_token, path):
    admin = make_user(roles=["admin", "lender"], kyc="verified")
    response = signed_in(admin).get(path, headers=api_token(admin, "read"))
    assert response.status_code == 400


# --- digits that are not ASCII ------------------------------------------------------------

NOT_ASCII_DIGITS = ("\u00b2", "\u0661", "1\u00b2", "\u0661\u0662")  # "²", "١", "1²", "١٢"


@pytest.mark.parametrize("stamp", NOT_ASCII_DIGITS)
def test_a_stripe_signature_with_a_non_ascii_timestamp_is_a_400(client, stamp):
    """README: a malformed Stripe-Signature is a 400. "²".isdigit() is True, int("²") fails."""
    response = client.post(
        "/webhooks/stripe",
        data=b'{"id": "evt_1", "type": "payment_intent.succeeded"}',
        headers={"Content-Type": "application/json", "Stripe-Signature": f"t={stamp},v1=00"},
    )
    assert response.status_code == 400


@pytest.mark.parametrize("rate", ["\u00b2", "\u0661", "6.\u00b2", "\u0666.5"])
def test_a_loan_rate_in_non_ascii_digits_is_a_form_error(signed_in, make_user, rate):
    initiator = make_user(roles=["initiator"], kyc="verified")
    response = signed_in(initiator).submit(
        "/campaigns/new",
        {
            "title": "Oven",
            "summary": "A wood-fired oven the whole street can use.",
            "category": "food",
            "kind": "loan",
            "goal": "5000",
            "duration_days": "30",
            "loan_rate": rate,
            "loan_term_months": "12",
        },
    )
    assert response.status_code == 422
    assert 'aria-invalid="true"' in response.get_data(as_text=True)


def test_only_ascii_digits_count_as_digits() -> None:
    from p2pbank.digits import is_ascii_digits

    assert is_ascii_digits("0123456789")
    for text in ("", " 1", "1 ", "+1", "-1", "1_0", "1.0", *NOT_ASCII_DIGITS):
        assert not is_ascii_digits(text), text


@pytest.mark.parametrize("stamp", NOT_ASCII_DIGITS)
def test_the_signature_parser_refuses_non_ascii_timestamps(stamp) -> None:
    from p2pbank.payments import signature

    with pytest.raises(signature.SignatureError):
        signature.parse_header(f"t={stamp},v1=00")


@pytest.mark.parametrize("number", ["42424242424242\u00b242", "\u0664242424242424242"])
def test_a_test_card_number_with_non_ascii_digits_is_not_a_card(number) -> None:
    from p2pbank.payments.sandbox_cards import luhn_ok

    assert luhn_ok(number) is False

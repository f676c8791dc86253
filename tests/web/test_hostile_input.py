"""Hostile but harmless input found by an outside review: each answers 4xx, never 500.

Oversized ids in URLs, NUL bytes in query strings, JSON integers of thousands of digits
and digits that are not ASCII ("²", "١") that `str.isdigit()` accepts but `int()` does not.
"""

from __future__ import annotations

import logging

import pytest
from werkzeug.routing import IntegerConverter

from tests.web.test_bad_input import assert_problem, row_counts


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
                status = client.get(path).status_code
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
            "/api/v1/payments/deposits", data=body, content_type="application/json",
            headers={**headers, "Idempotency-Key": "digits-1"},
        )
        assert_problem(response, 400)

"""A request that loses a race in the database answers 409, never 500.

Twenty parallel pledges, or withdrawals with one idempotency key, sometimes ended in a
unique violation or a deadlock: the money stayed right (the services' concurrency tests
prove that), but the answer was a 500. Here each of those errors is raised for real by the
database under test and handed to the error dispatcher, for the API and for pages.
"""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError

from tests.support.database import is_postgres


def _real_error(connection, statements: list[str]) -> DBAPIError:
    """Run `statements` in a savepoint of the test's transaction; return the error the
    last one raises (the savepoint is rolled back, the test's transaction goes on)."""
    savepoint = connection.begin_nested()
    try:
        for statement in statements:
            connection.execute(text(statement))
    except DBAPIError as exc:
        savepoint.rollback()
        return exc
    raise AssertionError("the database raised nothing")


def _unique_violation(connection) -> DBAPIError:
    return _real_error(
        connection,
        [
            "CREATE TEMPORARY TABLE race_keys (key VARCHAR(20) PRIMARY KEY)",
            "INSERT INTO race_keys VALUES ('key-1')",
            "INSERT INTO race_keys VALUES ('key-1')",
        ],
    )


def _raised_state(connection, state: str) -> DBAPIError:
    """PostgreSQL raises the SQLSTATE a deadlock or serialization failure carries."""
    return _real_error(
        connection, [f"DO $$ BEGIN RAISE EXCEPTION 'lost' USING ERRCODE = '{state}'; END $$"]
    )


def _answer(app, path: str, exc: Exception):
    with app.test_request_context(path):
        return app.make_response(app.handle_user_exception(exc))


def test_a_unique_violation_is_a_conflict_for_the_api_and_for_pages(app, connection):
    exc = _unique_violation(connection)
    assert isinstance(exc, IntegrityError)
    api = _answer(app, "/api/v1/payments/withdrawals", exc)
    assert api.status_code == 409
    assert api.mimetype == "application/problem+json"
    assert api.get_json()["status"] == 409
    assert "idempotency key" in api.get_json()["detail"]
    assert api.headers["Retry-After"] == "1"
    page = _answer(app, "/campaigns/1/pledge", exc)
    assert page.status_code == 409
    assert "same moment" in page.get_data(as_text=True)


@pytest.mark.skipif(not is_postgres(), reason="SQLSTATEs of deadlocks are PostgreSQL's")
@pytest.mark.parametrize("state", ["40P01", "40001"])
def test_a_deadlock_or_serialization_failure_is_a_conflict_not_unavailable(app, connection, state):
    exc = _raised_state(connection, state)
    answer = _answer(app, "/api/v1/campaigns/1/pledges", exc)
    assert answer.status_code == 409
    assert answer.get_json()["title"] == "Conflict"


@pytest.mark.skipif(not is_postgres(), reason="SQLSTATEs are PostgreSQL's")
def test_other_integrity_errors_stay_server_errors(app, connection):
    """A foreign key or check that fails is a defect of ours, not a race: still 500."""
    exc = _real_error(
        connection,
        [
            "CREATE TEMPORARY TABLE race_checks (amount INTEGER CHECK (amount > 0))",
            "INSERT INTO race_checks VALUES (-1)",
        ],
    )
    assert _answer(app, "/api/v1/payments/withdrawals", exc).status_code == 500


@pytest.mark.skipif(not is_postgres(), reason="SQLSTATEs are PostgreSQL's")
def test_a_database_that_is_unavailable_still_answers_503(app, connection):
    exc = _raised_state(connection, "57014")  # query_canceled: a statement timeout
    assert _answer(app, "/api/v1/payments/withdrawals", exc).status_code == 503

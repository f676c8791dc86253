"""The test rig: a real database per run (PostgreSQL or SQLite), a rolled-back
transaction per test, the real app bound to that transaction."""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, settings
from sqlalchemy import make_url, text
from sqlalchemy.orm import Session

from p2pbank import clock
from p2pbank.app import create_app
from p2pbank.config import Config
from p2pbank.db import Base, make_engine, normalize_url
from p2pbank.identity import passwords
from p2pbank.models import load_all
from tests.support.database import (
    TEST_SECRET,
    bound_sessionmaker,
    database_url_for_run,
    is_postgres,
)
from tests.support.pages import Browser
from tests.support.people import SECOND_FACTOR_CODES, STRONG_PASSWORD, user_maker

settings.register_profile(
    "ci",
    derandomize=True,
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
settings.register_profile(
    "dev",
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

# Thousands of sign-ups and sign-ins: hash at argon2id's smallest cost in tests (the
# production cost has its own tests in tests/unit/test_identity_passwords.py).
passwords.set_cost(passwords.TEST_COST)


def pytest_report_header(config) -> str:
    return f"database: {_redacted(database_url_for_run())}"


def _redacted(url: str) -> str:
    return re.sub(r"//[^@/]*@", "//***@", url)


def pytest_collection_modifyitems(config, items) -> None:
    if is_postgres():
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL (row locks, triggers, real concurrency)")
    for item in items:
        if "postgres_only" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """The run's own database: a fresh PostgreSQL database per run (so parallel runs never
    share tables), or a fresh SQLite file."""
    url = database_url_for_run()
    if not is_postgres():
        yield url
        return
    base = make_url(normalize_url(url))
    name = f"{base.database}_{os.getpid()}_{secrets.token_hex(3)}"
    admin = make_engine(
        base.set(database="postgres").render_as_string(hide_password=False),
        isolation_level="AUTOCOMMIT",
    )
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def engine(database_url):
    load_all()
    eng = make_engine(database_url)
    Base.metadata.create_all(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def connection(engine) -> Iterator:
    conn = engine.connect()
    outer = conn.begin()
    try:
        yield conn
    finally:
        outer.rollback()
        conn.close()


@pytest.fixture
def session(connection) -> Iterator[Session]:
    s = bound_sessionmaker(connection)()
    try:
        yield s
    finally:
        s.close()


@pytest.fixture
def config(database_url, tmp_path) -> Config:
    return Config(
        ENV="testing",
        SECRET_KEY=TEST_SECRET,
        DATABASE_URL=database_url,
        INSTANCE_PATH=str(tmp_path / "instance"),
        TESTING=True,
        ARGON2_COST="test",
    ).finish()


@pytest.fixture
def app(config, connection):
    application = create_app(config)
    application.extensions["p2pbank.sessionmaker"] = bound_sessionmaker(connection)
    yield application
    # /readyz checks the database through the app's own engine: close what it opened.
    application.extensions["p2pbank.engine"].dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture(autouse=True)
def _reset_clock() -> Iterator[None]:
    clock.set_now(None)
    yield
    clock.set_now(None)


@pytest.fixture
def frozen_now() -> datetime:
    moment = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    clock.set_now(moment)
    return moment


# --- people and pages ----------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _forget_second_factors() -> Iterator[None]:
    SECOND_FACTOR_CODES.clear()
    yield
    SECOND_FACTOR_CODES.clear()


@pytest.fixture
def make_user(session):
    """make_user(roles=[...], kyc="verified", email=None, two_factor=None) -> User, committed
    in the test txn. two_factor None means: on for auditors and admins (their roles need it)."""
    return user_maker(session)


@pytest.fixture
def web(client) -> Browser:
    return Browser(client)


@pytest.fixture
def signed_in(app, make_user):
    """signed_in(user) -> Browser with that user's session."""

    def _as(user, password: str = STRONG_PASSWORD) -> Browser:
        b = Browser(app.test_client())
        response = b.login(user.email, password)
        assert response.status_code == 302, response.get_data(as_text=True)
        return b

    return _as


@pytest.fixture
def api_token(session):
    """api_token(user, scope="write") -> headers with a bearer token."""
    from p2pbank.identity import services

    def _token(user, scope: str = "write") -> dict:
        _row, secret = services.create_api_token(session, user.id, name="test", scope=scope)
        return {"Authorization": f"Bearer {secret}"}

    return _token

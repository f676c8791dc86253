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
from sqlalchemy.orm import Session, sessionmaker

from p2pbank import clock
from p2pbank.app import create_app
from p2pbank.audit.keys import derive_pseudonym_key, session_info
from p2pbank.config import Config
from p2pbank.db import Base, make_engine, normalize_url
from p2pbank.identity import passwords
from p2pbank.models import load_all

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

TEST_SECRET = "test-secret-key-not-for-production-use-0123456789"

# Thousands of sign-ups and sign-ins: hash at argon2id's smallest cost in tests (the
# production cost has its own tests in tests/unit/test_identity_passwords.py).
passwords.set_cost(passwords.TEST_COST)


def pytest_report_header(config) -> str:
    return f"database: {_redacted(database_url_for_run())}"


def _redacted(url: str) -> str:
    return re.sub(r"//[^@/]*@", "//***@", url)


_SQLITE_FALLBACK: list[str] = []


def database_url_for_run() -> str:
    url = os.environ.get("TEST_DATABASE_URL", "")
    if url:
        return url
    if not _SQLITE_FALLBACK:
        import tempfile

        folder = tempfile.mkdtemp(prefix="p2pbank-test-")
        _SQLITE_FALLBACK.append(f"sqlite:///{folder}/test.sqlite3")
    return _SQLITE_FALLBACK[0]


def is_postgres() -> bool:
    return database_url_for_run().startswith(("postgres", "postgresql"))


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


def _bound_sessionmaker(connection) -> sessionmaker[Session]:
    # Services call commit(); here that only releases a savepoint of the outer transaction.
    return sessionmaker(
        bind=connection,
        join_transaction_mode="create_savepoint",
        expire_on_commit=False,
        info=session_info(derive_pseudonym_key(TEST_SECRET)),  # the trust log's pseudonyms
    )


@pytest.fixture
def session(connection) -> Iterator[Session]:
    s = _bound_sessionmaker(connection)()
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
    application.extensions["p2pbank.sessionmaker"] = _bound_sessionmaker(connection)
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


# --- people -----------------------------------------------------------------------------

STRONG_PASSWORD = "correct-horse-battery-42"

# Auditors and admins must use two-factor sign-in: make_user turns it on for them and keeps
# their recovery codes here (by e-mail), so Browser.login can answer the challenge.
SECOND_FACTOR_CODES: dict[str, list[str]] = {}


@pytest.fixture(autouse=True)
def _forget_second_factors() -> Iterator[None]:
    SECOND_FACTOR_CODES.clear()
    yield
    SECOND_FACTOR_CODES.clear()


@pytest.fixture
def make_user(session):
    """make_user(roles=[...], kyc="verified", email=None, two_factor=None) -> User, committed
    in the test txn. two_factor None means: on for auditors and admins (their roles need it)."""
    from p2pbank.identity import services

    counter = {"n": 0}

    def _make(
        roles=(),
        kyc: str = "unverified",
        email: str | None = None,
        name: str | None = None,
        password: str = STRONG_PASSWORD,
        two_factor: bool | None = None,
    ):
        counter["n"] += 1
        n = counter["n"]
        email = email or f"person{n}@example.test"
        self_service = [r for r in roles if r not in ("auditor", "admin")]
        user = services.sign_up(
            session,
            email=email,
            display_name=name or f"Person {n}",
            password=password,
            roles=self_service,
        )
        for role in roles:
            if role in ("auditor", "admin"):
                services.grant_role(session, None, user.id, role, "test")
        if kyc in ("pending", "verified", "rejected"):
            services.set_kyc_status(session, None, user.id, "pending", "test")
        if kyc in ("verified", "rejected"):
            services.set_kyc_status(session, None, user.id, kyc, "test")
        if two_factor or (two_factor is None and user.two_factor_required):
            from p2pbank.identity import twofactor, twofactor_services

            secret = twofactor_services.start_enrolment(session, user.id)
            SECOND_FACTOR_CODES[user.email] = twofactor_services.confirm_enrolment(
                session, user.id, twofactor.code_at(secret, clock.now())
            )
        return user

    return _make


# --- pages --------------------------------------------------------------------------------

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_from(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "page has no CSRF token"
    return match.group(1)


class Browser:
    """A test client that submits forms the way a browser does, CSRF token included."""

    def __init__(self, client):
        self.client = client

    def get(self, url, **kw):
        return self.client.get(url, **kw)

    def submit(self, page_url: str, data: dict, action: str | None = None, **kw):
        page = self.client.get(page_url)
        token = csrf_from(page.get_data(as_text=True))
        return self.client.post(action or page_url, data={**data, "csrf_token": token}, **kw)

    def login(self, email: str, password: str = STRONG_PASSWORD, second_factor: bool = True):
        """Sign in; for people made by make_user with two-factor sign-in, answer the challenge
        with one of their recovery codes (unless second_factor=False)."""
        response = self.submit("/login", {"email": email, "password": password})
        codes = SECOND_FACTOR_CODES.get(email.strip().lower())
        location = response.headers.get("Location", "")
        if second_factor and codes and location.split("?")[0].endswith("/login/two-factor"):
            response = self.submit("/login/two-factor", {"code": codes.pop()})
        return response

    def logout(self, **kw):
        return self.submit("/dashboard", {}, action="/logout", **kw)


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

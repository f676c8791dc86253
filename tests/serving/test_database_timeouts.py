"""A database that accepts connections but never answers: /readyz says 503 at once, pages
and the API answer 503 "temporarily unavailable" after the connect timeout, never 500 and
never a hang. Plus the statement timeout (PostgreSQL) and the lock timeout (SQLite)."""

from __future__ import annotations

import socket
import sqlite3
import threading
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from p2pbank import readiness
from p2pbank.app import create_app
from p2pbank.config import Config
from tests.support.database import TEST_SECRET, is_postgres

BOUND = 20.0  # seconds; without timeouts these requests never end


@pytest.fixture
def silent_database() -> Iterator[str]:
    """A TCP server that accepts every connection and never sends a byte."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except TimeoutError:
                continue
            except OSError:
                return

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"postgresql://p2pbank@127.0.0.1:{server.getsockname()[1]}/p2pbank"
    finally:
        stop.set()
        thread.join(2)
        for conn in held:
            conn.close()
        server.close()


@pytest.fixture
def make_app(tmp_path):
    """make_app(database_url, **settings) -> a real app; its engine is disposed after."""
    apps = []

    def make(database_url: str, **settings):
        config = Config(
            ENV="testing",
            SECRET_KEY=TEST_SECRET,
            DATABASE_URL=database_url,
            INSTANCE_PATH=str(tmp_path / "instance"),
            TESTING=True,
            ARGON2_COST="test",
            **settings,
        ).finish()
        apps.append(create_app(config))
        return apps[-1]

    yield make
    for app in apps:
        app.extensions["p2pbank.engine"].dispose()


def _bounded(call):
    """Run `call` in a thread; fail (rather than hang the suite) if it takes over BOUND."""
    box: dict = {}

    def run() -> None:
        started = time.perf_counter()
        box["value"] = call()
        box["seconds"] = time.perf_counter() - started

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(BOUND)
    assert "value" in box, f"no answer within {BOUND:.0f} s"
    return box["value"], box["seconds"]


def test_readyz_answers_503_while_the_database_stays_silent(make_app, silent_database):
    app = make_app(silent_database, DB_CONNECT_TIMEOUT=2, READINESS_TIMEOUT=1.0)
    client = app.test_client()
    ready, seconds = _bounded(lambda: client.get("/readyz"))
    print(f"\n/readyz against a silent database: {ready.status_code} in {seconds:.2f} s")
    assert ready.status_code == 503
    assert ready.json["status"] == "unavailable"
    assert ready.json["database"] == "down"
    assert ready.json["checks"]["database"] == {"ok": False, "detail": "no answer within 1 s"}


def test_pages_and_api_answer_503_not_500(make_app, silent_database):
    app = make_app(silent_database, DB_CONNECT_TIMEOUT=2)
    client = app.test_client()
    page, seconds = _bounded(lambda: client.get("/"))
    print(f"\n/ against a silent database: {page.status_code} in {seconds:.2f} s")
    assert page.status_code == 503
    assert page.mimetype == "text/html"
    assert page.headers["Retry-After"] == "30"
    assert "The service is temporarily unavailable." in page.get_data(as_text=True)
    api, _ = _bounded(lambda: client.get("/api/v1/audit/checkpoint"))
    assert api.status_code == 503
    assert api.mimetype == "application/problem+json"
    assert api.json["detail"] == (
        "The service is temporarily unavailable. Wait a while and try again."
    )


def test_a_signed_in_page_answers_503_too(make_app, silent_database):
    """The member is loaded from the database; the error page must not try again."""
    app = make_app(silent_database, DB_CONNECT_TIMEOUT=2)
    client = app.test_client()
    agent = {"User-Agent": "p2pbank-test"}
    with app.test_request_context(headers=agent, environ_base={"REMOTE_ADDR": "127.0.0.1"}):
        from flask_login.utils import _create_identifier

        identifier = _create_identifier()  # what sign-in stores (session protection)
    with client.session_transaction() as session:
        session.update({"_user_id": "1:0", "_fresh": True, "_id": identifier})
    page, _ = _bounded(lambda: client.get("/dashboard", headers=agent))
    assert page.status_code == 503
    assert "temporarily unavailable" in page.get_data(as_text=True)


def test_a_hanging_check_does_not_hold_the_others(make_app, database_url):
    app = make_app(database_url)
    release = threading.Event()
    readiness.register("stuck-for-test", lambda _app: release.wait(30) and None)
    try:
        results, _ = _bounded(lambda: readiness.run_checks(app, 0.5))
    finally:
        release.set()
        readiness.unregister("stuck-for-test")
    assert results["database"] == readiness.CheckResult(True, "up")
    assert results["stuck-for-test"].ok is False


@pytest.mark.postgres_only
def test_postgres_statements_have_a_timeout(make_app, database_url):
    app = make_app(database_url, DB_STATEMENT_TIMEOUT_MS=300)
    engine = app.extensions["p2pbank.engine"]
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SHOW statement_timeout")).scalar() == "300ms"
            with pytest.raises(OperationalError, match="statement timeout"):
                conn.execute(text("SELECT pg_sleep(5)"))
    finally:
        engine.dispose()


def test_sqlite_write_lock_wait_is_bounded_and_answers_503(make_app, tmp_path):
    if is_postgres():
        pytest.skip("the SQLite write lock")
    path = tmp_path / "locked.sqlite3"
    app = make_app(f"sqlite:///{path}", DB_BUSY_TIMEOUT_MS=300, WTF_CSRF_ENABLED=False)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("PRAGMA journal_mode = WAL")
    holder.execute("CREATE TABLE IF NOT EXISTS held (x)")
    holder.execute("BEGIN IMMEDIATE")
    try:
        answer, _ = _bounded(
            lambda: app.test_client().post(
                "/login", data={"email": "ann@example.test", "password": "x" * 16}
            )
        )
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert answer.status_code == 503

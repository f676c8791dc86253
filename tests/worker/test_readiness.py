"""/readyz and `flask status` tell the truth about the scheduled work: with a worker
expected, the broker is checked and a worker silent too long makes the instance not
ready; test suites, which run no worker, do not expect one."""

from __future__ import annotations

from datetime import timedelta

import pytest

from p2pbank import clock
from p2pbank.app import create_app
from p2pbank.config import Config
from p2pbank.runtime import marks
from tests.support.database import TEST_SECRET


@pytest.fixture
def worker_app(worker_db, tmp_path):
    """An app expecting a worker, on a committed database (the checks read it from
    threads of their own, each with its own connection)."""
    url, _maker = worker_db
    config = Config(
        ENV="testing", SECRET_KEY=TEST_SECRET, DATABASE_URL=url, TESTING=True,
        INSTANCE_PATH=str(tmp_path / "instance"), ARGON2_COST="test",
        RUNTIME_EXPECTS_WORKER=True,
    ).finish()  # fmt: skip
    application = create_app(config)
    yield application
    application.extensions["p2pbank.engine"].dispose()


@pytest.fixture
def beat(worker_db):
    """beat(name, at, detail="") sets a runtime mark, committed."""
    _url, maker = worker_db

    def _set(name, at, detail=""):
        with maker() as session:
            marks.set_mark(session, name, at, detail)

    return _set


def test_test_suites_do_not_expect_a_worker_and_everything_else_does(tmp_path):
    folder = str(tmp_path)
    assert Config(TESTING=True, INSTANCE_PATH=folder).finish().RUNTIME_EXPECTS_WORKER is False
    assert Config(INSTANCE_PATH=folder).finish().RUNTIME_EXPECTS_WORKER is True
    env = {"INSTANCE_PATH": str(tmp_path), "RUNTIME_EXPECTS_WORKER": "0"}
    assert Config.from_env(env).RUNTIME_EXPECTS_WORKER is False


def test_without_a_worker_expected_readyz_checks_the_database_only(client):
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert set(ready.json["checks"]) == {"database"}


def test_a_worker_never_heard_from_is_not_ready(worker_app):
    ready = worker_app.test_client().get("/readyz")
    assert ready.status_code == 503, ready.json
    checks = ready.json["checks"]
    assert checks["broker"] == {"ok": True, "detail": "filesystem up"}
    assert checks["worker"] == {"ok": False, "detail": "no worker heartbeat yet"}
    assert checks["due_work"]["detail"] == "no scan finished yet"


def test_a_recent_heartbeat_is_ready_and_a_stale_one_is_not(worker_app, beat, frozen_now):
    client = worker_app.test_client()
    beat(marks.HEARTBEAT, frozen_now - timedelta(seconds=20))
    beat("scan.lending.instalments", frozen_now, "3 unit(s) enqueued")
    ready = client.get("/readyz")
    assert ready.status_code == 200, ready.json
    assert ready.json["checks"]["worker"]["detail"] == "last heartbeat 20 s ago (limit 120 s)"
    assert ready.json["checks"]["due_work"]["detail"] == (
        "last scan lending.instalments 0 s ago: 3 unit(s) enqueued"
    )
    clock.set_now(frozen_now + timedelta(seconds=121))
    stale = client.get("/readyz")
    assert stale.status_code == 503
    assert stale.json["checks"]["worker"]["ok"] is False


def test_an_unreachable_broker_is_not_ready(worker_app, beat, frozen_now):
    worker_app.config["CELERY_BROKER_URL"] = "redis://127.0.0.1:1/0"
    beat(marks.HEARTBEAT, frozen_now)
    ready = worker_app.test_client().get("/readyz")
    assert ready.status_code == 503
    assert ready.json["checks"]["broker"]["ok"] is False


def test_flask_status_reports_each_part_and_fails_without_a_worker(worker_app, beat, frozen_now):
    runner = worker_app.test_cli_runner()
    silent = runner.invoke(args=["status"])
    assert silent.exit_code == 1
    assert "worker      FAIL no worker heartbeat yet" in silent.output
    beat(marks.HEARTBEAT, frozen_now)
    alive = runner.invoke(args=["status"])
    assert alive.exit_code == 0, alive.output
    for part in ("database", "broker", "worker", "due_work", "checkpoint"):
        assert part in alive.output

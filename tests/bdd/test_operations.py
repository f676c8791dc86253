"""Step code for features/operations: the platform's own running. A real Celery worker
with its embedded scheduler (beat) runs in another process on the embedded filesystem
broker, as `make run` starts it, against a committed database of its own."""

from __future__ import annotations

import pytest
from pytest_bdd import given, scenarios, then, when

from p2pbank.ledger.checks import check_ledger
from p2pbank.runtime import marks
from tests.support.database import database_url_for_run
from tests.worker import support

pytestmark = pytest.mark.slow

scenarios("operations/due_work.feature")


@pytest.fixture
def platform(tmp_path):
    """The committed database, the worker's instance folder and its process (stopped after)."""
    url, drop = support.fresh_database(database_url_for_run(), tmp_path)
    maker, dispose = support.session_factory(url)
    state = {"url": url, "maker": maker, "instance": tmp_path / "instance", "loans": []}
    yield state
    if state.get("worker") is not None:
        support.stop(state["worker"])
    dispose()
    drop()


@given("a loan whose first instalment is due today, with the money in the borrower's wallet")
def _a_due_loan(platform):
    with platform["maker"]() as session:
        platform["loans"] = support.due_loans(session, 1)
        assert support.paid_instalments(session) == 0


@given("a worker and the scheduler are running on the embedded broker")
def _worker_and_beat(platform, tmp_path):
    env = support.worker_env(platform["url"], "", platform["instance"])
    env.pop("CELERY_BROKER_URL")
    env.pop("REDIS_URL", None)  # the embedded default: a filesystem broker, no server
    platform["worker"] = support.start_worker(env, beat=True, log=tmp_path / "worker.log")


@when("nobody does anything for a while")
def _wait(platform):
    def collected() -> bool:
        with platform["maker"]() as session:
            return support.paid_instalments(session) >= 1

    # Beat scans for due instalments every 30 s; the first scan comes 30 s after start.
    support.wait_for(collected, 120, "the worker to collect the instalment on its own")


@then("the instalment has been collected exactly once")
def _collected_once(platform):
    with platform["maker"]() as session:
        assert support.paid_instalments(session) == 1
        assert support.repayments(session) == 1
        assert support.postings_of_repayments(session).get("repayment") == 1


@then("the worker's heartbeat and the scan are on record")
def _marks(platform):
    def recorded() -> bool:
        with platform["maker"]() as session:
            seen = marks.marks(session)
            return marks.HEARTBEAT in seen and "scan.lending.instalments" in seen

    support.wait_for(recorded, 30, "the heartbeat and scan marks")


@then("the books balance")
def _books(platform):
    with platform["maker"]() as session:
        report = check_ledger(session)
    assert report.ok, report.violations

"""Two real workers share the due instalments; one is killed with SIGKILL in the middle
(the whole process group, as when its machine dies). The other finishes the work: every
instalment collected exactly once, the books balance and the trust log verifies."""

from __future__ import annotations

import signal
import time

import pytest

from p2pbank.ledger.checks import check_ledger
from tests.worker import support

pytestmark = [pytest.mark.slow, pytest.mark.postgres_only]

LOANS = 120


def test_killing_a_worker_mid_run_loses_nothing_and_posts_nothing_twice(
    worker_db, broker, tmp_path
):
    url, maker = worker_db
    with maker() as session:
        support.due_loans(session, LOANS)
        entries_before = support.postings_of_repayments(session)
    instance = tmp_path / "instance"
    # Redis gives an unacknowledged task to another worker after this many seconds.
    env = support.worker_env(url, broker, instance, CELERY_VISIBILITY_TIMEOUT="5")
    doomed = support.start_worker(env, log=tmp_path / "doomed.log")
    survivor = support.start_worker(env, log=tmp_path / "survivor.log")
    try:
        support.send(broker, "p2pbank.scan", "lending.instalments")

        def paid() -> int:
            with maker() as s:
                return support.paid_instalments(s)

        support.wait_for(lambda: paid() >= LOANS // 6, 120, "the first instalments")
        support.stop(doomed, signal.SIGKILL)
        killed_at = paid()
        support.wait_for(lambda: _sequenced(maker) and paid() == LOANS, 180, "the rest")
        time.sleep(6)  # past the visibility timeout: a redelivered task must do nothing
    finally:
        support.stop(doomed, signal.SIGKILL)
        support.stop(survivor)
    print(f"\nkilled a worker after {killed_at} of {LOANS} instalments; the other finished")
    assert killed_at < LOANS, "the kill came too late to prove anything"
    with maker() as session:
        assert support.paid_instalments(session) == LOANS
        assert support.repayments(session) == LOANS  # one repayment per loan, never two
        entries = support.postings_of_repayments(session)
        new = {k: v - entries_before.get(k, 0) for k, v in entries.items()}
        assert {k: v for k, v in new.items() if v} == {"repayment": LOANS}, new
        ledger = check_ledger(session)
        assert ledger.ok, ledger.violations
        assert support.audit_report(session, instance) == []


def _sequenced(maker) -> bool:
    """Integrate the queued leaves as the sequencer would every second or two."""
    from p2pbank import clock
    from p2pbank.audit import sequencer

    with maker() as session:
        sequencer.integrate_queued(session, clock.now())
    return True

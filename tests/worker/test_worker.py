"""A real worker process, on Redis and on RabbitMQ, does the due work the scans find:
one task per unit, each unit done once, the books and the trust log still right."""

from __future__ import annotations

import pytest

from p2pbank.ledger.checks import check_ledger
from p2pbank.runtime import marks
from tests.worker import support

pytestmark = pytest.mark.slow


def test_a_worker_collects_due_instalments_and_closes_campaigns(worker_db, broker, tmp_path):
    url, maker = worker_db
    with maker() as session:
        loans = support.due_loans(session, 3)
        campaigns = support.due_campaigns(session, 2)
    env = support.worker_env(url, broker, tmp_path / "instance")
    worker = support.start_worker(env, concurrency=2, log=tmp_path / "worker.log")
    try:
        for kind in ("lending.instalments", "crowdfunding.deadlines", "lending.instalments"):
            support.send(broker, "p2pbank.scan", kind)  # twice: the second finds nothing new
        support.send(broker, "p2pbank.heartbeat")

        def done() -> bool:
            with maker() as s:
                return support.paid_instalments(s) == len(loans) and _closed(s) == len(campaigns)

        support.wait_for(done, 90, "the worker to collect 3 instalments and close 2 campaigns")
        support.wait_for(lambda: _heartbeat(maker), 30, "the worker's heartbeat mark")
    finally:
        support.stop(worker)
    with maker() as session:
        assert support.repayments(session) == len(loans)  # one repayment per loan, not two
        assert check_ledger(session).ok
        assert marks.mark(session, "scan.lending.instalments") is not None


def _closed(session) -> int:
    from sqlalchemy import func, select

    from p2pbank.crowdfunding.models import Campaign, CampaignStatus

    return session.scalar(
        select(func.count(Campaign.id)).where(Campaign.status != CampaignStatus.LIVE)
    )


def _heartbeat(maker) -> bool:
    with maker() as session:
        return marks.mark(session, marks.HEARTBEAT) is not None

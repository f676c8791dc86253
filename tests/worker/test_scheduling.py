"""The registry both runners use: every kind resolves, beat has a schedule for each, units
are idempotent, and on PostgreSQL a unit whose row another worker holds is skipped at once
(FOR UPDATE SKIP LOCKED) instead of waiting or being done twice."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from p2pbank import clock, scheduling
from p2pbank.broker import beat_schedule
from tests.worker import support


def test_every_kind_resolves_and_beat_schedules_each_scan():
    names = [kind.name for kind in scheduling.KINDS]
    assert len(names) == len(set(names))
    for kind in scheduling.KINDS:
        assert callable(scheduling.resolve(kind.run))
        if kind.scan:
            assert callable(scheduling.resolve(kind.scan))
        if kind.claims:
            assert hasattr(scheduling.resolve(kind.claims), "id")
    schedule = beat_schedule()
    assert {e["args"][0] for e in schedule.values() if e["task"] == "p2pbank.scan"} == set(names)
    assert schedule["scan audit.sequencer"]["schedule"] <= 2
    assert schedule["heartbeat"]["task"] == "p2pbank.heartbeat"


def test_a_unit_done_twice_collects_once(worker_db):
    _url, maker = worker_db
    kind = scheduling.by_name("lending.instalments")
    ctx = scheduling.Context()
    with maker() as session:
        (loan_id,) = support.due_loans(session, 1)
        now = clock.now()
        assert scheduling.scan(kind, session, now, ctx) == [loan_id]
        first = scheduling.run_unit(kind, session, loan_id, now, ctx, count_problems=False)
        again = scheduling.run_unit(kind, session, loan_id, now, ctx, count_problems=False)
        assert first["lending.repayments"] == 1
        assert again.get("lending.repayments", 0) == 0
        assert support.repayments(session) == 1
        assert scheduling.scan(kind, session, now, ctx) == []


@pytest.mark.postgres_only
def test_a_unit_whose_row_another_worker_holds_is_skipped_not_waited_for(worker_db):
    url, maker = worker_db
    kind = scheduling.by_name("lending.instalments")
    ctx = scheduling.Context()
    with maker() as session:
        (loan_id,) = support.due_loans(session, 1)
    with maker() as other, maker() as session:
        other.execute(text("SELECT id FROM loans WHERE id = :id FOR UPDATE"), {"id": loan_id})
        skipped = scheduling.run_unit(kind, session, loan_id, clock.now(), ctx)
        assert skipped == {}
        other.rollback()  # the other worker died: its claim is gone with its transaction
        done = scheduling.run_unit(kind, session, loan_id, clock.now(), ctx)
        assert done["lending.repayments"] == 1

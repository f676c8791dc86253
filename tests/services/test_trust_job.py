"""The scores job in bulk: the log entries it writes in one go are the entries one append
each would write, a run with no new trust event since the last one does nothing, and the
job publishes what the verifier's replay recomputes, including for two members who rate
only each other (a periodic trust graph)."""

from __future__ import annotations

import importlib.util
import random
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from p2pbank import clock
from p2pbank.audit import queries as log_queries
from p2pbank.audit import services as audit
from p2pbank.audit.merkle import CompactRange
from p2pbank.audit.models import LogHead, LogLeaf
from p2pbank.trust import queries, refresh
from p2pbank.trust.models import ScoreRun, ScoreSnapshot
from tests.support.audit import ORIGIN, SIGNER
from tests.support.trust import log_since, rate_both, replay_log


def test_append_many_writes_what_one_append_each_would(session, make_user, frozen_now):
    member = make_user(roles=["lender"])
    audit.append(session, type="test.first", subject_user_id=None, payload={"n": 0})
    start = log_queries.head_size(session)
    events = [("test.bulk", member.id if n % 2 else None, {"n": n}) for n in range(1, 12)]
    sequences = audit.append_many(session, events)
    session.commit()
    assert sequences == list(range(start, start + 11))
    for (event_type, subject, payload), sequence in zip(events, sequences, strict=True):
        leaf = session.get(LogLeaf, sequence)
        expected = audit.leaf_data(
            sequence,
            event_type,
            audit.format_time(frozen_now),
            audit.pseudonym(session, subject) if subject is not None else None,
            payload,
        )
        assert bytes(leaf.data) == expected
    head = session.get(LogHead, 1)
    assert CompactRange(head.size, head.roots).root() == log_queries.tree_root(session, start + 11)
    assert log_queries.check_storage(session) == []
    audit.sign_checkpoint(session, SIGNER, ORIGIN)  # signs only if nodes and head agree
    assert audit.append_many(session, []) == []


def test_a_run_without_new_trust_events_does_nothing(session, make_user, frozen_now):
    bo = make_user(roles=["borrower"], kyc="verified", name="Bo")
    lena = make_user(roles=["lender"], kyc="verified", name="Lena")
    rate_both(session, bo, lena)
    assert refresh.recompute_trust(session)["trust.snapshots_written"] == 2
    size, runs = log_queries.head_size(session), session.scalar(select(func.count(ScoreRun.id)))

    clock.advance(timedelta(hours=1))
    counts = refresh.recompute_trust(session)
    assert counts["trust.runs_skipped"] == 1 and counts["trust.members_scored"] == 0
    assert log_queries.head_size(session) == size  # not even a score.run entry
    assert session.scalar(select(func.count(ScoreRun.id))) == runs

    ann = make_user(roles=["lender"], name="Ann")
    rate_both(session, bo, ann)  # new trust events: the next run scores again
    clock.advance(timedelta(hours=1))
    counts = refresh.recompute_trust(session)
    assert "trust.runs_skipped" not in counts and counts["trust.members_scored"] == 3

    clock.advance(refresh.REFRESH_AFTER)  # time alone moves scores: a full run
    assert "trust.runs_skipped" not in refresh.recompute_trust(session)
    assert replay_log(session).differences == []


def test_two_members_who_rate_only_each_other_are_published_converged(
    session, make_user, frozen_now
):
    bo = make_user(roles=["borrower"], kyc="verified", name="Bo")
    lena = make_user(roles=["lender"], name="Lena")  # only Bo is pre-trusted
    rate_both(session, bo, lena)
    refresh.recompute_trust(session)
    run = queries.latest_run(session)
    assert run.eigentrust_converged and run.network_members == 2
    assert session.scalar(select(func.count(ScoreSnapshot.id))) == 2
    types = [t for t, _ in log_since(session, 0)]
    assert types.count("score.published") == 2
    result = replay_log(session)
    assert result.differences == [] and result.checked == 2 * 8


def _benchmark_module():
    path = Path(__file__).resolve().parents[2] / "benchmarks" / "trust.py"
    spec = importlib.util.spec_from_file_location("trust_benchmark", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_benchmarks_log_replays_to_the_published_values(session):
    """The benchmark's world, its trust events logged, scored by the job: the replay
    recomputes every published value (trust percentiles from EigenTrust included)."""
    bench = _benchmark_module()
    counts = bench.seed_members(session, 80, random.Random(5), log_inputs=True)
    assert counts["ratings"] > 100
    clock.set_now(bench.NOW)
    try:
        refresh.recompute_trust(session)
    finally:
        clock.set_now(None)
    run = queries.latest_run(session)
    assert run.eigentrust_converged and run.snapshots_written == 80
    result = bench.replay_log(session)  # page by page: the log is longer than one page
    assert result.differences == [] and result.not_checked == 0
    assert result.checked == 80 * 8
    percentiles = {bps for (bps,) in session.execute(select(ScoreSnapshot.trust_percentile_bps))}
    assert len(percentiles) > 10  # the network trust really ranks members

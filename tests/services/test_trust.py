"""Ratings and scores against the real database: who may rate, once, within the window;
double-blind reveal timing; upward-only revisions on request; moderation that hides but
never deletes; the scores job, its published snapshots and the trust log they replay from."""

from __future__ import annotations

import json
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import delete, func, select, text
from sqlalchemy.exc import DBAPIError

from p2pbank import clock
from p2pbank.audit import sequencer
from p2pbank.audit.models import LogLeaf, QueuedLeaf
from p2pbank.audit.queries import get_entry, head_size
from p2pbank.audit.services import pseudonym
from p2pbank.errors import Conflict, Forbidden, InvalidState, NotFound, ValidationFailed
from p2pbank.trust import queries, refresh, revisions, services
from p2pbank.trust.models import (
    RatedTransaction,
    Rating,
    RatingDeleted,
    RatingStatus,
    RepaymentRecord,
    RevisionRequest,
    ScoreSnapshot,
)
from p2pbank.trust.read import profile as profile_read
from p2pbank.trust.read import ratings as ratings_read
from tests.support.trust import completed, log_since, rate_both, replay_log


@pytest.fixture
def pair(make_user, frozen_now):
    bo = make_user(roles=["borrower"], kyc="verified", name="Bo")
    lena = make_user(roles=["lender"], kyc="verified", name="Lena")
    return bo, lena


# --- eligibility ---------------------------------------------------------------------------


def test_a_completed_loan_opens_one_transaction_per_lender_once_and_logs_it(
    session, make_user, frozen_now
):
    bo = make_user(roles=["borrower"])
    lenders = [make_user(roles=["lender"]) for _ in range(3)]
    start = head_size(session)
    args = dict(ref_type="loan", ref_id=41, principal_id=bo.id)
    made = services.record_completed_transaction(
        session, counterparty_ids=[lender.id for lender in lenders] + [bo.id], **args
    )
    again = services.record_completed_transaction(session, counterparty_ids=[lenders[0].id], **args)
    session.commit()

    assert {t.counterparty_id for t in made} == {lender.id for lender in lenders}
    assert again == []
    assert all(t.window_closes_at == frozen_now + timedelta(days=60) for t in made)
    logged = log_since(session, start)
    assert [t for t, _ in logged] == ["trust.transaction_completed"] * 3
    assert {p["counterparty"] for _, p in logged} == {pseudonym(session, x.id) for x in lenders}


def test_only_the_parties_rate_each_other(session, make_user, pair):
    bo, lena = pair
    transaction = completed(session, bo, lena)
    stranger = make_user(roles=["lender"])
    with pytest.raises(NotFound):
        services.rate_counterparty(session, stranger.id, transaction.id, value="negative")
    with pytest.raises(NotFound):
        services.rate_counterparty(session, bo.id, transaction.id + 999, value="positive")
    assert session.scalar(select(func.count(Rating.id))) == 0


def test_one_rating_per_side(session, pair):
    bo, lena = pair
    transaction = completed(session, bo, lena)
    services.rate_counterparty(session, lena.id, transaction.id, value="positive")
    with pytest.raises(Conflict):
        services.rate_counterparty(session, lena.id, transaction.id, value="negative")
    assert session.scalar(select(func.count(Rating.id))) == 1


def test_the_window_is_sixty_days_after_completion(session, make_user, pair, frozen_now):
    bo, lena = pair
    late = completed(session, bo, lena)
    in_time = completed(session, bo, lena)
    clock.set_now(frozen_now + timedelta(days=60) - timedelta(seconds=1))
    services.rate_counterparty(session, lena.id, in_time.id, value="positive")
    clock.set_now(frozen_now + timedelta(days=60))
    with pytest.raises(InvalidState, match="over"):
        services.rate_counterparty(session, lena.id, late.id, value="positive")
    assert ratings_read.pending_ratings(session, lena.id) == []


def test_a_transaction_completing_later_cannot_be_rated_yet(session, pair, frozen_now):
    bo, lena = pair
    transaction = completed(session, bo, lena, at=frozen_now + timedelta(days=1))
    with pytest.raises(InvalidState, match="not completed"):
        services.rate_counterparty(session, lena.id, transaction.id, value="positive")
    assert ratings_read.pending_ratings(session, lena.id) == []


def test_details_fit_the_rated_side_and_comments_are_bounded_plain_text(session, pair):
    bo, lena = pair
    transaction = completed(session, bo, lena)
    refused = [
        (lena, {"as_described": 4}, ""),  # a borrower is not rated on "as described"
        (lena, {"communication": 6}, ""),
        (bo, {"communication": 3}, ""),  # lenders get no detailed ratings
        (lena, {}, "x" * 501),
        (lena, {}, "bell\x07"),
    ]
    for who, details, comment in refused:
        with pytest.raises(ValidationFailed):
            services.rate_counterparty(
                session, who.id, transaction.id, value="neutral", details=details, comment=comment
            )
    with pytest.raises(ValidationFailed):
        services.rate_counterparty(session, lena.id, transaction.id, value="great")
    rating = services.rate_counterparty(
        session,
        lena.id,
        transaction.id,
        value="positive",
        comment="  <b>Paid</b>\r\non time  ",
        details={"communication": 5, "kept_schedule": 4, "as_described": None},
    )
    assert rating.comment == "<b>Paid</b>\non time"  # kept as typed; pages escape it
    assert rating.details == {"communication": 5, "kept_schedule": 4}


# --- double-blind --------------------------------------------------------------------------


def test_both_ratings_are_revealed_at_once_when_the_other_side_rates(session, pair, frozen_now):
    bo, lena = pair
    transaction = completed(session, bo, lena)
    start = head_size(session)
    first = services.rate_counterparty(
        session, lena.id, transaction.id, value="positive", comment="Always paid on time"
    )
    assert first.status == RatingStatus.SEALED
    assert first.reveal_due_at == frozen_now + timedelta(days=14)
    # Sealed: Bo learns only that Lena rated him; nobody else sees anything.
    (about_bo,) = ratings_read.my_ratings(session, bo.id).received
    assert (about_bo.state, about_bo.value, about_bo.comment) == ("sealed", None, None)
    assert ratings_read.my_ratings(session, bo.id).pending[0].other_has_rated
    assert profile_read.member_profile(session, bo.id).recent == []
    assert ratings_read.my_ratings(session, lena.id).given[0].comment == "Always paid on time"

    clock.advance(timedelta(days=3))
    second = services.rate_counterparty(session, bo.id, transaction.id, value="neutral")

    assert first.status == second.status == RatingStatus.REVEALED
    assert first.revealed_at == second.revealed_at == clock.now()
    assert [r.value for r in profile_read.member_profile(session, bo.id).recent] == ["positive"]
    assert [r.value for r in profile_read.member_profile(session, lena.id).recent] == ["neutral"]
    logged = log_since(session, start)
    assert [t for t, _ in logged] == [
        "rating.submitted",
        "rating.submitted",
        "rating.revealed",
        "rating.revealed",
    ]
    assert "value" not in logged[0][1] and "commitment" in logged[0][1]
    assert [p["rating"] for _, p in logged[2:]] == [first.id, second.id]


def test_a_lone_rating_is_revealed_fourteen_days_after_it_was_given(session, pair, frozen_now):
    bo, lena = pair
    transaction = completed(session, bo, lena)
    rating = services.rate_counterparty(session, lena.id, transaction.id, value="negative")

    clock.set_now(frozen_now + timedelta(days=14) - timedelta(seconds=1))
    assert profile_read.member_profile(session, bo.id).recent == []
    assert ratings_read.pending_ratings(session, bo.id)[0].deadline == frozen_now + timedelta(
        days=14
    )
    assert services.reveal_due_ratings(session) == 0

    clock.set_now(frozen_now + timedelta(days=14))
    # Due: reading shows it at once, even before the job reveals it in the log.
    assert [r.value for r in profile_read.member_profile(session, bo.id).recent] == ["negative"]
    assert rating.status == RatingStatus.SEALED
    # Bo saw it: his own chance to rate is over.
    assert ratings_read.pending_ratings(session, bo.id) == []
    with pytest.raises(InvalidState, match="over"):
        services.rate_counterparty(session, bo.id, transaction.id, value="negative")
    start = head_size(session)
    assert services.reveal_due_ratings(session) == 1
    assert rating.status == RatingStatus.REVEALED
    assert [t for t, _ in log_since(session, start)] == ["rating.revealed"]
    assert services.reveal_due_ratings(session) == 0


def test_a_rating_late_in_the_window_is_revealed_when_the_window_closes(session, pair, frozen_now):
    bo, lena = pair
    transaction = completed(session, bo, lena)
    clock.set_now(frozen_now + timedelta(days=55))
    rating = services.rate_counterparty(session, lena.id, transaction.id, value="positive")
    assert rating.reveal_due_at == transaction.window_closes_at == frozen_now + timedelta(days=60)


# --- revisions -------------------------------------------------------------------------------


def _shown_rating(session, bo, lena, value="negative", **details):
    transaction = completed(session, bo, lena)
    rating = services.rate_counterparty(
        session, lena.id, transaction.id, value=value, details=details
    )
    services.rate_counterparty(session, bo.id, transaction.id, value="positive")
    return rating


def test_revision_only_when_the_rated_person_asks_only_upward_and_once(session, make_user, pair):
    bo, lena = pair
    rating = _shown_rating(session, bo, lena, "negative", communication=2)
    stranger = make_user()
    with pytest.raises(InvalidState, match="asks"):
        revisions.revise_rating(session, lena.id, rating.id, value="positive")
    with pytest.raises(Forbidden):
        revisions.request_revision(session, lena.id, rating.id)
    with pytest.raises(NotFound):
        revisions.request_revision(session, stranger.id, rating.id)

    request = revisions.request_revision(session, bo.id, rating.id, note="The bank was late")
    assert request.status == "open"
    with pytest.raises(Conflict):
        revisions.request_revision(session, bo.id, rating.id, note="again")
    with pytest.raises(Forbidden):
        revisions.revise_rating(session, bo.id, rating.id, value="positive")
    with pytest.raises(ValidationFailed, match="only goes up"):
        revisions.revise_rating(
            session, lena.id, rating.id, value="neutral", details={"communication": 1}
        )
    with pytest.raises(ValidationFailed, match="raises"):
        revisions.revise_rating(session, lena.id, rating.id, value="negative")

    start = head_size(session)
    revisions.revise_rating(
        session, lena.id, rating.id, value="neutral", comment="Sorted out", details={}
    )
    assert (rating.value, rating.value_before_revision, rating.comment) == (0, -1, "Sorted out")
    assert rating.details == {"communication": 2}
    assert request.status == "revised"
    assert log_since(session, start) == [
        (
            "rating.revised",
            {"rating": rating.id, "from": -1, "to": 0, "details": {"communication": 2}},
        )
    ]
    with pytest.raises(Conflict):
        revisions.revise_rating(session, lena.id, rating.id, value="positive")
    with pytest.raises(Conflict):
        revisions.request_revision(session, bo.id, rating.id)


def test_a_perfect_rating_cannot_be_asked_to_go_higher(session, pair):
    bo, lena = pair
    rating = _shown_rating(session, bo, lena, "positive", communication=5, kept_schedule=5)
    with pytest.raises(InvalidState, match="higher"):
        revisions.request_revision(session, bo.id, rating.id)


def test_a_sealed_rating_cannot_be_asked_about(session, pair):
    bo, lena = pair
    transaction = completed(session, bo, lena)
    rating = services.rate_counterparty(session, lena.id, transaction.id, value="negative")
    with pytest.raises(InvalidState, match="sealed"):
        revisions.request_revision(session, bo.id, rating.id)
    assert session.scalar(select(func.count(RevisionRequest.id))) == 0


# --- moderation ------------------------------------------------------------------------------


def test_a_moderator_hides_a_rating_with_a_reason_logged_and_never_deleted(
    session, make_user, pair
):
    bo, lena = pair
    admin = make_user(roles=["admin"], kyc="verified")
    rating = _shown_rating(session, bo, lena, "negative")
    with pytest.raises(Forbidden):
        revisions.hide_rating(session, bo.id, rating.id, reason="abusive", note="I do not like it")
    with pytest.raises(ValidationFailed):
        revisions.hide_rating(session, admin.id, rating.id, reason="boring", note="nope")
    with pytest.raises(ValidationFailed):
        revisions.hide_rating(session, admin.id, rating.id, reason="abusive", note="")

    start = head_size(session)
    revisions.hide_rating(
        session, admin.id, rating.id, reason="personal_data", note="Named his employer"
    )
    assert log_since(session, start) == [
        (
            "rating.hidden",
            {"rating": rating.id, "reason": "personal_data", "by": pseudonym(session, admin.id)},
        )
    ]
    assert session.get(Rating, rating.id).hidden_note == "Named his employer"
    assert profile_read.member_profile(session, bo.id).recent == []
    (seen_by_bo,) = ratings_read.my_ratings(session, bo.id).received
    assert (seen_by_bo.state, seen_by_bo.comment, seen_by_bo.hidden_reason) == (
        "hidden",
        None,
        "personal_data",
    )
    with pytest.raises(Conflict):
        revisions.hide_rating(session, admin.id, rating.id, reason="abusive", note="twice")

    session.delete(rating)
    with pytest.raises(RatingDeleted):
        session.flush()
    session.rollback()
    assert session.get(Rating, rating.id) is not None


@pytest.mark.postgres_only
def test_the_database_refuses_to_delete_a_rating(session, pair):
    bo, lena = pair
    rating = _shown_rating(session, bo, lena)
    with pytest.raises(DBAPIError, match="never deleted"):
        session.execute(delete(Rating).where(Rating.id == rating.id))
    session.rollback()


# --- scores ----------------------------------------------------------------------------------


def test_one_point_per_counterparty_per_week(session, make_user, pair, frozen_now):
    bo, lena = pair  # 2 November 2026 is a Monday
    rate_both(session, bo, lena)
    clock.advance(timedelta(days=6))  # Sunday, same ISO week
    rate_both(session, bo, lena)
    profile = profile_read.member_profile(session, bo.id)
    assert (profile.feedback_score, profile.positives) == (1, 2)
    clock.advance(timedelta(days=1))  # the next Monday
    rate_both(session, bo, lena)
    assert profile_read.member_profile(session, bo.id).feedback_score == 2
    lars = make_user(roles=["lender"])
    rate_both(session, bo, lars, "negative")
    profile = profile_read.member_profile(session, bo.id)
    assert (profile.feedback_score, profile.positives, profile.negatives) == (1, 3, 1)
    assert profile.percent_positive == 3 / 4


def test_effective_percent_positive_counts_transactions_nobody_rated(session, pair):
    bo, lena = pair
    rate_both(session, bo, lena)
    completed(session, bo, lena)  # rated by nobody
    profile = profile_read.member_profile(session, bo.id)
    assert (profile.percent_positive, profile.effective_percent_positive) == (1.0, 0.5)


def test_the_job_publishes_snapshots_logs_grade_changes_and_the_log_replays_them(
    session, make_user, pair, frozen_now
):
    bo, lena = pair
    rate_both(session, bo, lena)
    start = head_size(session)
    counts = refresh.recompute_trust(session)
    assert counts == {
        "trust.ratings_revealed": 0,
        "trust.members_scored": 2,
        "trust.snapshots_written": 2,
        "trust.grades_changed": 2,
    }
    types = [t for t, _ in log_since(session, start)]
    assert types[0] == "score.run"
    assert types.count("score.published") == 2 and types.count("grade.changed") == 2
    snapshot = queries.latest_snapshot(session, bo.id)
    assert (snapshot.grade, snapshot.feedback_score, snapshot.percent_positive_bps) == (
        "D",
        1,
        10_000,
    )
    assert "no repayment history yet" in snapshot.reasons
    leaf = json.loads(bytes(get_entry(session, snapshot.log_sequence).data))
    assert leaf["type"] == "score.published" and leaf["subject"] == pseudonym(session, bo.id)
    assert leaf["payload"]["scores"]["grade"] == "D"
    assert leaf["payload"]["as_of"] == "2026-11-02T09:00:00.000000Z"

    # Nothing shown changed: no new snapshot, nothing published.
    clock.advance(timedelta(hours=1))
    assert refresh.recompute_trust(session)["trust.snapshots_written"] == 0

    result = replay_log(session)
    assert result.differences == []
    assert result.checked == 2 * 8  # every published value recomputed from the log alone
    assert result.not_checked == 0


def test_the_job_reveals_due_ratings_before_scoring(session, pair, frozen_now):
    bo, lena = pair
    transaction = completed(session, bo, lena)
    services.rate_counterparty(session, lena.id, transaction.id, value="positive")
    counts = refresh.recompute_trust(session, frozen_now + timedelta(days=14))
    assert counts["trust.ratings_revealed"] == 1
    snapshot = queries.latest_snapshot(session, bo.id)
    assert snapshot.feedback_score == 1
    assert snapshot.as_of == frozen_now + timedelta(days=14)
    assert replay_log(session).differences == []


def test_repayment_facts_are_kept_once_and_lift_the_grade_cap(session, pair, frozen_now):
    bo, _lena = pair
    for month in range(1, 13):
        when = frozen_now + timedelta(days=30 * month)
        for _ in range(2):  # a retry of the same fact
            services.record_repayment_event(
                session,
                user_id=bo.id,
                kind="on_time",
                occurred_at=when,
                loan_id=7,
                instalment_number=month,
                event_key=f"loan:7:instalment:{month}:on_time",
            )
    session.commit()
    assert session.scalar(select(func.count(RepaymentRecord.id))) == 12
    assert services.current_grade(session, bo.id).grade == "D"  # nothing happened yet

    clock.set_now(frozen_now + timedelta(days=361))
    refresh.recompute_trust(session)
    grade = services.published_grade(session, bo.id)
    assert grade.grade == "C"
    assert "12 instalments repaid on time" in " ".join(grade.reasons)
    assert services.current_grade(session, bo.id) == grade
    assert replay_log(session).differences == []


def test_a_sybil_ring_of_fresh_accounts_stays_below_a_verified_member(
    session, make_user, frozen_now
):
    """20 unverified accounts rate each other positively in a ring; Vera (verified) has 5
    honest positive ratings from verified members. Network trust ranks Vera above all."""
    ring = [make_user(roles=["lender", "borrower"]) for _ in range(20)]
    for n, member in enumerate(ring):
        rate_both(session, member, ring[(n + 1) % 20])
    vera = make_user(roles=["borrower"], kyc="verified", name="Vera")
    for _ in range(5):
        rate_both(session, vera, make_user(roles=["lender"], kyc="verified"))
    refresh.recompute_trust(session)
    snapshots = queries.latest_snapshots(session, [vera.id, *(m.id for m in ring)])
    assert all(
        snapshots[m.id].trust_percentile_bps < snapshots[vera.id].trust_percentile_bps for m in ring
    )
    assert replay_log(session).differences == []


def test_lending_lists_with_the_published_grade_once_there_is_one(session, pair):
    from p2pbank.lending import eligibility

    bo, _lena = pair
    interim = eligibility.grade_borrower(session, bo.id, clock.now())
    assert interim.version.startswith("lending-interim-")
    refresh.recompute_trust(session)  # Bo has no activity: nothing is published for him
    assert services.published_grade(session, bo.id) is None
    rate_both(session, bo, _lena)
    refresh.recompute_trust(session)
    graded = eligibility.grade_borrower(session, bo.id, clock.now())
    assert graded.version == services.published_grade(session, bo.id).version
    assert graded.grade == "D"
    assert session.scalar(select(func.count(ScoreSnapshot.id))) == 2
    assert session.scalar(select(func.count(RatedTransaction.id))) == 1


@contextmanager
def another_sequencer_running(session):
    """Hold the sequencer's single-writer lock as a second sequencer would."""
    if session.get_bind().dialect.name != "postgresql":
        with sequencer._PROCESS_LOCK:
            yield
        return
    with session.get_bind().engine.connect() as other:
        other.execute(text("SELECT pg_advisory_lock(:k)"), {"k": sequencer.ADVISORY_KEY})
        try:
            yield
        finally:
            other.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": sequencer.ADVISORY_KEY})
            other.commit()


def test_a_repayment_fact_counts_once_the_log_holds_it(session, pair, frozen_now):
    """Repayment facts reach the log through its queue. A run that cannot integrate them
    (another sequencer holds the lock) scores without them, and the log still replays to
    exactly the published scores; the next run integrates and counts them."""
    bo, _lena = pair
    for month in range(1, 13):
        services.record_repayment_event(
            session,
            user_id=bo.id,
            kind="on_time",
            occurred_at=frozen_now + timedelta(days=30 * month),
            loan_id=7,
            instalment_number=month,
            event_key=f"loan:7:instalment:{month}:on_time",
        )
    session.commit()
    clock.set_now(frozen_now + timedelta(days=361))
    with another_sequencer_running(session):
        refresh.recompute_trust(session)
    assert session.scalar(select(func.count(QueuedLeaf.id))) == 12
    assert (
        session.scalar(select(func.count(LogLeaf.sequence)).where(LogLeaf.queue_id.is_not(None)))
        == 0
    )
    first = services.published_grade(session, bo.id)
    assert first is None or "12 instalments repaid on time" not in " ".join(first.reasons)
    assert replay_log(session).differences == []

    clock.set_now(frozen_now + timedelta(days=362))
    refresh.recompute_trust(session)
    grade = services.published_grade(session, bo.id)
    assert grade.grade == "C"
    assert "12 instalments repaid on time" in " ".join(grade.reasons)
    assert replay_log(session).differences == []

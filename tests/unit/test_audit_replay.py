"""Recomputing scores from the log's events (p2pbank.audit.replay)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from p2pbank import reputation as scores
from p2pbank.audit import replay as replay_module
from p2pbank.audit.replay import SCORE_PUBLISHED, LogEvent, member_scores, replay

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
ANN, BOB = "a" * 32, "b" * 32


def event(index, event_type, subject=None, **payload):
    return LogEvent(index, event_type, T0 + timedelta(minutes=index), subject, payload)


def published(index, subject, version=scores.SCORE_VERSION, **values):
    return event(index, SCORE_PUBLISHED, subject, score_version=version, scores=values)


def test_a_log_without_score_events_replays_with_no_difference():
    result = replay([event(0, "ledger.entry", entry_id=1, kind="deposit", hash="00")])
    assert result.differences == [] and result.checked == 0
    assert result.events_by_type == {"ledger.entry": 1}
    assert result.state.members == {}
    assert result.version == scores.SCORE_VERSION


def test_kyc_and_role_events_fold_into_members():
    result = replay(
        [
            event(0, "role.granted", ANN, role="lender", granted_by=None),
            event(1, "kyc.verified", ANN, **{"from": "pending"}),
            event(2, "role.granted", BOB, role="borrower", granted_by=None),
        ]
    )
    ann = result.state.members[ANN]
    assert ann.kyc_verified_at == T0 + timedelta(minutes=1) and ann.roles == {"lender"}
    assert ann.events == 2
    assert result.state.pretrusted == {ANN}


def test_a_true_published_score_is_recomputed_and_agrees():
    result = replay(
        [
            event(0, "kyc.verified", ANN),
            published(1, ANN, kyc_verified=True, feedback_score=0, star_tier="none"),
        ]
    )
    assert result.checked == 3 and result.differences == []


def test_a_false_published_score_is_a_difference_named_by_its_entry():
    result = replay([published(0, BOB, kyc_verified=True), event(1, "kyc.verified", BOB)])
    (difference,) = result.differences
    assert (difference.index, difference.subject, difference.score) == (0, BOB, "kyc_verified")
    assert (difference.published, difference.recomputed) == (True, False)
    assert "published as True, recomputed False" in str(difference)


def test_scores_are_checked_as_of_their_own_entry():
    # Published before any repayment history: 0.5 expectation is 5000 basis points.
    result = replay([published(0, ANN, repayment_expectation_bps=5000)])
    assert result.checked == 1 and result.differences == []


def test_unknown_scores_and_other_versions_are_counted_not_guessed():
    result = replay(
        [
            published(0, ANN, some_future_score=7),
            published(1, ANN, version="1999-01.1", kyc_verified=True, feedback_score=3),
        ]
    )
    assert result.differences == []
    assert (result.checked, result.not_checked) == (0, 3)


def test_a_malformed_publication_is_a_difference():
    result = replay([event(0, SCORE_PUBLISHED, ANN, score_version=scores.SCORE_VERSION)])
    assert result.differences[0].score == SCORE_PUBLISHED


@pytest.fixture
def rating_fold():
    """Register a fold the way the trust domain will for its rating events."""

    @replay_module.fold("test.rating")
    def _rating(state, ev):
        rating = scores.Rating(ev.payload["rater"], ev.subject, ev.payload["value"], ev.time)
        state.ratings.append(rating)
        state.member(ev.subject).ratings_received.append(rating)

    yield
    del replay_module.FOLDS["test.rating"]


def test_a_registered_fold_feeds_the_recomputed_feedback_score(rating_fold):
    events = [
        event(0, "test.rating", ANN, rater=BOB, value=1),
        event(1, "test.rating", ANN, rater="c" * 32, value=1),
        published(2, ANN, feedback_score=2),
        published(3, ANN, feedback_score=5),
    ]
    result = replay(events)
    assert result.checked == 2
    (difference,) = result.differences
    assert (difference.index, difference.published, difference.recomputed) == (3, 5, 2)
    assert member_scores(result.state, ANN)["feedback_score"] == 2

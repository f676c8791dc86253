"""Trust events in the log replay (p2pbank.audit.replay): ratings opened against their
commitments, revisions only upward, hidden ratings leaving the scores, repayment facts,
scores checked as of their stated moment, and network trust that does not depend on the
order the platform happened to read its rows in."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from p2pbank import reputation as scores
from p2pbank.audit.replay import (
    SCORE_PUBLISHED,
    LogEvent,
    member_reputation,
    network_trust,
    rating_commitment,
    replay,
)

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
BO, LENA, LARS = "b" * 32, "1" * 32, "2" * 32


def at(minutes: float) -> str:
    return (T0 + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Log:
    def __init__(self) -> None:
        self.events: list[LogEvent] = []

    def add(self, event_type: str, subject: str | None, **payload) -> int:
        index = len(self.events)
        self.events.append(
            LogEvent(index, event_type, T0 + timedelta(minutes=index), subject, payload)
        )
        return index

    def rating(self, rating_id: int, rater: str, ratee: str, value: int, salt="00ff", opened=None):
        details = {"communication": 4}
        self.add(
            "rating.submitted",
            ratee,
            rating=rating_id,
            rater=rater,
            transaction=1,
            commitment=rating_commitment(rating_id, value, details, salt),
        )
        self.add(
            "rating.revealed",
            ratee,
            rating=rating_id,
            rater=rater,
            transaction=1,
            value=value if opened is None else opened,
            details=details,
            salt=salt,
            submitted=at(len(self.events)),
        )

    def published(self, subject: str, as_of: str | None = None, **values) -> int:
        payload = {"score_version": scores.SCORE_VERSION, "scores": values}
        if as_of is not None:
            payload["as_of"] = as_of
        return self.add(SCORE_PUBLISHED, subject, **payload)


def test_revealed_ratings_count_and_open_their_commitments():
    log = Log()
    log.add(
        "trust.transaction_completed",
        BO,
        counterparty=LENA,
        ref_type="loan",
        ref=1,
        transaction=1,
        completed=at(0),
    )
    log.rating(1, LENA, BO, 1)
    log.published(
        BO, feedback_score=1, percent_positive_bps=10_000, effective_percent_positive_bps=10_000
    )
    result = replay(log.events)
    assert result.differences == [] and result.checked == 3
    assert result.state.member(BO).completed == [T0] == result.state.member(LENA).completed


def test_a_revealed_value_that_does_not_open_the_commitment_is_a_difference():
    log = Log()
    log.rating(1, LENA, BO, -1, opened=1)  # sealed as negative, shown as positive
    (difference,) = replay(log.events).differences
    assert (difference.index, difference.score) == (1, "rating.commitment")


def test_a_revision_goes_up_only_and_a_hidden_rating_stops_counting():
    log = Log()
    log.rating(1, LENA, BO, -1)
    log.rating(2, LARS, BO, 1)
    log.add("rating.revised", BO, rating=1, **{"from": -1, "to": 0}, details={})
    log.published(BO, feedback_score=1)
    log.add("rating.revised", BO, rating=2, **{"from": 1, "to": -1}, details={})  # down
    log.add("rating.hidden", BO, rating=2, reason="abusive", by=LENA)
    log.published(BO, feedback_score=0)
    log.add("rating.hidden", BO, rating=2, reason="abusive", by=LENA)  # hidden twice
    result = replay(log.events)
    assert result.checked == 2
    assert [(d.index, d.score) for d in result.differences] == [
        (6, "rating.revised"),
        (9, "rating.hidden"),
    ]
    assert result.state.member(BO).ratings_received == [
        scores.Rating(LENA, BO, 0, T0 + timedelta(minutes=1))
    ]


def test_repayment_facts_feed_the_repayment_score_in_one_order():
    log = Log()
    for n, kind in enumerate(("instalment.paid_on_time", "instalment.paid_late")):
        log.add(kind, BO, kind="x", days_late=20 * n, occurred=at(-n), loan=1, instalment=n)
    state = replay(log.events).state
    assert [e.kind for e in state.member(BO).repayments] == ["late", "on_time"]  # by time
    log.add("loan.defaulted", BO, kind="default", days_late="many", occurred=at(0), loan=1)
    assert replay(log.events).differences[0].score == "loan.defaulted"


def test_scores_are_checked_as_of_the_moment_they_were_computed_for():
    log = Log()
    log.add(
        "instalment.paid_on_time",
        BO,
        kind="on_time",
        days_late=0,
        occurred=at(0),
        loan=1,
        instalment=1,
    )
    later = T0 + timedelta(days=365)
    expected = round(
        scores.repayment_reputation([scores.RepaymentEvent("on_time", 0, T0)], later).expectation
        * 10_000
    )
    log.published(
        BO, as_of=later.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), repayment_expectation_bps=expected
    )
    assert replay(log.events).differences == []
    log.published(BO, repayment_expectation_bps=expected)  # no as_of: checked at its own time
    assert len(replay(log.events).differences) == 1


def test_network_trust_does_not_depend_on_the_order_rows_were_read():
    rng = random.Random(7)
    people = [f"{n:032x}" for n in range(40)]
    by_id = {
        n: scores.Rating(rng.choice(people), rng.choice(people), rng.choice((1, 1, 0, -1)), T0)
        for n in range(300)
    }
    verified = people[:5]
    reference = network_trust(by_id, verified)
    shuffled = list(by_id.items())
    rng.shuffle(shuffled)
    again = network_trust(dict(shuffled), list(reversed(verified)))
    assert again[0].trust == reference[0].trust  # bit for bit, not approximately
    assert again[1] == reference[1]


def test_the_grade_recomputed_from_the_log_is_the_one_the_rules_give():
    log = Log()
    log.add("kyc.verified", BO)
    log.rating(1, LENA, BO, 1)
    state = replay(log.events).state
    state.now = T0 + timedelta(days=1)
    reputation = member_reputation(state, BO)
    assert reputation.grade.grade == "D"
    assert reputation.grade.reasons[0] == "no repayment history yet"
    assert reputation.published()["grade_points_bps"] == round(reputation.grade.points * 100)

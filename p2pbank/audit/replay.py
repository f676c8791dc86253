"""Recompute members' scores from the trust log's events, as an outside auditor would.

No database, no framework: the verifier feeds the log's events in sequence order and gets
per-pseudonym facts, recomputed scores (p2pbank.reputation, SCORE_VERSION) and every
difference from a score the platform published in the log.

Extending it is two registries, keyed by event type:

- FOLDS: events that are inputs to scores. A fold adds the event to the state, e.g.
  `kyc.verified` marks the subject as a pre-trusted peer for EigenTrust. A domain that
  logs ratings or repayment outcomes registers a fold turning its payload into
  `scores.Rating` / `scores.RepaymentEvent` on `state.member(pseudonym)` (and `state.ratings`
  for the network graph):

      @fold("rating.revealed")
      def _rating(state, event):
          rating = scores.Rating(event.payload["rater"], event.subject, event.payload["value"],
                                 event.time)
          state.ratings.append(rating)
          state.member(event.subject).ratings_received.append(rating)

- RECOMPUTE: scores that can be recomputed for one member at one moment, by name. A
  `score.published` event (subject = the member, payload
  `{"score_version": SCORE_VERSION, "scores": {name: value, ...}}`) is checked name by
  name against them: a value that differs is a Difference; a name nobody can recompute,
  or a different score version, is counted as not checked rather than guessed at.

With no score-bearing events in the log the replay still runs and reports no difference.
Values are integers or strings (the log refuses floats): shares are in basis points.

The state and registries are in p2pbank.audit.replay_state, the trust domain's folds in
replay_trust and the reputation composition in replay_reputation, re-exported here.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping

from p2pbank import reputation as scores
from p2pbank.audit.replay_reputation import (
    Reputation,
    bps,
    member_reputation,
    network_percentiles,
    network_trust,
    repayment_order,
    reputation,
)
from p2pbank.audit.replay_state import (
    FOLDS,
    RECOMPUTE,
    SCORE_PUBLISHED,
    Difference,
    Fold,
    LogEvent,
    MemberFacts,
    Recompute,
    ReplayResult,
    ReplayState,
    fold,
    recompute,
)
from p2pbank.audit.replay_trust import (  # importing it registers the trust folds
    LOG_TYPE_OF_REPAYMENT,
    REPAYMENT_EVENTS,
    parse_time,
    rating_commitment,
)

__all__ = [
    "FOLDS",
    "LOG_TYPE_OF_REPAYMENT",
    "RECOMPUTE",
    "REPAYMENT_EVENTS",
    "SCORE_PUBLISHED",
    "Difference",
    "Fold",
    "LogEvent",
    "MemberFacts",
    "Recompute",
    "ReplayResult",
    "ReplayState",
    "Reputation",
    "bps",
    "fold",
    "member_reputation",
    "member_scores",
    "network_percentiles",
    "network_trust",
    "parse_time",
    "rating_commitment",
    "recompute",
    "repayment_order",
    "replay",
    "reputation",
]


# --- the events the audit layer itself defines --------------------------------------------


@fold("kyc.verified")
def _kyc_verified(state: ReplayState, event: LogEvent) -> None:
    if event.subject:
        state.member(event.subject).kyc_verified_at = event.time
        state.graph_version += 1


@fold("role.granted")
def _role_granted(state: ReplayState, event: LogEvent) -> None:
    role = event.payload.get("role")
    if event.subject and isinstance(role, str):
        state.member(event.subject).roles.add(role)


# --- scores recomputable from folded facts ------------------------------------------------


@recompute("kyc_verified")
def _kyc(state: ReplayState, pseudonym: str) -> object:
    return state.member(pseudonym).kyc_verified_at is not None


@recompute("feedback_score")
def _feedback_score(state: ReplayState, pseudonym: str) -> object:
    return scores.feedback_score(state.member(pseudonym).ratings_received, pseudonym).score


@recompute("star_tier")
def _star_tier(state: ReplayState, pseudonym: str) -> object:
    return scores.feedback_score(state.member(pseudonym).ratings_received, pseudonym).tier


@recompute("repayment_expectation_bps")
def _repayment(state: ReplayState, pseudonym: str) -> object:
    assert state.now is not None
    reputation = scores.repayment_reputation(state.member(pseudonym).repayments, state.now)
    return round(reputation.expectation * 10_000)


def _published_value(name: str) -> Recompute:
    def _value(state: ReplayState, pseudonym: str) -> object:
        return member_reputation(state, pseudonym).published()[name]

    return _value


for _name in (
    "percent_positive_bps",
    "effective_percent_positive_bps",
    "trust_percentile_bps",
    "grade",
    "grade_points_bps",
):
    recompute(_name)(_published_value(_name))


def member_scores(state: ReplayState, pseudonym: str) -> dict[str, object]:
    """Every recomputable score of one member at the end of the replay."""
    return {name: function(state, pseudonym) for name, function in sorted(RECOMPUTE.items())}


# --- the replay ---------------------------------------------------------------------------


def replay(events: Iterable[LogEvent]) -> ReplayResult:
    """Fold the events in order and check every published score as of its own entry."""
    state = ReplayState()
    result = ReplayResult(state=state, differences=[], events_by_type=Counter())
    for event in events:
        state.now = event.time
        result.events_by_type[event.type] += 1
        if event.subject:
            state.member(event.subject).events += 1
        handler = FOLDS.get(event.type)
        if handler is not None:
            handler(state, event)
            result.differences.extend(state.mismatches)
            state.mismatches.clear()
        if event.type == SCORE_PUBLISHED:
            _check_published(state, event, result)
    return result


def _check_published(state: ReplayState, event: LogEvent, result: ReplayResult) -> None:
    published = event.payload.get("scores")
    if not event.subject or not isinstance(published, Mapping):
        result.differences.append(
            Difference(event.index, event.subject, "score.published", "malformed", "")
        )
        return
    if event.payload.get("score_version") != scores.SCORE_VERSION:
        result.not_checked += len(published)
        return
    as_of = parse_time(event.payload.get("as_of"))
    if as_of is not None:
        state.now = as_of  # scores computed for a stated moment are checked at it
    for name, value in sorted(published.items()):
        function = RECOMPUTE.get(name)
        if function is None:
            result.not_checked += 1
            continue
        result.checked += 1
        again = function(state, event.subject)
        if again != value:
            result.differences.append(Difference(event.index, event.subject, name, value, again))

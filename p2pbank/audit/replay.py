"""Recompute members' scores from the trust log's events, as an outside auditor would.

No database, no framework: the verifier feeds the log's events in sequence order and gets
per-pseudonym facts, recomputed scores (p2pbank.trust.scores, SCORE_VERSION) and every
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
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from p2pbank.trust import scores

SCORE_PUBLISHED = "score.published"


@dataclass(frozen=True, slots=True)
class LogEvent:
    index: int
    type: str
    time: datetime
    subject: str | None
    payload: Mapping


@dataclass
class MemberFacts:
    pseudonym: str
    events: int = 0
    kyc_verified_at: datetime | None = None
    roles: set[str] = field(default_factory=set)
    ratings_received: list[scores.Rating] = field(default_factory=list)
    repayments: list[scores.RepaymentEvent] = field(default_factory=list)
    completed: list[datetime] = field(default_factory=list)


@dataclass
class ReplayState:
    members: dict[str, MemberFacts] = field(default_factory=dict)
    ratings: list[scores.Rating] = field(default_factory=list)
    now: datetime | None = None  # the time of the event being replayed

    def member(self, pseudonym: str) -> MemberFacts:
        if pseudonym not in self.members:
            self.members[pseudonym] = MemberFacts(pseudonym)
        return self.members[pseudonym]

    @property
    def pretrusted(self) -> set[str]:
        return {p for p, facts in self.members.items() if facts.kyc_verified_at is not None}


@dataclass(frozen=True, slots=True)
class Difference:
    index: int
    subject: str | None
    score: str
    published: object
    recomputed: object

    def __str__(self) -> str:
        return (
            f"entry {self.index}: {self.score} of {self.subject} published as "
            f"{self.published!r}, recomputed {self.recomputed!r}"
        )


@dataclass
class ReplayResult:
    state: ReplayState
    differences: list[Difference]
    events_by_type: Counter
    checked: int = 0  # published scores recomputed and compared
    not_checked: int = 0  # published scores this verifier cannot recompute
    version: str = scores.SCORE_VERSION


Fold = Callable[[ReplayState, LogEvent], None]
Recompute = Callable[[ReplayState, str], object]

FOLDS: dict[str, Fold] = {}
RECOMPUTE: dict[str, Recompute] = {}


def fold(event_type: str) -> Callable[[Fold], Fold]:
    def register(function: Fold) -> Fold:
        FOLDS[event_type] = function
        return function

    return register


def recompute(name: str) -> Callable[[Recompute], Recompute]:
    def register(function: Recompute) -> Recompute:
        RECOMPUTE[name] = function
        return function

    return register


# --- the events the audit layer itself defines --------------------------------------------


@fold("kyc.verified")
def _kyc_verified(state: ReplayState, event: LogEvent) -> None:
    if event.subject:
        state.member(event.subject).kyc_verified_at = event.time


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
    for name, value in sorted(published.items()):
        function = RECOMPUTE.get(name)
        if function is None:
            result.not_checked += 1
            continue
        result.checked += 1
        again = function(state, event.subject)
        if again != value:
            result.differences.append(Difference(event.index, event.subject, name, value, again))

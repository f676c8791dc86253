"""What the replay folds the log's events into: per-pseudonym facts, the rating graph, the
differences found, and the two registries (FOLDS, RECOMPUTE) that extend it by event type.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from p2pbank import reputation as scores
from p2pbank.audit.replay_reputation import Reputation, network_percentiles

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
    # Trust events (see "trust events" below): shown ratings by id, sealed commitments,
    # problems found while folding, and the network trust cached per state of the graph.
    ratings_by_id: dict[int, scores.Rating] = field(default_factory=dict)
    commitments: dict[int, str] = field(default_factory=dict)
    mismatches: list[Difference] = field(default_factory=list)
    graph_version: int = 0
    _percentiles: tuple[int, dict[str, float]] | None = None
    _reputation: tuple[tuple, Reputation] | None = None  # the last member recomputed

    def member(self, pseudonym: str) -> MemberFacts:
        if pseudonym not in self.members:
            self.members[pseudonym] = MemberFacts(pseudonym)
        return self.members[pseudonym]

    @property
    def pretrusted(self) -> set[str]:
        return {p for p, facts in self.members.items() if facts.kyc_verified_at is not None}

    def trust_percentiles(self) -> dict[str, float]:
        """EigenTrust percentiles of the current graph, computed once per graph state."""
        if self._percentiles is None or self._percentiles[0] != self.graph_version:
            self._percentiles = (self.graph_version, network_percentiles(self))
        return self._percentiles[1]


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

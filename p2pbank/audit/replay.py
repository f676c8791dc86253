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
"""

from __future__ import annotations

import hashlib
from bisect import insort
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from p2pbank import reputation as scores

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


# --- trust events (p2pbank.trust) ---------------------------------------------------------
#
# The trust domain logs, each with the member concerned as subject:
#   trust.transaction_completed  (principal) {"counterparty", "ref_type", "ref", "transaction",
#                                "completed"}: each party may now rate the other once
#   rating.submitted  (ratee) {"rating", "rater", "transaction", "commitment"}: sealed; the
#                     commitment is rating_commitment() of its value, details and salt
#   rating.revealed   (ratee) {"rating", "rater", "transaction", "value", "details", "salt",
#                     "submitted"}: must open the commitment; from now on the rating counts
#   rating.revised    (ratee) {"rating", "from", "to", "details"}: only ever upward
#   rating.hidden     (ratee) {"rating", "reason", "by"}: a moderator hid it; it stops counting
#   instalment.paid_on_time | instalment.paid_late | loan.cured | loan.defaulted |
#   loan.recovered    (borrower) {"kind", "days_late", "occurred", "loan", "instalment"}
#   grade.changed     (member) {"from", "to", "score_version", "reasons"}
#   score.published   (member) also carries "as_of": the moment its scores are computed for.
# A rating counts with its submission time (`submitted`), as scores.Rating.time.

REPAYMENT_EVENTS: dict[str, scores.EventKind] = {
    "instalment.paid_on_time": scores.EventKind.ON_TIME,
    "instalment.paid_late": scores.EventKind.LATE,
    "loan.cured": scores.EventKind.CURED,
    "loan.defaulted": scores.EventKind.DEFAULT,
    "loan.recovered": scores.EventKind.RECOVERED,
}
LOG_TYPE_OF_REPAYMENT = {kind: log_type for log_type, kind in REPAYMENT_EVENTS.items()}


def repayment_order(event: scores.RepaymentEvent) -> tuple:
    """The one order repayment evidence is summed in, here and on the platform."""
    return (event.time, str(event.kind), event.days_late)


def rating_commitment(rating_id: int, value: int, details: Mapping[str, int], salt: str) -> str:
    """SHA-256 hex over a sealed rating: published when it is submitted, opened at reveal,
    so nobody (the platform included) can change a sealed rating unseen."""
    stars = ",".join(f"{name}={details[name]}" for name in sorted(details))
    return hashlib.sha256(f"{rating_id}|{value}|{stars}|{salt}".encode()).hexdigest()


def parse_time(value: object) -> datetime | None:
    """An RFC 3339 time from a payload, or None if it is not one (with a zone)."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def _is_int(value: object) -> bool:
    return type(value) is int


def _malformed(state: ReplayState, event: LogEvent, what: str = "malformed") -> None:
    state.mismatches.append(Difference(event.index, event.subject, event.type, what, ""))


def _show(state: ReplayState, rating_id: int, rating: scores.Rating) -> None:
    state.ratings_by_id[rating_id] = rating
    state.ratings.append(rating)
    state.member(str(rating.ratee_id)).ratings_received.append(rating)
    state.graph_version += 1


def _unshow(state: ReplayState, rating_id: int) -> scores.Rating | None:
    rating = state.ratings_by_id.pop(rating_id, None)
    if rating is not None:
        state.ratings.remove(rating)
        state.member(str(rating.ratee_id)).ratings_received.remove(rating)
        state.graph_version += 1
    return rating


@fold("trust.transaction_completed")
def _transaction_completed(state: ReplayState, event: LogEvent) -> None:
    completed = parse_time(event.payload.get("completed"))
    other = event.payload.get("counterparty")
    if not event.subject or completed is None or not isinstance(other, str):
        _malformed(state, event)
        return
    for party in (event.subject, other):
        state.member(party).completed.append(completed)


@fold("rating.submitted")
def _rating_submitted(state: ReplayState, event: LogEvent) -> None:
    rating_id, commitment = event.payload.get("rating"), event.payload.get("commitment")
    if not _is_int(rating_id) or not isinstance(commitment, str):
        _malformed(state, event)
        return
    state.commitments[rating_id] = commitment


def _details(value: object) -> dict[str, int] | None:
    if not isinstance(value, Mapping):
        return None
    if not all(isinstance(k, str) and _is_int(v) and 1 <= v <= 5 for k, v in value.items()):
        return None
    return dict(value)


@fold("rating.revealed")
def _rating_revealed(state: ReplayState, event: LogEvent) -> None:
    p = event.payload
    rating_id, rater, value = p.get("rating"), p.get("rater"), p.get("value")
    submitted, details, salt = (
        parse_time(p.get("submitted")),
        _details(p.get("details")),
        p.get("salt"),
    )
    if (
        not event.subject
        or not _is_int(rating_id)
        or not isinstance(rater, str)
        or value not in (-1, 0, 1)
        or not _is_int(value)
        or submitted is None
        or details is None
        or not isinstance(salt, str)
    ):
        _malformed(state, event)
        return
    committed = state.commitments.pop(rating_id, None)
    opened = rating_commitment(rating_id, value, details, salt)
    if committed != opened:
        state.mismatches.append(
            Difference(event.index, event.subject, "rating.commitment", committed, opened)
        )
    if rating_id in state.ratings_by_id:
        _malformed(state, event, "revealed twice")
        return
    _show(state, rating_id, scores.Rating(rater, event.subject, value, submitted))


@fold("rating.revised")
def _rating_revised(state: ReplayState, event: LogEvent) -> None:
    rating_id, before, after = (event.payload.get(k) for k in ("rating", "from", "to"))
    old = state.ratings_by_id.get(rating_id) if _is_int(rating_id) else None
    if old is None or not _is_int(after) or after not in (-1, 0, 1):
        _malformed(state, event, "revises no shown rating")
        return
    if before != old.value or after < old.value:
        state.mismatches.append(
            Difference(event.index, event.subject, "rating.revised", before, old.value)
        )
    _unshow(state, rating_id)
    _show(state, rating_id, scores.Rating(old.rater_id, old.ratee_id, after, old.time))


@fold("rating.hidden")
def _rating_hidden(state: ReplayState, event: LogEvent) -> None:
    rating_id = event.payload.get("rating")
    if not _is_int(rating_id) or _unshow(state, rating_id) is None:
        _malformed(state, event, "hides no shown rating")


def _repayment_fold(kind: scores.EventKind) -> Fold:
    def _fold(state: ReplayState, event: LogEvent) -> None:
        occurred, days = parse_time(event.payload.get("occurred")), event.payload.get("days_late")
        if not event.subject or occurred is None or not _is_int(days) or days < 0:
            _malformed(state, event)
            return
        repayment = scores.RepaymentEvent(kind, days, occurred)
        insort(state.member(event.subject).repayments, repayment, key=repayment_order)

    return _fold


for _log_type, _kind in REPAYMENT_EVENTS.items():
    fold(_log_type)(_repayment_fold(_kind))


# --- reputation: the one composition both the platform and the verifier compute -----------


@dataclass(frozen=True, slots=True)
class Reputation:
    """Everything shown about one member at one moment, from the same inputs both ways."""

    feedback: scores.FeedbackScore
    percent: scores.PercentPositive
    repayment: scores.RepaymentReputation
    trust_percentile: float
    history_months: float
    grade: scores.RiskGrade

    def published(self) -> dict[str, object]:
        """The values a `score.published` entry carries (integers and strings only)."""
        return {
            "feedback_score": self.feedback.score,
            "star_tier": self.feedback.tier,
            "percent_positive_bps": bps(self.percent.positive),
            "effective_percent_positive_bps": bps(self.percent.effective),
            "repayment_expectation_bps": bps(self.repayment.expectation),
            "trust_percentile_bps": bps(self.trust_percentile),
            "grade": self.grade.grade,
            "grade_points_bps": round(self.grade.points * 100),
        }


def bps(share: float | None) -> int | None:
    return None if share is None else round(share * 10_000)


def reputation(
    pseudonym: str,
    ratings_received: Iterable[scores.Rating],
    completed: Iterable[datetime],
    repayments: Iterable[scores.RepaymentEvent],
    trust_percentile: float,
    now: datetime,
) -> Reputation:
    """One member's scores at `now`: feedback, 12-month percentages, repayment, grade.

    History starts at the member's first completed transaction or repayment fact.
    """
    received = list(ratings_received)
    done = [moment for moment in completed if moment <= now]
    evidence = sorted(repayments, key=repayment_order)
    feedback = scores.feedback_score(received, pseudonym)
    percent = scores.percent_positive(received, pseudonym, done, now)
    repayment = scores.repayment_reputation(evidence, now)
    starts = [*done, *(e.time for e in evidence if e.time <= now)]
    months = scores.history_months(min(starts) if starts else None, now)
    grade = scores.risk_grade(repayment, trust_percentile, percent, months)
    return Reputation(feedback, percent, repayment, trust_percentile, months, grade)


def network_trust(
    ratings_by_id: Mapping[int, scores.Rating], pretrusted: Iterable[str]
) -> tuple[scores.EigenTrust, dict[str, float]]:
    """EigenTrust over the shown ratings (by rating id) with the verified as pre-trusted,
    members in pseudonym order, and each member's percentile among them, compared at the
    published precision (parts per billion): the same numbers both ways."""
    ordered = [ratings_by_id[key] for key in sorted(ratings_by_id)]
    seeds = sorted(set(pretrusted))
    members = sorted(
        {*seeds, *(str(r.rater_id) for r in ordered), *(str(r.ratee_id) for r in ordered)}
    )
    result = scores.eigentrust(ordered, seeds, members=members)
    return result, scores.trust_percentiles(result.trust_ppb)


def network_percentiles(state: ReplayState) -> dict[str, float]:
    return network_trust(state.ratings_by_id, state.pretrusted)[1]


def member_reputation(state: ReplayState, pseudonym: str) -> Reputation:
    """The member's reputation at state.now (kept until anything it depends on changes,
    so checking several published values of one entry computes it once)."""
    assert state.now is not None
    facts = state.member(pseudonym)
    key = (
        pseudonym,
        state.now,
        state.graph_version,
        facts.events,
        len(facts.completed),
        len(facts.repayments),
    )
    if state._reputation is not None and state._reputation[0] == key:
        return state._reputation[1]
    found = reputation(
        pseudonym,
        facts.ratings_received,
        facts.completed,
        facts.repayments,
        state.trust_percentiles().get(pseudonym, 0.0),
        state.now,
    )
    state._reputation = (key, found)
    return found


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

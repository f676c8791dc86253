"""The trust domain's events in the replay (p2pbank.trust): transactions, sealed ratings
opened against their commitments, revisions, hidden ratings and repayment outcomes.

Importing this module registers its folds; p2pbank.audit.replay does, so every replay
sees them.
"""

from __future__ import annotations

import hashlib
from bisect import insort
from collections.abc import Mapping
from datetime import datetime

from p2pbank import reputation as scores
from p2pbank.audit.replay_reputation import repayment_order
from p2pbank.audit.replay_state import Difference, Fold, LogEvent, ReplayState, fold

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

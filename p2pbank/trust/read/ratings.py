"""A person's ratings: those still to give (with their deadline) and those given and
received, with what may still be done about each.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from p2pbank import clock
from p2pbank.errors import NotFound
from p2pbank.trust.models import (
    DETAILS_FOR,
    RatedTransaction,
    Rating,
    RevisionRequest,
    RevisionStatus,
)
from p2pbank.trust.queries import display_names, rating_deadline, revision_request


@dataclass(frozen=True)
class PendingRating:
    transaction_id: int
    ref_type: str
    ref_id: int
    my_side: str
    other_id: int
    other_name: str
    other_side: str
    completed_at: datetime
    deadline: datetime
    other_has_rated: bool
    details: tuple[str, ...]  # detailed ratings asked about the other side


def _transactions_of(session: Session, user_id: int, open_after: datetime | None = None):
    query = select(RatedTransaction).where(
        or_(RatedTransaction.principal_id == user_id, RatedTransaction.counterparty_id == user_id)
    )
    if open_after is not None:
        query = query.where(RatedTransaction.window_closes_at > open_after)
    return list(session.scalars(query.order_by(RatedTransaction.completed_at, RatedTransaction.id)))


def pending_ratings(
    session: Session, user_id: int, moment: datetime | None = None
) -> list[PendingRating]:
    """Completed transactions this person may still rate, the soonest deadline first."""
    moment = moment or clock.now()
    transactions = [
        t for t in _transactions_of(session, user_id, moment) if t.completed_at <= moment
    ]
    if not transactions:
        return []
    given: dict[int, dict[int, Rating]] = defaultdict(dict)
    for rating in session.scalars(
        select(Rating).where(Rating.transaction_id.in_([t.id for t in transactions]))
    ):
        given[rating.transaction_id][rating.rater_id] = rating
    names = display_names(session, [t.other(user_id) for t in transactions])
    pending = []
    for t in transactions:
        mine = given[t.id]
        other_id = t.other(user_id)
        if user_id in mine:
            continue
        deadline = rating_deadline(t, mine.get(other_id))
        if moment >= deadline:
            continue
        other_side = t.side_of(other_id)
        pending.append(
            PendingRating(
                transaction_id=t.id,
                ref_type=t.ref_type,
                ref_id=t.ref_id,
                my_side=t.side_of(user_id),
                other_id=other_id,
                other_name=names.get(other_id, ""),
                other_side=other_side,
                completed_at=t.completed_at,
                deadline=deadline,
                other_has_rated=other_id in mine,
                details=tuple(str(d) for d in DETAILS_FOR[other_side]),
            )
        )
    return sorted(pending, key=lambda p: (p.deadline, p.transaction_id))


def pending_rating(session: Session, user_id: int, transaction_id: int) -> PendingRating:
    """One transaction this person may rate now (NotFound otherwise: not theirs, rated,
    or too late)."""
    for item in pending_ratings(session, user_id):
        if item.transaction_id == transaction_id:
            return item
    transaction = session.get(RatedTransaction, transaction_id)
    if transaction is None or user_id not in transaction.parties:
        raise NotFound("No such transaction of yours to rate.")
    raise NotFound("This transaction cannot be rated (any more).")


@dataclass(frozen=True)
class OwnRating:
    """A rating seen by one of its two parties."""

    id: int
    transaction_id: int
    ref_type: str
    ref_id: int
    rater_id: int
    rater_name: str
    ratee_id: int
    ratee_name: str
    ratee_side: str
    state: str  # sealed | shown | hidden
    value: str | None  # None: sealed, and this is the rated person
    comment: str | None
    details: dict[str, int]
    submitted_at: datetime
    reveal_due_at: datetime | None
    revised: bool
    hidden_reason: str | None
    revision: str | None  # None, "open" or "revised"
    revision_note: str | None
    can_request_revision: bool
    can_revise: bool


@dataclass(frozen=True)
class MyRatings:
    given: list[OwnRating]
    received: list[OwnRating]
    pending: list[PendingRating]


def _own(
    rating: Rating,
    viewer_id: int,
    transaction: RatedTransaction,
    request: RevisionRequest | None,
    names: dict[int, str],
    moment: datetime,
) -> OwnRating:
    author = rating.rater_id == viewer_id
    hidden = rating.hidden_at is not None
    opened = rating.is_open_at(moment)
    state = "hidden" if hidden else ("shown" if opened else "sealed")
    content = author or (opened and not hidden)
    could_go_up = rating.value < 1 or any(
        rating.details.get(str(d), 5) < 5 for d in DETAILS_FOR[rating.ratee_side]
    )
    return OwnRating(
        id=rating.id,
        transaction_id=transaction.id,
        ref_type=transaction.ref_type,
        ref_id=transaction.ref_id,
        rater_id=rating.rater_id,
        rater_name=names.get(rating.rater_id, ""),
        ratee_id=rating.ratee_id,
        ratee_name=names.get(rating.ratee_id, ""),
        ratee_side=rating.ratee_side,
        state=state,
        value=rating.value_name if content else None,
        comment=rating.comment if content and not (hidden and not author) else None,
        details=rating.details if content else {},
        submitted_at=rating.submitted_at,
        reveal_due_at=rating.reveal_due_at if state == "sealed" else None,
        revised=rating.revised_at is not None,
        hidden_reason=rating.hidden_reason,
        revision=request.status if request is not None else None,
        revision_note=request.note if request is not None else None,
        can_request_revision=(
            not author
            and state == "shown"
            and request is None
            and rating.revised_at is None
            and could_go_up
        ),
        can_revise=(
            author
            and state == "shown"
            and request is not None
            and request.status == RevisionStatus.OPEN
        ),
    )


def my_ratings(session: Session, user_id: int, moment: datetime | None = None) -> MyRatings:
    """The ratings this person gave and received, and those they may still give."""
    moment = moment or clock.now()
    rows = list(
        session.scalars(
            select(Rating)
            .where(or_(Rating.rater_id == user_id, Rating.ratee_id == user_id))
            .order_by(Rating.submitted_at.desc(), Rating.id.desc())
        )
    )
    transactions = {
        t.id: t
        for t in session.scalars(
            select(RatedTransaction).where(
                RatedTransaction.id.in_(sorted({r.transaction_id for r in rows}) or [0])
            )
        )
    }
    requests = {
        q.rating_id: q
        for q in session.scalars(
            select(RevisionRequest).where(
                RevisionRequest.rating_id.in_([r.id for r in rows] or [0])
            )
        )
    }
    names = display_names(session, [*(r.rater_id for r in rows), *(r.ratee_id for r in rows)])
    views = [
        _own(r, user_id, transactions[r.transaction_id], requests.get(r.id), names, moment)
        for r in rows
    ]
    return MyRatings(
        given=[v for v in views if v.rater_id == user_id],
        received=[v for v in views if v.ratee_id == user_id],
        pending=pending_ratings(session, user_id, moment),
    )


def own_rating(session: Session, user_id: int, rating_id: int) -> OwnRating:
    """One rating as a party sees it; NotFound for anyone else."""
    rating = session.get(Rating, rating_id)
    if rating is None or user_id not in (rating.rater_id, rating.ratee_id):
        raise NotFound("No such rating of yours.")
    moment = clock.now()
    transaction = session.get(RatedTransaction, rating.transaction_id)
    assert transaction is not None
    names = display_names(session, [rating.rater_id, rating.ratee_id])
    return _own(rating, user_id, transaction, revision_request(session, rating.id), names, moment)

"""Trust use cases: rating a counterparty, revisions, moderation, and the scores job.

Two kinds of functions live here:

- Commands (`rate_counterparty`, `request_revision`, `revise_rating`, `hide_rating`,
  `reveal_due_ratings`, `recompute_trust`): the session first, one commit each.
- Primitives other domains call inside their own commands (`record_completed_transaction`,
  `record_repayment_event`): they only flush, like `audit.append`, so the fact and the
  change that caused it commit or roll back together.

Every rating submitted, revealed, revised or hidden, every completed transaction and
repayment fact, every published score and grade change is appended to the trust log, with
payloads `p2pbank.audit.replay` folds into exactly the scores published here (see its
"trust events"). Ratings are double-blind: sealed until the other side rated too, or until
the other side's chance to rate is over (14 days after the first rating, or the end of the
60-day window if that comes sooner); then both are revealed at once. A sealed rating is
committed to in the log by a hash of its value, details and a random salt, which the
reveal opens."""

from __future__ import annotations

import secrets
import unicodedata
from collections.abc import Iterable, Mapping
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from p2pbank import clock
from p2pbank import reputation as score_rules
from p2pbank.audit import queue as trust_log_queue
from p2pbank.audit import replay as log_rules
from p2pbank.audit import services as audit
from p2pbank.errors import Conflict, InvalidState, NotFound, ValidationFailed
from p2pbank.identity.models import User
from p2pbank.notifications.services import notify
from p2pbank.trust import queries
from p2pbank.trust.models import (
    BLIND_PERIOD,
    COMMENT_MAX,
    DETAILS_FOR,
    RATING_WINDOW,
    VALUES,
    RatedTransaction,
    Rating,
    RatingStatus,
    RepaymentKind,
    RepaymentRecord,
    TransactionKind,
)
from p2pbank.uow import command, for_update

RiskGrade = score_rules.RiskGrade

# --- plumbing ------------------------------------------------------------------------------


def N_(text: str) -> str:
    """Marks a message for the translation catalog; pages translate field errors shown."""
    return text


def load_member(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("No such member.")
    return user


def clean_text(text: str | None, field: str, *, maximum: int, minimum: int = 0) -> str:
    """Plain text as typed: trimmed, line ends unified, no control characters, bounded.
    Pages escape it when they show it; it is never rendered as HTML."""
    value = (text or "").replace("\r\n", "\n").replace("\r", "\n").strip()
    if any(unicodedata.category(c) == "Cc" and c not in "\n\t" for c in value):
        raise ValidationFailed.on(field, N_("Use plain text without control characters."))
    if len(value) > maximum:
        raise ValidationFailed.on(field, f"At most {maximum} characters.")
    if len(value) < minimum:
        raise ValidationFailed.on(field, f"At least {minimum} characters.")
    return value


def rating_value(value: str | int) -> int:
    """'positive' / 'neutral' / 'negative' (or +1 / 0 / -1) as the stored integer."""
    if isinstance(value, str) and value in VALUES:
        return VALUES[value]
    if type(value) is int and value in (-1, 0, 1):
        return value
    raise ValidationFailed.on("value", N_("Choose positive, neutral or negative."))


def check_details(details: Mapping[str, int] | None, ratee_side: str) -> dict[str, int]:
    """Detailed ratings fitting the rated side, each 1-5 stars; empty ones are left out."""
    allowed = {str(d) for d in DETAILS_FOR[ratee_side]}
    given = {name: stars for name, stars in (details or {}).items() if stars is not None}
    for name, stars in given.items():
        if name not in allowed:
            raise ValidationFailed.on(name, N_("This detail is not asked about this side."))
        if type(stars) is not int or not 1 <= stars <= 5:
            raise ValidationFailed.on(name, N_("Give 1 to 5 stars."))
    return given


def iso_moment(moment: datetime) -> str:
    return audit.format_time(moment)


# --- primitives for other domains (flush only) ---------------------------------------------


def record_completed_transaction(
    session: Session,
    *,
    ref_type: str,
    ref_id: int,
    principal_id: int,
    counterparty_ids: Iterable[int],
    completed_at: datetime | None = None,
) -> list[RatedTransaction]:
    """A loan (borrower and its lenders) or a campaign (initiator and its backers) is done:
    each principal/counterparty pair may now rate each other, for 60 days. Idempotent per
    pair; flushes only (part of the caller's command)."""
    if ref_type not in {str(k) for k in TransactionKind}:
        raise ValueError(f"unknown transaction kind {ref_type!r}")
    moment = completed_at or clock.now()
    made = []
    for counterparty_id in sorted(set(counterparty_ids) - {principal_id}):
        exists = session.scalar(
            select(RatedTransaction.id).where(
                RatedTransaction.ref_type == ref_type,
                RatedTransaction.ref_id == ref_id,
                RatedTransaction.principal_id == principal_id,
                RatedTransaction.counterparty_id == counterparty_id,
            )
        )
        if exists is not None:
            continue
        row = RatedTransaction(
            ref_type=ref_type,
            ref_id=ref_id,
            principal_id=principal_id,
            counterparty_id=counterparty_id,
            completed_at=moment,
            window_closes_at=moment + RATING_WINDOW,
            created_at=clock.now(),
        )
        session.add(row)
        session.flush()
        audit.append(
            session,
            type="trust.transaction_completed",
            subject_user_id=principal_id,
            payload={
                "counterparty": audit.pseudonym(session, counterparty_id),
                "ref_type": ref_type,
                "ref": ref_id,
                "transaction": row.id,
                "completed": iso_moment(moment),
            },
        )
        made.append(row)
        _tell_rating_open(session, row)
    return made


def _tell_rating_open(session: Session, row: RatedTransaction) -> None:
    """Both sides of a finished transaction may now rate each other."""
    link = f"/trust/transactions/{row.id}/rate"
    for who, other in (
        (row.principal_id, row.counterparty_id),
        (row.counterparty_id, row.principal_id),
    ):
        person = session.get(User, other)
        name = person.display_name if person is not None else ""
        notify(session, who, "rating_open", {"name": name}, link)


def record_repayment_event(
    session: Session,
    *,
    user_id: int,
    kind: str,
    occurred_at: datetime,
    loan_id: int,
    event_key: str,
    days_late: int = 0,
    instalment_number: int | None = None,
) -> RepaymentRecord:
    """A repayment fact about a borrower (on time, late, cured, default, recovered), kept
    for the scores and logged. Idempotent by `event_key`; flushes only."""
    try:
        kind = RepaymentKind(kind)
    except ValueError:
        raise ValueError(f"unknown repayment event kind {kind!r}") from None
    if days_late < 0:
        raise ValueError("days_late cannot be negative")
    existing = session.scalar(select(RepaymentRecord).where(RepaymentRecord.event_key == event_key))
    if existing is not None:
        return existing
    row = RepaymentRecord(
        user_id=user_id,
        kind=kind,
        days_late=days_late,
        occurred_at=occurred_at,
        loan_id=loan_id,
        instalment_number=instalment_number,
        event_key=event_key,
        created_at=clock.now(),
    )
    session.add(row)
    session.flush()
    # Queued, not appended: a repayment run posts many of these at once, side by side
    # (no lock on the log's head); the scores read a fact once its leaf is integrated.
    trust_log_queue.enqueue(
        session,
        type=log_rules.LOG_TYPE_OF_REPAYMENT[score_rules.EventKind(kind)],
        subject_user_id=user_id,
        payload={
            "kind": str(kind),
            "days_late": days_late,
            "occurred": iso_moment(occurred_at),
            "loan": loan_id,
            "instalment": instalment_number,
        },
        ref_id=row.id,
    )
    return row


# --- rating ----------------------------------------------------------------------------------


def lock_transaction(session: Session, transaction_id: int) -> RatedTransaction | None:
    return session.scalar(
        for_update(select(RatedTransaction).where(RatedTransaction.id == transaction_id))
    )


def reveal(session: Session, rating: Rating, moment: datetime) -> None:
    rating.move_to(RatingStatus.REVEALED)
    rating.revealed_at = moment
    session.flush()
    rater = session.get(User, rating.rater_id)
    name = rater.display_name if rater is not None else ""
    notify(session, rating.ratee_id, "rating_revealed", {"name": name}, "/trust/ratings")
    audit.append(
        session,
        type="rating.revealed",
        subject_user_id=rating.ratee_id,
        payload={
            "rating": rating.id,
            "rater": audit.pseudonym(session, rating.rater_id),
            "transaction": rating.transaction_id,
            "value": rating.value,
            "details": rating.details,
            "salt": rating.salt,
            "submitted": iso_moment(rating.submitted_at),
        },
    )


def rate_counterparty(
    session: Session,
    rater_id: int,
    transaction_id: int,
    *,
    value: str | int,
    comment: str = "",
    details: Mapping[str, int] | None = None,
) -> Rating:
    """Rate the other party of a completed transaction: once, within the window. Sealed
    until the other side rated too (then both are revealed now) or its chance is over."""
    with command(session):
        moment = clock.now()
        transaction = lock_transaction(session, transaction_id)
        if transaction is None or rater_id not in transaction.parties:
            raise NotFound("No such transaction of yours to rate.")
        ratee_id = transaction.other(rater_id)
        ratings = queries.ratings_of_transaction(session, transaction.id)
        if rater_id in ratings:
            raise Conflict("You already rated this transaction; a rating is given once.")
        other = ratings.get(ratee_id)
        if moment < transaction.completed_at:
            raise InvalidState("This transaction is not completed yet.")
        if moment >= queries.rating_deadline(transaction, other):
            raise InvalidState("The time to rate this transaction is over.")
        ratee_side = transaction.side_of(ratee_id)
        stars = check_details(details, ratee_side)
        rating = Rating(
            transaction_id=transaction.id,
            rater_id=rater_id,
            ratee_id=ratee_id,
            ratee_side=ratee_side,
            value=rating_value(value),
            comment=clean_text(comment, "comment", maximum=COMMENT_MAX),
            status=RatingStatus.SEALED,
            salt=secrets.token_hex(16),
            submitted_at=moment,
            reveal_due_at=(
                None
                if other is not None
                else min(moment + BLIND_PERIOD, transaction.window_closes_at)
            ),
            **{f"{name}_stars": count for name, count in stars.items()},
        )
        session.add(rating)
        session.flush()
        audit.append(
            session,
            type="rating.submitted",
            subject_user_id=ratee_id,
            payload={
                "rating": rating.id,
                "rater": audit.pseudonym(session, rater_id),
                "transaction": transaction.id,
                "commitment": log_rules.rating_commitment(
                    rating.id, rating.value, rating.details, rating.salt
                ),
            },
        )
        if other is not None:
            if other.status == RatingStatus.SEALED:
                reveal(session, other, moment)  # both at once: the first one first
            reveal(session, rating, moment)
    return rating


def reveal_due(session: Session, moment: datetime) -> int:
    """Reveal every sealed rating whose time has come (flush only); returns how many."""
    due = session.execute(
        select(Rating.id, Rating.transaction_id)
        .where(Rating.status == RatingStatus.SEALED, Rating.reveal_due_at <= moment)
        .order_by(Rating.transaction_id, Rating.id)
    ).all()
    revealed = 0
    for rating_id, transaction_id in due:
        lock_transaction(session, transaction_id)
        rating = session.get(Rating, rating_id, populate_existing=True)
        if rating is not None and rating.status == RatingStatus.SEALED:
            reveal(session, rating, moment)
            revealed += 1
    return revealed


def reveal_due_ratings(session: Session, now: datetime | None = None) -> int:
    """Reveal the sealed ratings whose other side's chance to rate is over."""
    with command(session):
        return reveal_due(session, now or clock.now())


# --- grades for other domains ----------------------------------------------------------------


def published_grade(session: Session, user_id: int) -> RiskGrade | None:
    """The grade the scores job last published for this member, or None if none yet."""
    return queries.published_grade(session, user_id)


def current_grade(session: Session, user_id: int) -> RiskGrade:
    """The published grade, or (before the job ever scored the member) the grade their
    facts give now."""
    return queries.current_grade(session, user_id)

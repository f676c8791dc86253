"""Trust reads the commands share: the rules of reading (what is visible when, rating
deadlines), the published grades, one member's live reputation, and the scores job's
inputs. The screens' read models are in trust/read/.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, and_, func, or_, select, union_all
from sqlalchemy.orm import Session

from p2pbank import clock
from p2pbank import reputation as scores
from p2pbank.audit import replay as log_rules
from p2pbank.audit import services as audit
from p2pbank.audit.models import LogLeaf, QueuedLeaf
from p2pbank.errors import NotFound, ValidationFailed
from p2pbank.identity.models import KycStatus, User
from p2pbank.trust.models import (
    BLIND_PERIOD,
    RatedTransaction,
    Rating,
    RatingStatus,
    RepaymentRecord,
    RevisionRequest,
    ScoreRun,
    ScoreSnapshot,
)

# --- rules of reading ----------------------------------------------------------------------


def visible(moment: datetime):
    """SQL condition: a rating others may see at `moment`."""
    return and_(
        Rating.hidden_at.is_(None),
        or_(
            Rating.status == RatingStatus.REVEALED,
            and_(Rating.status == RatingStatus.SEALED, Rating.reveal_due_at <= moment),
        ),
    )


def rating_deadline(transaction: RatedTransaction, other: Rating | None) -> datetime:
    """Until when a party may still rate: the 60-day window, shortened to 14 days after
    the other side's rating if that came first (so nobody rates after seeing theirs)."""
    if other is None:
        return transaction.window_closes_at
    return min(transaction.window_closes_at, other.submitted_at + BLIND_PERIOD)


def ratings_of_transaction(session: Session, transaction_id: int) -> dict[int, Rating]:
    """The ratings given in one transaction, by rater."""
    rows = session.scalars(select(Rating).where(Rating.transaction_id == transaction_id))
    return {r.rater_id: r for r in rows}


def revision_request(session: Session, rating_id: int) -> RevisionRequest | None:
    return session.scalar(select(RevisionRequest).where(RevisionRequest.rating_id == rating_id))


def display_names(session: Session, ids: Iterable[int]) -> dict[int, str]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = session.execute(select(User.id, User.display_name).where(User.id.in_(wanted)))
    return {uid: name for uid, name in rows}


def member_or_404(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("No such member.")
    return user


def dump_reasons(reasons: Sequence[str]) -> str:
    return json.dumps(list(reasons))


# --- grades ----------------------------------------------------------------------------------


def latest_snapshot(session: Session, user_id: int) -> ScoreSnapshot | None:
    return session.scalar(
        select(ScoreSnapshot)
        .where(ScoreSnapshot.user_id == user_id)
        .order_by(ScoreSnapshot.id.desc())
        .limit(1)
    )


def latest_snapshots(session: Session, user_ids: Iterable[int]) -> dict[int, ScoreSnapshot]:
    """Each member's latest snapshot (members without one are absent), read for these
    members only."""
    newest = (
        select(func.max(ScoreSnapshot.id).label("id"))
        .where(ScoreSnapshot.user_id.in_(sorted(set(user_ids))))
        .group_by(ScoreSnapshot.user_id)
        .subquery()
    )
    rows = session.scalars(select(ScoreSnapshot).join(newest, ScoreSnapshot.id == newest.c.id))
    return {row.user_id: row for row in rows}


def _as_grade(snapshot: ScoreSnapshot) -> scores.RiskGrade:
    return scores.RiskGrade(
        grade=snapshot.grade,
        points=snapshot.grade_points_bps / 100,
        reasons=snapshot.reasons,
        version=snapshot.score_version,
    )


def published_grade(session: Session, user_id: int) -> scores.RiskGrade | None:
    snapshot = latest_snapshot(session, user_id)
    return _as_grade(snapshot) if snapshot is not None else None


def current_grade(session: Session, user_id: int) -> scores.RiskGrade:
    published = published_grade(session, user_id)
    if published is not None:
        return published
    return member_reputation(session, user_id, clock.now()).grade


# --- one member's reputation, live -----------------------------------------------------------


def member_reputation(session: Session, user_id: int, moment: datetime) -> log_rules.Reputation:
    """The member's scores at `moment` from the ratings others can see now, with the
    network trust percentile of the latest published snapshot (0 before the first)."""
    key = audit.pseudonym_key(session)
    me = audit.pseudonym_for_key(key, user_id)
    received = [
        scores.Rating(audit.pseudonym_for_key(key, rater), me, value, submitted)
        for rater, value, submitted in session.execute(
            select(Rating.rater_id, Rating.value, Rating.submitted_at).where(
                Rating.ratee_id == user_id, visible(moment)
            )
        )
    ]
    completed = list(
        session.scalars(
            select(RatedTransaction.completed_at).where(
                or_(
                    RatedTransaction.principal_id == user_id,
                    RatedTransaction.counterparty_id == user_id,
                )
            )
        )
    )
    repayments = [
        scores.RepaymentEvent(scores.EventKind(kind), days, occurred)
        for kind, days, occurred in session.execute(
            select(RepaymentRecord.kind, RepaymentRecord.days_late, RepaymentRecord.occurred_at)
            .where(RepaymentRecord.user_id == user_id)
            .order_by(RepaymentRecord.id)
        )
    ]
    snapshot = latest_snapshot(session, user_id)
    percentile = snapshot.trust_percentile_bps / 10_000 if snapshot is not None else 0.0
    return log_rules.reputation(me, received, completed, repayments, percentile, moment)


# --- the scores job's inputs -----------------------------------------------------------------


@dataclass
class ScoreInputs:
    """Everything the scores job reads, keyed by log pseudonym as the verifier keys it."""

    members: set[int]  # those to score: any trust activity, or scored before
    pseudonyms: dict[int, str]
    ratings_by_id: dict[int, scores.Rating]
    pretrusted: list[str]
    completed: dict[str, list[datetime]]
    repayments: dict[str, list[scores.RepaymentEvent]]


def _queued_repayments() -> Select:
    """Repayment facts whose trust-log leaf is still queued: the scores count a fact only
    once the log holds it, so a replay of the log computes the same published scores.
    (The scores job holds the log's head, so nothing is integrated while it reads.)"""
    leaf = select(LogLeaf.queue_id).where(LogLeaf.queue_id == QueuedLeaf.id).exists()
    return select(QueuedLeaf.ref_id).where(
        QueuedLeaf.event_type.in_(sorted(set(log_rules.LOG_TYPE_OF_REPAYMENT.values()))),
        QueuedLeaf.ref_id.is_not(None),
        ~leaf,
    )


def score_inputs(session: Session) -> ScoreInputs:
    """Revealed, unhidden ratings with their current values; completed transactions;
    repayment facts; the KYC-verified members. A few queries, whatever the member count."""
    ratings = session.execute(
        select(Rating.id, Rating.rater_id, Rating.ratee_id, Rating.value, Rating.submitted_at)
        .where(Rating.status == RatingStatus.REVEALED, Rating.hidden_at.is_(None))
        .order_by(Rating.id)
    ).all()
    transactions = session.execute(
        select(
            RatedTransaction.principal_id,
            RatedTransaction.counterparty_id,
            RatedTransaction.completed_at,
        )
    ).all()
    repayment_rows = session.execute(
        select(
            RepaymentRecord.user_id,
            RepaymentRecord.kind,
            RepaymentRecord.days_late,
            RepaymentRecord.occurred_at,
        )
        .where(RepaymentRecord.id.not_in(_queued_repayments()))
        .order_by(RepaymentRecord.id)
    ).all()
    verified = set(session.scalars(select(User.id).where(User.kyc_status == KycStatus.VERIFIED)))
    scored = set(session.scalars(select(ScoreSnapshot.user_id).distinct()))
    # Columns at once (zip in C): 100,000 members bring about a million rows.
    ids, raters, ratees, values, times = zip(*ratings, strict=True) if ratings else ((),) * 5
    principals, counterparties, done = (
        zip(*transactions, strict=True) if transactions else ((),) * 3
    )
    members = {*raters, *ratees, *principals, *counterparties, *scored}
    members.update(row[0] for row in repayment_rows)
    key = audit.pseudonym_key(session)
    pseudonyms = {uid: audit.pseudonym_for_key(key, uid) for uid in sorted(members | verified)}
    name = pseudonyms.__getitem__
    completed: dict[str, list[datetime]] = defaultdict(list)
    for principal, counterparty, moment in zip(
        map(name, principals), map(name, counterparties), done, strict=True
    ):
        completed[principal].append(moment)
        completed[counterparty].append(moment)
    repayments: dict[str, list[scores.RepaymentEvent]] = defaultdict(list)
    for user_id, kind, days, occurred in repayment_rows:
        repayments[pseudonyms[user_id]].append(
            scores.RepaymentEvent(scores.EventKind(kind), days, occurred)
        )
    shown = map(scores.Rating, map(name, raters), map(name, ratees), values, times)
    return ScoreInputs(
        members=members,
        pseudonyms=pseudonyms,
        ratings_by_id=dict(zip(ids, shown, strict=True)),
        pretrusted=sorted(pseudonyms[uid] for uid in verified),
        completed=completed,
        repayments=repayments,
    )


SHOWN_FIELDS = (
    "grade",
    "feedback_score",
    "star_tier",
    "positives",
    "neutrals",
    "negatives",
    "completed",
    "percent_positive_bps",
    "effective_percent_positive_bps",
)


@dataclass(frozen=True, slots=True)
class Shown:
    """What a member's latest snapshot shows: a new one is written only if this changes."""

    score_version: str
    reasons_json: str
    values: tuple  # SHOWN_FIELDS, in order

    @property
    def grade(self) -> str:
        return self.values[0]


def latest_shown(session: Session) -> dict[int, Shown]:
    """Every member's latest snapshot as plain rows, in one query (no ORM objects)."""
    newest = (
        select(func.max(ScoreSnapshot.id).label("id")).group_by(ScoreSnapshot.user_id).subquery()
    )
    columns = [getattr(ScoreSnapshot, name) for name in SHOWN_FIELDS]
    rows = session.execute(
        select(
            ScoreSnapshot.user_id, ScoreSnapshot.score_version, ScoreSnapshot.reasons_json, *columns
        ).join(newest, ScoreSnapshot.id == newest.c.id)
    )
    return {row[0]: Shown(row[1], row[2], tuple(row[3:])) for row in rows}


def last_input_event(session: Session) -> int:
    """The sequence of the newest trust-log entry of a type the scores are computed from
    (the replay's folds), -1 if there is none: one index lookup per type."""
    newest = union_all(
        *(
            select(func.max(LogLeaf.sequence).label("sequence")).where(
                LogLeaf.event_type == event_type
            )
            for event_type in sorted(log_rules.FOLDS)
        )
    ).subquery()
    found = session.scalar(select(func.max(newest.c.sequence)))
    return -1 if found is None else found


def latest_run(session: Session) -> ScoreRun | None:
    return session.scalar(select(ScoreRun).order_by(ScoreRun.id.desc()).limit(1))


def require_valid_subject(subject: str) -> str:
    value = (subject or "").strip().lower()
    if len(value) != audit.PSEUDONYM_HEX or any(c not in "0123456789abcdef" for c in value):
        message = "A pseudonym is 32 hexadecimal digits."
        raise ValidationFailed.on("subject", message)
    return value

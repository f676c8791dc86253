"""Read models for the trust pages and API: member profiles, the ranking, the ratings a
person may still give, their given and received ratings, the moderation list, and the
inputs of the scores job.

Reading treats a sealed rating whose reveal time has passed as revealed (the job reveals
it in the log on its next run). A sealed rating's content is shown to its author only;
the rated person learns only that it exists. Hidden ratings are shown to nobody but the
moderators; the two parties see that and why it was hidden. Wherever members are sorted by
rating, they are sorted by the Wilson lower bound of positives among positives and
negatives (z = 1.96), never by the raw share.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, case, func, or_, select, union_all
from sqlalchemy.orm import Session

from p2pbank import clock
from p2pbank import reputation as scores
from p2pbank.audit import replay as log_rules
from p2pbank.audit import services as audit
from p2pbank.audit.models import LogLeaf
from p2pbank.errors import Forbidden, NotFound, ValidationFailed
from p2pbank.identity.models import KycStatus, Role, User
from p2pbank.trust.models import (
    BLIND_PERIOD,
    DETAILS_FOR,
    Detail,
    RatedTransaction,
    Rating,
    RatingStatus,
    RepaymentRecord,
    RevisionRequest,
    RevisionStatus,
    ScoreRun,
    ScoreSnapshot,
)

RECENT_RATINGS = 20
PER_PAGE = 50


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


def _names(session: Session, ids: Iterable[int]) -> dict[int, str]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = session.execute(select(User.id, User.display_name).where(User.id.in_(wanted)))
    return {uid: name for uid, name in rows}


def _user(session: Session, user_id: int) -> User:
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
        ).order_by(RepaymentRecord.id)
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


# --- shown ratings ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ShownRating:
    """A rating as others see it."""

    id: int
    rater_id: int
    rater_name: str
    ratee_id: int
    ratee_name: str
    ratee_side: str
    value: str
    comment: str
    details: dict[str, int]
    submitted_at: datetime
    revised: bool
    rater_wilson: float = 0.0


def _shown(rating: Rating, names: dict[int, str], wilson: float = 0.0) -> ShownRating:
    return ShownRating(
        id=rating.id,
        rater_id=rating.rater_id,
        rater_name=names.get(rating.rater_id, ""),
        ratee_id=rating.ratee_id,
        ratee_name=names.get(rating.ratee_id, ""),
        ratee_side=rating.ratee_side,
        value=rating.value_name,
        comment=rating.comment,
        details=rating.details,
        submitted_at=rating.submitted_at,
        revised=rating.revised_at is not None,
        rater_wilson=wilson,
    )


def _rated(counts: tuple[int, int, int]) -> int:
    """Positives plus negatives: what a Wilson bound is taken over (neutrals sit out)."""
    positives, _neutrals, negatives = counts
    return positives + negatives


def _counts(
    session: Session, moment: datetime, user_ids: Iterable[int] | None = None
) -> dict[int, tuple[int, int, int]]:
    """(positives, neutrals, negatives) received in the 12 months before `moment`."""
    start = scores.months_before(moment, 12)
    query = (
        select(
            Rating.ratee_id,
            func.sum(case((Rating.value == 1, 1), else_=0)),
            func.sum(case((Rating.value == 0, 1), else_=0)),
            func.sum(case((Rating.value == -1, 1), else_=0)),
        )
        .where(visible(moment), Rating.submitted_at >= start, Rating.submitted_at <= moment)
        .group_by(Rating.ratee_id)
    )
    if user_ids is not None:
        wanted = sorted(set(user_ids))
        if not wanted:
            return {}
        query = query.where(Rating.ratee_id.in_(wanted))
    return {uid: (int(p), int(n), int(m)) for uid, p, n, m in session.execute(query)}


# --- member profile --------------------------------------------------------------------------


@dataclass(frozen=True)
class GradeView:
    grade: str
    points: float
    reasons: tuple[str, ...]
    version: str
    as_of: datetime | None  # None: computed now, not published yet


@dataclass(frozen=True)
class HistoryPoint:
    as_of: datetime
    grade: str
    feedback_score: int
    star_tier: str
    percent_positive_bps: int | None


@dataclass(frozen=True)
class MemberProfile:
    user_id: int
    display_name: str
    member_since: datetime
    kyc_verified: bool
    feedback_score: int
    star_tier: str
    positives: int
    neutrals: int
    negatives: int
    completed: int
    percent_positive: float | None
    effective_percent_positive: float | None
    wilson: float
    details: dict[str, float]  # average stars by detail, over the last 12 months
    grade: GradeView
    recent: list[ShownRating]
    history: list[HistoryPoint]
    score_version: str = scores.SCORE_VERSION


def member_profile(session: Session, user_id: int, moment: datetime | None = None) -> MemberProfile:
    """What every member may see about another: scores, grade with reasons, ratings."""
    moment = moment or clock.now()
    user = _user(session, user_id)
    reputation = member_reputation(session, user_id, moment)
    snapshot = latest_snapshot(session, user_id)
    if snapshot is not None:
        grade = GradeView(
            snapshot.grade,
            snapshot.grade_points_bps / 100,
            snapshot.reasons,
            snapshot.score_version,
            snapshot.as_of,
        )
    else:
        live = reputation.grade
        grade = GradeView(live.grade, live.points, live.reasons, live.version, None)
    start = scores.months_before(moment, 12)
    recent_rows = list(
        session.scalars(
            select(Rating)
            .where(Rating.ratee_id == user_id, visible(moment), Rating.submitted_at >= start)
            .order_by(Rating.submitted_at.desc(), Rating.id.desc())
            .limit(RECENT_RATINGS)
        )
    )
    raters = [r.rater_id for r in recent_rows]
    names = _names(session, [*raters, user_id])
    counts = _counts(session, moment, raters)  # the raters' own ratings received
    credibility = {
        uid: scores.wilson_lower_bound(pos, pos + neg) for uid, (pos, _neu, neg) in counts.items()
    }
    # Most recent first, then the most credible raters first (a stable sort keeps recency).
    ranked = scores.rank_by_wilson(
        (r, counts.get(r.rater_id, (0, 0, 0))[0], _rated(counts.get(r.rater_id, (0, 0, 0))))
        for r in recent_rows
    )
    recent = [_shown(r, names, credibility.get(r.rater_id, 0.0)) for r, _bound in ranked]
    percent = reputation.percent
    history = [
        HistoryPoint(s.as_of, s.grade, s.feedback_score, s.star_tier, s.percent_positive_bps)
        for s in session.scalars(
            select(ScoreSnapshot)
            .where(ScoreSnapshot.user_id == user_id)
            .order_by(ScoreSnapshot.id.desc())
            .limit(12)
        )
    ]
    return MemberProfile(
        user_id=user.id,
        display_name=user.display_name,
        member_since=user.created_at,
        kyc_verified=user.kyc_verified,
        feedback_score=reputation.feedback.score,
        star_tier=reputation.feedback.tier,
        positives=percent.positives,
        neutrals=percent.neutrals,
        negatives=percent.negatives,
        completed=percent.completed,
        percent_positive=percent.positive,
        effective_percent_positive=percent.effective,
        wilson=scores.wilson_lower_bound(percent.positives, percent.positives + percent.negatives),
        details=_detail_averages(session, user_id, moment),
        grade=grade,
        recent=recent,
        history=history,
    )


def _detail_averages(session: Session, user_id: int, moment: datetime) -> dict[str, float]:
    start = scores.months_before(moment, 12)
    columns = [func.avg(getattr(Rating, f"{d}_stars")) for d in Detail]
    row = session.execute(
        select(*columns).where(
            Rating.ratee_id == user_id, visible(moment), Rating.submitted_at >= start
        )
    ).one()
    return {
        str(d): round(float(avg), 2) for d, avg in zip(Detail, row, strict=True) if avg is not None
    }


# --- the ranking -----------------------------------------------------------------------------


@dataclass(frozen=True)
class RankedMember:
    rank: int
    user_id: int
    display_name: str
    positives: int
    neutrals: int
    negatives: int
    wilson: float


@dataclass(frozen=True)
class Ranking:
    members: list[RankedMember]
    page: int
    per_page: int
    total: int

    @property
    def has_next(self) -> bool:
        return self.page * self.per_page < self.total


def ranking(session: Session, *, page: int = 1, moment: datetime | None = None) -> Ranking:
    """Members rated in the last 12 months, best first by Wilson lower bound."""
    moment = moment or clock.now()
    page = max(page, 1)
    counts = _counts(session, moment)
    ranked = scores.rank_by_wilson(
        (uid, pos, pos + neg) for uid, (pos, _neu, neg) in sorted(counts.items())
    )
    window = ranked[(page - 1) * PER_PAGE : page * PER_PAGE]
    names = _names(session, [uid for uid, _ in window])
    members = [
        RankedMember(
            rank=(page - 1) * PER_PAGE + n + 1,
            user_id=uid,
            display_name=names.get(uid, ""),
            positives=counts[uid][0],
            neutrals=counts[uid][1],
            negatives=counts[uid][2],
            wilson=bound,
        )
        for n, (uid, bound) in enumerate(window)
    ]
    return Ranking(members=members, page=page, per_page=PER_PAGE, total=len(ranked))


# --- ratings to give -------------------------------------------------------------------------


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
    names = _names(session, [t.other(user_id) for t in transactions])
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


# --- a person's own ratings ------------------------------------------------------------------


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
    names = _names(session, [*(r.rater_id for r in rows), *(r.ratee_id for r in rows)])
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
    names = _names(session, [rating.rater_id, rating.ratee_id])
    return _own(rating, user_id, transaction, revision_request(session, rating.id), names, moment)


# --- moderation ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ModeratedRating:
    rating: ShownRating
    hidden_at: datetime | None
    hidden_reason: str | None
    hidden_note: str
    hidden_by_name: str


def require_moderator(actor: User) -> None:
    if not actor.has_role(Role.ADMIN):
        raise Forbidden("Only moderators see this.")


def moderation_list(
    session: Session, actor: User, *, hidden: bool = False, moment: datetime | None = None
) -> list[ModeratedRating]:
    """Shown ratings newest first (or those hidden already), for moderators."""
    require_moderator(actor)
    moment = moment or clock.now()
    condition = (
        Rating.hidden_at.is_not(None)
        if hidden
        else and_(visible(moment), Rating.hidden_at.is_(None))
    )
    rows = list(
        session.scalars(
            select(Rating).where(condition).order_by(Rating.submitted_at.desc()).limit(100)
        )
    )
    names = _names(
        session,
        [
            *(r.rater_id for r in rows),
            *(r.ratee_id for r in rows),
            *(r.hidden_by_id for r in rows if r.hidden_by_id),
        ],
    )
    return [
        ModeratedRating(
            rating=_shown(r, names),
            hidden_at=r.hidden_at,
            hidden_reason=r.hidden_reason,
            hidden_note=r.hidden_note,
            hidden_by_name=names.get(r.hidden_by_id or 0, ""),
        )
        for r in rows
    ]


def moderated(session: Session, actor: User, rating_id: int) -> ModeratedRating:
    """One rating as moderators see it."""
    require_moderator(actor)
    rating = session.get(Rating, rating_id)
    if rating is None:
        raise NotFound("No such rating.")
    names = _names(session, [rating.rater_id, rating.ratee_id, rating.hidden_by_id or 0])
    return ModeratedRating(
        rating=_shown(rating, names),
        hidden_at=rating.hidden_at,
        hidden_reason=rating.hidden_reason,
        hidden_note=rating.hidden_note,
        hidden_by_name=names.get(rating.hidden_by_id or 0, ""),
    )


# --- dashboard -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Summary:
    pending: int
    revisions_to_answer: int
    feedback_score: int
    star_tier: str
    grade: str


def summary(session: Session, user_id: int) -> Summary:
    moment = clock.now()
    reputation = member_reputation(session, user_id, moment)
    to_answer = session.scalar(
        select(func.count(RevisionRequest.id))
        .join(Rating, Rating.id == RevisionRequest.rating_id)
        .where(Rating.rater_id == user_id, RevisionRequest.status == RevisionStatus.OPEN)
    )
    published = published_grade(session, user_id)
    return Summary(
        pending=len(pending_ratings(session, user_id, moment)),
        revisions_to_answer=int(to_answer or 0),
        feedback_score=reputation.feedback.score,
        star_tier=reputation.feedback.tier,
        grade=(published or reputation.grade).grade,
    )


def require_valid_subject(subject: str) -> str:
    value = (subject or "").strip().lower()
    if len(value) != audit.PSEUDONYM_HEX or any(c not in "0123456789abcdef" for c in value):
        message = "A pseudonym is 32 hexadecimal digits."
        raise ValidationFailed(message, field_errors={"subject": [message]})
    return value

"""Reputation records: completed transactions that open rating, the ratings themselves,
revision requests, the repayment facts lending reports, and the published score snapshots.

A rating is never deleted: a moderator hides it (with a reason, logged); the ORM and, on
PostgreSQL, a trigger refuse DELETE. Its lifecycle is `sealed -> revealed` (double-blind:
sealed until the other side rated too or the other side's chance to rate is over).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import Mapped, mapped_column

from p2pbank.clock import now
from p2pbank.db import Base, UTCDateTime, register_postgres_ddl
from p2pbank.errors import InvalidState

RATING_WINDOW = timedelta(days=60)  # after the transaction completed
BLIND_PERIOD = timedelta(days=14)  # after the first rating of a transaction
COMMENT_MAX = 500
NOTE_MAX = 500


def _in(values) -> str:
    return ",".join(f"'{v}'" for v in values)


# --- completed transactions ----------------------------------------------------------------


class TransactionKind(StrEnum):
    LOAN = "loan"
    CAMPAIGN = "campaign"


class Side(StrEnum):
    """The part a person played in a transaction; the rated side decides the details."""

    BORROWER = "borrower"
    LENDER = "lender"
    INITIATOR = "initiator"
    BACKER = "backer"


# (principal, counterparty) of each kind: the borrower and one lender, the initiator and
# one backer. Each such pair is one transaction that both may rate once.
SIDES: dict[str, tuple[Side, Side]] = {
    TransactionKind.LOAN: (Side.BORROWER, Side.LENDER),
    TransactionKind.CAMPAIGN: (Side.INITIATOR, Side.BACKER),
}


class RatedTransaction(Base):
    """A completed transaction between two people, which lets each rate the other once."""

    __tablename__ = "trust_transactions"
    __table_args__ = (
        UniqueConstraint("ref_type", "ref_id", "principal_id", "counterparty_id"),
        CheckConstraint(f"ref_type IN ({_in(TransactionKind)})", name="ref_type"),
        CheckConstraint("principal_id <> counterparty_id", name="two_people"),
        CheckConstraint("window_closes_at > completed_at", name="window"),
        Index("ix_trust_transactions_counterparty", "counterparty_id", "completed_at"),
        Index("ix_trust_transactions_principal", "principal_id", "completed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ref_type: Mapped[str] = mapped_column(String(16))
    ref_id: Mapped[int] = mapped_column(BigInteger)
    principal_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    counterparty_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    completed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    window_closes_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)

    @property
    def parties(self) -> tuple[int, int]:
        return (self.principal_id, self.counterparty_id)

    def side_of(self, user_id: int) -> Side:
        principal, counterparty = SIDES[self.ref_type]
        if user_id == self.principal_id:
            return principal
        if user_id == self.counterparty_id:
            return counterparty
        raise ValueError("not a party to this transaction")

    def other(self, user_id: int) -> int:
        return self.counterparty_id if user_id == self.principal_id else self.principal_id


# --- ratings -------------------------------------------------------------------------------


class RatingStatus(StrEnum):
    SEALED = "sealed"  # submitted, hidden from everyone but its author
    REVEALED = "revealed"


RATING_TRANSITIONS: dict[str, frozenset[str]] = {
    RatingStatus.SEALED: frozenset({RatingStatus.REVEALED}),
    RatingStatus.REVEALED: frozenset(),
}

VALUES = {"positive": 1, "neutral": 0, "negative": -1}
VALUE_NAMES = {value: name for name, value in VALUES.items()}


class Detail(StrEnum):
    """Detailed ratings, 1-5 stars, each asked about the side it fits."""

    COMMUNICATION = "communication"
    KEPT_SCHEDULE = "kept_schedule"
    AS_DESCRIBED = "as_described"
    DELIVERED_ON_TIME = "delivered_on_time"


DETAILS_FOR: dict[str, tuple[Detail, ...]] = {
    Side.BORROWER: (Detail.COMMUNICATION, Detail.KEPT_SCHEDULE),
    Side.INITIATOR: (Detail.AS_DESCRIBED, Detail.DELIVERED_ON_TIME, Detail.COMMUNICATION),
    Side.LENDER: (),
    Side.BACKER: (),
}


class HideReason(StrEnum):
    """Why a moderator hid a rating; the code goes into the public log, the note does not."""

    PERSONAL_DATA = "personal_data"
    ABUSIVE = "abusive"
    OFF_TOPIC = "off_topic"
    FRAUD = "fraud"
    LEGAL = "legal"


class Rating(Base):
    """One side's rating of the other after a completed transaction."""

    __tablename__ = "trust_ratings"
    __table_args__ = (
        UniqueConstraint("transaction_id", "rater_id"),
        CheckConstraint("value BETWEEN -1 AND 1", name="value"),
        CheckConstraint("rater_id <> ratee_id", name="not_oneself"),
        CheckConstraint(f"status IN ({_in(RatingStatus)})", name="status"),
        CheckConstraint(f"ratee_side IN ({_in(Side)})", name="ratee_side"),
        CheckConstraint(f"length(comment) <= {COMMENT_MAX}", name="comment_length"),
        *(
            CheckConstraint(f"{d}_stars IS NULL OR {d}_stars BETWEEN 1 AND 5", name=f"{d}_stars")
            for d in Detail
        ),
        CheckConstraint(
            f"hidden_reason IS NULL OR hidden_reason IN ({_in(HideReason)})", name="hidden_reason"
        ),
        CheckConstraint("(hidden_at IS NULL) = (hidden_reason IS NULL)", name="hidden_with_reason"),
        CheckConstraint("status = 'revealed' OR revealed_at IS NULL", name="revealed_at"),
        CheckConstraint(
            "value_before_revision IS NULL OR value >= value_before_revision", name="upward_only"
        ),
        Index("ix_trust_ratings_ratee", "ratee_id", "submitted_at"),
        Index("ix_trust_ratings_sealed_due", "status", "reveal_due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    transaction_id: Mapped[int] = mapped_column(ForeignKey("trust_transactions.id"), index=True)
    rater_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    ratee_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    ratee_side: Mapped[str] = mapped_column(String(16))
    value: Mapped[int] = mapped_column(SmallInteger)
    comment: Mapped[str] = mapped_column(String(COMMENT_MAX), default="")
    communication_stars: Mapped[int | None] = mapped_column(SmallInteger)
    kept_schedule_stars: Mapped[int | None] = mapped_column(SmallInteger)
    as_described_stars: Mapped[int | None] = mapped_column(SmallInteger)
    delivered_on_time_stars: Mapped[int | None] = mapped_column(SmallInteger)
    status: Mapped[str] = mapped_column(String(16), default=RatingStatus.SEALED)
    # Random per rating: the log commits to the sealed value with it, and shows it at reveal.
    salt: Mapped[str] = mapped_column(String(32))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # When a sealed rating is due to be shown even if the other side never rates.
    reveal_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revealed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revised_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    value_before_revision: Mapped[int | None] = mapped_column(SmallInteger)
    hidden_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    hidden_reason: Mapped[str | None] = mapped_column(String(32))
    hidden_note: Mapped[str] = mapped_column(String(NOTE_MAX), default="")
    hidden_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    def move_to(self, target: RatingStatus) -> None:
        if target not in RATING_TRANSITIONS[self.status]:
            raise InvalidState(f"A rating that is {self.status} cannot become {target}.")
        self.status = target

    @property
    def value_name(self) -> str:
        return VALUE_NAMES[self.value]

    @property
    def details(self) -> dict[str, int]:
        """The detailed ratings given, by name (only those filled in)."""
        found = {str(d): getattr(self, f"{d}_stars") for d in Detail}
        return {name: stars for name, stars in found.items() if stars is not None}

    def visible_at(self, moment: datetime) -> bool:
        """Shown to others: revealed (or due to be) and not hidden by a moderator."""
        return self.hidden_at is None and self.is_open_at(moment)

    def is_open_at(self, moment: datetime) -> bool:
        """Revealed, or sealed past its reveal time (reading treats it as revealed)."""
        if self.status == RatingStatus.REVEALED:
            return True
        return self.reveal_due_at is not None and self.reveal_due_at <= moment


class RevisionStatus(StrEnum):
    OPEN = "open"
    REVISED = "revised"


REVISION_TRANSITIONS: dict[str, frozenset[str]] = {
    RevisionStatus.OPEN: frozenset({RevisionStatus.REVISED}),
    RevisionStatus.REVISED: frozenset(),
}


class RevisionRequest(Base):
    """The rated person asks the author to reconsider: at most once per rating."""

    __tablename__ = "trust_revision_requests"
    __table_args__ = (
        CheckConstraint(f"status IN ({_in(RevisionStatus)})", name="status"),
        CheckConstraint(f"length(note) <= {NOTE_MAX}", name="note_length"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    rating_id: Mapped[int] = mapped_column(ForeignKey("trust_ratings.id"), unique=True)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str] = mapped_column(String(NOTE_MAX), default="")
    status: Mapped[str] = mapped_column(String(16), default=RevisionStatus.OPEN)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime())
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    def move_to(self, target: RevisionStatus) -> None:
        if target not in REVISION_TRANSITIONS[self.status]:
            raise InvalidState(f"A revision request that is {self.status} cannot become {target}.")
        self.status = target


# --- repayment facts -----------------------------------------------------------------------


class RepaymentKind(StrEnum):
    """The same kinds as p2pbank.reputation.EventKind."""

    ON_TIME = "on_time"
    LATE = "late"
    DEFAULT = "default"
    CURED = "cured"
    RECOVERED = "recovered"


class RepaymentRecord(Base):
    """A hard repayment fact lending reported, kept here so the scores need no lending."""

    __tablename__ = "trust_repayment_events"
    __table_args__ = (
        CheckConstraint(f"kind IN ({_in(RepaymentKind)})", name="kind"),
        CheckConstraint("days_late >= 0", name="days_late"),
        Index("ix_trust_repayment_events_user", "user_id", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(16))
    days_late: Mapped[int] = mapped_column(default=0)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    loan_id: Mapped[int] = mapped_column(BigInteger)
    instalment_number: Mapped[int | None] = mapped_column()
    event_key: Mapped[str] = mapped_column(String(160), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)


# --- published scores ----------------------------------------------------------------------


class ScoreRun(Base):
    """One run of the scores job: when, with which rules, what it found."""

    __tablename__ = "trust_score_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    as_of: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    score_version: Mapped[str] = mapped_column(String(32))
    ratings_revealed: Mapped[int] = mapped_column(default=0)
    members_scored: Mapped[int] = mapped_column(default=0)
    snapshots_written: Mapped[int] = mapped_column(default=0)
    grades_changed: Mapped[int] = mapped_column(default=0)
    network_members: Mapped[int] = mapped_column(default=0)
    eigentrust_iterations: Mapped[int] = mapped_column(default=0)
    eigentrust_converged: Mapped[bool] = mapped_column(Boolean, default=True)
    # The last trust-log entry among the scores' inputs that this run saw (-1: none yet):
    # a later run finding the same one (and run soon after) has nothing to recompute.
    inputs_through: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)


class ScoreSnapshot(Base):
    """A member's published scores as of a run: written when something shown changed, and
    published in the trust log (`log_sequence`) so an auditor can recompute each value."""

    __tablename__ = "trust_score_snapshots"
    __table_args__ = (
        CheckConstraint("grade IN ('A','B','C','D','E')", name="grade"),
        CheckConstraint(
            "percent_positive_bps IS NULL OR percent_positive_bps BETWEEN 0 AND 10000",
            name="percent_positive_bps",
        ),
        CheckConstraint(
            "effective_percent_positive_bps IS NULL "
            "OR effective_percent_positive_bps BETWEEN 0 AND 10000",
            name="effective_percent_positive_bps",
        ),
        CheckConstraint(
            "repayment_expectation_bps BETWEEN 0 AND 10000", name="repayment_expectation_bps"
        ),
        CheckConstraint("trust_percentile_bps BETWEEN 0 AND 10000", name="trust_percentile_bps"),
        Index("ix_trust_score_snapshots_user", "user_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    run_id: Mapped[int] = mapped_column(ForeignKey("trust_score_runs.id"), index=True)
    as_of: Mapped[datetime] = mapped_column(UTCDateTime())
    score_version: Mapped[str] = mapped_column(String(32))
    feedback_score: Mapped[int] = mapped_column()
    star_tier: Mapped[str] = mapped_column(String(16))
    positives: Mapped[int] = mapped_column()
    neutrals: Mapped[int] = mapped_column()
    negatives: Mapped[int] = mapped_column()
    completed: Mapped[int] = mapped_column()
    percent_positive_bps: Mapped[int | None] = mapped_column()
    effective_percent_positive_bps: Mapped[int | None] = mapped_column()
    repayment_expectation_bps: Mapped[int] = mapped_column()
    trust_percentile_bps: Mapped[int] = mapped_column()
    history_months: Mapped[int] = mapped_column()
    grade: Mapped[str] = mapped_column(String(1))
    grade_points_bps: Mapped[int] = mapped_column()  # points x 100 (0..10000)
    reasons_json: Mapped[str] = mapped_column(Text, default="[]")
    log_sequence: Mapped[int | None] = mapped_column(BigInteger)

    @property
    def reasons(self) -> tuple[str, ...]:
        return tuple(json.loads(self.reasons_json))


# --- never deleted -------------------------------------------------------------------------


class RatingDeleted(InvalidState):
    """Ratings are hidden by a moderator, never deleted."""


def _refuse_delete(_mapper, _connection, target) -> None:
    raise RatingDeleted(f"{type(target).__name__} rows are never deleted; hide a rating instead")


for _cls in (Rating, RevisionRequest, RatedTransaction, RepaymentRecord):
    event.listen(_cls, "before_delete", _refuse_delete)

register_postgres_ddl(
    """CREATE OR REPLACE FUNCTION trust_refuse_delete() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION USING
        MESSAGE = 'trust records are never deleted: ' || TG_OP || ' on ' || TG_TABLE_NAME,
        ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql""",
    "DROP FUNCTION IF EXISTS trust_refuse_delete()",
)
for _table in ("trust_ratings", "trust_revision_requests", "trust_transactions"):
    register_postgres_ddl(
        f"CREATE TRIGGER {_table}_no_delete BEFORE DELETE ON {_table} "
        "FOR EACH ROW EXECUTE FUNCTION trust_refuse_delete()",
        f"DROP TRIGGER IF EXISTS {_table}_no_delete ON {_table}",
    )

"""Loan requests (listings) with the commitments lenders hold against them and the
records of each matching pass: one aggregate, as a commitment lives and dies with its
listing.
"""

from __future__ import annotations

import json
from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from p2pbank.clock import now
from p2pbank.db import Base, UTCDateTime
from p2pbank.lending.models.lifecycle import move, sql_in

# --- loan requests -------------------------------------------------------------------------


class RequestStatus(StrEnum):
    LISTED = "listed"  # open on the marketplace, collecting commitments
    AWAITING_ACCEPTANCE = "awaiting_acceptance"  # window over, >= 70 % funded: 48 h to accept
    FUNDED = "funded"  # the loan was issued (fully funded, or the smaller amount accepted)
    EXPIRED = "expired"  # window over unfunded, or not accepted in time: money released
    CANCELLED = "cancelled"  # withdrawn or declined by the borrower: money released


REQUEST_TRANSITIONS: dict[str, frozenset[str]] = {
    RequestStatus.LISTED: frozenset(
        {
            RequestStatus.FUNDED,
            RequestStatus.AWAITING_ACCEPTANCE,
            RequestStatus.EXPIRED,
            RequestStatus.CANCELLED,
        }
    ),
    RequestStatus.AWAITING_ACCEPTANCE: frozenset(
        {RequestStatus.FUNDED, RequestStatus.EXPIRED, RequestStatus.CANCELLED}
    ),
    RequestStatus.FUNDED: frozenset(),
    RequestStatus.EXPIRED: frozenset(),
    RequestStatus.CANCELLED: frozenset(),
}


class LoanRequest(Base):
    """A borrower's request, listed on the marketplace for a window."""

    __tablename__ = "loan_requests"
    __table_args__ = (
        CheckConstraint("amount_minor > 0", name="amount_positive"),
        CheckConstraint("funded_minor >= 0 AND funded_minor <= amount_minor", name="funded"),
        CheckConstraint("term_months BETWEEN 1 AND 600", name="term"),
        CheckConstraint("max_rate_bps BETWEEN 0 AND 10000", name="max_rate"),
        CheckConstraint("grade IN ('A','B','C','D','E')", name="grade"),
        CheckConstraint("method IN ('annuity','equal_principal')", name="method"),
        CheckConstraint("origination_fee_bps BETWEEN 0 AND 10000", name="fee"),
        CheckConstraint(f"status IN ({sql_in(RequestStatus)})", name="status"),
        CheckConstraint("length(currency) = 3", name="currency"),
        UniqueConstraint("borrower_id", "idempotency_key"),
        Index("ix_loan_requests_status_listed_at", "status", "listed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    borrower_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    funded_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    term_months: Mapped[int] = mapped_column()
    max_rate_bps: Mapped[int] = mapped_column()
    method: Mapped[str] = mapped_column(String(16), default="annuity")
    purpose_category: Mapped[str] = mapped_column(String(32))
    purpose_text: Mapped[str] = mapped_column(String(500))
    grade: Mapped[str] = mapped_column(String(1))
    grade_reasons_json: Mapped[str] = mapped_column(Text, default="[]")
    grade_rule_version: Mapped[str] = mapped_column(String(40))
    origination_fee_bps: Mapped[int] = mapped_column()
    status: Mapped[str] = mapped_column(String(24), default=RequestStatus.LISTED)
    idempotency_key: Mapped[str] = mapped_column(String(100))
    listed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    accept_by: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    close_reason: Mapped[str] = mapped_column(String(200), default="")

    commitments: Mapped[list[Commitment]] = relationship(
        back_populates="request", order_by="Commitment.id"
    )

    @property
    def open_minor(self) -> int:
        return self.amount_minor - self.funded_minor

    @property
    def funded_bps(self) -> int:
        """Funding progress in basis points of the amount (rounded down)."""
        return self.funded_minor * 10_000 // self.amount_minor

    @property
    def grade_reasons(self) -> list[str]:
        return list(json.loads(self.grade_reasons_json))

    def move_to(self, target: RequestStatus) -> None:
        move("loan request", REQUEST_TRANSITIONS, self.status, target)
        self.status = target


# --- commitments and matches ---------------------------------------------------------------


class CommitmentStatus(StrEnum):
    HELD = "held"  # money held against the listing
    ISSUED = "issued"  # became a loan part
    RELEASED = "released"  # the listing expired or was cancelled: the money went back


COMMITMENT_TRANSITIONS: dict[str, frozenset[str]] = {
    CommitmentStatus.HELD: frozenset({CommitmentStatus.ISSUED, CommitmentStatus.RELEASED}),
    CommitmentStatus.ISSUED: frozenset(),
    CommitmentStatus.RELEASED: frozenset(),
}


class MatchRecord(Base):
    """What one matching pass did to one listing, with its explanation (fills taken and
    offers skipped, each with a reason), stored as JSON for the pages and the API."""

    __tablename__ = "loan_matches"
    __table_args__ = (
        CheckConstraint(
            "trigger IN ('listing_placed','order_placed','manual_commit','rematch')",
            name="trigger",
        ),
        CheckConstraint("filled_minor >= 0", name="filled"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("loan_requests.id"), index=True)
    trigger: Mapped[str] = mapped_column(String(16))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("lender_orders.id"), index=True)
    filled_minor: Mapped[int] = mapped_column(BigInteger)
    funded_after_minor: Mapped[int] = mapped_column(BigInteger)
    explanation_json: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)

    @property
    def explanation(self) -> dict:
        return json.loads(self.explanation_json)


class Commitment(Base):
    """Money of one lender held for one listing at the lender's own rate."""

    __tablename__ = "loan_commitments"
    __table_args__ = (
        CheckConstraint("amount_minor > 0", name="amount_positive"),
        CheckConstraint("rate_bps BETWEEN 0 AND 10000", name="rate"),
        CheckConstraint(f"status IN ({sql_in(CommitmentStatus)})", name="status"),
        UniqueConstraint("lender_id", "idempotency_key"),
        Index("ix_loan_commitments_lender_status", "lender_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("loan_requests.id"), index=True)
    lender_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("lender_orders.id"), index=True)
    match_id: Mapped[int | None] = mapped_column(ForeignKey("loan_matches.id"))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    rate_bps: Mapped[int] = mapped_column()
    hold_id: Mapped[int] = mapped_column(ForeignKey("ledger_holds.id"), unique=True)
    status: Mapped[str] = mapped_column(String(16), default=CommitmentStatus.HELD)
    # Manual commitments carry the client's key; order fills have none (NULLs never clash).
    idempotency_key: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    request: Mapped[LoanRequest] = relationship(back_populates="commitments")

    def move_to(self, target: CommitmentStatus) -> None:
        move("commitment", COMMITMENT_TRANSITIONS, self.status, target)
        self.status = target

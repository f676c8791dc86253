"""Repayments with their shares per lender, write-offs, and the repayment events the trust
engine reads: everything that happens to money a loan pays back.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from p2pbank.clock import now
from p2pbank.db import Base, UTCDateTime
from p2pbank.lending.models.lifecycle import sql_in

# --- repayments ----------------------------------------------------------------------------


class RepaymentKind(StrEnum):
    SCHEDULED = "scheduled"  # collected by the job on or after a due date
    PAY_NOW = "pay_now"  # paid by the borrower from the loan page
    EARLY = "early"  # early repayment of principal (partial or full)
    RECOVERY = "recovery"  # paid after a default, shared pro rata


class Repayment(Base):
    """One payment by the borrower, as posted in one ledger entry."""

    __tablename__ = "loan_repayments"
    __table_args__ = (
        CheckConstraint(f"kind IN ({sql_in(RepaymentKind)})", name="kind"),
        CheckConstraint("amount_minor > 0", name="amount_positive"),
        CheckConstraint(
            "amount_minor = principal_minor + interest_minor + late_fee_minor + recovery_minor",
            name="adds_up",
        ),
        CheckConstraint(
            "principal_minor >= 0 AND interest_minor >= 0 AND late_fee_minor >= 0 "
            "AND recovery_minor >= 0 AND servicing_fee_minor >= 0",
            name="non_negative",
        ),
        Index("ix_loan_repayments_loan", "loan_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loans.id"))
    kind: Mapped[str] = mapped_column(String(16))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    principal_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    interest_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    late_fee_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    recovery_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    servicing_fee_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    entry_id: Mapped[int] = mapped_column(ForeignKey("journal_entries.id"), unique=True)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)

    shares: Mapped[list[RepaymentShare]] = relationship(
        order_by="RepaymentShare.part_id", lazy="selectin"
    )


class RepaymentShare(Base):
    """What one part (one lender) received from one repayment, before and after the fee."""

    __tablename__ = "loan_repayment_shares"
    __table_args__ = (
        UniqueConstraint("repayment_id", "part_id"),
        CheckConstraint(
            "principal_minor >= 0 AND interest_minor >= 0 AND late_fee_minor >= 0 "
            "AND recovery_minor >= 0 AND servicing_fee_minor >= 0",
            name="non_negative",
        ),
        Index("ix_loan_repayment_shares_lender", "lender_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    repayment_id: Mapped[int] = mapped_column(ForeignKey("loan_repayments.id"))
    part_id: Mapped[int] = mapped_column(ForeignKey("loan_parts.id"), index=True)
    lender_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    principal_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    interest_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    late_fee_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    recovery_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    servicing_fee_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)

    @property
    def gross_minor(self) -> int:
        return (
            self.principal_minor + self.interest_minor + self.late_fee_minor + (self.recovery_minor)
        )

    @property
    def net_minor(self) -> int:
        return self.gross_minor - self.servicing_fee_minor


class WriteOff(Base):
    """The principal written off one part when its loan defaulted (mirrors the entry)."""

    __tablename__ = "loan_write_offs"
    __table_args__ = (
        UniqueConstraint("part_id"),
        CheckConstraint("amount_minor > 0", name="amount_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loans.id"), index=True)
    part_id: Mapped[int] = mapped_column(ForeignKey("loan_parts.id"))
    lender_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    entry_id: Mapped[int] = mapped_column(ForeignKey("journal_entries.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)


# --- repayment events for the trust engine -------------------------------------------------


class EventKind(StrEnum):
    """The same kinds as p2pbank.reputation.EventKind."""

    ON_TIME = "on_time"
    LATE = "late"
    DEFAULT = "default"
    CURED = "cured"
    RECOVERED = "recovered"


class RepaymentEvent(Base):
    """A hard repayment fact about a borrower, written by lending in the same transaction
    as the payment or arrears change that caused it; the trust engine reads these."""

    __tablename__ = "lending_repayment_events"
    __table_args__ = (
        CheckConstraint(f"kind IN ({sql_in(EventKind)})", name="kind"),
        CheckConstraint("days_late >= 0", name="days_late"),
        Index("ix_lending_repayment_events_borrower", "borrower_id", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    borrower_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    loan_id: Mapped[int] = mapped_column(ForeignKey("loans.id"), index=True)
    instalment_number: Mapped[int | None] = mapped_column()
    kind: Mapped[str] = mapped_column(String(16))
    days_late: Mapped[int] = mapped_column(default=0)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    event_key: Mapped[str] = mapped_column(String(120), unique=True)

"""Issued loans with their parts (one per lender) and their instalments, split per part:
what the borrower owes and to whom.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from p2pbank.clock import now
from p2pbank.db import Base, UTCDateTime
from p2pbank.lending.models.lifecycle import move, sql_in

# --- loans ---------------------------------------------------------------------------------


class LoanStatus(StrEnum):
    ACTIVE = "active"  # current, or overdue within the grace period
    LATE = "late"  # an instalment more than 15 days past due
    REPAID = "repaid"
    DEFAULTED = "defaulted"  # 120 days past due: the rest was written off


LOAN_TRANSITIONS: dict[str, frozenset[str]] = {
    LoanStatus.ACTIVE: frozenset({LoanStatus.LATE, LoanStatus.REPAID}),
    LoanStatus.LATE: frozenset({LoanStatus.ACTIVE, LoanStatus.REPAID, LoanStatus.DEFAULTED}),
    LoanStatus.REPAID: frozenset(),
    LoanStatus.DEFAULTED: frozenset(),
}


class Loan(Base):
    __tablename__ = "loans"
    __table_args__ = (
        CheckConstraint("principal_minor > 0", name="principal_positive"),
        CheckConstraint("fee_minor >= 0 AND fee_minor < principal_minor", name="fee"),
        CheckConstraint(
            "outstanding_minor >= 0 AND outstanding_minor <= principal_minor", name="outstanding"
        ),
        CheckConstraint("written_off_minor >= 0", name="written_off"),
        CheckConstraint(
            "recovered_minor >= 0 AND recovered_minor <= written_off_minor", name="recovered"
        ),
        CheckConstraint(f"status IN ({sql_in(LoanStatus)})", name="status"),
        CheckConstraint("method IN ('annuity','equal_principal')", name="method"),
        CheckConstraint("length(currency) = 3", name="currency"),
        Index("ix_loans_status", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("loan_requests.id"), unique=True)
    borrower_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    principal_minor: Mapped[int] = mapped_column(BigInteger)
    fee_minor: Mapped[int] = mapped_column(BigInteger)
    outstanding_minor: Mapped[int] = mapped_column(BigInteger)
    written_off_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    recovered_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    term_months: Mapped[int] = mapped_column()
    method: Mapped[str] = mapped_column(String(16))
    grade: Mapped[str] = mapped_column(String(1))
    rate_bps: Mapped[int] = mapped_column()  # amount-weighted average of the parts
    apr_bps: Mapped[int] = mapped_column()  # CCD APR including the fee, at issue
    instalment_minor: Mapped[int] = mapped_column(BigInteger)  # the first instalment
    status: Mapped[str] = mapped_column(String(16), default=LoanStatus.ACTIVE)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)
    issued_on: Mapped[date] = mapped_column(Date)
    funding_entry_id: Mapped[int | None] = mapped_column(ForeignKey("journal_entries.id"))
    write_off_entry_id: Mapped[int | None] = mapped_column(ForeignKey("journal_entries.id"))
    ever_late: Mapped[bool] = mapped_column(Boolean, default=False)
    defaulted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    parts: Mapped[list[LoanPart]] = relationship(order_by="LoanPart.id", lazy="selectin")
    instalments: Mapped[list[Instalment]] = relationship(
        order_by="Instalment.number", lazy="selectin"
    )

    def move_to(self, target: LoanStatus) -> None:
        if self.status == target:
            return
        move("loan", LOAN_TRANSITIONS, self.status, target)
        self.status = target

    @property
    def is_open(self) -> bool:
        return self.status in (LoanStatus.ACTIVE, LoanStatus.LATE)


class LoanPart(Base):
    """One lender's part of a loan (a note): principal, the lender's own rate, and what is
    still owed to them."""

    __tablename__ = "loan_parts"
    __table_args__ = (
        CheckConstraint("principal_minor > 0", name="principal_positive"),
        CheckConstraint(
            "outstanding_minor >= 0 AND outstanding_minor <= principal_minor", name="outstanding"
        ),
        CheckConstraint("written_off_minor >= 0", name="written_off"),
        CheckConstraint("recovered_minor >= 0", name="recovered"),
        CheckConstraint("rate_bps BETWEEN 0 AND 10000", name="rate"),
        Index("ix_loan_parts_lender", "lender_id", "loan_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loans.id"), index=True)
    lender_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    commitment_id: Mapped[int] = mapped_column(ForeignKey("loan_commitments.id"), unique=True)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("lender_orders.id"))
    principal_minor: Mapped[int] = mapped_column(BigInteger)
    rate_bps: Mapped[int] = mapped_column()
    outstanding_minor: Mapped[int] = mapped_column(BigInteger)
    written_off_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    recovered_minor: Mapped[int] = mapped_column(BigInteger, default=0)


class InstalmentStatus(StrEnum):
    SCHEDULED = "scheduled"  # not fully paid (due, overdue or in the future)
    PAID = "paid"
    CANCELLED = "cancelled"  # no longer owed: the loan was repaid early or written off


class Instalment(Base):
    """One month of a loan's schedule; amounts due and paid, late fee once charged."""

    __tablename__ = "loan_instalments"
    __table_args__ = (
        UniqueConstraint("loan_id", "number"),
        CheckConstraint("principal_minor >= 0 AND interest_minor >= 0", name="due"),
        CheckConstraint("late_fee_minor >= 0", name="late_fee"),
        CheckConstraint(
            "principal_paid_minor BETWEEN 0 AND principal_minor "
            "AND interest_paid_minor BETWEEN 0 AND interest_minor "
            "AND late_fee_paid_minor BETWEEN 0 AND late_fee_minor",
            name="paid_within_due",
        ),
        CheckConstraint(f"status IN ({sql_in(InstalmentStatus)})", name="status"),
        Index("ix_loan_instalments_status_due_on", "status", "due_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loans.id"))
    number: Mapped[int] = mapped_column()
    due_on: Mapped[date] = mapped_column(Date)
    principal_minor: Mapped[int] = mapped_column(BigInteger)
    interest_minor: Mapped[int] = mapped_column(BigInteger)
    late_fee_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    principal_paid_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    interest_paid_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    late_fee_paid_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    status: Mapped[str] = mapped_column(String(16), default=InstalmentStatus.SCHEDULED)
    late_fee_charged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    parts: Mapped[list[InstalmentPart]] = relationship(
        order_by="InstalmentPart.part_id", lazy="selectin", cascade="all, delete-orphan"
    )

    @property
    def payment_minor(self) -> int:
        """The scheduled payment (interest and principal), without any late fee."""
        return self.principal_minor + self.interest_minor

    @property
    def owed_minor(self) -> int:
        """What is still unpaid, late fee included."""
        return (
            self.principal_minor
            - self.principal_paid_minor
            + self.interest_minor
            - self.interest_paid_minor
            + self.late_fee_minor
            - self.late_fee_paid_minor
        )

    @property
    def paid_minor(self) -> int:
        return self.principal_paid_minor + self.interest_paid_minor + self.late_fee_paid_minor


class InstalmentPart(Base):
    """What one instalment owes one part, and what of it was paid."""

    __tablename__ = "loan_instalment_parts"
    __table_args__ = (
        UniqueConstraint("instalment_id", "part_id"),
        CheckConstraint(
            "principal_paid_minor BETWEEN 0 AND principal_minor "
            "AND interest_paid_minor BETWEEN 0 AND interest_minor "
            "AND late_fee_paid_minor BETWEEN 0 AND late_fee_minor",
            name="paid_within_due",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    instalment_id: Mapped[int] = mapped_column(ForeignKey("loan_instalments.id"), index=True)
    part_id: Mapped[int] = mapped_column(ForeignKey("loan_parts.id"), index=True)
    principal_minor: Mapped[int] = mapped_column(BigInteger)
    interest_minor: Mapped[int] = mapped_column(BigInteger)
    late_fee_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    principal_paid_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    interest_paid_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    late_fee_paid_minor: Mapped[int] = mapped_column(BigInteger, default=0)

"""Lending entities: loan requests (listings), lender orders, commitments, match records,
loans with their parts and instalments, repayments and the repayment events the trust
engine reads. Lifecycles are transition tables that raise InvalidState.

Money is integer cents with a currency column; rates are basis points; the ledger holds
the money itself (holds for orders and commitments, entries for loans and repayments),
these rows say what the money is for.
"""

from __future__ import annotations

import json
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
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from p2pbank.clock import now
from p2pbank.db import Base, UTCDateTime
from p2pbank.errors import InvalidState


def _in(values) -> str:
    return ",".join(f"'{v}'" for v in values)


def _move(kind: str, table: dict, current: str, target: str) -> None:
    if target not in table[current]:
        raise InvalidState(f"A {kind} that is {current} cannot become {target}.")


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
        CheckConstraint(f"status IN ({_in(RequestStatus)})", name="status"),
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
        _move("loan request", REQUEST_TRANSITIONS, self.status, target)
        self.status = target


# --- lender orders -------------------------------------------------------------------------


class OrderStatus(StrEnum):
    ACTIVE = "active"  # money left to invest: keeps matching new listings
    USED_UP = "used_up"  # everything committed or lent; comes back to life if money returns
    CANCELLED = "cancelled"  # the uncommitted money was released


ORDER_TRANSITIONS: dict[str, frozenset[str]] = {
    OrderStatus.ACTIVE: frozenset({OrderStatus.USED_UP, OrderStatus.CANCELLED}),
    OrderStatus.USED_UP: frozenset({OrderStatus.ACTIVE, OrderStatus.CANCELLED}),
    OrderStatus.CANCELLED: frozenset(),
}


class LenderOrder(Base):
    """A lender's standing order (auto-invest). `remaining_minor` is the money not yet
    committed to any listing, held in the ledger by `hold_id`."""

    __tablename__ = "lender_orders"
    __table_args__ = (
        CheckConstraint("amount_minor > 0", name="amount_positive"),
        CheckConstraint("remaining_minor >= 0", name="remaining_non_negative"),
        CheckConstraint("slice_minor >= 2500", name="slice_min"),
        CheckConstraint("max_per_borrower_minor >= slice_minor", name="cap_at_least_a_slice"),
        CheckConstraint("min_term_months <= max_term_months", name="terms"),
        CheckConstraint(f"status IN ({_in(OrderStatus)})", name="status"),
        CheckConstraint("status <> 'cancelled' OR remaining_minor = 0", name="cancelled_empty"),
        CheckConstraint("length(currency) = 3", name="currency"),
        *(
            CheckConstraint(
                f"rate_{g}_bps IS NULL OR rate_{g}_bps BETWEEN 0 AND 10000", name=f"rate_{g}"
            )
            for g in "abcde"
        ),
        UniqueConstraint("lender_id", "idempotency_key"),
        Index("ix_lender_orders_status_placed_at", "status", "placed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    lender_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    amount_minor: Mapped[int] = mapped_column(BigInteger)  # everything ever put in
    remaining_minor: Mapped[int] = mapped_column(BigInteger)
    slice_minor: Mapped[int] = mapped_column(BigInteger)
    max_per_borrower_minor: Mapped[int] = mapped_column(BigInteger)
    min_term_months: Mapped[int] = mapped_column()
    max_term_months: Mapped[int] = mapped_column()
    rate_a_bps: Mapped[int | None] = mapped_column()
    rate_b_bps: Mapped[int | None] = mapped_column()
    rate_c_bps: Mapped[int | None] = mapped_column()
    rate_d_bps: Mapped[int | None] = mapped_column()
    rate_e_bps: Mapped[int | None] = mapped_column()
    reinvest: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default=OrderStatus.ACTIVE)
    hold_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_holds.id"))
    hold_seq: Mapped[int] = mapped_column(default=0)
    idempotency_key: Mapped[str] = mapped_column(String(100))
    placed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    @property
    def min_rate_bps(self) -> dict[str, int]:
        """Accepted grades and the lowest rate taken for each."""
        rates = {}
        for grade in "ABCDE":
            value = getattr(self, f"rate_{grade.lower()}_bps")
            if value is not None:
                rates[grade] = value
        return rates

    def set_rates(self, rates: dict[str, int]) -> None:
        for grade in "ABCDE":
            setattr(self, f"rate_{grade.lower()}_bps", rates.get(grade))

    def move_to(self, target: OrderStatus) -> None:
        if self.status == target:
            return
        _move("lender order", ORDER_TRANSITIONS, self.status, target)
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
        CheckConstraint(f"status IN ({_in(CommitmentStatus)})", name="status"),
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
        _move("commitment", COMMITMENT_TRANSITIONS, self.status, target)
        self.status = target


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
        CheckConstraint(f"status IN ({_in(LoanStatus)})", name="status"),
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
        _move("loan", LOAN_TRANSITIONS, self.status, target)
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
        CheckConstraint(f"status IN ({_in(InstalmentStatus)})", name="status"),
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
        CheckConstraint(f"kind IN ({_in(RepaymentKind)})", name="kind"),
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
        CheckConstraint(f"kind IN ({_in(EventKind)})", name="kind"),
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

"""Lender orders (auto-invest): the money a lender has put up to match new listings."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from p2pbank.clock import now
from p2pbank.db import Base, UTCDateTime
from p2pbank.lending.models.lifecycle import move, sql_in

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
        CheckConstraint(f"status IN ({sql_in(OrderStatus)})", name="status"),
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
        move("lender order", ORDER_TRANSITIONS, self.status, target)
        self.status = target

"""Offers of loan parts for sale, the sales that happened, and the auto-invest orders
that opted in to buying on the secondary market.

An offer is open (`listed`) until it is sold or cancelled; a part has at most one open
offer (a partial unique index), and an offer is sold at most once (the sale's offer_id is
unique), so two buyers clicking together cannot both get it, whatever the code does.
"""

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
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from p2pbank.clock import now
from p2pbank.db import Base, UTCDateTime
from p2pbank.errors import InvalidState


class OfferStatus(StrEnum):
    LISTED = "listed"
    SOLD = "sold"
    CANCELLED = "cancelled"  # by the seller, or because the loan defaulted or was repaid


OFFER_TRANSITIONS: dict[str, frozenset[str]] = {
    OfferStatus.LISTED: frozenset({OfferStatus.SOLD, OfferStatus.CANCELLED}),
    OfferStatus.SOLD: frozenset(),
    OfferStatus.CANCELLED: frozenset(),
}


class ResaleOffer(Base):
    """A whole loan part offered at a premium (or discount, negative) on its principal.
    Grade, rate and loan are copied from the part so the market list filters one table."""

    __tablename__ = "resale_offers"
    __table_args__ = (
        CheckConstraint("premium_bps BETWEEN -2000 AND 1000", name="premium"),
        CheckConstraint("status IN ('listed','sold','cancelled')", name="status"),
        CheckConstraint("grade IN ('A','B','C','D','E')", name="grade"),
        CheckConstraint("rate_bps BETWEEN 0 AND 10000", name="rate"),
        UniqueConstraint("seller_id", "idempotency_key"),
        Index(
            "ix_resale_offers_one_open_per_part",
            "part_id",
            unique=True,
            postgresql_where=text("status = 'listed'"),
            sqlite_where=text("status = 'listed'"),
        ),
        Index("ix_resale_offers_status_id", "status", "id"),
        Index("ix_resale_offers_seller", "seller_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    part_id: Mapped[int] = mapped_column(ForeignKey("loan_parts.id"), index=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loans.id"))
    seller_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    grade: Mapped[str] = mapped_column(String(1))
    rate_bps: Mapped[int] = mapped_column()
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    premium_bps: Mapped[int] = mapped_column()
    status: Mapped[str] = mapped_column(String(16), default=OfferStatus.LISTED)
    idempotency_key: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    close_reason: Mapped[str] = mapped_column(String(200), default="")

    def move_to(self, target: OfferStatus) -> None:
        if target not in OFFER_TRANSITIONS[self.status]:
            raise InvalidState(f"An offer that is {self.status} cannot become {target}.")
        self.status = target


class ResaleSale(Base):
    """One sale as posted in one ledger entry: what the buyer paid, line by line."""

    __tablename__ = "resale_sales"
    __table_args__ = (
        UniqueConstraint("offer_id"),
        UniqueConstraint("buyer_id", "idempotency_key"),
        CheckConstraint("buyer_id <> seller_id", name="no_self_dealing"),
        CheckConstraint("outstanding_minor > 0 AND accrued_minor >= 0", name="principal"),
        CheckConstraint(
            "total_minor = outstanding_minor + premium_minor + accrued_minor", name="adds_up"
        ),
        CheckConstraint("fee_minor >= 0 AND fee_minor < total_minor", name="fee"),
        CheckConstraint("days_past_due >= 0", name="days_past_due"),
        Index("ix_resale_sales_buyer", "buyer_id", "sold_at"),
        Index("ix_resale_sales_seller", "seller_id", "sold_at"),
        Index("ix_resale_sales_part", "part_id", "sold_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("resale_offers.id"))
    part_id: Mapped[int] = mapped_column(ForeignKey("loan_parts.id"))
    seller_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    buyer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("lender_orders.id"))
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    outstanding_minor: Mapped[int] = mapped_column(BigInteger)
    premium_minor: Mapped[int] = mapped_column(BigInteger)
    accrued_minor: Mapped[int] = mapped_column(BigInteger)
    total_minor: Mapped[int] = mapped_column(BigInteger)
    fee_minor: Mapped[int] = mapped_column(BigInteger)
    days_past_due: Mapped[int] = mapped_column(default=0)
    entry_id: Mapped[int] = mapped_column(ForeignKey("journal_entries.id"), unique=True)
    idempotency_key: Mapped[str] = mapped_column(String(100))
    sold_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)

    @property
    def seller_gets_minor(self) -> int:
        return self.total_minor - self.fee_minor


class ResaleOrderOption(Base):
    """An auto-invest order's owner said it may buy parts on the secondary market."""

    __tablename__ = "resale_order_options"

    order_id: Mapped[int] = mapped_column(ForeignKey("lender_orders.id"), primary_key=True)
    lender_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    buys_resale: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)

"""Pledges and their changes: a backer's promise of money to a campaign, through its
lifecycle from pending to collected, released, refunded or revoked.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from p2pbank.clock import now
from p2pbank.crowdfunding.models.campaigns import Campaign, RewardTier
from p2pbank.crowdfunding.models.sql import sql_list
from p2pbank.crowdfunding.rules import (
    PayMethod,
)
from p2pbank.db import Base, UTCDateTime
from p2pbank.errors import InvalidState


class PledgeStatus(StrEnum):
    AWAITING_CARD = "awaiting_card"  # by card: the card is being saved (SetupIntent)
    PENDING = "pending"  # held in the wallet or a saved card, waiting for the deadline
    COLLECTED = "collected"  # in the campaign escrow
    ERRORED = "errored"  # the card charge failed; the backer has 7 days to fix it
    RELEASED = "released"  # cancelled, or the campaign failed: nothing was charged
    DROPPED = "dropped"  # errored and not fixed in time
    REFUNDED = "refunded"  # collected, then given back by the initiator
    REVOKED = "revoked"  # a loan pledge revoked in the reflection period


PLEDGE_TRANSITIONS: dict[PledgeStatus, frozenset[PledgeStatus]] = {
    PledgeStatus.AWAITING_CARD: frozenset({PledgeStatus.PENDING, PledgeStatus.RELEASED}),
    PledgeStatus.PENDING: frozenset(
        {
            PledgeStatus.COLLECTED,
            PledgeStatus.ERRORED,
            PledgeStatus.RELEASED,
            PledgeStatus.REVOKED,
        }
    ),
    PledgeStatus.ERRORED: frozenset({PledgeStatus.COLLECTED, PledgeStatus.DROPPED}),
    PledgeStatus.COLLECTED: frozenset({PledgeStatus.REFUNDED}),
    PledgeStatus.RELEASED: frozenset(),
    PledgeStatus.DROPPED: frozenset(),
    PledgeStatus.REFUNDED: frozenset(),
    PledgeStatus.REVOKED: frozenset(),
}

# Pledges that count towards the total before settlement.
COUNTING = (PledgeStatus.PENDING, PledgeStatus.ERRORED, PledgeStatus.COLLECTED)
# A backer's one open pledge per campaign is in one of these.
OPEN = (PledgeStatus.AWAITING_CARD, PledgeStatus.PENDING)


class Pledge(Base):
    __tablename__ = "crowdfunding_pledges"
    __table_args__ = (
        CheckConstraint("amount_minor > 0", name="amount_positive"),
        CheckConstraint("length(currency) = 3", name="currency"),
        CheckConstraint(f"status IN ({sql_list(PledgeStatus)})", name="status"),
        CheckConstraint(f"method IN ({sql_list(PayMethod)})", name="method"),
        CheckConstraint("processing_fee_minor >= 0", name="processing_fee_non_negative"),
        CheckConstraint("processing_fee_minor <= amount_minor", name="processing_fee_bounded"),
        CheckConstraint(
            "method = 'card' OR (saved_card_ref IS NULL AND setup_ref IS NULL)",
            name="card_only_for_card",
        ),
        CheckConstraint(
            "status <> 'pending' OR method = 'wallet' OR saved_card_ref IS NOT NULL",
            name="pending_card_is_saved",
        ),
        CheckConstraint("method = 'wallet' OR hold_ref IS NULL", name="hold_only_for_wallet"),
        CheckConstraint("(status = 'errored') = (fix_until IS NOT NULL)", name="fix_window"),
        # One open pledge per backer and campaign; it is changed, not duplicated.
        Index(
            "uq_crowdfunding_pledges_open",
            "campaign_id",
            "backer_id",
            unique=True,
            sqlite_where=text("status IN ('awaiting_card','pending')"),
            postgresql_where=text("status IN ('awaiting_card','pending')"),
        ),
        Index("ix_crowdfunding_pledges_campaign_id_status", "campaign_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("crowdfunding_campaigns.id"))
    backer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    tier_id: Mapped[int | None] = mapped_column(ForeignKey("crowdfunding_reward_tiers.id"))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    method: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16), default=PledgeStatus.PENDING)
    idempotency_key: Mapped[str] = mapped_column(String(120), unique=True)
    version: Mapped[int] = mapped_column(Integer, default=1)  # bumped on every change
    hold_ref: Mapped[int | None] = mapped_column(BigInteger)  # the ledger hold (wallet)
    # By card: the gateway customer, the card-saving request and the saved card.
    customer_ref: Mapped[str | None] = mapped_column(String(120))
    setup_ref: Mapped[str | None] = mapped_column(String(120))
    setup_client_secret: Mapped[str | None] = mapped_column(String(300))
    setup_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    saved_card_ref: Mapped[str | None] = mapped_column(String(120))
    charge_attempts: Mapped[int] = mapped_column(Integer, default=0)
    charge_ref: Mapped[str | None] = mapped_column(String(200))
    processing_fee_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    error_message: Mapped[str] = mapped_column(String(300), default="")
    errored_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    fix_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    collected_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    release_reason: Mapped[str] = mapped_column(String(40), default="")
    card_detached_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    refunded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    refund_ref: Mapped[str | None] = mapped_column(String(200))
    revocable_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    large_ack_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    delivery_status: Mapped[str | None] = mapped_column(String(16))
    delivery_note: Mapped[str] = mapped_column(String(1000), default="")
    delivery_answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    loan_part_ref: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now, onupdate=now)

    campaign: Mapped[Campaign] = relationship()
    tier: Mapped[RewardTier | None] = relationship()

    def move_to(self, target: PledgeStatus) -> None:
        current = PledgeStatus(self.status)
        if target not in PLEDGE_TRANSITIONS[current]:
            raise InvalidState(f"A {current} pledge cannot become {target}.")
        self.status = target

    @property
    def is_open(self) -> bool:
        return self.status in OPEN


class PledgeChange(Base):
    """Append-only: every change of a pledge's amount (for the chart and the history)."""

    __tablename__ = "crowdfunding_pledge_changes"
    __table_args__ = (
        CheckConstraint("delta_minor <> 0", name="delta_non_zero"),
        Index("ix_crowdfunding_pledge_changes_campaign_id_created_at", "campaign_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("crowdfunding_campaigns.id"))
    pledge_id: Mapped[int] = mapped_column(ForeignKey("crowdfunding_pledges.id"), index=True)
    delta_minor: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(String(24))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)

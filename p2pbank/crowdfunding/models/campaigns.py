"""Campaigns with their reward tiers, stretch goals and payout statement: what an
initiator sets up and what the campaign paid out in the end.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from p2pbank.clock import now
from p2pbank.crowdfunding.models.sql import sql_list
from p2pbank.crowdfunding.rules import (
    CATEGORIES,
    DURATION_MAX_DAYS,
    DURATION_MIN_DAYS,
    GOAL_MAX_MINOR,
    GOAL_MIN_MINOR,
    CampaignKind,
    FundingModel,
)
from p2pbank.db import Base, UTCDateTime
from p2pbank.errors import InvalidState


class CampaignStatus(StrEnum):
    DRAFT = "draft"
    LIVE = "live"
    COLLECTING = "collecting"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


CAMPAIGN_TRANSITIONS: dict[CampaignStatus, frozenset[CampaignStatus]] = {
    CampaignStatus.DRAFT: frozenset({CampaignStatus.LIVE, CampaignStatus.CANCELLED}),
    CampaignStatus.LIVE: frozenset(
        {
            CampaignStatus.COLLECTING,
            CampaignStatus.SUCCEEDED,
            CampaignStatus.FAILED,
            CampaignStatus.CANCELLED,
        }
    ),
    # Every card failed and was dropped: nothing to pay out.
    CampaignStatus.COLLECTING: frozenset({CampaignStatus.SUCCEEDED, CampaignStatus.FAILED}),
    CampaignStatus.SUCCEEDED: frozenset(),
    CampaignStatus.FAILED: frozenset(),
    CampaignStatus.CANCELLED: frozenset(),
}

# Statuses in which the public may see a campaign (drafts are the initiator's own).
PUBLIC_STATUSES = frozenset(CampaignStatus) - {CampaignStatus.DRAFT}


class Campaign(Base):
    __tablename__ = "crowdfunding_campaigns"
    __table_args__ = (
        CheckConstraint(
            f"goal_minor BETWEEN {GOAL_MIN_MINOR} AND {GOAL_MAX_MINOR}", name="goal_range"
        ),
        CheckConstraint(
            f"duration_days BETWEEN {DURATION_MIN_DAYS} AND {DURATION_MAX_DAYS}",
            name="duration_range",
        ),
        CheckConstraint(f"status IN ({sql_list(CampaignStatus)})", name="status"),
        CheckConstraint(f"funding_model IN ({sql_list(FundingModel)})", name="funding_model"),
        CheckConstraint(f"kind IN ({sql_list(CampaignKind)})", name="kind"),
        CheckConstraint(f"category IN ({sql_list(CATEGORIES)})", name="category"),
        CheckConstraint("length(currency) = 3", name="currency"),
        CheckConstraint("platform_fee_bps BETWEEN 0 AND 10000", name="platform_fee_range"),
        CheckConstraint("(launched_at IS NULL) = (deadline_at IS NULL)", name="deadline_set"),
        CheckConstraint(
            "status IN ('draft','cancelled') OR launched_at IS NOT NULL", name="launched"
        ),
        CheckConstraint(
            "kind = 'reward' OR (loan_rate_bps BETWEEN 1 AND 3000 "
            "AND loan_term_months BETWEEN 1 AND 120 AND funding_model = 'all_or_nothing' "
            "AND currency = 'EUR')",
            name="loan_terms",
        ),
        Index("ix_crowdfunding_campaigns_status_deadline_at", "status", "deadline_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    initiator_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(String(8), default=CampaignKind.REWARD)
    title: Mapped[str] = mapped_column(String(120))
    summary: Mapped[str] = mapped_column(String(300))
    story_md: Mapped[str] = mapped_column(Text, default="")
    story_html: Mapped[str] = mapped_column(Text, default="")
    category: Mapped[str] = mapped_column(String(24))
    goal_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    duration_days: Mapped[int] = mapped_column(Integer)
    funding_model: Mapped[str] = mapped_column(String(16), default=FundingModel.ALL_OR_NOTHING)
    status: Mapped[str] = mapped_column(String(16), default=CampaignStatus.DRAFT)
    platform_fee_bps: Mapped[int] = mapped_column(Integer)
    cover_filename: Mapped[str | None] = mapped_column(String(80))
    # Crowdlending: the loan's terms and the project owner shown on the information sheet.
    loan_rate_bps: Mapped[int | None] = mapped_column(Integer)
    loan_term_months: Mapped[int | None] = mapped_column(Integer)
    owner_legal_name: Mapped[str] = mapped_column(String(200), default="")
    owner_registration: Mapped[str] = mapped_column(String(80), default="")
    risks_md: Mapped[str] = mapped_column(Text, default="")
    loan_ref: Mapped[int | None] = mapped_column(BigInteger)  # the lending loan's id

    launched_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    deadline_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # outcome decided
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancel_reason: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now, onupdate=now)

    tiers: Mapped[list[RewardTier]] = relationship(
        back_populates="campaign", order_by="RewardTier.min_pledge_minor, RewardTier.id"
    )
    stretch_goals: Mapped[list[StretchGoal]] = relationship(
        back_populates="campaign", order_by="StretchGoal.amount_minor"
    )

    @property
    def is_loan(self) -> bool:
        return self.kind == CampaignKind.LOAN

    @property
    def is_draft(self) -> bool:
        return self.status == CampaignStatus.DRAFT

    @property
    def escrow_code(self) -> str:
        return f"campaign:{self.id}:escrow"

    def move_to(self, target: CampaignStatus) -> None:
        current = CampaignStatus(self.status)
        if target not in CAMPAIGN_TRANSITIONS[current]:
            raise InvalidState(f"A {current} campaign cannot become {target}.")
        self.status = target


class RewardTier(Base):
    __tablename__ = "crowdfunding_reward_tiers"
    __table_args__ = (
        CheckConstraint("min_pledge_minor > 0", name="min_pledge_positive"),
        CheckConstraint("quantity_limit IS NULL OR quantity_limit > 0", name="limit_positive"),
        # The last line of defence against overselling: the counter can never pass the limit.
        CheckConstraint(
            "claimed >= 0 AND (quantity_limit IS NULL OR claimed <= quantity_limit)",
            name="claimed_within_limit",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("crowdfunding_campaigns.id"), index=True)
    title: Mapped[str] = mapped_column(String(80))
    description: Mapped[str] = mapped_column(String(1000), default="")
    min_pledge_minor: Mapped[int] = mapped_column(BigInteger)
    quantity_limit: Mapped[int | None] = mapped_column(Integer)
    claimed: Mapped[int] = mapped_column(Integer, default=0)
    delivery_month: Mapped[date | None] = mapped_column(Date)
    shipped_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)

    campaign: Mapped[Campaign] = relationship(back_populates="tiers")

    @property
    def remaining(self) -> int | None:
        return None if self.quantity_limit is None else self.quantity_limit - self.claimed

    @property
    def sold_out(self) -> bool:
        return self.quantity_limit is not None and self.claimed >= self.quantity_limit


class StretchGoal(Base):
    __tablename__ = "crowdfunding_stretch_goals"
    __table_args__ = (
        CheckConstraint("amount_minor > 0", name="amount_positive"),
        UniqueConstraint("campaign_id", "amount_minor"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("crowdfunding_campaigns.id"), index=True)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    description: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)

    campaign: Mapped[Campaign] = relationship(back_populates="stretch_goals")


class Payout(Base):
    """The payout statement: what the escrow held and where each part went."""

    __tablename__ = "crowdfunding_payouts"
    __table_args__ = (
        CheckConstraint(
            "gross_minor = platform_fee_minor + processing_fee_minor + net_minor",
            name="parts_add_up",
        ),
        CheckConstraint(
            "gross_minor >= 0 AND platform_fee_minor >= 0 AND processing_fee_minor >= 0 "
            "AND net_minor >= 0 AND absorbed_minor >= 0 AND refunded_minor >= 0",
            name="non_negative",
        ),
        CheckConstraint("collected_minor = gross_minor + refunded_minor", name="collected"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("crowdfunding_campaigns.id"), unique=True)
    currency: Mapped[str] = mapped_column(String(3))
    collected_minor: Mapped[int] = mapped_column(BigInteger)
    refunded_minor: Mapped[int] = mapped_column(BigInteger)
    gross_minor: Mapped[int] = mapped_column(BigInteger)
    platform_fee_bps: Mapped[int] = mapped_column(Integer)
    platform_fee_minor: Mapped[int] = mapped_column(BigInteger)
    processing_fee_minor: Mapped[int] = mapped_column(BigInteger)
    absorbed_minor: Mapped[int] = mapped_column(BigInteger)
    net_minor: Mapped[int] = mapped_column(BigInteger)
    entry_ref: Mapped[int | None] = mapped_column(BigInteger)  # the ledger journal entry
    paid_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)

"""Crowdfunding entities and their lifecycles.

Campaign: draft -> live -> succeeded | failed, with `collecting` between live and
succeeded while saved cards are charged (Catarse's waiting_funds), and `cancelled` by the
initiator before anything is collected. Goal, deadline, model and type are locked once
live. Pledge: pending -> collected | errored | released | revoked; errored -> collected |
dropped; collected -> refunded.
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
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from p2pbank.clock import now
from p2pbank.crowdfunding.rules import (
    CATEGORIES,
    DURATION_MAX_DAYS,
    DURATION_MIN_DAYS,
    GOAL_MAX_MINOR,
    GOAL_MIN_MINOR,
    CampaignKind,
    FundingModel,
    PayMethod,
)
from p2pbank.db import Base, UTCDateTime
from p2pbank.errors import InvalidState


def _sql_list(values) -> str:
    return ",".join(f"'{v}'" for v in values)


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
        CheckConstraint(f"status IN ({_sql_list(CampaignStatus)})", name="status"),
        CheckConstraint(f"funding_model IN ({_sql_list(FundingModel)})", name="funding_model"),
        CheckConstraint(f"kind IN ({_sql_list(CampaignKind)})", name="kind"),
        CheckConstraint(f"category IN ({_sql_list(CATEGORIES)})", name="category"),
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


class Pledge(Base):
    __tablename__ = "crowdfunding_pledges"
    __table_args__ = (
        CheckConstraint("amount_minor > 0", name="amount_positive"),
        CheckConstraint("length(currency) = 3", name="currency"),
        CheckConstraint(f"status IN ({_sql_list(PledgeStatus)})", name="status"),
        CheckConstraint(f"method IN ({_sql_list(PayMethod)})", name="method"),
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


class CampaignUpdate(Base):
    __tablename__ = "crowdfunding_updates"
    __table_args__ = (CheckConstraint("visibility IN ('public','backers')", name="visibility"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("crowdfunding_campaigns.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    title: Mapped[str] = mapped_column(String(150))
    body_md: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    visibility: Mapped[str] = mapped_column(String(8), default="public")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)


class Comment(Base):
    __tablename__ = "crowdfunding_comments"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("crowdfunding_campaigns.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("crowdfunding_comments.id"))
    body: Mapped[str] = mapped_column(String(2000))
    by_initiator: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)


class EventKind(StrEnum):
    """What the trust engine (#6) reads about campaigns and their people."""

    LAUNCHED = "campaign_launched"
    SUCCEEDED = "campaign_succeeded"
    FAILED = "campaign_failed"
    CANCELLED = "campaign_cancelled"
    PAID_OUT = "campaign_paid_out"
    PLEDGE_COLLECTED = "pledge_collected"
    PLEDGE_DROPPED = "pledge_dropped"
    PLEDGE_REFUNDED = "pledge_refunded"
    PLEDGE_REVOKED = "pledge_revoked"
    TIER_SHIPPED = "reward_shipped"
    REWARD_RECEIVED = "reward_received"
    REWARD_PROBLEM = "reward_problem"
    DELIVERY_OVERDUE = "delivery_overdue"


class CampaignEvent(Base):
    """Append-only facts about a campaign for the trust engine. `subject_id` is the person
    the fact is about (the initiator, or a backer); `dedup_key` makes emitting idempotent."""

    __tablename__ = "crowdfunding_events"
    __table_args__ = (
        CheckConstraint(f"kind IN ({_sql_list(EventKind)})", name="kind"),
        Index("ix_crowdfunding_events_subject_id_kind", "subject_id", "kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("crowdfunding_campaigns.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    subject_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    pledge_id: Mapped[int | None] = mapped_column(ForeignKey("crowdfunding_pledges.id"))
    tier_id: Mapped[int | None] = mapped_column(ForeignKey("crowdfunding_reward_tiers.id"))
    amount_minor: Mapped[int | None] = mapped_column(BigInteger)
    detail: Mapped[str] = mapped_column(String(300), default="")
    dedup_key: Mapped[str] = mapped_column(String(120), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)


class InvestorProfile(Base):
    """A crowdlending investor's EU 2020/1503 appropriateness record."""

    __tablename__ = "crowdfunding_investor_profiles"
    __table_args__ = (
        CheckConstraint(
            "yearly_net_income_minor >= 0 AND liquid_assets_minor >= 0 "
            "AND yearly_commitments_minor >= 0",
            name="declared_non_negative",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), unique=True)
    sophisticated: Mapped[bool] = mapped_column(Boolean, default=False)
    sophisticated_set_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    knowledge_passed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    knowledge_score: Mapped[int | None] = mapped_column(Integer)
    yearly_net_income_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    liquid_assets_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    yearly_commitments_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    simulated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)


class KnowledgeTestAttempt(Base):
    """Append-only record of each attempt at the entry knowledge test."""

    __tablename__ = "crowdfunding_knowledge_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    score: Mapped[int] = mapped_column(Integer)
    passed: Mapped[bool] = mapped_column(Boolean)
    taken_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)

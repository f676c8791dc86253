"""What happens around a campaign: the initiator's updates, backers' comments and the
campaign's event log.
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
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from p2pbank.clock import now
from p2pbank.crowdfunding.models.sql import sql_list
from p2pbank.db import Base, UTCDateTime


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
        CheckConstraint(f"kind IN ({sql_list(EventKind)})", name="kind"),
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

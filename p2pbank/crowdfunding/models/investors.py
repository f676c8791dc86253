"""Crowdlending investors' appropriateness records (EU 2020/1503): their profile and
knowledge test attempts.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Integer,
)
from sqlalchemy.orm import Mapped, mapped_column

from p2pbank.clock import now
from p2pbank.db import Base, UTCDateTime


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

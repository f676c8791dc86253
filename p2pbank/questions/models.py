"""A question on a listing or a campaign, and its one answer; never deleted (a moderator
hides it, with the reason kept)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from p2pbank.clock import now
from p2pbank.db import Base, UTCDateTime


class Question(Base):
    __tablename__ = "questions"
    __table_args__ = (
        CheckConstraint("subject_type IN ('listing', 'campaign')", name="subject_type"),
        CheckConstraint("(answer IS NULL) = (answered_at IS NULL)", name="answered"),
        CheckConstraint("asker_id <> owner_id", name="not_own"),
        Index("ix_questions_subject", "subject_type", "subject_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_type: Mapped[str] = mapped_column(String(16))
    subject_id: Mapped[int] = mapped_column(BigInteger)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)  # who answers
    asker_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(String(1_000))
    asked_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)
    answer: Mapped[str | None] = mapped_column(String(2_000))
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    hidden_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    hidden_reason: Mapped[str | None] = mapped_column(String(200))
    hidden_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

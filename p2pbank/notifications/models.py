"""A notification: who, what kind, its parameters and where it points; rendered only when
read, so it speaks the reader's language. Its e-mail is `pending` until the scheduled mail
work turns it into an outbox row (`queued`); `none` when the person does not want it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from p2pbank.clock import now
from p2pbank.db import Base, UTCDateTime

EMAIL_NONE, EMAIL_PENDING, EMAIL_QUEUED = "none", "pending", "queued"


class Notification(Base):
    __tablename__ = "notifications"
    __table_args__ = (
        # One reminder per event: scheduled work that runs twice notifies once.
        UniqueConstraint("user_id", "dedupe_key"),
        Index("ix_notifications_user_id_id", "user_id", "id"),
        Index("ix_notifications_user_id_read_at", "user_id", "read_at"),
        Index("ix_notifications_email_state", "email_state"),
        CheckConstraint("email_state IN ('none','pending','queued')", name="email_state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    link: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    email_state: Mapped[str] = mapped_column(String(8), default=EMAIL_PENDING)
    dedupe_key: Mapped[str | None] = mapped_column(String(120))


class NotificationSetting(Base):
    """A kind a person turned the e-mail off for (no row: the kind's default)."""

    __tablename__ = "notification_settings"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(40), primary_key=True)
    email: Mapped[bool] = mapped_column(default=False)

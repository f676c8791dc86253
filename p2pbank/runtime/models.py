"""Runtime marks: one row per named mark (a worker's heartbeat, a finished scan), holding
when it was last set. Small and overwritten in place: state, not history."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from p2pbank.db import Base, UTCDateTime


class RuntimeMark(Base):
    __tablename__ = "runtime_marks"

    name: Mapped[str] = mapped_column(String(120), primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(timezone=True))
    detail: Mapped[str] = mapped_column(Text, default="")

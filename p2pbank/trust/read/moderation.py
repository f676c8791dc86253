"""The moderators' queue of reported ratings. Only moderators see it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from p2pbank import clock
from p2pbank.errors import NotFound
from p2pbank.identity.models import User
from p2pbank.permissions import Permission, require
from p2pbank.trust.models import (
    Rating,
)
from p2pbank.trust.queries import display_names, visible
from p2pbank.trust.read.shown import ShownRating, shown_rating


@dataclass(frozen=True)
class ModeratedRating:
    rating: ShownRating
    hidden_at: datetime | None
    hidden_reason: str | None
    hidden_note: str
    hidden_by_name: str


def require_moderator(actor: User) -> None:
    require(actor.role_names, Permission.MODERATE, "Only moderators see this.")


def moderation_list(
    session: Session, actor: User, *, hidden: bool = False, moment: datetime | None = None
) -> list[ModeratedRating]:
    """Shown ratings newest first (or those hidden already), for moderators."""
    require_moderator(actor)
    moment = moment or clock.now()
    condition = (
        Rating.hidden_at.is_not(None)
        if hidden
        else and_(visible(moment), Rating.hidden_at.is_(None))
    )
    rows = list(
        session.scalars(
            select(Rating).where(condition).order_by(Rating.submitted_at.desc()).limit(100)
        )
    )
    names = display_names(
        session,
        [
            *(r.rater_id for r in rows),
            *(r.ratee_id for r in rows),
            *(r.hidden_by_id for r in rows if r.hidden_by_id),
        ],
    )
    return [
        ModeratedRating(
            rating=shown_rating(r, names),
            hidden_at=r.hidden_at,
            hidden_reason=r.hidden_reason,
            hidden_note=r.hidden_note,
            hidden_by_name=names.get(r.hidden_by_id or 0, ""),
        )
        for r in rows
    ]


def moderated(session: Session, actor: User, rating_id: int) -> ModeratedRating:
    """One rating as moderators see it."""
    require_moderator(actor)
    rating = session.get(Rating, rating_id)
    if rating is None:
        raise NotFound("No such rating.")
    names = display_names(session, [rating.rater_id, rating.ratee_id, rating.hidden_by_id or 0])
    return ModeratedRating(
        rating=shown_rating(rating, names),
        hidden_at=rating.hidden_at,
        hidden_reason=rating.hidden_reason,
        hidden_note=rating.hidden_note,
        hidden_by_name=names.get(rating.hidden_by_id or 0, ""),
    )

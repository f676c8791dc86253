"""What every crowdfunding command needs: load a user or a campaign (optionally locked),
decide who may see or change it (404 for drafts others cannot know exist, 403 for public
campaigns) and field refusals.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from p2pbank.crowdfunding.models import (
    Campaign,
)
from p2pbank.errors import Forbidden, NotFound
from p2pbank.identity.models import User
from p2pbank.permissions import Permission


def get_user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("No such user.")
    return user


def load_campaign(session: Session, campaign_id: int, *, lock: str | None = None) -> Campaign:
    """The campaign, optionally row-locked: lock="update" (exclusive) or "share"."""
    stmt = select(Campaign).where(Campaign.id == campaign_id)
    if lock == "update":
        stmt = stmt.with_for_update()
    elif lock == "share":
        stmt = stmt.with_for_update(read=True)
    if lock:
        stmt = stmt.execution_options(populate_existing=True)
    campaign = session.scalar(stmt)
    if campaign is None:
        raise NotFound("No such campaign.")
    return campaign


def can_see(campaign: Campaign, viewer: User | None) -> bool:
    """Drafts are visible to their initiator and admins only."""
    if not campaign.is_draft:
        return True
    return viewer is not None and (
        viewer.id == campaign.initiator_id or viewer.may(Permission.OVERSEE)
    )


def own_campaign(
    session: Session, actor_id: int, campaign_id: int, *, lock: str | None = "update"
) -> Campaign:
    """The campaign if `actor_id` started it. Others get 404 for drafts (they cannot know
    it exists) and 403 for public campaigns."""
    actor = get_user(session, actor_id)
    campaign = load_campaign(session, campaign_id, lock=lock)
    if campaign.initiator_id != actor.id:
        if not can_see(campaign, actor):
            raise NotFound("No such campaign.")
        raise Forbidden("Only the campaign's initiator can do this.")
    return campaign


def owner_or_admin(session: Session, actor_id: int, campaign_id: int) -> tuple[Campaign, User]:
    actor = get_user(session, actor_id)
    campaign = load_campaign(session, campaign_id, lock="update")
    if campaign.initiator_id != actor.id and not actor.may(Permission.OVERSEE):
        if not can_see(campaign, actor):
            raise NotFound("No such campaign.")
        raise Forbidden("Only the campaign's initiator or an admin can do this.")
    return campaign, actor


def check_text(values: dict, field: str, lo: int, hi: int, errors: dict) -> None:
    if field not in values:
        return
    value = values[field]
    if not isinstance(value, str):
        errors[field] = ["Must be text."]
        return
    value = value.strip()
    values[field] = value
    if not lo <= len(value) <= hi:
        errors[field] = [f"Must be {lo} to {hi} characters long."]


def check_int_range(values: dict, field: str, lo: int, hi: int, message: str, errors: dict) -> None:
    if field not in values or values[field] is None:
        return
    value = values[field]
    if type(value) is not int or not lo <= value <= hi:
        errors[field] = [message]


def people(session: Session, ids: set[int]) -> list[User]:
    if not ids:
        return []
    return list(session.scalars(select(User).where(User.id.in_(sorted(ids)))))

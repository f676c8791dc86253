"""Reward tiers and stretch goals: added, changed and removed by the initiator while the
campaign may still be edited (a tier with backers keeps its price).
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from p2pbank.clock import now
from p2pbank.crowdfunding import rules
from p2pbank.crowdfunding.kernel import check_int_range, check_text, own_campaign
from p2pbank.crowdfunding.models import (
    Campaign,
    CampaignStatus,
    RewardTier,
    StretchGoal,
)
from p2pbank.errors import InvalidState, NotFound, ValidationFailed
from p2pbank.uow import command, for_update

TIER_LIMIT_MAX = 1_000_000


def _check_tier(values: dict) -> None:
    errors: dict[str, list[str]] = {}
    check_text(values, "title", 1, 80, errors)
    check_text(values, "description", 0, 1000, errors)
    check_int_range(
        values,
        "min_pledge_minor",
        rules.MIN_PLEDGE_MINOR,
        rules.MAX_PLEDGE_MINOR,
        "The minimum pledge must be at least 1.00.",
        errors,
    )
    check_int_range(
        values, "quantity_limit", 1, TIER_LIMIT_MAX, "Limit to 1 - 1,000,000 or none.", errors
    )
    if "delivery_month" in values:
        month = values["delivery_month"]
        if not isinstance(month, date):
            errors["delivery_month"] = ["Give the estimated delivery month."]
        else:
            values["delivery_month"] = month.replace(day=1)
    if errors:
        raise ValidationFailed("The reward tier needs attention.", field_errors=errors)


def _tier_campaign(session: Session, actor_id: int, tier_id: int) -> tuple[RewardTier, Campaign]:
    tier = session.get(RewardTier, tier_id)
    if tier is None:
        raise NotFound("No such reward tier.")
    campaign = own_campaign(session, actor_id, tier.campaign_id)
    return tier, campaign


def _open_for_edits(campaign: Campaign) -> None:
    if campaign.status not in (CampaignStatus.DRAFT, CampaignStatus.LIVE):
        raise InvalidState("The campaign has ended; its rewards can no longer change.")


def add_tier(
    session: Session,
    actor_id: int,
    campaign_id: int,
    *,
    title: str,
    min_pledge_minor: int,
    delivery_month: date,
    description: str = "",
    quantity_limit: int | None = None,
) -> RewardTier:
    with command(session):
        campaign = own_campaign(session, actor_id, campaign_id)
        _open_for_edits(campaign)
        if campaign.is_loan:
            raise InvalidState("A loan campaign has no reward tiers: backers earn interest.")
        values = {
            "title": title,
            "description": description,
            "min_pledge_minor": min_pledge_minor,
            "quantity_limit": quantity_limit,
            "delivery_month": delivery_month,
        }
        _check_tier(values)
        if values["min_pledge_minor"] > campaign.goal_minor:
            raise ValidationFailed.on(
                "min_pledge_minor", "The minimum pledge cannot exceed the goal."
            )
        tier = RewardTier(campaign_id=campaign.id, **values)
        session.add(tier)
        session.flush()
    return tier


def update_tier(session: Session, actor_id: int, tier_id: int, **changes) -> RewardTier:
    """Once live, a tier's minimum pledge is fixed and its limit never drops below what
    backers already claimed."""
    with command(session):
        tier, campaign = _tier_campaign(session, actor_id, tier_id)
        _open_for_edits(campaign)
        allowed = {"title", "description", "min_pledge_minor", "quantity_limit", "delivery_month"}
        unknown = set(changes) - allowed
        if unknown:
            raise ValidationFailed.on(sorted(unknown)[0], "This field cannot be changed.")
        _check_tier(changes)
        tier = session.scalar(for_update(select(RewardTier).where(RewardTier.id == tier.id)))
        if (
            campaign.status == CampaignStatus.LIVE
            and "min_pledge_minor" in changes
            and changes["min_pledge_minor"] != tier.min_pledge_minor
        ):
            raise ValidationFailed.on("min_pledge_minor", "The minimum pledge is locked once live.")
        limit = changes.get("quantity_limit", tier.quantity_limit)
        if limit is not None and limit < tier.claimed:
            raise ValidationFailed.on(
                "quantity_limit", f"{tier.claimed} backers already chose this tier."
            )
        for name, value in changes.items():
            setattr(tier, name, value)
        session.flush()
    return tier


def remove_tier(session: Session, actor_id: int, tier_id: int) -> None:
    """A draft's tier is deleted; a live campaign's tier is retired: no new pledges, the
    backers who chose it keep it."""
    with command(session):
        tier, campaign = _tier_campaign(session, actor_id, tier_id)
        _open_for_edits(campaign)
        if campaign.status == CampaignStatus.DRAFT:
            session.delete(tier)
        else:
            tier.retired_at = tier.retired_at or now()
        session.flush()


def add_stretch_goal(
    session: Session, actor_id: int, campaign_id: int, *, amount_minor: int, description: str
) -> StretchGoal:
    with command(session):
        campaign = own_campaign(session, actor_id, campaign_id)
        _open_for_edits(campaign)
        values = {"description": description}
        errors: dict[str, list[str]] = {}
        check_text(values, "description", 3, 300, errors)
        if errors:
            raise ValidationFailed("The stretch goal needs attention.", field_errors=errors)
        if type(amount_minor) is not int or not (
            campaign.goal_minor < amount_minor <= rules.GOAL_MAX_MINOR * 10
        ):
            raise ValidationFailed.on(
                "amount_minor", "A stretch goal is above the campaign's goal."
            )
        if any(g.amount_minor == amount_minor for g in campaign.stretch_goals):
            raise ValidationFailed.on(
                "amount_minor", "There is already a stretch goal at this amount."
            )
        goal = StretchGoal(
            campaign_id=campaign.id, amount_minor=amount_minor, description=values["description"]
        )
        session.add(goal)
        session.flush()
    return goal


def remove_stretch_goal(session: Session, actor_id: int, goal_id: int) -> None:
    with command(session):
        goal = session.get(StretchGoal, goal_id)
        if goal is None:
            raise NotFound("No such stretch goal.")
        campaign = own_campaign(session, actor_id, goal.campaign_id)
        _open_for_edits(campaign)
        session.delete(goal)
        session.flush()

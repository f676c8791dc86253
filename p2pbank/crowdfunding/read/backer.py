"""A backer's pledges, each with its campaign, tier, payment state and what may still be
done with it. Only the backer sees them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from p2pbank.clock import now
from p2pbank.crowdfunding import rules
from p2pbank.crowdfunding.models import (
    OPEN,
    Campaign,
    CampaignStatus,
    Pledge,
    PledgeStatus,
    RewardTier,
)
from p2pbank.errors import NotFound


@dataclass(frozen=True)
class PledgeView:
    pledge: Pledge
    campaign_id: int
    campaign_title: str
    campaign_status: str
    deadline_at: datetime | None
    tier_title: str | None
    tier_shipped: bool
    can_change: bool
    can_cancel: bool
    can_revoke: bool
    can_fix_card: bool
    can_finish_card: bool
    can_answer_delivery: bool
    in_final_day: bool


def pledge_view(session: Session, pledge: Pledge) -> PledgeView:
    campaign = session.get(Campaign, pledge.campaign_id)
    assert campaign is not None
    tier = session.get(RewardTier, pledge.tier_id) if pledge.tier_id else None
    moment = now()
    open_campaign = campaign.status == CampaignStatus.LIVE and rules.is_open(
        moment, campaign.deadline_at
    )
    final_day = open_campaign and rules.in_final_day(moment, campaign.deadline_at)
    pending = pledge.status == PledgeStatus.PENDING
    return PledgeView(
        pledge=pledge,
        campaign_id=campaign.id,
        campaign_title=campaign.title,
        campaign_status=campaign.status,
        deadline_at=campaign.deadline_at,
        tier_title=tier.title if tier else None,
        tier_shipped=bool(tier and tier.shipped_at),
        can_change=pending and open_campaign and not campaign.is_loan,
        can_cancel=(pledge.status in OPEN)
        and open_campaign
        and not campaign.is_loan
        and (not final_day or pledge.status == PledgeStatus.AWAITING_CARD),
        can_revoke=pending
        and campaign.is_loan
        and pledge.revocable_until is not None
        and moment < pledge.revocable_until,
        can_fix_card=pledge.status == PledgeStatus.ERRORED
        and pledge.fix_until is not None
        and moment < pledge.fix_until,
        can_finish_card=pledge.status == PledgeStatus.AWAITING_CARD and open_campaign,
        can_answer_delivery=pledge.status == PledgeStatus.COLLECTED
        and bool(tier and tier.shipped_at)
        and pledge.delivery_status is None,
        in_final_day=final_day,
    )


def my_pledges(session: Session, user_id: int) -> list[PledgeView]:
    rows = session.scalars(
        select(Pledge).where(Pledge.backer_id == user_id).order_by(Pledge.id.desc())
    ).all()
    return [pledge_view(session, p) for p in rows]


def my_pledge(session: Session, user_id: int, pledge_id: int) -> PledgeView:
    row = session.get(Pledge, pledge_id)
    if row is None or row.backer_id != user_id:
        raise NotFound("No such pledge.")
    return pledge_view(session, row)

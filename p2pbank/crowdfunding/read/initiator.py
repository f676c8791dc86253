"""The initiator's dashboard for one campaign: backers, tier counts and the money statement
(pledged, collected, fees, paid out, refunded). Only the initiator and admins.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from p2pbank.clock import now
from p2pbank.crowdfunding import rules
from p2pbank.crowdfunding.kernel import can_see, get_user
from p2pbank.crowdfunding.models import (
    OPEN,
    Campaign,
    CampaignStatus,
    Payout,
    Pledge,
    PledgeChange,
    PledgeStatus,
    RewardTier,
)
from p2pbank.crowdfunding.read.progress import COUNTING, progress
from p2pbank.errors import Forbidden, NotFound
from p2pbank.identity.models import User
from p2pbank.permissions import Permission


@dataclass(frozen=True)
class BackerRow:
    pledge_id: int
    backer_name: str
    amount_minor: int
    method: str
    status: str
    tier_title: str | None
    processing_fee_minor: int
    created_at: datetime
    delivery_status: str | None
    can_refund: bool


@dataclass(frozen=True)
class TierCount:
    id: int
    title: str
    quantity_limit: int | None
    open: int
    collected: int
    let_go: int
    shipped_at: datetime | None
    delivery_month: date | None
    received: int
    problems: int


@dataclass(frozen=True)
class Statement:
    """The payout statement, or the projection before the payout."""

    final: bool
    collected_minor: int
    refunded_minor: int
    gross_minor: int
    platform_fee_bps: int
    platform_fee_minor: int
    processing_fee_minor: int
    absorbed_minor: int
    net_minor: int
    paid_at: datetime | None


@dataclass(frozen=True)
class Dashboard:
    campaign: Campaign
    progress: rules.Progress
    series: list[tuple[date, int]]
    chart_points: str
    chart_max_minor: int
    tiers: list[TierCount]
    backers: list[BackerRow]
    statement: Statement


def _statement(session: Session, campaign: Campaign) -> Statement:
    payout = session.scalar(select(Payout).where(Payout.campaign_id == campaign.id))
    if payout is not None:
        return Statement(
            final=True,
            collected_minor=payout.collected_minor,
            refunded_minor=payout.refunded_minor,
            gross_minor=payout.gross_minor,
            platform_fee_bps=payout.platform_fee_bps,
            platform_fee_minor=payout.platform_fee_minor,
            processing_fee_minor=payout.processing_fee_minor,
            absorbed_minor=payout.absorbed_minor,
            net_minor=payout.net_minor,
            paid_at=payout.paid_at,
        )
    rows = session.execute(
        select(Pledge.status, Pledge.amount_minor, Pledge.processing_fee_minor).where(
            Pledge.campaign_id == campaign.id,
            Pledge.status.in_([*COUNTING, PledgeStatus.REFUNDED]),
        )
    ).all()
    collected = sum(a for s, a, _ in rows)
    refunded = sum(a for s, a, _ in rows if s == PledgeStatus.REFUNDED)
    processing = sum(f for _, _, f in rows)
    split = rules.payout_split(collected - refunded, campaign.platform_fee_bps, processing)
    return Statement(
        final=False,
        collected_minor=collected,
        refunded_minor=refunded,
        gross_minor=split.gross_minor,
        platform_fee_bps=campaign.platform_fee_bps,
        platform_fee_minor=split.platform_fee_minor,
        processing_fee_minor=split.processing_fee_minor,
        absorbed_minor=split.absorbed_minor,
        net_minor=split.net_minor,
        paid_at=None,
    )


def dashboard(session: Session, actor_id: int, campaign_id: int) -> Dashboard:
    campaign = _own_campaign(session, actor_id, campaign_id)
    series = _pledged_by_day(session, campaign)
    values = [v for _, v in series]
    tiers = _tier_counts(session, campaign)
    backers = _backers(session, campaign)
    return Dashboard(
        campaign=campaign,
        progress=progress(session, campaign),
        series=series,
        chart_points=rules.chart_points(values, 600, 160),
        chart_max_minor=max(values or [0]),
        tiers=tiers,
        backers=backers,
        statement=_statement(session, campaign),
    )


def _own_campaign(session: Session, actor_id: int, campaign_id: int) -> Campaign:
    """The campaign, if the actor is its initiator or an admin (others may not see it)."""
    actor = get_user(session, actor_id)
    campaign = session.get(Campaign, campaign_id)
    if campaign is None or not can_see(campaign, actor):
        raise NotFound("No such campaign.")
    if campaign.initiator_id != actor.id and not actor.may(Permission.OVERSEE):
        raise Forbidden("Only the campaign's initiator sees its dashboard.")
    return campaign


def _pledged_by_day(session: Session, campaign: Campaign) -> list[tuple[date, int]]:
    """The pledged total per day from launch to now or the deadline, for the chart."""
    moment = now()
    start = (campaign.launched_at or moment).date()
    end_at = min(moment, campaign.deadline_at or moment)
    end = max(start, end_at.date())
    if (end - start) > timedelta(days=rules.DURATION_MAX_DAYS + 1):
        end = start + timedelta(days=rules.DURATION_MAX_DAYS + 1)
    changes = session.execute(
        select(PledgeChange.created_at, PledgeChange.delta_minor).where(
            PledgeChange.campaign_id == campaign.id
        )
    ).all()
    return rules.daily_totals(((at.date(), delta) for at, delta in changes), start, end)


def _tier_counts(session: Session, campaign: Campaign) -> list[TierCount]:
    """Per reward tier: pledges open, collected and let go, and deliveries received or not."""
    tier_rows = session.execute(
        select(
            RewardTier,
            func.sum(case((Pledge.status.in_([*OPEN, PledgeStatus.ERRORED]), 1), else_=0)),
            func.sum(case((Pledge.status == PledgeStatus.COLLECTED, 1), else_=0)),
            func.sum(
                case(
                    (
                        Pledge.status.in_(
                            [
                                PledgeStatus.RELEASED,
                                PledgeStatus.DROPPED,
                                PledgeStatus.REFUNDED,
                                PledgeStatus.REVOKED,
                            ]
                        ),
                        1,
                    ),
                    else_=0,
                )
            ),
            func.sum(case((Pledge.delivery_status == "received", 1), else_=0)),
            func.sum(case((Pledge.delivery_status == "problem", 1), else_=0)),
        )
        .outerjoin(Pledge, Pledge.tier_id == RewardTier.id)
        .where(RewardTier.campaign_id == campaign.id)
        .group_by(RewardTier.id)
        .order_by(RewardTier.min_pledge_minor, RewardTier.id)
    ).all()
    return [
        TierCount(
            id=t.id,
            title=t.title,
            quantity_limit=t.quantity_limit,
            open=int(o or 0),
            collected=int(c or 0),
            let_go=int(g or 0),
            shipped_at=t.shipped_at,
            delivery_month=t.delivery_month,
            received=int(r or 0),
            problems=int(p or 0),
        )
        for t, o, c, g, r, p in tier_rows
    ]


def _backers(session: Session, campaign: Campaign) -> list[BackerRow]:
    """Every pledge newest first, refundable while the campaign is collecting."""
    backer_rows = session.execute(
        select(Pledge, User.display_name, RewardTier.title)
        .join(User, User.id == Pledge.backer_id)
        .outerjoin(RewardTier, RewardTier.id == Pledge.tier_id)
        .where(Pledge.campaign_id == campaign.id)
        .order_by(Pledge.id.desc())
    ).all()
    refundable = campaign.status == CampaignStatus.COLLECTING
    return [
        BackerRow(
            pledge_id=p.id,
            backer_name=name,
            amount_minor=p.amount_minor,
            method=p.method,
            status=p.status,
            tier_title=title,
            processing_fee_minor=p.processing_fee_minor,
            created_at=p.created_at,
            delivery_status=p.delivery_status,
            can_refund=refundable and p.status == PledgeStatus.COLLECTED,
        )
        for p, name, title in backer_rows
    ]

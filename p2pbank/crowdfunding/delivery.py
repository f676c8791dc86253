"""Rewards after success: the initiator marks a tier shipped, backers confirm receipt or
report a problem, and a tier whose delivery month passed unshipped becomes a trust event.
Each public function commits once."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from p2pbank.clock import now
from p2pbank.crowdfunding import notices, rules
from p2pbank.crowdfunding.events import emit_event, open_ratings
from p2pbank.crowdfunding.kernel import load_campaign, own_campaign
from p2pbank.crowdfunding.models import (
    Campaign,
    CampaignEvent,
    CampaignStatus,
    EventKind,
    Pledge,
    PledgeStatus,
    RewardTier,
)
from p2pbank.crowdfunding.pledging import own_pledge
from p2pbank.errors import InvalidState, NotFound, ValidationFailed
from p2pbank.uow import command

DELIVERY_NOTE_MAX = 1000


def mark_tier_shipped(session: Session, actor_id: int, tier_id: int) -> RewardTier:
    """The initiator says a reward went out; its backers are asked to confirm receipt."""
    with command(session):
        tier = session.get(RewardTier, tier_id)
        if tier is None:
            raise NotFound("No such reward tier.")
        campaign = own_campaign(session, actor_id, tier.campaign_id)
        if campaign.status != CampaignStatus.SUCCEEDED:
            raise InvalidState("Rewards ship after the campaign succeeded.")
        if tier.shipped_at is not None:
            return tier
        tier.shipped_at = now()
        emit_event(
            session,
            campaign_id=campaign.id,
            kind=EventKind.TIER_SHIPPED,
            subject_id=campaign.initiator_id,
            tier_id=tier.id,
            dedup_key=str(tier.id),
        )
        backer_ids = set(
            session.scalars(
                select(Pledge.backer_id).where(
                    Pledge.tier_id == tier.id, Pledge.status == PledgeStatus.COLLECTED
                )
            )
        )
        notices.reward_shipped(session, campaign, backer_ids)
        session.flush()
    return tier


def _answerable(session: Session, backer_id: int, pledge_id: int) -> tuple[Pledge, Campaign]:
    row = own_pledge(session, backer_id, pledge_id)
    if row.status != PledgeStatus.COLLECTED or row.tier_id is None:
        raise InvalidState("Only a collected pledge with a reward can be confirmed.")
    tier = session.get(RewardTier, row.tier_id)
    if tier is None or tier.shipped_at is None:
        raise InvalidState("This reward has not shipped yet.")
    if row.delivery_status is not None:
        raise InvalidState("You already answered for this reward.")
    return row, load_campaign(session, row.campaign_id)


def confirm_receipt(session: Session, backer_id: int, pledge_id: int) -> Pledge:
    with command(session):
        row, campaign = _answerable(session, backer_id, pledge_id)
        row.delivery_status = "received"
        row.delivery_answered_at = now()
        emit_event(
            session,
            campaign_id=campaign.id,
            kind=EventKind.REWARD_RECEIVED,
            subject_id=campaign.initiator_id,
            actor_id=backer_id,
            pledge_id=row.id,
            tier_id=row.tier_id,
            dedup_key=str(row.id),
        )
        open_ratings(session, campaign, [backer_id])
        session.flush()
    return row


def report_problem(session: Session, backer_id: int, pledge_id: int, *, note: str) -> Pledge:
    with command(session):
        note = (note or "").strip()
        if not 3 <= len(note) <= DELIVERY_NOTE_MAX:
            raise ValidationFailed.on("note", "Describe the problem (3-1000 characters).")
        row, campaign = _answerable(session, backer_id, pledge_id)
        row.delivery_status = "problem"
        row.delivery_note = note
        row.delivery_answered_at = now()
        emit_event(
            session,
            campaign_id=campaign.id,
            kind=EventKind.REWARD_PROBLEM,
            subject_id=campaign.initiator_id,
            actor_id=backer_id,
            pledge_id=row.id,
            tier_id=row.tier_id,
            detail=note,
            dedup_key=str(row.id),
        )
        open_ratings(session, campaign, [backer_id])
        notices.reward_problem(session, campaign, note)
        session.flush()
    return row


def flag_overdue_deliveries(session: Session) -> int:
    """One DELIVERY_OVERDUE event per reward tier of a succeeded campaign whose delivery
    month is over and which has not shipped to its backers."""
    moment = now()
    count = 0
    with command(session):
        rows = session.execute(
            select(RewardTier, Campaign)
            .join(Campaign, Campaign.id == RewardTier.campaign_id)
            .where(
                Campaign.status == CampaignStatus.SUCCEEDED,
                RewardTier.shipped_at.is_(None),
                RewardTier.delivery_month.is_not(None),
            )
            .order_by(RewardTier.id)
        ).all()
        for tier, campaign in rows:
            if not rules.delivery_overdue(tier.delivery_month, moment):
                continue
            backers = session.scalar(
                select(Pledge.id)
                .where(Pledge.tier_id == tier.id, Pledge.status == PledgeStatus.COLLECTED)
                .limit(1)
            )
            if backers is None:
                continue
            already = session.scalar(
                select(CampaignEvent.id).where(
                    CampaignEvent.dedup_key == f"{EventKind.DELIVERY_OVERDUE.value}:{tier.id}"
                )
            )
            if already is not None:
                continue
            emit_event(
                session,
                campaign_id=campaign.id,
                kind=EventKind.DELIVERY_OVERDUE,
                subject_id=campaign.initiator_id,
                tier_id=tier.id,
                detail=f"promised for {tier.delivery_month:%Y-%m}",
                dedup_key=str(tier.id),
            )
            waiting = select(Pledge.backer_id).where(
                Pledge.tier_id == tier.id, Pledge.status == PledgeStatus.COLLECTED
            )
            open_ratings(session, campaign, session.scalars(waiting))
            count += 1
        session.flush()
    return count

"""How far a campaign has come: pledged (firm, pending, revocable), backers and days left,
and the initiators' delivery verdicts. Shared by every crowdfunding screen.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from p2pbank.clock import now
from p2pbank.crowdfunding import rules
from p2pbank.crowdfunding.models import (
    Campaign,
    CampaignEvent,
    CampaignStatus,
    EventKind,
    Pledge,
    PledgeStatus,
)

COUNTING = [PledgeStatus.PENDING, PledgeStatus.ERRORED, PledgeStatus.COLLECTED]


def progress(session: Session, campaign: Campaign) -> rules.Progress:
    """Pledged before fees, split into firm (wallet holds, collected) and pending (saved
    cards not charged yet); loan pledges still in their reflection period are revocable."""
    moment = now()
    rows = session.execute(
        select(Pledge.method, Pledge.status, Pledge.revocable_until, Pledge.amount_minor).where(
            Pledge.campaign_id == campaign.id, Pledge.status.in_(COUNTING)
        )
    ).all()
    firm = pending = revocable = 0
    for method, status, revocable_until, amount in rows:
        if status == PledgeStatus.COLLECTED or method == rules.PayMethod.WALLET:
            firm += amount
        else:
            pending += amount
        pending_loan = revocable_until is not None and status == PledgeStatus.PENDING
        if pending_loan and moment < revocable_until:
            revocable += amount
    backers = session.scalar(
        select(func.count(func.distinct(Pledge.backer_id))).where(
            Pledge.campaign_id == campaign.id, Pledge.status.in_(COUNTING)
        )
    )
    left = (
        rules.days_left(moment, campaign.deadline_at)
        if campaign.deadline_at
        else (campaign.duration_days)
    )
    if campaign.status != CampaignStatus.LIVE and campaign.deadline_at:
        left = 0
    return rules.Progress(
        goal_minor=campaign.goal_minor,
        firm_minor=firm,
        pending_minor=pending,
        revocable_minor=revocable,
        backers=int(backers or 0),
        days_left=left,
    )


def initiator_ratings(session: Session, initiator_ids) -> dict[int, tuple[int, int]]:
    """(rewards confirmed received, rewards answered) per initiator: the backers' verdicts."""
    ids = sorted(set(initiator_ids))
    if not ids:
        return {}
    rows = session.execute(
        select(CampaignEvent.subject_id, CampaignEvent.kind, func.count(CampaignEvent.id))
        .where(
            CampaignEvent.subject_id.in_(ids),
            CampaignEvent.kind.in_([EventKind.REWARD_RECEIVED, EventKind.REWARD_PROBLEM]),
        )
        .group_by(CampaignEvent.subject_id, CampaignEvent.kind)
    ).all()
    out: dict[int, list[int]] = {i: [0, 0] for i in ids}
    for subject, kind, count in rows:
        if kind == EventKind.REWARD_RECEIVED:
            out[subject][0] += count
        out[subject][1] += count
    return {k: (v[0], v[1]) for k, v in out.items()}


def pledged_subquery():
    return (
        select(
            Pledge.campaign_id.label("campaign_id"),
            func.coalesce(func.sum(Pledge.amount_minor), 0).label("pledged"),
            func.count(func.distinct(Pledge.backer_id)).label("backers"),
        )
        .where(Pledge.status.in_(COUNTING))
        .group_by(Pledge.campaign_id)
        .subquery()
    )

"""What a pledge must satisfy before it is made or changed: a campaign taking pledges
(not the backer's own), an amount and reward that fit, one open pledge per backer, a
replayed request's same key for the same pledge, and for a loan campaign the lending
checks and the room left under its goal."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from p2pbank.clock import now
from p2pbank.crowdfunding import investors, rules
from p2pbank.crowdfunding.kernel import load_campaign
from p2pbank.crowdfunding.models import (
    OPEN,
    Campaign,
    CampaignStatus,
    Pledge,
    PledgeStatus,
    RewardTier,
)
from p2pbank.errors import Conflict, Forbidden, InvalidState, NotFound, ValidationFailed
from p2pbank.identity.models import User
from p2pbank.money import Money
from p2pbank.permissions import Permission, require


def check_amount(amount_minor: object) -> int:
    if type(amount_minor) is not int or not (
        rules.MIN_PLEDGE_MINOR <= amount_minor <= rules.MAX_PLEDGE_MINOR
    ):
        raise ValidationFailed.on("amount_minor", "Pledge at least 1.00.")
    return amount_minor


def check_tier(session: Session, campaign: Campaign, tier_id: int | None, amount: int):
    if tier_id is None:
        return None
    tier = session.get(RewardTier, tier_id)
    if tier is None or tier.campaign_id != campaign.id:
        raise ValidationFailed.on("tier_id", "Choose one of this campaign's rewards.")
    if tier.retired_at is not None:
        raise ValidationFailed.on("tier_id", "This reward is no longer offered.")
    if amount < tier.min_pledge_minor:
        least = Money(tier.min_pledge_minor, campaign.currency)
        message = f"This reward needs a pledge of at least {least}."
        raise ValidationFailed.on("amount_minor", message)
    return tier


def taking_pledges(campaign: Campaign) -> None:
    if campaign.status != CampaignStatus.LIVE or not rules.is_open(now(), campaign.deadline_at):
        raise InvalidState("This campaign is not taking pledges.")


def loan_room(session: Session, campaign: Campaign, *, excluding: int = 0) -> int:
    """A loan campaign borrows exactly its goal: pledges stop there."""
    open_total = session.scalar(
        select(func.coalesce(func.sum(Pledge.amount_minor), 0)).where(
            Pledge.campaign_id == campaign.id,
            Pledge.status.in_([PledgeStatus.PENDING]),
            Pledge.id != excluding,
        )
    )
    return campaign.goal_minor - int(open_total or 0)


def replayed(
    session: Session, scoped_key: str, campaign_id: int, tier_id: int | None, method: str
) -> Pledge | None:
    """The pledge an earlier request with this key made (a retry gets it back); Conflict
    when the key was used for a different pledge."""
    existing = session.scalar(select(Pledge).where(Pledge.idempotency_key == scoped_key))
    if existing is not None and (
        existing.campaign_id != campaign_id
        or existing.tier_id != tier_id
        or existing.method != method
    ):
        raise Conflict("This idempotency key was used for a different pledge.")
    return existing


def campaign_to_back(session: Session, campaign_id: int, backer: User, method: str) -> Campaign:
    """The campaign, locked, if it takes this backer's pledge. Pledges to one loan campaign
    are serialized (it borrows exactly its goal); other pledges share the lock, which keeps
    the deadline settlement out while they run."""
    kind = load_campaign(session, campaign_id).kind
    lock = "update" if kind == rules.CampaignKind.LOAN else "share"
    campaign = load_campaign(session, campaign_id, lock=lock)
    if campaign.is_draft:
        raise NotFound("No such campaign.")
    taking_pledges(campaign)
    if campaign.initiator_id == backer.id:
        raise Forbidden("You cannot back your own campaign.")
    if method not in set(rules.PayMethod):
        raise ValidationFailed.on("method", "Pay from your wallet or by card.")
    return campaign


def no_open_pledge(session: Session, campaign: Campaign, backer: User) -> None:
    already = session.scalar(
        select(Pledge.id).where(
            Pledge.campaign_id == campaign.id,
            Pledge.backer_id == backer.id,
            Pledge.status.in_(OPEN),
        )
    )
    if already is not None:
        raise Conflict("You already back this campaign; change your pledge instead.")


def loan_pledge_checks(
    session: Session, campaign: Campaign, backer: User, amount: int, method: str, ack: bool
) -> bool:
    """Lending through a campaign: from the wallet, verified, in a lending role, suitable
    (a large amount needs the risk acknowledged: True when it did) and within the goal."""
    if method != rules.PayMethod.WALLET:
        raise ValidationFailed.on("method", "Loan pledges are paid from the wallet.")
    if not backer.kyc_verified:
        raise Forbidden("Finish the identity check (KYC) before you lend.")
    require(
        backer.role_names,
        Permission.LEND_THROUGH_CAMPAIGNS,
        "Take the lender or backer role to lend through a campaign.",
    )
    check = investors.require_appropriate(session, backer.id, amount, acknowledged=ack)
    room = loan_room(session, campaign)
    if amount > room:
        left = Money(max(room, 0), campaign.currency)
        raise ValidationFailed.on("amount_minor", f"Only {left} is left to lend.")
    return check.needs_ack

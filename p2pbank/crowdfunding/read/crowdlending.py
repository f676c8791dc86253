"""Crowdlending reads: the key investment information sheet, the investor's test and limit,
and the campaign event log.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from p2pbank.clock import now
from p2pbank.crowdfunding import investors, rules
from p2pbank.crowdfunding.kernel import get_user
from p2pbank.crowdfunding.models import (
    Campaign,
    CampaignEvent,
)
from p2pbank.crowdfunding.read.campaign_page import visible_campaign
from p2pbank.crowdfunding.read.progress import progress
from p2pbank.errors import NotFound
from p2pbank.permissions import Permission, require


@dataclass(frozen=True)
class InformationSheet:
    campaign: Campaign
    initiator_name: str
    progress: rules.Progress
    platform_fee_bps: int
    raised_by_owner_minor: int


def information_sheet(
    session: Session, campaign_id: int, viewer_id: int | None
) -> InformationSheet:
    """The Key Investment Information Sheet of a loan campaign (Art. 23, Annex I)."""
    from p2pbank.crowdfunding.checks import raised_by_owner

    campaign = visible_campaign(session, campaign_id, viewer_id)
    if not campaign.is_loan:
        raise NotFound("Only loan campaigns have an information sheet.")
    since = rules.owner_cap_window_start(now())
    return InformationSheet(
        campaign=campaign,
        initiator_name=get_user(session, campaign.initiator_id).display_name,
        progress=progress(session, campaign),
        platform_fee_bps=campaign.platform_fee_bps,
        raised_by_owner_minor=raised_by_owner(session, campaign.initiator_id, since),
    )


@dataclass(frozen=True)
class InvestorView:
    check: investors.InvestmentCheck
    knowledge_passed_at: datetime | None
    knowledge_expires_at: datetime | None
    simulated_at: datetime | None
    yearly_net_income_minor: int
    liquid_assets_minor: int
    yearly_commitments_minor: int
    last_attempt_score: int | None
    last_attempt_passed: bool | None


def investor_view(session: Session, user_id: int, amount_minor: int = 0) -> InvestorView:
    from p2pbank.crowdfunding.models import KnowledgeTestAttempt

    profile = investors.get_profile(session, user_id)
    last = session.scalar(
        select(KnowledgeTestAttempt)
        .where(KnowledgeTestAttempt.user_id == user_id)
        .order_by(KnowledgeTestAttempt.id.desc())
        .limit(1)
    )
    passed_at = profile.knowledge_passed_at if profile else None
    return InvestorView(
        check=investors.check_investment(session, user_id, amount_minor),
        knowledge_passed_at=passed_at,
        knowledge_expires_at=rules.assessment_expires(passed_at) if passed_at else None,
        simulated_at=profile.simulated_at if profile else None,
        yearly_net_income_minor=profile.yearly_net_income_minor if profile else 0,
        liquid_assets_minor=profile.liquid_assets_minor if profile else 0,
        yearly_commitments_minor=profile.yearly_commitments_minor if profile else 0,
        last_attempt_score=last.score if last else None,
        last_attempt_passed=last.passed if last else None,
    )


def campaign_events(
    session: Session, *, since_id: int = 0, limit: int = 500
) -> list[CampaignEvent]:
    """Events for the trust engine, in order (it remembers the last id it read)."""
    return list(
        session.scalars(
            select(CampaignEvent)
            .where(CampaignEvent.id > since_id)
            .order_by(CampaignEvent.id)
            .limit(max(1, min(limit, 5_000)))
        )
    )


def events_for(
    session: Session, viewer_id: int, *, since_id: int = 0, limit: int = 500
) -> list[CampaignEvent]:
    """The trust events, for auditors and admins (they name backers and amounts)."""
    viewer = get_user(session, viewer_id)
    require(
        viewer.role_names, Permission.READ_BOOKS, "Only auditors and admins read the event feed."
    )
    return campaign_events(session, since_id=since_id, limit=limit)

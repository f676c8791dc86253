"""One campaign's page: tiers with what is left, stretch goals, updates, comments, and the
cover. Drafts and hidden campaigns are a 404 to whoever may not see them.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from p2pbank.clock import now
from p2pbank.crowdfunding import rules
from p2pbank.crowdfunding.kernel import can_see, get_user
from p2pbank.crowdfunding.models import (
    OPEN,
    Campaign,
    CampaignStatus,
    CampaignUpdate,
    Comment,
    Payout,
    Pledge,
    PledgeStatus,
    RewardTier,
    StretchGoal,
)
from p2pbank.crowdfunding.read.progress import COUNTING, initiator_ratings, progress
from p2pbank.crowdfunding.services import BACKER_STATUSES
from p2pbank.errors import NotFound
from p2pbank.identity.models import User
from p2pbank.permissions import Permission
from p2pbank.trust.badges import Badge, badges


@dataclass(frozen=True)
class TierView:
    id: int
    title: str
    description: str
    min_pledge_minor: int
    quantity_limit: int | None
    remaining: int | None
    sold_out: bool
    retired: bool
    backers: int
    delivery_month: date | None
    shipped_at: datetime | None


@dataclass(frozen=True)
class StretchView:
    id: int
    amount_minor: int
    description: str
    reached: bool


@dataclass(frozen=True)
class UpdateView:
    id: int
    title: str
    body_html: str | None  # None: backers only, and the viewer is not one
    visibility: str
    created_at: datetime


@dataclass(frozen=True)
class CommentView:
    id: int
    author_id: int
    author_name: str
    body: str
    by_initiator: bool
    created_at: datetime
    replies: list[CommentView] = field(default_factory=list)


@dataclass(frozen=True)
class CampaignView:
    campaign: Campaign
    initiator_name: str
    progress: rules.Progress
    tiers: list[TierView]
    stretch_goals: list[StretchView]
    updates: list[UpdateView]
    comments: list[CommentView]
    my_pledge: Pledge | None
    is_owner: bool
    is_admin: bool
    is_backer: bool
    taking_pledges: bool
    rating: tuple[int, int]
    payout: Payout | None
    badges: dict[int, Badge] = field(default_factory=dict)  # of everyone the page names

    @property
    def initiator_badge(self) -> Badge | None:
        return self.badges.get(self.campaign.initiator_id)

    @property
    def member_ids(self) -> set[int]:
        """Everyone the page names: the initiator and the authors of comments and replies."""
        ids = {self.campaign.initiator_id}
        for comment in self.comments:
            ids.add(comment.author_id)
            ids.update(reply.author_id for reply in comment.replies)
        return ids


def visible_campaign(session: Session, campaign_id: int, viewer_id: int | None) -> Campaign:
    campaign = session.get(Campaign, campaign_id)
    viewer = session.get(User, viewer_id) if viewer_id else None
    if campaign is None or not can_see(campaign, viewer):
        raise NotFound("No such campaign.")
    return campaign


def _tier_views(session: Session, campaign: Campaign) -> list[TierView]:
    counts = dict(
        session.execute(
            select(Pledge.tier_id, func.count(Pledge.id))
            .where(Pledge.campaign_id == campaign.id, Pledge.status.in_(COUNTING))
            .group_by(Pledge.tier_id)
        ).all()
    )
    tiers = session.scalars(
        select(RewardTier)
        .where(RewardTier.campaign_id == campaign.id)
        .order_by(RewardTier.min_pledge_minor, RewardTier.id)
    ).all()
    return [
        TierView(
            id=t.id,
            title=t.title,
            description=t.description,
            min_pledge_minor=t.min_pledge_minor,
            quantity_limit=t.quantity_limit,
            remaining=t.remaining,
            sold_out=t.sold_out,
            retired=t.retired_at is not None,
            backers=int(counts.get(t.id, 0)),
            delivery_month=t.delivery_month,
            shipped_at=t.shipped_at,
        )
        for t in tiers
    ]


def _comment_views(session: Session, campaign_id: int) -> list[CommentView]:
    rows = session.execute(
        select(Comment, User.display_name)
        .join(User, User.id == Comment.author_id)
        .where(Comment.campaign_id == campaign_id)
        .order_by(Comment.id)
    ).all()
    replies: dict[int, list[CommentView]] = defaultdict(list)
    top: list[tuple[Comment, str]] = []
    for comment, name in rows:
        if comment.parent_id is None:
            top.append((comment, name))
        else:
            replies[comment.parent_id].append(
                CommentView(
                    comment.id,
                    comment.author_id,
                    name,
                    comment.body,
                    comment.by_initiator,
                    comment.created_at,
                )
            )
    return [
        CommentView(
            c.id, c.author_id, name, c.body, c.by_initiator, c.created_at, replies.get(c.id, [])
        )
        for c, name in reversed(top)
    ]


def campaign_page(session: Session, campaign_id: int, viewer_id: int | None) -> CampaignView:
    campaign = visible_campaign(session, campaign_id, viewer_id)
    viewer = session.get(User, viewer_id) if viewer_id else None
    is_owner = viewer is not None and viewer.id == campaign.initiator_id
    is_admin = viewer is not None and viewer.may(Permission.OVERSEE)
    my_pledge = None
    is_backer = False
    if viewer is not None:
        mine = session.scalars(
            select(Pledge)
            .where(Pledge.campaign_id == campaign.id, Pledge.backer_id == viewer.id)
            .order_by(Pledge.id.desc())
        ).all()
        is_backer = any(p.status in BACKER_STATUSES for p in mine)
        my_pledge = next(
            (p for p in mine if p.status in (*OPEN, PledgeStatus.ERRORED)), None
        ) or next((p for p in mine if p.status in BACKER_STATUSES), None)
    prog = progress(session, campaign)
    insiders = is_owner or is_admin or is_backer
    updates = [
        UpdateView(
            u.id,
            u.title,
            u.body_html if (u.visibility == "public" or insiders) else None,
            u.visibility,
            u.created_at,
        )
        for u in session.scalars(
            select(CampaignUpdate)
            .where(CampaignUpdate.campaign_id == campaign.id)
            .order_by(CampaignUpdate.id.desc())
        )
    ]
    stretch = [
        StretchView(g.id, g.amount_minor, g.description, prog.pledged_minor >= g.amount_minor)
        for g in session.scalars(
            select(StretchGoal)
            .where(StretchGoal.campaign_id == campaign.id)
            .order_by(StretchGoal.amount_minor)
        )
    ]
    taking = campaign.status == CampaignStatus.LIVE and rules.is_open(now(), campaign.deadline_at)
    view = CampaignView(
        campaign=campaign,
        initiator_name=get_user(session, campaign.initiator_id).display_name,
        progress=prog,
        tiers=_tier_views(session, campaign),
        stretch_goals=stretch,
        updates=updates,
        comments=_comment_views(session, campaign.id),
        my_pledge=my_pledge,
        is_owner=is_owner,
        is_admin=is_admin,
        is_backer=is_backer,
        taking_pledges=taking,
        rating=initiator_ratings(session, [campaign.initiator_id])[campaign.initiator_id],
        payout=session.scalar(select(Payout).where(Payout.campaign_id == campaign.id)),
    )
    view.badges.update(badges(session, view.member_ids))
    return view


def cover_filename(session: Session, campaign_id: int, viewer_id: int | None) -> str:
    campaign = visible_campaign(session, campaign_id, viewer_id)
    if not campaign.cover_filename:
        raise NotFound("This campaign has no cover image.")
    return campaign.cover_filename

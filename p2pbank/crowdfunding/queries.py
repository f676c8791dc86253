"""Read models for the crowdfunding pages and API. Who may see what is decided here too:
drafts only by their initiator (and admins), backers-only updates only by backers, the
dashboard (backers' names and amounts) only by the initiator and admins, a pledge only by
its backer."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import Integer, case, cast, func, select
from sqlalchemy.orm import Session

from p2pbank.clock import now
from p2pbank.crowdfunding import investors, rules
from p2pbank.crowdfunding.models import (
    OPEN,
    Campaign,
    CampaignEvent,
    CampaignStatus,
    CampaignUpdate,
    Comment,
    EventKind,
    Payout,
    Pledge,
    PledgeChange,
    PledgeStatus,
    RewardTier,
    StretchGoal,
)
from p2pbank.crowdfunding.services import BACKER_STATUSES, can_see, get_user
from p2pbank.errors import Forbidden, NotFound
from p2pbank.identity.models import Role, User
from p2pbank.paging import pages_for, paginate
from p2pbank.reputation import rank_by_wilson
from p2pbank.trust.badges import Badge, badges

COUNTING = [PledgeStatus.PENDING, PledgeStatus.ERRORED, PledgeStatus.COLLECTED]
SORTS = ("ending_soon", "most_funded", "newest", "best_rated")
STATUS_FILTERS = ("live", "succeeded", "ended", "all")
PER_PAGE_MAX = 50


# --- progress --------------------------------------------------------------------------------


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


# --- explore ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CampaignCard:
    id: int
    title: str
    summary: str
    category: str
    kind: str
    funding_model: str
    status: str
    currency: str
    goal_minor: int
    pledged_minor: int
    percent: int
    backers: int
    days_left: int
    deadline_at: datetime | None
    cover_filename: str | None
    initiator_name: str
    initiator_id: int = 0
    initiator_badge: Badge | None = None
    rating: float | None = None  # Wilson lower bound of the delivery verdicts
    rewards_confirmed: int = 0
    rewards_answered: int = 0


@dataclass(frozen=True)
class ExplorePage:
    items: list[CampaignCard]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return pages_for(self.total, self.per_page)


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


def _pledged_subquery():
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


def explore(
    session: Session,
    *,
    category: str | None = None,
    funding_model: str | None = None,
    kind: str | None = None,
    status: str = "live",
    sort: str = "ending_soon",
    q: str | None = None,
    page: int = 1,
    per_page: int = 12,
) -> ExplorePage:
    """Public campaigns, filtered and sorted. `best_rated` ranks by the Wilson lower bound
    of the initiators' reward verdicts (few verdicts rank below many equally good ones)."""
    per_page = max(1, min(per_page, PER_PAGE_MAX))
    page = max(1, page)
    pledged = _pledged_subquery()
    pledged_sum = func.coalesce(pledged.c.pledged, 0)
    stmt = (
        select(Campaign, pledged_sum, func.coalesce(pledged.c.backers, 0), User.display_name)
        .join(User, User.id == Campaign.initiator_id)
        .outerjoin(pledged, pledged.c.campaign_id == Campaign.id)
    )
    if status == "live":
        stmt = stmt.where(Campaign.status == CampaignStatus.LIVE)
    elif status == "succeeded":
        stmt = stmt.where(Campaign.status == CampaignStatus.SUCCEEDED)
    elif status == "ended":
        stmt = stmt.where(
            Campaign.status.in_(
                [
                    CampaignStatus.COLLECTING,
                    CampaignStatus.SUCCEEDED,
                    CampaignStatus.FAILED,
                    CampaignStatus.CANCELLED,
                ]
            )
        )
    else:
        stmt = stmt.where(Campaign.status != CampaignStatus.DRAFT)
    if category:
        stmt = stmt.where(Campaign.category == category)
    if funding_model:
        stmt = stmt.where(Campaign.funding_model == funding_model)
    if kind:
        stmt = stmt.where(Campaign.kind == kind)
    if q and q.strip():
        text = q.strip().lower()  # % and _ are matched literally
        stmt = stmt.where(
            func.lower(Campaign.title).contains(text, autoescape=True)
            | func.lower(Campaign.summary).contains(text, autoescape=True)
        )
    percent = cast(pledged_sum * 10_000 / Campaign.goal_minor, Integer)
    if sort == "most_funded":
        stmt = stmt.order_by(percent.desc(), pledged_sum.desc(), Campaign.id)
    elif sort == "newest":
        stmt = stmt.order_by(Campaign.launched_at.desc(), Campaign.id.desc())
    else:  # ending soon (and the order best_rated starts from)
        stmt = stmt.order_by(Campaign.deadline_at.asc(), Campaign.id)
    moment = now()
    if sort == "best_rated":  # ranked by every initiator's verdicts: in memory
        rows = session.execute(stmt).all()
        ratings = initiator_ratings(session, [row[0].initiator_id for row in rows])
        ranked = rank_by_wilson((row, *ratings[row[0].initiator_id]) for row in rows)
        rows = [row for row, _score in ranked]
        total = len(rows)
        window = rows[(page - 1) * per_page : page * per_page]
    else:
        window, total = paginate(session, stmt, page, per_page)
        ratings = initiator_ratings(session, [row[0].initiator_id for row in window])
    scored = dict(rank_by_wilson((i, *ratings[i]) for i in ratings))
    found = badges(session, [row[0].initiator_id for row in window])
    items = [
        CampaignCard(
            id=c.id,
            title=c.title,
            summary=c.summary,
            category=c.category,
            kind=c.kind,
            funding_model=c.funding_model,
            status=c.status,
            currency=c.currency,
            goal_minor=c.goal_minor,
            pledged_minor=int(amount),
            percent=rules.percent_funded(int(amount), c.goal_minor),
            backers=int(count),
            days_left=rules.days_left(moment, c.deadline_at)
            if c.status == CampaignStatus.LIVE
            else 0,
            deadline_at=c.deadline_at,
            cover_filename=c.cover_filename,
            initiator_name=name,
            initiator_id=c.initiator_id,
            initiator_badge=found.get(c.initiator_id),
            rating=scored.get(c.initiator_id),
            rewards_confirmed=ratings[c.initiator_id][0],
            rewards_answered=ratings[c.initiator_id][1],
        )
        for c, amount, count, name in window
    ]
    return ExplorePage(items=items, total=total, page=page, per_page=per_page)


# --- one campaign -------------------------------------------------------------------------------


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
    is_admin = viewer is not None and viewer.has_role(Role.ADMIN)
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


# --- a backer's pledges --------------------------------------------------------------------------


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


def my_campaigns(session: Session, user_id: int) -> list[CampaignCard]:
    pledged = _pledged_subquery()
    rows = session.execute(
        select(
            Campaign,
            func.coalesce(pledged.c.pledged, 0),
            func.coalesce(pledged.c.backers, 0),
        )
        .outerjoin(pledged, pledged.c.campaign_id == Campaign.id)
        .where(Campaign.initiator_id == user_id)
        .order_by(Campaign.id.desc())
    ).all()
    name = get_user(session, user_id).display_name
    moment = now()
    return [
        CampaignCard(
            id=c.id,
            title=c.title,
            summary=c.summary,
            category=c.category,
            kind=c.kind,
            funding_model=c.funding_model,
            status=c.status,
            currency=c.currency,
            goal_minor=c.goal_minor,
            pledged_minor=int(amount),
            percent=rules.percent_funded(int(amount), c.goal_minor),
            backers=int(count),
            days_left=rules.days_left(moment, c.deadline_at)
            if c.status == CampaignStatus.LIVE
            else 0,
            deadline_at=c.deadline_at,
            cover_filename=c.cover_filename,
            initiator_name=name,
            initiator_id=user_id,
        )
        for c, amount, count in rows
    ]


# --- the initiator's dashboard -------------------------------------------------------------------


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
    actor = get_user(session, actor_id)
    campaign = session.get(Campaign, campaign_id)
    if campaign is None or not can_see(campaign, actor):
        raise NotFound("No such campaign.")
    if campaign.initiator_id != actor.id and not actor.has_role(Role.ADMIN):
        raise Forbidden("Only the campaign's initiator sees its dashboard.")
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
    series = rules.daily_totals(((at.date(), delta) for at, delta in changes), start, end)
    values = [v for _, v in series]

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
    tiers = [
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
    backer_rows = session.execute(
        select(Pledge, User.display_name, RewardTier.title)
        .join(User, User.id == Pledge.backer_id)
        .outerjoin(RewardTier, RewardTier.id == Pledge.tier_id)
        .where(Pledge.campaign_id == campaign.id)
        .order_by(Pledge.id.desc())
    ).all()
    refundable = campaign.status == CampaignStatus.COLLECTING
    backers = [
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


# --- crowdlending --------------------------------------------------------------------------------


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
    from p2pbank.crowdfunding.services import raised_by_owner

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
    if not (viewer.has_role(Role.AUDITOR) or viewer.has_role(Role.ADMIN)):
        raise Forbidden("Only auditors and admins read the event feed.")
    return campaign_events(session, since_id=since_id, limit=limit)

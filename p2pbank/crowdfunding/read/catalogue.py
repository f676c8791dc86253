"""Campaign cards: the explore page (filters, sorts, search, pages) and an initiator's own
campaigns.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, Select, cast, func, select
from sqlalchemy.orm import Session

from p2pbank.clock import now
from p2pbank.crowdfunding import rules
from p2pbank.crowdfunding.kernel import get_user
from p2pbank.crowdfunding.models import (
    Campaign,
    CampaignStatus,
)
from p2pbank.crowdfunding.read.progress import initiator_ratings, pledged_subquery
from p2pbank.identity.models import User
from p2pbank.paging import Paged, paginate
from p2pbank.reputation import rank_by_wilson
from p2pbank.trust.badges import Badge, badges

SORTS = ("ending_soon", "most_funded", "newest", "best_rated")
STATUS_FILTERS = ("live", "succeeded", "ended", "all")
PER_PAGE_MAX = 50


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
class ExplorePage(Paged):
    items: list[CampaignCard]


def _filtered(
    stmt: Select,
    *,
    status: str,
    category: str | None,
    funding_model: str | None,
    kind: str | None,
    q: str | None,
) -> Select:
    """The explore filters: which statuses, category, funding model, kind, and the search."""
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
    return stmt


def _ordered(stmt: Select, sort: str, pledged_sum: Any) -> Select:
    """Most funded (by percent), newest, or ending soonest (best_rated starts from it)."""
    percent = cast(pledged_sum * 10_000 / Campaign.goal_minor, Integer)
    if sort == "most_funded":
        stmt = stmt.order_by(percent.desc(), pledged_sum.desc(), Campaign.id)
    elif sort == "newest":
        stmt = stmt.order_by(Campaign.launched_at.desc(), Campaign.id.desc())
    else:  # ending soon (and the order best_rated starts from)
        stmt = stmt.order_by(Campaign.deadline_at.asc(), Campaign.id)
    return stmt


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
    pledged = pledged_subquery()
    pledged_sum = func.coalesce(pledged.c.pledged, 0)
    stmt = (
        select(Campaign, pledged_sum, func.coalesce(pledged.c.backers, 0), User.display_name)
        .join(User, User.id == Campaign.initiator_id)
        .outerjoin(pledged, pledged.c.campaign_id == Campaign.id)
    )
    stmt = _filtered(
        stmt, status=status, category=category, funding_model=funding_model, kind=kind, q=q
    )
    stmt = _ordered(stmt, sort, pledged_sum)
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
        _card(
            c,
            int(amount),
            int(count),
            name,
            moment,
            initiator_badge=found.get(c.initiator_id),
            rating=scored.get(c.initiator_id),
            rewards_confirmed=ratings[c.initiator_id][0],
            rewards_answered=ratings[c.initiator_id][1],
        )
        for c, amount, count, name in window
    ]
    return ExplorePage(items=items, total=total, page=page, per_page=per_page)


def my_campaigns(session: Session, user_id: int) -> list[CampaignCard]:
    pledged = pledged_subquery()
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
    return [_card(c, int(amount), int(count), name, moment) for c, amount, count in rows]


def _card(
    c: Campaign, pledged_minor: int, backers: int, name: str, moment: datetime, **more: Any
) -> CampaignCard:
    """A campaign as the lists show it; `more` carries what only the catalogue adds."""
    return CampaignCard(
        id=c.id,
        title=c.title,
        summary=c.summary,
        category=c.category,
        kind=c.kind,
        funding_model=c.funding_model,
        status=c.status,
        currency=c.currency,
        goal_minor=c.goal_minor,
        pledged_minor=pledged_minor,
        percent=rules.percent_funded(pledged_minor, c.goal_minor),
        backers=backers,
        days_left=rules.days_left(moment, c.deadline_at) if c.status == CampaignStatus.LIVE else 0,
        deadline_at=c.deadline_at,
        cover_filename=c.cover_filename,
        initiator_name=name,
        initiator_id=c.initiator_id,
        **more,
    )

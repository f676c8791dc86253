"""Campaign authoring: create, edit, tiers, stretch goals, cover, launch, cancel, updates and
comments. Each public function takes the session first and commits once; on any error it
rolls back, so a refused command leaves nothing behind. Pledges live in pledging.py,
the deadline in settlement.py, rewards in delivery.py, investor checks in investors.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from p2pbank.clock import now
from p2pbank.crowdfunding import content, rules
from p2pbank.crowdfunding.events import emit_event
from p2pbank.crowdfunding.models import (
    OPEN,
    Campaign,
    CampaignStatus,
    CampaignUpdate,
    Comment,
    EventKind,
    Pledge,
    PledgeChange,
    PledgeStatus,
    RewardTier,
    StretchGoal,
)
from p2pbank.errors import Forbidden, InvalidState, NotFound, ValidationFailed
from p2pbank.identity.models import OutboxMail, Role, User
from p2pbank.ledger import holds
from p2pbank.ledger import services as ledger
from p2pbank.ledger.models import AccountType
from p2pbank.money import Money

# Fields fixed at launch: backers pledged against them.
LOCKED_WHEN_LIVE = frozenset(
    {
        "goal_minor",
        "currency",
        "duration_days",
        "funding_model",
        "kind",
        "loan_rate_bps",
        "loan_term_months",
    }
)
EDITABLE_FIELDS = LOCKED_WHEN_LIVE | {
    "title",
    "summary",
    "story_md",
    "category",
    "owner_legal_name",
    "owner_registration",
    "risks_md",
}
TIER_LIMIT_MAX = 1_000_000
BACKER_STATUSES = (
    PledgeStatus.PENDING,
    PledgeStatus.ERRORED,
    PledgeStatus.COLLECTED,
    PledgeStatus.REFUNDED,
)


@contextmanager
def command(session: Session) -> Iterator[None]:
    """One command, one transaction: commit at the end, roll back on any error."""
    try:
        yield
        session.commit()
    except BaseException:
        session.rollback()
        raise


def refuse(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, field_errors={field: [message]})


# --- loading and who may do what ---------------------------------------------------------------


def get_user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("No such user.")
    return user


def load_campaign(session: Session, campaign_id: int, *, lock: str | None = None) -> Campaign:
    """The campaign, optionally row-locked: lock="update" (exclusive) or "share"."""
    stmt = select(Campaign).where(Campaign.id == campaign_id)
    if lock == "update":
        stmt = stmt.with_for_update()
    elif lock == "share":
        stmt = stmt.with_for_update(read=True)
    if lock:
        stmt = stmt.execution_options(populate_existing=True)
    campaign = session.scalar(stmt)
    if campaign is None:
        raise NotFound("No such campaign.")
    return campaign


def can_see(campaign: Campaign, viewer: User | None) -> bool:
    """Drafts are visible to their initiator and admins only."""
    if not campaign.is_draft:
        return True
    return viewer is not None and (
        viewer.id == campaign.initiator_id or viewer.has_role(Role.ADMIN)
    )


def own_campaign(
    session: Session, actor_id: int, campaign_id: int, *, lock: str | None = "update"
) -> Campaign:
    """The campaign if `actor_id` started it. Others get 404 for drafts (they cannot know
    it exists) and 403 for public campaigns."""
    actor = get_user(session, actor_id)
    campaign = load_campaign(session, campaign_id, lock=lock)
    if campaign.initiator_id != actor.id:
        if not can_see(campaign, actor):
            raise NotFound("No such campaign.")
        raise Forbidden("Only the campaign's initiator can do this.")
    return campaign


def _owner_or_admin(session: Session, actor_id: int, campaign_id: int) -> tuple[Campaign, User]:
    actor = get_user(session, actor_id)
    campaign = load_campaign(session, campaign_id, lock="update")
    if campaign.initiator_id != actor.id and not actor.has_role(Role.ADMIN):
        if not can_see(campaign, actor):
            raise NotFound("No such campaign.")
        raise Forbidden("Only the campaign's initiator or an admin can do this.")
    return campaign, actor


def mail(session: Session, user: User, subject: str, body: str) -> None:
    session.add(OutboxMail(to_address=user.email, subject=subject[:200], body=body[:5000]))


# --- field checks -------------------------------------------------------------------------------


def _text(values: dict, field: str, lo: int, hi: int, errors: dict) -> None:
    if field not in values:
        return
    value = values[field]
    if not isinstance(value, str):
        errors[field] = ["Must be text."]
        return
    value = value.strip()
    values[field] = value
    if not lo <= len(value) <= hi:
        errors[field] = [f"Must be {lo} to {hi} characters long."]


def _int_range(values: dict, field: str, lo: int, hi: int, message: str, errors: dict) -> None:
    if field not in values or values[field] is None:
        return
    value = values[field]
    if type(value) is not int or not lo <= value <= hi:
        errors[field] = [message]


def _check_fields(values: dict) -> None:
    """The campaign rules for whatever fields are given; raises with every problem."""
    errors: dict[str, list[str]] = {}
    _text(values, "title", 3, 120, errors)
    _text(values, "summary", 10, 300, errors)
    _text(values, "story_md", 0, content.STORY_MAX_CHARS, errors)
    _text(values, "owner_legal_name", 0, 200, errors)
    _text(values, "owner_registration", 0, 80, errors)
    _text(values, "risks_md", 0, content.STORY_MAX_CHARS, errors)
    _int_range(
        values,
        "goal_minor",
        rules.GOAL_MIN_MINOR,
        rules.GOAL_MAX_MINOR,
        "The goal must be between 100 and 5,000,000.",
        errors,
    )
    _int_range(
        values,
        "duration_days",
        rules.DURATION_MIN_DAYS,
        rules.DURATION_MAX_DAYS,
        "A campaign runs 1 to 60 days.",
        errors,
    )
    _int_range(
        values,
        "loan_rate_bps",
        rules.LOAN_RATE_MIN_BPS,
        rules.LOAN_RATE_MAX_BPS,
        "The rate must be between 0.01 % and 30 % a year.",
        errors,
    )
    _int_range(
        values,
        "loan_term_months",
        rules.LOAN_TERM_MIN_MONTHS,
        rules.LOAN_TERM_MAX_MONTHS,
        "The term must be 1 to 120 months.",
        errors,
    )
    if "category" in values and values["category"] not in rules.CATEGORIES:
        errors["category"] = ["Choose one of the categories."]
    if "currency" in values and values["currency"] not in rules.CURRENCIES:
        errors["currency"] = ["Choose EUR, GBP or USD."]
    if "funding_model" in values and values["funding_model"] not in set(rules.FundingModel):
        errors["funding_model"] = ["Choose all-or-nothing or keep-it-all."]
    if "kind" in values and values["kind"] not in set(rules.CampaignKind):
        errors["kind"] = ["Choose a reward or a loan campaign."]
    if errors:
        raise ValidationFailed("Some fields need attention.", field_errors=errors)


def _check_loan_shape(campaign: Campaign) -> None:
    """A loan campaign borrows in euro, all-or-nothing, at a fixed rate and term."""
    if not campaign.is_loan:
        return
    errors: dict[str, list[str]] = {}
    if campaign.funding_model != rules.FundingModel.ALL_OR_NOTHING:
        errors["funding_model"] = ["A loan campaign is all-or-nothing."]
    if campaign.currency != rules.LOAN_CURRENCY:
        errors["currency"] = ["A loan campaign borrows in euro."]
    if campaign.loan_rate_bps is None:
        errors["loan_rate_bps"] = ["Give the yearly interest rate."]
    if campaign.loan_term_months is None:
        errors["loan_term_months"] = ["Give the term in months."]
    if errors:
        raise ValidationFailed("The loan terms are incomplete.", field_errors=errors)


# --- campaigns ----------------------------------------------------------------------------------


def create_campaign(
    session: Session,
    initiator_id: int,
    *,
    title: str,
    summary: str,
    category: str,
    goal_minor: int,
    duration_days: int,
    currency: str = "EUR",
    funding_model: str = rules.FundingModel.ALL_OR_NOTHING,
    kind: str = rules.CampaignKind.REWARD,
    story_md: str = "",
    loan_rate_bps: int | None = None,
    loan_term_months: int | None = None,
    owner_legal_name: str = "",
    owner_registration: str = "",
    risks_md: str = "",
) -> Campaign:
    """A new draft. Only people with the initiator role start campaigns."""
    with command(session):
        user = get_user(session, initiator_id)
        if not user.has_role(Role.INITIATOR):
            raise Forbidden("Take the initiator role to start a campaign.")
        values = {
            "title": title,
            "summary": summary,
            "category": category,
            "goal_minor": goal_minor,
            "duration_days": duration_days,
            "currency": currency,
            "funding_model": str(funding_model),
            "kind": str(kind),
            "story_md": story_md,
            "loan_rate_bps": loan_rate_bps,
            "loan_term_months": loan_term_months,
            "owner_legal_name": owner_legal_name,
            "owner_registration": owner_registration,
            "risks_md": risks_md,
        }
        _check_fields(values)
        if values["kind"] == rules.CampaignKind.REWARD:
            values["loan_rate_bps"] = values["loan_term_months"] = None
        campaign = Campaign(
            initiator_id=user.id,
            story_html=content.render_markdown(values["story_md"]),
            platform_fee_bps=rules.DEFAULT_PLATFORM_FEE_BPS,
            status=CampaignStatus.DRAFT,
            **values,
        )
        _check_loan_shape(campaign)
        session.add(campaign)
        session.flush()
    return campaign


def update_campaign(session: Session, actor_id: int, campaign_id: int, **changes) -> Campaign:
    """Edit a draft freely; once live, the goal, duration, currency, model, type and loan
    terms are locked. Nothing can be edited after the campaign ends."""
    with command(session):
        campaign = own_campaign(session, actor_id, campaign_id)
        unknown = set(changes) - EDITABLE_FIELDS
        if unknown:
            raise refuse(sorted(unknown)[0], "This field cannot be changed.")
        if campaign.status not in (CampaignStatus.DRAFT, CampaignStatus.LIVE):
            raise InvalidState("The campaign has ended; it can no longer be edited.")
        if campaign.status == CampaignStatus.LIVE:
            locked = {
                f for f in LOCKED_WHEN_LIVE & set(changes) if changes[f] != getattr(campaign, f)
            }
            if locked:
                raise ValidationFailed(
                    "Goal, duration, currency, funding model and terms are locked once live.",
                    field_errors={f: ["Locked once the campaign is live."] for f in locked},
                )
        _check_fields(changes)
        if changes.get("kind", campaign.kind) == rules.CampaignKind.REWARD:
            changes["loan_rate_bps"] = changes["loan_term_months"] = None
        elif "kind" in changes and changes["kind"] != campaign.kind and campaign.tiers:
            raise refuse("kind", "Remove the reward tiers before turning this into a loan.")
        for name, value in changes.items():
            setattr(campaign, name, value)
        if "story_md" in changes:
            campaign.story_html = content.render_markdown(campaign.story_md)
        _check_loan_shape(campaign)
        session.flush()
    return campaign


def set_cover(
    session: Session, actor_id: int, campaign_id: int, data: bytes, *, folder: Path
) -> Campaign:
    """Store a re-encoded cover image and point the campaign at it (the old file goes)."""
    with command(session):
        campaign = own_campaign(session, actor_id, campaign_id)
        if campaign.status not in (CampaignStatus.DRAFT, CampaignStatus.LIVE):
            raise InvalidState("The campaign has ended; its cover can no longer change.")
        cover = content.store_cover(data, folder, f"c{campaign.id}")
        old = campaign.cover_filename
        campaign.cover_filename = cover.filename
        session.flush()
    if old:
        content.cover_path(folder, old).unlink(missing_ok=True)
    return campaign


def launch_campaign(session: Session, actor_id: int, campaign_id: int) -> Campaign:
    """draft -> live: the deadline is set, the escrow account opened, the fields locked."""
    with command(session):
        campaign = own_campaign(session, actor_id, campaign_id)
        initiator = get_user(session, actor_id)
        if campaign.status != CampaignStatus.DRAFT:
            raise InvalidState("Only a draft can be launched.")
        if not initiator.kyc_verified:
            raise Forbidden("Finish the identity check (KYC) before you launch a campaign.")
        if not campaign.story_md.strip():
            raise refuse("story_md", "Tell your story before you launch.")
        low = [g for g in campaign.stretch_goals if g.amount_minor <= campaign.goal_minor]
        if low:
            raise refuse("stretch_goals", "Stretch goals must be above the goal.")
        if campaign.is_loan:
            _check_loan_launch(session, campaign)
        moment = now()
        campaign.move_to(CampaignStatus.LIVE)
        campaign.launched_at = moment
        campaign.deadline_at = rules.deadline_for(moment, campaign.duration_days)
        ledger.ensure_account(
            session,
            campaign.escrow_code,
            type=AccountType.LIABILITY,
            currency=campaign.currency,
            no_negative=True,
        )
        emit_event(
            session,
            campaign_id=campaign.id,
            kind=EventKind.LAUNCHED,
            subject_id=campaign.initiator_id,
            amount_minor=campaign.goal_minor,
            dedup_key=str(campaign.id),
        )
        session.flush()
    return campaign


def raised_by_owner(session: Session, initiator_id: int, since, *, exclude_id: int = 0) -> int:
    """What a project owner raised or is raising through loan campaigns since `since`:
    the goal of live ones, what was collected by finished ones (Art. 1(2)(c))."""
    live = session.scalar(
        select(func.coalesce(func.sum(Campaign.goal_minor), 0)).where(
            Campaign.initiator_id == initiator_id,
            Campaign.kind == rules.CampaignKind.LOAN,
            Campaign.status.in_([CampaignStatus.LIVE, CampaignStatus.COLLECTING]),
            Campaign.launched_at >= since,
            Campaign.id != exclude_id,
        )
    )
    done = session.scalar(
        select(func.coalesce(func.sum(Pledge.amount_minor), 0))
        .join(Campaign, Campaign.id == Pledge.campaign_id)
        .where(
            Campaign.initiator_id == initiator_id,
            Campaign.kind == rules.CampaignKind.LOAN,
            Campaign.status == CampaignStatus.SUCCEEDED,
            Campaign.launched_at >= since,
            Pledge.status == PledgeStatus.COLLECTED,
        )
    )
    return int(live or 0) + int(done or 0)


def _check_loan_launch(session: Session, campaign: Campaign) -> None:
    _check_loan_shape(campaign)
    errors: dict[str, list[str]] = {}
    if not campaign.owner_legal_name.strip():
        errors["owner_legal_name"] = ["Name the business that borrows."]
    if not campaign.owner_registration.strip():
        errors["owner_registration"] = ["Give the business registration number."]
    if not campaign.risks_md.strip():
        errors["risks_md"] = ["Describe the main risks for the information sheet."]
    if errors:
        raise ValidationFailed("The information sheet is incomplete.", field_errors=errors)
    since = rules.owner_cap_window_start(now())
    room = rules.owner_cap_room(
        raised_by_owner(session, campaign.initiator_id, since, exclude_id=campaign.id)
    )
    if campaign.goal_minor > room:
        raise refuse(
            "goal_minor",
            "A project owner may raise at most 5,000,000 euro in 12 months; "
            f"{Money(room, 'EUR')} is left.",
        )


def cancel_campaign(session: Session, actor_id: int, campaign_id: int, *, reason: str) -> Campaign:
    """The initiator (or an admin) calls it off before anything is collected: every hold
    is released, saved cards are let go (detached by the job), backers are told."""
    with command(session):
        campaign, actor = _owner_or_admin(session, actor_id, campaign_id)
        reason = (reason or "").strip()
        if not 3 <= len(reason) <= 300:
            raise refuse("reason", "Say in a few words why (3-300 characters).")
        if campaign.status not in (CampaignStatus.DRAFT, CampaignStatus.LIVE):
            raise InvalidState("Only a draft or live campaign can be cancelled.")
        campaign.move_to(CampaignStatus.CANCELLED)
        campaign.cancel_reason = reason
        campaign.finished_at = now()
        released = release_open_pledges(session, campaign, reason="campaign_cancelled")
        for backer in _people(session, {p.backer_id for p in released}):
            mail(
                session,
                backer,
                f"Campaign cancelled: {campaign.title}",
                f'The campaign "{campaign.title}" was cancelled ({reason}). '
                "Nothing was charged: any money held in your wallet is available again "
                "and your saved card will not be used.",
            )
        emit_event(
            session,
            campaign_id=campaign.id,
            kind=EventKind.CANCELLED,
            subject_id=campaign.initiator_id,
            actor_id=actor.id,
            detail=reason,
            dedup_key=str(campaign.id),
        )
    return campaign


def _people(session: Session, ids: set[int]) -> list[User]:
    if not ids:
        return []
    return list(session.scalars(select(User).where(User.id.in_(sorted(ids)))))


def release_open_pledges(session: Session, campaign: Campaign, *, reason: str) -> list[Pledge]:
    """Release every open pledge: holds go back to the wallets, card pledges are marked
    for detaching. Flushes only (used by cancel and by the failure path of settlement)."""
    pledges = session.scalars(
        select(Pledge)
        .where(Pledge.campaign_id == campaign.id, Pledge.status.in_(OPEN))
        .order_by(Pledge.id)
        .with_for_update()
    ).all()
    moment = now()
    for pledge in pledges:
        release_pledge(session, pledge, reason=reason, moment=moment)
    session.flush()
    return list(pledges)


def release_pledge(session: Session, pledge: Pledge, *, reason: str, moment) -> None:
    """One pledge let go without charging it. Flushes only."""
    if pledge.hold_ref is not None:
        holds.release_hold(
            session,
            pledge.hold_ref,
            idempotency_key=f"crowdfunding:pledge:{pledge.id}:release:v{pledge.version}",
        )
    pledge.move_to(PledgeStatus.RELEASED)
    pledge.released_at = moment
    pledge.release_reason = reason
    session.add(
        PledgeChange(
            campaign_id=pledge.campaign_id,
            pledge_id=pledge.id,
            delta_minor=-pledge.amount_minor,
            reason=reason[:24],
        )
    )


# --- tiers and stretch goals ------------------------------------------------------------------


def _check_tier(values: dict) -> None:
    errors: dict[str, list[str]] = {}
    _text(values, "title", 1, 80, errors)
    _text(values, "description", 0, 1000, errors)
    _int_range(
        values,
        "min_pledge_minor",
        rules.MIN_PLEDGE_MINOR,
        rules.MAX_PLEDGE_MINOR,
        "The minimum pledge must be at least 1.00.",
        errors,
    )
    _int_range(
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
            raise refuse("min_pledge_minor", "The minimum pledge cannot exceed the goal.")
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
            raise refuse(sorted(unknown)[0], "This field cannot be changed.")
        _check_tier(changes)
        tier = session.scalar(
            select(RewardTier)
            .where(RewardTier.id == tier.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        if (
            campaign.status == CampaignStatus.LIVE
            and "min_pledge_minor" in changes
            and changes["min_pledge_minor"] != tier.min_pledge_minor
        ):
            raise refuse("min_pledge_minor", "The minimum pledge is locked once live.")
        limit = changes.get("quantity_limit", tier.quantity_limit)
        if limit is not None and limit < tier.claimed:
            raise refuse("quantity_limit", f"{tier.claimed} backers already chose this tier.")
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
        _text(values, "description", 3, 300, errors)
        if errors:
            raise ValidationFailed("The stretch goal needs attention.", field_errors=errors)
        if type(amount_minor) is not int or not (
            campaign.goal_minor < amount_minor <= rules.GOAL_MAX_MINOR * 10
        ):
            raise refuse("amount_minor", "A stretch goal is above the campaign's goal.")
        if any(g.amount_minor == amount_minor for g in campaign.stretch_goals):
            raise refuse("amount_minor", "There is already a stretch goal at this amount.")
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


# --- updates and comments ------------------------------------------------------------------------


def post_update(
    session: Session,
    actor_id: int,
    campaign_id: int,
    *,
    title: str,
    body_md: str,
    visibility: str = "public",
) -> CampaignUpdate:
    """The initiator tells everyone (or only the backers) how it is going; backers are
    mailed."""
    with command(session):
        campaign = own_campaign(session, actor_id, campaign_id, lock=None)
        if campaign.is_draft:
            raise InvalidState("Launch the campaign before posting updates.")
        values = {"title": title, "body_md": body_md}
        errors: dict[str, list[str]] = {}
        _text(values, "title", 3, 150, errors)
        _text(values, "body_md", 1, content.UPDATE_MAX_CHARS, errors)
        if visibility not in ("public", "backers"):
            errors["visibility"] = ["Choose public or backers only."]
        if errors:
            raise ValidationFailed("The update needs attention.", field_errors=errors)
        update = CampaignUpdate(
            campaign_id=campaign.id,
            author_id=actor_id,
            title=values["title"],
            body_md=values["body_md"],
            body_html=content.render_markdown(values["body_md"]),
            visibility=visibility,
        )
        session.add(update)
        backer_ids = set(
            session.scalars(
                select(Pledge.backer_id).where(
                    Pledge.campaign_id == campaign.id, Pledge.status.in_(BACKER_STATUSES)
                )
            )
        )
        for backer in _people(session, backer_ids):
            mail(
                session,
                backer,
                f"Update from {campaign.title}: {values['title']}",
                f"{values['title']}\n\n{values['body_md']}",
            )
        session.flush()
    return update


def is_backer(session: Session, campaign_id: int, user_id: int) -> bool:
    return (
        session.scalar(
            select(Pledge.id)
            .where(
                Pledge.campaign_id == campaign_id,
                Pledge.backer_id == user_id,
                Pledge.status.in_(BACKER_STATUSES),
            )
            .limit(1)
        )
        is not None
    )


def post_comment(
    session: Session, actor_id: int, campaign_id: int, *, body: str, parent_id: int | None = None
) -> Comment:
    """Members talk with the initiator (the co-creation channel); replies are one level
    deep and the initiator's are marked."""
    with command(session):
        author = get_user(session, actor_id)
        campaign = load_campaign(session, campaign_id)
        if not can_see(campaign, author):
            raise NotFound("No such campaign.")
        if campaign.is_draft:
            raise InvalidState("Comments open when the campaign is launched.")
        values = {"body": body}
        errors: dict[str, list[str]] = {}
        _text(values, "body", 1, 2000, errors)
        if errors:
            raise ValidationFailed("The comment needs attention.", field_errors=errors)
        if parent_id is not None:
            parent = session.get(Comment, parent_id)
            if parent is None or parent.campaign_id != campaign.id:
                raise refuse("parent_id", "That comment is not on this campaign.")
            if parent.parent_id is not None:
                parent_id = parent.parent_id  # replies stay one level deep
        comment = Comment(
            campaign_id=campaign.id,
            author_id=author.id,
            parent_id=parent_id,
            body=values["body"],
            by_initiator=author.id == campaign.initiator_id,
        )
        session.add(comment)
        session.flush()
    return comment

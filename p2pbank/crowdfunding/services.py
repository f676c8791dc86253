"""Campaign commands: create, edit, cover, launch, cancel (releasing the pledges), with the
campaign field rules. Tiers and stretch goals are in tiers.py, updates and comments in
discussion.py; what every command needs (loading, who may do what) in kernel.py, what
people are told (and mailed) in notices.py."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from p2pbank.clock import now
from p2pbank.crowdfunding import content, notices, rules
from p2pbank.crowdfunding.checks import (
    EDITABLE_FIELDS,
    LOCKED_WHEN_LIVE,
    check_fields,
    check_loan_launch,
    check_loan_shape,
)
from p2pbank.crowdfunding.events import emit_event
from p2pbank.crowdfunding.kernel import (
    get_user,
    own_campaign,
    owner_or_admin,
)
from p2pbank.crowdfunding.models import (
    OPEN,
    Campaign,
    CampaignStatus,
    EventKind,
    Pledge,
    PledgeChange,
    PledgeStatus,
)
from p2pbank.errors import Forbidden, InvalidState, ValidationFailed
from p2pbank.ledger import holds
from p2pbank.ledger import services as ledger
from p2pbank.ledger.models import AccountType
from p2pbank.permissions import Permission, require
from p2pbank.uow import command

BACKER_STATUSES = (
    PledgeStatus.PENDING,
    PledgeStatus.ERRORED,
    PledgeStatus.COLLECTED,
    PledgeStatus.REFUNDED,
)


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
        require(
            user.role_names,
            Permission.START_CAMPAIGNS,
            "Take the initiator role to start a campaign.",
        )
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
        check_fields(values)
        if values["kind"] == rules.CampaignKind.REWARD:
            values["loan_rate_bps"] = values["loan_term_months"] = None
        campaign = Campaign(
            initiator_id=user.id,
            story_html=content.render_markdown(values["story_md"]),
            platform_fee_bps=rules.DEFAULT_PLATFORM_FEE_BPS,
            status=CampaignStatus.DRAFT,
            **values,
        )
        check_loan_shape(campaign)
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
            raise ValidationFailed.on(sorted(unknown)[0], "This field cannot be changed.")
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
        check_fields(changes)
        if changes.get("kind", campaign.kind) == rules.CampaignKind.REWARD:
            changes["loan_rate_bps"] = changes["loan_term_months"] = None
        elif "kind" in changes and changes["kind"] != campaign.kind and campaign.tiers:
            raise ValidationFailed.on(
                "kind", "Remove the reward tiers before turning this into a loan."
            )
        for name, value in changes.items():
            setattr(campaign, name, value)
        if "story_md" in changes:
            campaign.story_html = content.render_markdown(campaign.story_md)
        check_loan_shape(campaign)
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
            raise ValidationFailed.on("story_md", "Tell your story before you launch.")
        low = [g for g in campaign.stretch_goals if g.amount_minor <= campaign.goal_minor]
        if low:
            raise ValidationFailed.on("stretch_goals", "Stretch goals must be above the goal.")
        if campaign.is_loan:
            check_loan_launch(session, campaign)
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


def cancel_campaign(session: Session, actor_id: int, campaign_id: int, *, reason: str) -> Campaign:
    """The initiator (or an admin) calls it off before anything is collected: every hold
    is released, saved cards are let go (detached by the job), backers are told."""
    with command(session):
        campaign, actor = owner_or_admin(session, actor_id, campaign_id)
        reason = (reason or "").strip()
        if not 3 <= len(reason) <= 300:
            raise ValidationFailed.on("reason", "Say in a few words why (3-300 characters).")
        if campaign.status not in (CampaignStatus.DRAFT, CampaignStatus.LIVE):
            raise InvalidState("Only a draft or live campaign can be cancelled.")
        campaign.move_to(CampaignStatus.CANCELLED)
        campaign.cancel_reason = reason
        campaign.finished_at = now()
        released = release_open_pledges(session, campaign, reason="campaign_cancelled")
        notices.cancelled(session, campaign, {p.backer_id for p in released})
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

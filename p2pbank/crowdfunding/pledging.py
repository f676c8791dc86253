"""Pledges: make, change, cancel, revoke (loan pledges in the reflection period).

From the wallet, the amount is held in the ledger until the deadline. By card, the card is
saved now (cards.py) and charged only if the campaign succeeds. A limited tier is claimed
with one conditional UPDATE (`claimed < limit`), so concurrent pledges can never oversell
it; a CHECK constraint backs that up. Each public function commits once.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from p2pbank.clock import now
from p2pbank.crowdfunding import investors, rules
from p2pbank.crowdfunding.events import emit_event
from p2pbank.crowdfunding.kernel import get_user, load_campaign
from p2pbank.crowdfunding.models import (
    OPEN,
    Campaign,
    CampaignStatus,
    EventKind,
    Pledge,
    PledgeChange,
    PledgeStatus,
    RewardTier,
)
from p2pbank.crowdfunding.services import release_pledge
from p2pbank.errors import Conflict, Forbidden, InvalidState, NotFound, ValidationFailed
from p2pbank.ledger import holds
from p2pbank.ledger import services as ledger
from p2pbank.money import Money
from p2pbank.permissions import Permission, require
from p2pbank.uow import command

CARD_SETUP_MINUTES = 60  # a card pledge whose card is not saved by then is let go
KEY_MAX = 100  # stored scoped by backer ("<id>:<key>") in a 120-character column


def hold_key(pledge: Pledge) -> str:
    return f"crowdfunding:pledge:{pledge.id}:hold:v{pledge.version}"


def release_key(pledge: Pledge) -> str:
    return f"crowdfunding:pledge:{pledge.id}:release:v{pledge.version}"


def _claim_slot(session: Session, tier_id: int) -> None:
    """Take one slot of a tier atomically; Conflict when it is sold out."""
    result = session.execute(
        update(RewardTier)
        .where(
            RewardTier.id == tier_id,
            (RewardTier.quantity_limit.is_(None))
            | (RewardTier.claimed < RewardTier.quantity_limit),
        )
        .values(claimed=RewardTier.claimed + 1)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise Conflict(
            "This reward is sold out.", field_errors={"tier_id": ["This reward is sold out."]}
        )


def free_slot(session: Session, tier_id: int) -> None:
    session.execute(
        update(RewardTier)
        .where(RewardTier.id == tier_id, RewardTier.claimed > 0)
        .values(claimed=RewardTier.claimed - 1)
        .execution_options(synchronize_session=False)
    )


def _check_amount(amount_minor: object) -> int:
    if type(amount_minor) is not int or not (
        rules.MIN_PLEDGE_MINOR <= amount_minor <= rules.MAX_PLEDGE_MINOR
    ):
        raise ValidationFailed.on("amount_minor", "Pledge at least 1.00.")
    return amount_minor


def _check_tier(session: Session, campaign: Campaign, tier_id: int | None, amount: int):
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


def _taking_pledges(campaign: Campaign) -> None:
    if campaign.status != CampaignStatus.LIVE or not rules.is_open(now(), campaign.deadline_at):
        raise InvalidState("This campaign is not taking pledges.")


def pledged_total(session: Session, campaign_id: int) -> int:
    """Everything pledged and not let go (before fees)."""
    return int(
        session.scalar(
            select(func.coalesce(func.sum(Pledge.amount_minor), 0)).where(
                Pledge.campaign_id == campaign_id,
                Pledge.status.in_(
                    [PledgeStatus.PENDING, PledgeStatus.ERRORED, PledgeStatus.COLLECTED]
                ),
            )
        )
        or 0
    )


def _loan_room(session: Session, campaign: Campaign, *, excluding: int = 0) -> int:
    """A loan campaign borrows exactly its goal: pledges stop there."""
    open_total = session.scalar(
        select(func.coalesce(func.sum(Pledge.amount_minor), 0)).where(
            Pledge.campaign_id == campaign.id,
            Pledge.status.in_([PledgeStatus.PENDING]),
            Pledge.id != excluding,
        )
    )
    return campaign.goal_minor - int(open_total or 0)


def pledge(
    session: Session,
    backer_id: int,
    campaign_id: int,
    *,
    amount_minor: int,
    idempotency_key: str,
    tier_id: int | None = None,
    method: str = rules.PayMethod.WALLET,
    acknowledge_risk: bool = False,
) -> Pledge:
    """Back a live campaign. The same idempotency key from the same backer returns the
    pledge it made; a backer has one open pledge per campaign and changes it."""
    key = (idempotency_key or "").strip()
    if not 8 <= len(key) <= KEY_MAX:
        raise ValidationFailed.on(
            "idempotency_key", "An idempotency key of 8-100 characters is required."
        )
    with command(session):
        backer = get_user(session, backer_id)
        scoped = f"{backer.id}:{key}"
        existing = session.scalar(select(Pledge).where(Pledge.idempotency_key == scoped))
        if existing is not None:
            if (
                existing.campaign_id != campaign_id
                or existing.tier_id != tier_id
                or existing.method != method
            ):
                raise Conflict("This idempotency key was used for a different pledge.")
            return existing
        # Pledges to one loan campaign are serialized (it borrows exactly its goal); other
        # pledges share the lock, which keeps the deadline settlement out while they run.
        kind = load_campaign(session, campaign_id).kind
        lock = "update" if kind == rules.CampaignKind.LOAN else "share"
        campaign = load_campaign(session, campaign_id, lock=lock)
        if campaign.is_draft:
            raise NotFound("No such campaign.")
        _taking_pledges(campaign)
        if campaign.initiator_id == backer.id:
            raise Forbidden("You cannot back your own campaign.")
        if method not in set(rules.PayMethod):
            raise ValidationFailed.on("method", "Pay from your wallet or by card.")
        amount = _check_amount(amount_minor)
        tier = _check_tier(session, campaign, tier_id, amount)
        already = session.scalar(
            select(Pledge.id).where(
                Pledge.campaign_id == campaign.id,
                Pledge.backer_id == backer.id,
                Pledge.status.in_(OPEN),
            )
        )
        if already is not None:
            raise Conflict("You already back this campaign; change your pledge instead.")
        moment = now()
        ack_at = None
        if campaign.is_loan:
            if method != rules.PayMethod.WALLET:
                raise ValidationFailed.on("method", "Loan pledges are paid from the wallet.")
            if not backer.kyc_verified:
                raise Forbidden("Finish the identity check (KYC) before you lend.")
            require(
                backer.role_names,
                Permission.LEND_THROUGH_CAMPAIGNS,
                "Take the lender or backer role to lend through a campaign.",
            )
            check = investors.require_appropriate(
                session, backer.id, amount, acknowledged=acknowledge_risk
            )
            if check.needs_ack:
                ack_at = moment
            room = _loan_room(session, campaign)
            if amount > room:
                raise ValidationFailed.on(
                    "amount_minor",
                    f"Only {Money(max(room, 0), campaign.currency)} is left to lend.",
                )
        if tier is not None:
            _claim_slot(session, tier.id)
        row = Pledge(
            campaign_id=campaign.id,
            backer_id=backer.id,
            tier_id=tier.id if tier else None,
            amount_minor=amount,
            currency=campaign.currency,
            method=method,
            status=PledgeStatus.PENDING
            if method == rules.PayMethod.WALLET
            else PledgeStatus.AWAITING_CARD,
            idempotency_key=scoped,
            revocable_until=rules.revocable_until(moment) if campaign.is_loan else None,
            large_ack_at=ack_at,
            created_at=moment,
        )
        if method == rules.PayMethod.CARD:
            row.setup_expires_at = moment + timedelta(minutes=CARD_SETUP_MINUTES)
        session.add(row)
        session.flush()
        if method == rules.PayMethod.WALLET:
            ledger.ensure_wallet(session, backer.id, campaign.currency)
            held = holds.hold(
                session,
                account_code=ledger.wallet_code(backer.id, campaign.currency),
                amount=Money(amount, campaign.currency),
                idempotency_key=hold_key(row),
                ref_type="crowdfunding_pledge",
                ref_id=row.id,
                memo=f"Pledge to campaign {campaign.id}",
            )
            row.hold_ref = held.id
            session.add(
                PledgeChange(
                    campaign_id=campaign.id, pledge_id=row.id, delta_minor=amount, reason="pledged"
                )
            )
        session.flush()
    return row


def own_pledge(session: Session, backer_id: int, pledge_id: int, *, lock: bool = True) -> Pledge:
    """The backer's own pledge (row-locked); anyone else's is indistinguishable from none."""
    stmt = select(Pledge).where(Pledge.id == pledge_id)
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    row = session.scalar(stmt)
    if row is None or row.backer_id != backer_id:
        raise NotFound("No such pledge.")
    return row


def change_pledge(
    session: Session,
    backer_id: int,
    pledge_id: int,
    *,
    amount_minor: int,
    tier_id: int | None = None,
) -> Pledge:
    """Change the amount or the reward until the deadline; in the last 24 hours only
    raise it. A wallet pledge's hold is replaced by one for the new amount."""
    with command(session):
        row = own_pledge(session, backer_id, pledge_id)
        campaign = load_campaign(session, row.campaign_id, lock="share")
        if row.status != PledgeStatus.PENDING:
            raise InvalidState("Only a pledge that is waiting for the deadline can change.")
        if campaign.is_loan:
            raise InvalidState(
                "A loan pledge cannot be changed; revoke it in the reflection period and "
                "pledge again."
            )
        _taking_pledges(campaign)
        amount = _check_amount(amount_minor)
        reason = rules.change_refusal(now(), campaign.deadline_at, row.amount_minor, amount)
        if reason:
            raise ValidationFailed.on("amount_minor", reason)
        new_tier = _check_tier(session, campaign, tier_id, amount)
        new_tier_id = new_tier.id if new_tier else None
        if new_tier_id == row.tier_id and amount == row.amount_minor:
            return row
        if new_tier_id != row.tier_id:
            if row.tier_id is not None:
                free_slot(session, row.tier_id)
            if new_tier_id is not None:
                _claim_slot(session, new_tier_id)
            row.tier_id = new_tier_id
        delta = amount - row.amount_minor
        if row.method == rules.PayMethod.WALLET and delta:
            holds.release_hold(session, row.hold_ref, idempotency_key=release_key(row))
            row.version += 1
            held = holds.hold(
                session,
                account_code=ledger.wallet_code(row.backer_id, row.currency),
                amount=Money(amount, row.currency),
                idempotency_key=hold_key(row),
                ref_type="crowdfunding_pledge",
                ref_id=row.id,
                memo=f"Pledge to campaign {campaign.id}",
            )
            row.hold_ref = held.id
        elif delta:
            row.version += 1
        row.amount_minor = amount
        if delta:
            session.add(
                PledgeChange(
                    campaign_id=campaign.id, pledge_id=row.id, delta_minor=delta, reason="changed"
                )
            )
        session.flush()
    return row


def cancel_pledge(session: Session, backer_id: int, pledge_id: int) -> Pledge:
    """Withdraw a pledge before the deadline (not in the last 24 hours). A loan pledge is
    withdrawn by revoking it within its reflection period."""
    with command(session):
        row = own_pledge(session, backer_id, pledge_id)
        campaign = load_campaign(session, row.campaign_id, lock="share")
        if row.status not in OPEN:
            raise InvalidState("This pledge is no longer open.")
        if campaign.is_loan:
            raise InvalidState(
                "A loan pledge is binding once the 4-day reflection period is over; "
                "within it, revoke the pledge."
            )
        if row.status == PledgeStatus.PENDING:
            reason = rules.change_refusal(now(), campaign.deadline_at, row.amount_minor, None)
            if reason:
                raise InvalidState(reason)
        if row.tier_id is not None:
            free_slot(session, row.tier_id)
        if row.status == PledgeStatus.AWAITING_CARD:
            row.move_to(PledgeStatus.RELEASED)
            row.released_at = now()
            row.release_reason = "cancelled_by_backer"
        else:
            release_pledge(session, row, reason="cancelled_by_backer", moment=now())
        session.flush()
    return row


def revoke_pledge(session: Session, backer_id: int, pledge_id: int) -> Pledge:
    """EU 2020/1503 Art. 22(2): within 4 calendar days of pledging, a loan pledge can be
    revoked without a reason and without cost, even after the deadline."""
    with command(session):
        row = own_pledge(session, backer_id, pledge_id)
        campaign = load_campaign(session, row.campaign_id, lock="share")
        if not campaign.is_loan:
            raise InvalidState("Only loan pledges have a reflection period; cancel it instead.")
        if row.status != PledgeStatus.PENDING:
            raise InvalidState("This pledge is no longer open.")
        if not rules.can_revoke(row.created_at, now()):
            raise InvalidState("The 4-day reflection period of this pledge is over.")
        holds.release_hold(session, row.hold_ref, idempotency_key=release_key(row))
        moment = now()
        row.move_to(PledgeStatus.REVOKED)
        row.released_at = moment
        row.release_reason = "revoked"
        session.add(
            PledgeChange(
                campaign_id=campaign.id,
                pledge_id=row.id,
                delta_minor=-row.amount_minor,
                reason="revoked",
            )
        )
        emit_event(
            session,
            campaign_id=campaign.id,
            kind=EventKind.PLEDGE_REVOKED,
            subject_id=row.backer_id,
            pledge_id=row.id,
            amount_minor=row.amount_minor,
            dedup_key=str(row.id),
        )
        session.flush()
    return row

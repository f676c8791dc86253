"""What happens at and after the deadline: decide, collect, pay out or release, refund.

* All-or-nothing, goal reached: wallet holds are captured into `campaign:{id}:escrow`;
  saved cards are charged off-session, one command per pledge, each with its own
  idempotency key; a declined card puts the pledge in `errored` and the backer has 7 days
  to fix it. The campaign is `collecting` until every pledge is collected or dropped;
  then the escrow pays the initiator minus the platform fee and the processing fees.
* All-or-nothing, goal missed: every hold released, every card let go, backers told.
* Keep-it-all: whatever was pledged is collected and paid out.
* Loan campaigns wait in `collecting` until the last reflection period is over, then
  decide on what is left, and issue the loan (see loans.py).

Each public function is one command with one commit. `due.run_due` is the job's step and
calls them in turn, so a crash between two of them loses nothing: the next run carries on.
Card collection is in collection.py, refunds in refunds.py, the accounts in books.py."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from p2pbank.clock import now
from p2pbank.crowdfunding import notices, rules
from p2pbank.crowdfunding.books import (
    card_fees_code,
    ensure_card_fees_account,
    ensure_fees_income,
    pledges_in,
    total_of,
)
from p2pbank.crowdfunding.events import emit_event, open_ratings
from p2pbank.crowdfunding.kernel import load_campaign
from p2pbank.crowdfunding.loans import LoanIssuer, settle_loan_campaign
from p2pbank.crowdfunding.models import (
    Campaign,
    CampaignStatus,
    EventKind,
    Payout,
    Pledge,
    PledgeStatus,
)
from p2pbank.crowdfunding.services import release_open_pledges
from p2pbank.errors import InvalidState
from p2pbank.ledger import holds
from p2pbank.ledger import services as ledger
from p2pbank.uow import command


def close_campaign(
    session: Session, campaign_id: int, *, loan_issuer: LoanIssuer | None = None
) -> Campaign:
    """Decide a live campaign whose deadline has come (a no-op before it, or twice)."""
    with command(session):
        campaign = load_campaign(session, campaign_id, lock="update")
        if campaign.status != CampaignStatus.LIVE or now() < campaign.deadline_at:
            return campaign
        moment = now()
        campaign.closed_at = moment
        # A card pledge whose card was never saved was never a pledge.
        for row in pledges_in(session, campaign.id, PledgeStatus.AWAITING_CARD):
            row.move_to(PledgeStatus.RELEASED)
            row.released_at = moment
            row.release_reason = "card_not_saved"
        pending = pledges_in(session, campaign.id, PledgeStatus.PENDING)
        if not rules.is_funded(campaign.funding_model, total_of(pending), campaign.goal_minor):
            _fail(session, campaign, reason="goal_missed")
            return campaign
        campaign.move_to(CampaignStatus.COLLECTING)
        if not campaign.is_loan:
            for row in pending:
                if row.method == rules.PayMethod.WALLET:
                    _capture_wallet(session, campaign, row)
        finish_if_done(session, campaign, loan_issuer)
    return campaign


def _capture_wallet(session: Session, campaign: Campaign, row: Pledge) -> None:
    holds.capture_hold(
        session,
        row.hold_ref,
        to_code=campaign.escrow_code,
        idempotency_key=f"crowdfunding:pledge:{row.id}:capture",
        kind="pledge_capture",
        memo=f"Pledge {row.id} to campaign {campaign.id}",
    )
    record_collected(session, campaign, row, fee_minor=0)


def record_collected(session: Session, campaign: Campaign, row: Pledge, *, fee_minor: int) -> None:
    row.move_to(PledgeStatus.COLLECTED)
    row.collected_at = now()
    row.processing_fee_minor = fee_minor
    row.fix_until = None
    row.error_message = ""
    emit_event(
        session,
        campaign_id=campaign.id,
        kind=EventKind.PLEDGE_COLLECTED,
        subject_id=row.backer_id,
        pledge_id=row.id,
        amount_minor=row.amount_minor,
        dedup_key=str(row.id),
    )
    notices.pledge_charged(session, campaign, row)


def _fail(session: Session, campaign: Campaign, *, reason: str) -> None:
    """Nothing is charged: open pledges are released, backers and initiator told."""
    moment = now()
    backers = release_open_pledges(session, campaign, reason="campaign_failed")
    campaign.move_to(CampaignStatus.FAILED)
    campaign.closed_at = campaign.closed_at or moment
    campaign.finished_at = moment
    emit_event(
        session,
        campaign_id=campaign.id,
        kind=EventKind.FAILED,
        subject_id=campaign.initiator_id,
        detail=reason,
        dedup_key=str(campaign.id),
    )
    notices.failed(session, campaign, {p.backer_id for p in backers})
    session.flush()


def _outstanding(session: Session, campaign: Campaign, moment: datetime) -> bool:
    """Is anything still to be settled before the campaign can finish?"""
    if campaign.is_loan:
        revocable = session.scalar(
            select(func.count(Pledge.id)).where(
                Pledge.campaign_id == campaign.id,
                Pledge.status == PledgeStatus.PENDING,
                Pledge.revocable_until > moment,
            )
        )
        return bool(revocable)
    open_count = session.scalar(
        select(func.count(Pledge.id)).where(
            Pledge.campaign_id == campaign.id,
            Pledge.status.in_([PledgeStatus.PENDING, PledgeStatus.ERRORED]),
        )
    )
    return bool(open_count)


def finish_if_done(
    session: Session, campaign: Campaign, loan_issuer: LoanIssuer | None = None
) -> None:
    moment = now()
    if campaign.status != CampaignStatus.COLLECTING or _outstanding(session, campaign, moment):
        return
    if campaign.is_loan:
        pending = pledges_in(session, campaign.id, PledgeStatus.PENDING)
        if total_of(pending) < campaign.goal_minor:
            _fail(session, campaign, reason="revoked_below_goal")
            return
        if loan_issuer is None:
            return  # funded; waits until loans can be issued
        settle_loan_campaign(session, campaign, pending, loan_issuer)
        _succeeded(session, campaign)
        return
    collected = session.scalar(
        select(func.count(Pledge.id)).where(
            Pledge.campaign_id == campaign.id,
            Pledge.status.in_([PledgeStatus.COLLECTED, PledgeStatus.REFUNDED]),
        )
    )
    if not collected:
        _fail(session, campaign, reason="nothing_collected")
        return
    pay_out(session, campaign)
    _succeeded(session, campaign)


def _succeeded(session: Session, campaign: Campaign) -> None:
    campaign.move_to(CampaignStatus.SUCCEEDED)
    campaign.finished_at = now()
    emit_event(
        session,
        campaign_id=campaign.id,
        kind=EventKind.SUCCEEDED,
        subject_id=campaign.initiator_id,
        dedup_key=str(campaign.id),
    )
    backer_ids = set(
        session.scalars(
            select(Pledge.backer_id).where(
                Pledge.campaign_id == campaign.id, Pledge.status == PledgeStatus.COLLECTED
            )
        )
    )
    notices.succeeded(session, campaign, backer_ids)
    rewardless = select(Pledge.backer_id).where(
        Pledge.campaign_id == campaign.id,
        Pledge.status == PledgeStatus.COLLECTED,
        Pledge.tier_id.is_(None),
    )
    open_ratings(session, campaign, session.scalars(rewardless))  # rewards: when delivered
    session.flush()


def pay_out(session: Session, campaign: Campaign) -> Payout:
    """Empty the escrow in one entry: platform fee, processing fees, the rest to the
    initiator's wallet. Flushes only (part of finishing a campaign)."""
    collected, refunded, processing = _collected_refunded_fees(session, campaign)
    gross = collected - refunded
    escrow = ledger.find_account(session, campaign.escrow_code)
    if escrow is None or escrow.posted_minor != gross or escrow.held_minor:
        raise InvalidState(f"campaign {campaign.id}: the escrow does not match the pledges")
    split = rules.payout_split(gross, campaign.platform_fee_bps, processing)
    entry_id = _post_payout(session, campaign, gross, split) if gross else None
    payout = Payout(
        campaign_id=campaign.id,
        currency=campaign.currency,
        collected_minor=collected,
        refunded_minor=refunded,
        gross_minor=gross,
        platform_fee_bps=campaign.platform_fee_bps,
        platform_fee_minor=split.platform_fee_minor,
        processing_fee_minor=split.processing_fee_minor,
        absorbed_minor=split.absorbed_minor,
        net_minor=split.net_minor,
        entry_ref=entry_id,
        paid_at=now(),
    )
    session.add(payout)
    notices.paid_out(session, campaign, payout)
    emit_event(
        session,
        campaign_id=campaign.id,
        kind=EventKind.PAID_OUT,
        subject_id=campaign.initiator_id,
        amount_minor=split.net_minor,
        dedup_key=str(campaign.id),
    )
    session.flush()
    return payout


def _collected_refunded_fees(session: Session, campaign: Campaign) -> tuple[int, int, int]:
    """What the pledges brought in, what went back, and the card processing fees paid."""
    counted = session.execute(
        select(
            Pledge.status,
            func.coalesce(func.sum(Pledge.amount_minor), 0),
            func.coalesce(func.sum(Pledge.processing_fee_minor), 0),
        )
        .where(
            Pledge.campaign_id == campaign.id,
            Pledge.status.in_([PledgeStatus.COLLECTED, PledgeStatus.REFUNDED]),
        )
        .group_by(Pledge.status)
    ).all()
    collected = sum(int(amount) for _, amount, _ in counted)
    refunded = sum(int(amount) for status, amount, _ in counted if status == PledgeStatus.REFUNDED)
    processing = sum(int(fee) for _, _, fee in counted)
    return collected, refunded, processing


def _post_payout(session: Session, campaign: Campaign, gross: int, split: rules.PayoutSplit) -> int:
    """The one ledger entry that empties the escrow; its id."""
    ledger.ensure_wallet(session, campaign.initiator_id, campaign.currency)
    fees_code = ensure_fees_income(session, campaign.currency)
    legs = [
        (campaign.escrow_code, -gross),
        (ledger.wallet_code(campaign.initiator_id, campaign.currency), split.net_minor),
        (fees_code, split.platform_fee_minor),
    ]
    if split.processing_fee_minor:
        ensure_card_fees_account(session, campaign.currency)
        legs.append((card_fees_code(campaign.currency), split.processing_fee_minor))
    entry = ledger.post_entry(
        session,
        postings=[(code, amount) for code, amount in legs if amount],
        currency=campaign.currency,
        kind="crowdfunding_payout",
        idempotency_key=f"crowdfunding:campaign:{campaign.id}:payout",
        ref_type="crowdfunding_campaign",
        ref_id=campaign.id,
        memo=f"Payout of campaign {campaign.id}",
    )
    return entry.id

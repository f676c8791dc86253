"""Collecting card pledges after a campaign succeeds: charge each saved card off-session,
book the charge, give a failed card a few days to be fixed, then drop what was not
fixed; expire card setups nobody finished.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from p2pbank.clock import now
from p2pbank.crowdfunding import notices, rules
from p2pbank.crowdfunding.books import (
    ENTRY_REF,
    card_fees_code,
    clearing_code,
    ensure_card_fees_account,
    ensure_clearing,
)
from p2pbank.crowdfunding.events import emit_event
from p2pbank.crowdfunding.kernel import load_campaign
from p2pbank.crowdfunding.loans import LoanIssuer
from p2pbank.crowdfunding.models import (
    Campaign,
    CampaignStatus,
    EventKind,
    Pledge,
    PledgeChange,
    PledgeStatus,
)
from p2pbank.crowdfunding.pledging import free_slot
from p2pbank.crowdfunding.settlement import finish_if_done, record_collected
from p2pbank.errors import InvalidState, NotFound
from p2pbank.ledger import services as ledger
from p2pbank.money import Money
from p2pbank.payments.gateway import (
    GatewayError,
    IntentStatus,
    PaymentGateway,
)
from p2pbank.uow import command, for_update


def collect_card_pledge(session: Session, pledge_id: int, *, gateway: PaymentGateway) -> Pledge:
    """Charge one saved card off-session. Declined: the pledge is `errored` and the backer
    has 7 days from the first failure to fix the card. The idempotency key changes only
    after an answer was recorded, so a retry after a crash can never charge twice."""
    with command(session):
        row = session.scalar(for_update(select(Pledge).where(Pledge.id == pledge_id)))
        if row is None:
            raise NotFound("No such pledge.")
        campaign = load_campaign(session, row.campaign_id, lock="share")
        if campaign.status != CampaignStatus.COLLECTING:
            raise InvalidState("The campaign is not collecting pledges.")
        if row.method != rules.PayMethod.CARD or row.status not in (
            PledgeStatus.PENDING,
            PledgeStatus.ERRORED,
        ):
            raise InvalidState("This pledge is not waiting for a card charge.")
        moment = now()
        if row.status == PledgeStatus.ERRORED and moment >= row.fix_until:
            raise InvalidState("The 7 days to fix the card are over.")
        attempt = row.charge_attempts + 1
        amount = Money(row.amount_minor, row.currency)
        try:
            payment = gateway.charge_saved_card(
                customer_id=row.customer_ref,
                card_id=row.saved_card_ref,
                amount=amount,
                reference={"pledge_id": str(row.id), "campaign_id": str(campaign.id)},
                idempotency_key=f"crowdfunding-pledge-{row.id}-charge-{attempt}",
            )
        except GatewayError as exc:  # CardDeclined, or the saved card is unusable
            _errored(session, campaign, row, attempt, exc.detail)
            return row
        row.charge_attempts = attempt
        row.charge_ref = payment.id
        if payment.status == IntentStatus.NEEDS_AUTHENTICATION or payment.failed:
            _errored(
                session,
                campaign,
                row,
                attempt,
                payment.failure_message or "Your bank asks you to confirm this payment.",
            )
            return row
        if payment.status != IntentStatus.SUCCEEDED:
            raise InvalidState("The card charge is still processing; it is retried later.")
        fee = payment.fee.minor if payment.fee is not None else 0
        _book_card_charge(session, campaign, row, fee, payment.id)
        record_collected(session, campaign, row, fee_minor=fee)
        finish_if_done(session, campaign)
    return row


def _book_card_charge(
    session: Session, campaign: Campaign, row: Pledge, fee: int, gateway_ref: str
) -> None:
    """The gateway owes us the amount (clearing) and the escrow holds it; the fee the
    gateway keeps is an expense until the payout recovers it from the escrow."""
    ensure_clearing(session, row.currency)
    ledger.post_entry(
        session,
        postings=[
            (clearing_code(row.currency), -row.amount_minor),
            (campaign.escrow_code, row.amount_minor),
        ],
        currency=row.currency,
        kind="pledge_capture",
        idempotency_key=f"crowdfunding:pledge:{row.id}:card_charge",
        ref_type=ENTRY_REF,
        ref_id=row.id,
        gateway_ref=gateway_ref,
        memo=f"Card pledge {row.id} to campaign {campaign.id}",
    )
    if fee:
        ensure_card_fees_account(session, row.currency)
        ledger.post_entry(
            session,
            postings=[(card_fees_code(row.currency), -fee), (clearing_code(row.currency), fee)],
            currency=row.currency,
            kind="gateway_fee",
            idempotency_key=f"crowdfunding:pledge:{row.id}:card_fee",
            ref_type=ENTRY_REF,
            ref_id=row.id,
            gateway_ref=gateway_ref,
            memo=f"Card processing fee of pledge {row.id}",
        )


def _errored(session: Session, campaign: Campaign, row: Pledge, attempt: int, message: str) -> None:
    row.charge_attempts = attempt
    row.error_message = (message or "The card was declined.")[:300]
    if row.status == PledgeStatus.PENDING:
        moment = now()
        row.move_to(PledgeStatus.ERRORED)
        row.errored_at = moment
        row.fix_until = moment + rules.CARD_FIX_WINDOW
        notices.card_declined(session, campaign, row)
    session.flush()


def drop_unfixed_pledges(session: Session) -> int:
    """Errored pledges whose 7 days are over are dropped (nothing was charged)."""
    moment = now()
    with command(session):
        rows = list(
            session.scalars(
                select(Pledge)
                .where(Pledge.status == PledgeStatus.ERRORED, Pledge.fix_until <= moment)
                .order_by(Pledge.id)
                .with_for_update()
            )
        )
        for row in rows:
            row.move_to(PledgeStatus.DROPPED)
            row.fix_until = None
            row.released_at = moment
            row.release_reason = "card_not_fixed"
            session.add(
                PledgeChange(
                    campaign_id=row.campaign_id,
                    pledge_id=row.id,
                    delta_minor=-row.amount_minor,
                    reason="dropped",
                )
            )
            emit_event(
                session,
                campaign_id=row.campaign_id,
                kind=EventKind.PLEDGE_DROPPED,
                subject_id=row.backer_id,
                pledge_id=row.id,
                amount_minor=row.amount_minor,
                dedup_key=str(row.id),
            )
            notices.pledge_dropped(session, load_campaign(session, row.campaign_id), row)
        session.flush()
    return len(rows)


def finish_collecting(
    session: Session, campaign_id: int, *, loan_issuer: LoanIssuer | None = None
) -> Campaign:
    """Pay out (or fail) a collecting campaign once nothing is outstanding; a loan
    campaign once the last reflection period is over."""
    with command(session):
        campaign = load_campaign(session, campaign_id, lock="update")
        if campaign.status == CampaignStatus.COLLECTING:
            finish_if_done(session, campaign, loan_issuer)
    return campaign


def expire_card_setups(session: Session) -> int:
    """Card pledges whose card was not saved in time are let go and free their reward."""
    moment = now()
    with command(session):
        rows = list(
            session.scalars(
                select(Pledge)
                .where(
                    Pledge.status == PledgeStatus.AWAITING_CARD,
                    Pledge.setup_expires_at <= moment,
                )
                .order_by(Pledge.id)
                .with_for_update()
            )
        )
        for row in rows:
            row.move_to(PledgeStatus.RELEASED)
            row.released_at = moment
            row.release_reason = "card_not_saved"
            if row.tier_id is not None:
                free_slot(session, row.tier_id)
        session.flush()
    return len(rows)

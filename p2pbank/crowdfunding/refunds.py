"""Refunding a collected pledge: back to the wallet it came from, or to the card through
the gateway (intent, gateway call, result as separate steps), each idempotent.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from p2pbank.clock import now
from p2pbank.crowdfunding import notices, rules
from p2pbank.crowdfunding.books import ENTRY_REF, clearing_code, ensure_clearing
from p2pbank.crowdfunding.events import emit_event
from p2pbank.crowdfunding.kernel import get_user, load_campaign
from p2pbank.crowdfunding.models import (
    Campaign,
    CampaignStatus,
    EventKind,
    Pledge,
    PledgeChange,
    PledgeStatus,
)
from p2pbank.crowdfunding.settlement import finish_if_done
from p2pbank.errors import Forbidden, InvalidState, NotFound
from p2pbank.identity.models import User
from p2pbank.ledger import services as ledger
from p2pbank.money import Money
from p2pbank.payments.gateway import (
    PaymentGateway,
)
from p2pbank.permissions import Permission
from p2pbank.uow import command, for_update


def refund_pledge(
    session: Session, actor_id: int, pledge_id: int, *, gateway: PaymentGateway | None = None
) -> Pledge:
    """The initiator gives a collected pledge back before the payout: to the wallet, or to
    the card through the gateway. Each refund is one ledger entry."""
    with command(session):
        actor = get_user(session, actor_id)
        row, campaign = _refundable(session, actor, pledge_id)
        if row.method == rules.PayMethod.WALLET:
            _refund_to_wallet(session, campaign, row)
        else:
            if gateway is None:
                raise InvalidState("Card refunds need the payment gateway.")
            _refund_to_card(session, campaign, row, gateway)
        row.move_to(PledgeStatus.REFUNDED)
        row.refunded_at = now()
        session.add(
            PledgeChange(
                campaign_id=campaign.id,
                pledge_id=row.id,
                delta_minor=-row.amount_minor,
                reason="refunded",
            )
        )
        emit_event(
            session,
            campaign_id=campaign.id,
            kind=EventKind.PLEDGE_REFUNDED,
            subject_id=row.backer_id,
            actor_id=actor.id,
            pledge_id=row.id,
            amount_minor=row.amount_minor,
            dedup_key=str(row.id),
        )
        notices.pledge_refunded(session, campaign, row)
        finish_if_done(session, campaign)
        session.flush()
    return row


def _refundable(session: Session, actor: User, pledge_id: int) -> tuple[Pledge, Campaign]:
    """The pledge and its campaign, both locked, if this initiator may refund it now. The
    backer and admins are told no; anyone else does not learn that the pledge exists."""
    row = session.scalar(for_update(select(Pledge).where(Pledge.id == pledge_id)))
    if row is None:
        raise NotFound("No such pledge.")
    campaign = load_campaign(session, row.campaign_id, lock="update")
    if campaign.initiator_id != actor.id:
        if row.backer_id == actor.id or actor.may(Permission.OVERSEE):
            raise Forbidden("Only the campaign's initiator can refund a pledge.")
        raise NotFound("No such pledge.")
    if campaign.status != CampaignStatus.COLLECTING:
        raise InvalidState("Refunds are possible until the payout.")
    if row.status != PledgeStatus.COLLECTED:
        raise InvalidState("Only a collected pledge can be refunded.")
    return row, campaign


def _refund_key(row: Pledge) -> str:
    return f"crowdfunding:pledge:{row.id}:refund"


def _refund_to_wallet(session: Session, campaign: Campaign, row: Pledge) -> None:
    ledger.ensure_wallet(session, row.backer_id, row.currency)
    ledger.transfer(
        session,
        from_code=campaign.escrow_code,
        to_code=ledger.wallet_code(row.backer_id, row.currency),
        amount=Money(row.amount_minor, row.currency),
        kind="refund",
        idempotency_key=_refund_key(row),
        ref_type=ENTRY_REF,
        ref_id=row.id,
        memo=f"Refund of pledge {row.id}",
    )


def _refund_to_card(
    session: Session, campaign: Campaign, row: Pledge, gateway: PaymentGateway
) -> None:
    """The gateway refunds the charge first; the escrow then pays the clearing account
    the gateway settles from."""
    amount = Money(row.amount_minor, row.currency)
    refund = gateway.refund_payment(
        row.charge_ref,
        amount=amount,
        reference={"pledge_id": str(row.id), "campaign_id": str(campaign.id)},
        idempotency_key=f"crowdfunding-pledge-{row.id}-refund",
    )
    row.refund_ref = refund.id
    ensure_clearing(session, row.currency)
    ledger.transfer(
        session,
        from_code=campaign.escrow_code,
        to_code=clearing_code(row.currency),
        amount=amount,
        kind="refund",
        idempotency_key=_refund_key(row),
        ref_type=ENTRY_REF,
        ref_id=row.id,
        gateway_ref=refund.id,
        memo=f"Card refund of pledge {row.id}",
    )

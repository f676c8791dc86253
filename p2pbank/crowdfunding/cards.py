"""Card pledges: save the card now (a SetupIntent; the backer authenticates now if the bank
asks), charge it only when the campaign succeeds (settlement.py), let it go otherwise.

A card authorization expires after 5-7 days, so nothing is held on the card for a campaign
that may run 60 days: the card is saved for off-session use and charged at the deadline.

The card is saved through the payment gateway boundary (p2pbank.payments.gateway). In test
mode the page confirms the setup with one of Stripe's documented test cards. With Stripe,
Stripe.js confirms it in the browser and we read the setup's state back from the gateway;
detaching a card that will not be charged likewise needs the gateway to offer it. Both are
capabilities (`SetupReader`, `CardDetacher`) checked at run time: a gateway without them
does not offer card pledges (reading) or leaves the saved card in place (detaching), and
the job reports what it could not do.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from sqlalchemy import select
from sqlalchemy.orm import Session

from p2pbank.clock import now
from p2pbank.crowdfunding import rules
from p2pbank.crowdfunding.kernel import get_user, load_campaign
from p2pbank.crowdfunding.models import (
    Campaign,
    CampaignStatus,
    Pledge,
    PledgeChange,
    PledgeStatus,
)
from p2pbank.crowdfunding.pledging import own_pledge
from p2pbank.errors import InvalidState
from p2pbank.payments.gateway import CardSetup, PaymentGateway
from p2pbank.uow import command


@runtime_checkable
class SetupReader(Protocol):
    def get_card_setup(self, setup_id: str) -> CardSetup: ...


@runtime_checkable
class CardDetacher(Protocol):
    def detach_card(self, card_id: str, *, idempotency_key: str) -> None: ...


@runtime_checkable
class SandboxCardConfirmer(Protocol):
    """The test-mode gateway confirms a setup with one of Stripe's test card numbers."""

    def confirm_setup_with_test_card(self, setup_id: str, card_number: str) -> CardSetup: ...


def card_pledges_available(gateway: PaymentGateway) -> bool:
    """Can this gateway save a card and tell us it was saved? (The embedded test-mode
    gateway with a test card; Stripe, test or live keys, by reading the setup back.)"""
    return sandbox_cards(gateway) or isinstance(gateway, SetupReader)


def sandbox_cards(gateway: PaymentGateway) -> bool:
    """Does the page take a test card number (the embedded test-mode gateway)?"""
    return gateway.is_test_mode and isinstance(gateway, SandboxCardConfirmer)


def _setup_needed(row: Pledge, campaign: Campaign) -> None:
    moment = now()
    if row.method != rules.PayMethod.CARD:
        raise InvalidState("This pledge is paid from the wallet.")
    if row.status == PledgeStatus.AWAITING_CARD:
        if campaign.status != CampaignStatus.LIVE or not rules.is_open(
            moment, campaign.deadline_at
        ):
            raise InvalidState("The campaign has ended; this pledge can no longer be completed.")
        return
    if row.status == PledgeStatus.ERRORED:
        if row.fix_until is None or moment >= row.fix_until:
            raise InvalidState("The 7 days to fix the card are over.")
        return
    raise InvalidState("This pledge does not need a card now.")


def start_card_setup(
    session: Session, backer_id: int, pledge_id: int, *, gateway: PaymentGateway
) -> Pledge:
    """Ask the gateway for a card-saving session; the page confirms it (Stripe.js, or a
    test card in test mode). Again for an errored pledge: a new card to fix it."""
    with command(session):
        row = own_pledge(session, backer_id, pledge_id)
        campaign = load_campaign(session, row.campaign_id)
        _setup_needed(row, campaign)
        round_ = row.charge_attempts
        if row.setup_ref and row.setup_client_secret and row.saved_card_ref is None:
            return row  # the first setup is still waiting to be confirmed
        backer = get_user(session, backer_id)
        if row.customer_ref is None:
            row.customer_ref = gateway.create_customer(
                email=backer.email,
                reference={"pledge_id": str(row.id), "user_id": str(backer.id)},
                idempotency_key=f"crowdfunding-pledge-{row.id}-customer",
            )
        setup = gateway.save_card(
            customer_id=row.customer_ref,
            idempotency_key=f"crowdfunding-pledge-{row.id}-setup-{round_}",
        )
        row.setup_ref = setup.id
        row.setup_client_secret = setup.client_secret
        session.flush()
    return row


def _card_saved(session: Session, row: Pledge, setup: CardSetup) -> Pledge:
    if setup.id != row.setup_ref:
        raise InvalidState("That card setup does not belong to this pledge.")
    if setup.status == "needs_authentication":
        raise InvalidState("Your bank asks you to confirm the card; finish that step first.")
    if setup.status != "succeeded" or not setup.card_id:
        raise InvalidState("The card was not saved; try again or use another card.")
    row.saved_card_ref = setup.card_id
    row.setup_client_secret = None
    if row.status == PledgeStatus.AWAITING_CARD:
        row.move_to(PledgeStatus.PENDING)
        row.setup_expires_at = None
        session.add(
            PledgeChange(
                campaign_id=row.campaign_id,
                pledge_id=row.id,
                delta_minor=row.amount_minor,
                reason="pledged",
            )
        )
    session.flush()
    return row


def complete_test_card_setup(
    session: Session, backer_id: int, pledge_id: int, *, gateway: PaymentGateway, card_number: str
) -> Pledge:
    """Test mode: what Stripe's card form does, with a documented test card number.
    A declined card raises CardDeclined and leaves the pledge waiting for a card."""
    if not sandbox_cards(gateway):
        raise InvalidState("Test cards work only in test mode.")
    with command(session):
        row = own_pledge(session, backer_id, pledge_id)
        campaign = load_campaign(session, row.campaign_id)
        _setup_needed(row, campaign)
        if not row.setup_ref:
            raise InvalidState("Start saving a card first.")
        setup = gateway.confirm_setup_with_test_card(row.setup_ref, card_number)
        _card_saved(session, row, setup)
    return row


def confirm_card_setup(
    session: Session, backer_id: int, pledge_id: int, *, gateway: PaymentGateway
) -> Pledge:
    """With Stripe: after Stripe.js confirmed the setup in the browser, read its state
    from the gateway (never from the browser) and keep the saved card."""
    if not isinstance(gateway, SetupReader):
        raise InvalidState("This payment gateway cannot confirm saved cards.")
    with command(session):
        row = own_pledge(session, backer_id, pledge_id)
        campaign = load_campaign(session, row.campaign_id)
        _setup_needed(row, campaign)
        if not row.setup_ref:
            raise InvalidState("Start saving a card first.")
        _card_saved(session, row, gateway.get_card_setup(row.setup_ref))
    return row


def detach_let_go_cards(session: Session, *, gateway: PaymentGateway) -> tuple[int, int]:
    """Detach the saved cards of pledges that will never be charged (released, dropped) and
    of finished campaigns. Returns (detached, left because the gateway cannot detach)."""
    rows = session.execute(
        select(Pledge.id, Pledge.saved_card_ref)
        .join(Campaign, Campaign.id == Pledge.campaign_id)
        .where(
            Pledge.method == rules.PayMethod.CARD,
            Pledge.saved_card_ref.is_not(None),
            Pledge.card_detached_at.is_(None),
            Pledge.status.in_(
                [
                    PledgeStatus.RELEASED,
                    PledgeStatus.DROPPED,
                    PledgeStatus.COLLECTED,
                    PledgeStatus.REFUNDED,
                ]
            ),
            (Pledge.status.in_([PledgeStatus.RELEASED, PledgeStatus.DROPPED]))
            | Campaign.status.in_([CampaignStatus.SUCCEEDED, CampaignStatus.FAILED]),
        )
        .order_by(Pledge.id)
    ).all()
    if not rows:
        return 0, 0
    if not isinstance(gateway, CardDetacher):
        return 0, len(rows)
    detached = 0
    for pledge_id, card_id in rows:
        gateway.detach_card(card_id, idempotency_key=f"crowdfunding-pledge-{pledge_id}-detach")
        with command(session):
            row = session.get(Pledge, pledge_id)
            if row is not None and row.card_detached_at is None:
                row.card_detached_at = now()
                detached += 1
    return detached, 0

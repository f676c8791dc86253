"""Card pledges through the real Stripe gateway against localstripe: the card is saved with
a SetupIntent, charged off-session at the deadline with our idempotency keys, the
'attaches, but charges fail' card 4000 0000 0000 0341 puts the pledge in `errored`, and a
new card within the 7 days is charged and paid out."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from sqlalchemy import select

from p2pbank import clock
from p2pbank.crowdfunding import cards, collection, pledging, services
from p2pbank.crowdfunding import due as crowdfunding_due
from p2pbank.crowdfunding.models import CampaignStatus, Payout, PledgeStatus
from p2pbank.errors import InvalidState
from p2pbank.ledger.checks import check_ledger
from p2pbank.payments import shapes
from p2pbank.payments.gateway import CardSetup, IntentStatus
from p2pbank.payments.stripe_gateway import StripeGateway, _plain
from tests.support.gateways import STRIPE_KEY, make_stripe_gateway

_n = itertools.count(1)


class SetupReadingStripeGateway(StripeGateway):
    """The Stripe gateway plus reading a SetupIntent back, the one capability crowdfunding's
    confirm step needs that the payments gateway does not offer yet (see cards.SetupReader)."""

    def get_card_setup(self, setup_id: str) -> CardSetup:
        return shapes.setup_from(
            _plain(self._call(self._client.v1.setup_intents.retrieve, setup_id))
        )


@pytest.fixture
def gateway(stripe_servers) -> SetupReadingStripeGateway:
    plain = make_stripe_gateway(stripe_servers)
    gw = SetupReadingStripeGateway(
        secret_key=STRIPE_KEY,
        webhook_secret="whsec_unused",
        api_base=stripe_servers.fake_url,
        max_network_retries=0,
        key_namespace=plain._key_namespace,
    )
    assert cards.card_pledges_available(gw)
    return gw


def _browser_saves(servers, setup_id: str, number: str) -> None:
    """What Stripe.js does in the backer's browser: a card, then the setup confirmed."""
    import stripe

    sdk = stripe.StripeClient(
        STRIPE_KEY, base_addresses={"api": servers.fake_url}, max_network_retries=0
    )
    pm = sdk.v1.payment_methods.create(
        params={
            "type": "card",
            "card": {"number": number, "exp_month": 12, "exp_year": 2034, "cvc": "123"},
        }
    )
    sdk.v1.setup_intents.confirm(setup_id, params={"payment_method": pm.id})


def _person(make_user, session, roles):
    return make_user(roles=roles, kyc="verified", email=f"ls{next(_n)}@example.test")


def _save_card(session, servers, gateway, person, pledge_id, number):
    row = cards.start_card_setup(session, person.id, pledge_id, gateway=gateway)
    _browser_saves(servers, row.setup_ref, number)
    return cards.confirm_card_setup(session, person.id, pledge_id, gateway=gateway)


def test_card_pledges_through_stripe(session, make_user, gateway, stripe_servers, frozen_now):
    ian = _person(make_user, session, ["initiator"])
    campaign = services.create_campaign(
        session,
        ian.id,
        title="Localstripe oven",
        summary="An oven paid for by cards saved with Stripe.",
        category="food",
        goal_minor=10_000,
        duration_days=7,
        story_md="Bread.",
    )
    services.launch_campaign(session, ian.id, campaign.id)
    ann = _person(make_user, session, ["backer"])
    bob = _person(make_user, session, ["backer"])
    pledges = {}
    for person, amount, number in (
        (ann, 6_000, "4242424242424242"),
        (bob, 4_000, "4000000000000341"),
    ):
        made = pledging.pledge(
            session,
            person.id,
            campaign.id,
            amount_minor=amount,
            idempotency_key=f"localstripe-{person.id}-{next(_n)}",
            method="card",
        )
        saved = _save_card(session, stripe_servers, gateway, person, made.id, number)
        assert saved.status == PledgeStatus.PENDING and saved.saved_card_ref.startswith("pm_")
        pledges[person.id] = saved

    clock.set_now(campaign.deadline_at)
    report = crowdfunding_due.run_due(session, gateway=gateway)
    assert (report.charged, report.declined) == (1, 1), report
    first, declined = pledges[ann.id], pledges[bob.id]
    session.refresh(first)
    session.refresh(declined)
    assert first.status == PledgeStatus.COLLECTED and first.charge_ref.startswith("pi_")
    assert declined.status == PledgeStatus.ERRORED
    assert campaign.status == CampaignStatus.COLLECTING
    charged = gateway.get_payment(first.charge_ref)
    assert charged.status == IntentStatus.SUCCEEDED and charged.amount_received.minor == 6_000

    # Within the 7 days Bob saves a working card and it is charged at once.
    clock.set_now(campaign.deadline_at + timedelta(days=3))
    _save_card(session, stripe_servers, gateway, bob, declined.id, "4242424242424242")
    collection.collect_card_pledge(session, declined.id, gateway=gateway)
    session.refresh(declined)
    assert declined.status == PledgeStatus.COLLECTED
    with pytest.raises(InvalidState):  # collected once; never charged twice
        collection.collect_card_pledge(session, declined.id, gateway=gateway)
    session.refresh(campaign)
    assert campaign.status == CampaignStatus.SUCCEEDED
    payout = session.scalar(select(Payout).where(Payout.campaign_id == campaign.id))
    fees = first.processing_fee_minor + declined.processing_fee_minor
    assert payout.gross_minor == 10_000 and payout.platform_fee_minor == 500
    assert payout.processing_fee_minor == fees
    assert payout.net_minor == 10_000 - 500 - fees
    assert check_ledger(session).ok

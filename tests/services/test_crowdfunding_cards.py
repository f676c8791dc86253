"""Card pledges through the payment gateway boundary (the embedded test-mode gateway, which
plays Stripe's test mode with its documented test cards): saved now, charged only on
success, a declined card gets 7 days to be fixed."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from p2pbank import clock
from p2pbank.crowdfunding import cards, collection, pledging, refunds
from p2pbank.crowdfunding import due as crowdfunding_due
from p2pbank.crowdfunding.models import CampaignStatus, Payout, PledgeStatus, RewardTier
from p2pbank.crowdfunding.read import progress as read_progress
from p2pbank.errors import Forbidden, InvalidState, NotFound
from p2pbank.ledger import services as ledger
from p2pbank.payments.gateway import CardDeclined
from p2pbank.payments.rules import eea_card_fee_minor
from p2pbank.payments.sandbox_gateway import SandboxGateway
from p2pbank.payments.services import GATEWAY_FEES
from tests.support.crowdfunding import (
    DECLINES_ON_CHARGE,
    DECLINES_ON_SAVE,
    GOOD,
    card_pledge,
    key,
    live,
)
from tests.support.money import assert_books_balance, balance, posted_held


@pytest.fixture
def gateway(session):
    return SandboxGateway(session, webhook_secret="whsec_test_crowdfunding")


def test_a_saved_card_is_not_charged_before_the_deadline(session, initiator, backers, gateway):
    campaign = live(session, initiator, goal_minor=10_000)
    (ann,) = backers(1, funds=0)
    mine = card_pledge(session, gateway, ann, campaign, 12_000)
    assert mine.status == PledgeStatus.PENDING and mine.saved_card_ref
    assert list(gateway.list_payments()) == []
    progress = read_progress.progress(session, campaign)
    assert (progress.firm_minor, progress.pending_minor) == (0, 12_000)
    assert progress.backers == 1


def test_success_charges_the_card_and_the_initiator_bears_its_fee(
    session, initiator, backers, gateway, frozen_now
):
    campaign = live(session, initiator, goal_minor=20_000)
    ann, bob = backers(2)
    card_pledge(session, gateway, ann, campaign, 15_000)
    pledging.pledge(session, bob.id, campaign.id, amount_minor=5_000, idempotency_key=key())
    clock.set_now(campaign.deadline_at)
    report = crowdfunding_due.run_due(session, gateway=gateway)
    assert report.charged == 1
    assert report.problems == ["1 saved card(s) wait to be detached by the gateway"]
    assert campaign.status == CampaignStatus.SUCCEEDED
    fee = eea_card_fee_minor(15_000)  # 1.5 % + 0.25 = 2.50
    assert fee == 250
    payout = session.scalar(select(Payout).where(Payout.campaign_id == campaign.id))
    assert payout.gross_minor == 20_000
    assert payout.platform_fee_minor == 1_000
    assert payout.processing_fee_minor == fee
    assert payout.net_minor == 20_000 - 1_000 - fee
    assert posted_held(session, initiator.id) == (payout.net_minor, 0)
    assert balance(session, campaign.escrow_code) == (0, 0)
    # The fee the gateway kept was an expense until the payout recovered it.
    assert balance(session, GATEWAY_FEES) == (0, 0)
    # The gateway owes us the card money less its fee.
    assert balance(session, ledger.PLATFORM_GATEWAY_CLEARING)[0] <= -(15_000 - fee)
    (charge,) = list(gateway.list_payments())
    assert charge.amount.minor == 15_000
    assert_books_balance(session)


def test_a_declined_card_gets_seven_days_then_is_dropped(
    session, initiator, backers, gateway, frozen_now
):
    campaign = live(session, initiator, goal_minor=10_000)
    ann, bob = backers(2)
    bad = card_pledge(session, gateway, ann, campaign, 4_000, card=DECLINES_ON_CHARGE)
    pledging.pledge(session, bob.id, campaign.id, amount_minor=8_000, idempotency_key=key())
    clock.set_now(campaign.deadline_at)
    report = crowdfunding_due.run_due(session, gateway=gateway)
    assert report.declined == 1
    assert bad.status == PledgeStatus.ERRORED
    assert bad.fix_until == campaign.deadline_at + timedelta(days=7)
    assert campaign.status == CampaignStatus.COLLECTING

    clock.set_now(bad.fix_until - timedelta(seconds=1))
    crowdfunding_due.run_due(session, gateway=gateway)
    assert bad.status == PledgeStatus.ERRORED  # still time

    clock.set_now(bad.fix_until)
    report = crowdfunding_due.run_due(session, gateway=gateway)
    assert report.dropped == 1
    session.refresh(bad)
    assert bad.status == PledgeStatus.DROPPED
    assert campaign.status == CampaignStatus.SUCCEEDED
    payout = session.scalar(select(Payout).where(Payout.campaign_id == campaign.id))
    assert payout.gross_minor == 8_000  # the dropped card was never charged
    with pytest.raises(InvalidState):
        cards.start_card_setup(session, ann.id, bad.id, gateway=gateway)
    assert_books_balance(session)


def test_a_declined_card_fixed_within_seven_days_is_collected(
    session, initiator, backers, gateway, frozen_now
):
    campaign = live(session, initiator, goal_minor=10_000)
    (ann,) = backers(1, funds=0)
    bad = card_pledge(session, gateway, ann, campaign, 10_000, card=DECLINES_ON_CHARGE)
    clock.set_now(campaign.deadline_at)
    crowdfunding_due.run_due(session, gateway=gateway)
    assert bad.status == PledgeStatus.ERRORED

    clock.set_now(campaign.deadline_at + timedelta(days=6))
    cards.start_card_setup(session, ann.id, bad.id, gateway=gateway)
    cards.complete_test_card_setup(session, ann.id, bad.id, gateway=gateway, card_number=GOOD)
    collection.collect_card_pledge(session, bad.id, gateway=gateway)
    assert bad.status == PledgeStatus.COLLECTED
    assert bad.processing_fee_minor == eea_card_fee_minor(10_000)
    assert campaign.status == CampaignStatus.SUCCEEDED
    assert_books_balance(session)


def test_fixing_after_seven_days_is_refused(session, initiator, backers, gateway, frozen_now):
    campaign = live(session, initiator, goal_minor=10_000)
    ann, bob = backers(2)
    bad = card_pledge(session, gateway, ann, campaign, 5_000, card=DECLINES_ON_CHARGE)
    pledging.pledge(session, bob.id, campaign.id, amount_minor=5_000, idempotency_key=key())
    clock.set_now(campaign.deadline_at)
    crowdfunding_due.run_due(session, gateway=gateway)
    clock.set_now(bad.fix_until)
    with pytest.raises(InvalidState):
        cards.start_card_setup(session, ann.id, bad.id, gateway=gateway)
    with pytest.raises(InvalidState):
        collection.collect_card_pledge(session, bad.id, gateway=gateway)


def test_failure_charges_no_card(session, initiator, backers, gateway, frozen_now):
    campaign = live(session, initiator, goal_minor=50_000)
    (ann,) = backers(1, funds=0)
    mine = card_pledge(session, gateway, ann, campaign, 10_000)
    clock.set_now(campaign.deadline_at)
    report = crowdfunding_due.run_due(session, gateway=gateway)
    assert campaign.status == CampaignStatus.FAILED
    assert mine.status == PledgeStatus.RELEASED
    assert list(gateway.list_payments()) == []
    # The test-mode gateway cannot detach saved cards; the job says so.
    assert any("detached" in p for p in report.problems)


def test_a_card_declined_when_saving_leaves_the_pledge_waiting(
    session, initiator, backers, gateway
):
    campaign = live(session, initiator)
    (ann,) = backers(1, funds=0)
    made = pledging.pledge(
        session, ann.id, campaign.id, amount_minor=2_000, idempotency_key=key(), method="card"
    )
    cards.start_card_setup(session, ann.id, made.id, gateway=gateway)
    with pytest.raises(CardDeclined):
        cards.complete_test_card_setup(
            session, ann.id, made.id, gateway=gateway, card_number=DECLINES_ON_SAVE
        )
    assert made.status == PledgeStatus.AWAITING_CARD
    assert read_progress.progress(session, campaign).pledged_minor == 0


def test_an_unsaved_card_pledge_frees_its_reward_after_an_hour(
    session, initiator, backers, gateway, frozen_now
):
    campaign, (tier,) = live(
        session,
        initiator,
        tiers=[{"title": "Loaf", "min_pledge_minor": 1_000, "quantity_limit": 1}],
    )
    ann, bob = backers(2)
    waiting = pledging.pledge(
        session,
        ann.id,
        campaign.id,
        amount_minor=1_000,
        tier_id=tier.id,
        idempotency_key=key(),
        method="card",
    )
    clock.set_now(frozen_now + timedelta(minutes=59))
    assert collection.expire_card_setups(session) == 0
    clock.set_now(frozen_now + timedelta(minutes=60))
    assert collection.expire_card_setups(session) == 1
    session.refresh(waiting)
    assert waiting.status == PledgeStatus.RELEASED
    assert session.get(RewardTier, tier.id).claimed == 0
    pledging.pledge(
        session, bob.id, campaign.id, amount_minor=1_000, tier_id=tier.id, idempotency_key=key()
    )


def test_initiator_refunds_a_collected_card_pledge_before_the_payout(
    session, initiator, backers, gateway, frozen_now
):
    campaign = live(session, initiator, goal_minor=10_000)
    ann, bob, cy = backers(3)
    paid = card_pledge(session, gateway, ann, campaign, 6_000)
    stuck = card_pledge(session, gateway, bob, campaign, 3_000, card=DECLINES_ON_CHARGE)
    by_wallet = pledging.pledge(
        session, cy.id, campaign.id, amount_minor=2_000, idempotency_key=key()
    )
    clock.set_now(campaign.deadline_at)
    crowdfunding_due.run_due(session, gateway=gateway)
    assert campaign.status == CampaignStatus.COLLECTING  # bob's card is errored
    with pytest.raises(NotFound):  # only the initiator refunds; a stranger learns nothing
        refunds.refund_pledge(session, bob.id, paid.id, gateway=gateway)
    with pytest.raises(Forbidden):  # nor does the backer refund themself
        refunds.refund_pledge(session, ann.id, paid.id, gateway=gateway)
    refunds.refund_pledge(session, initiator.id, paid.id, gateway=gateway)
    refunds.refund_pledge(session, initiator.id, by_wallet.id, gateway=gateway)
    assert paid.status == PledgeStatus.REFUNDED and by_wallet.status == PledgeStatus.REFUNDED
    assert posted_held(session, cy.id) == (1_000_000, 0)
    gateway_refunds = list(gateway.list_refunds())
    assert [r.amount.minor for r in gateway_refunds] == [6_000]
    clock.set_now(stuck.fix_until)
    crowdfunding_due.run_due(session, gateway=gateway)
    # Everything was refunded or dropped: the card fee of the refunded charge is still a cost.
    payout = session.scalar(select(Payout).where(Payout.campaign_id == campaign.id))
    assert payout.collected_minor == 8_000 and payout.refunded_minor == 8_000
    assert payout.gross_minor == 0 and payout.absorbed_minor == eea_card_fee_minor(6_000)
    assert campaign.status == CampaignStatus.SUCCEEDED
    assert_books_balance(session)

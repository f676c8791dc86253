"""Settlement at the deadline, to the cent, against the ledger (wallet pledges)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from p2pbank import clock
from p2pbank.crowdfunding import pledging, refunds, settlement
from p2pbank.crowdfunding.models import (
    CampaignEvent,
    CampaignStatus,
    Payout,
    Pledge,
    PledgeStatus,
)
from p2pbank.errors import InvalidState
from p2pbank.ledger import services as ledger
from p2pbank.ledger.models import Hold
from tests.support.crowdfunding import key, live
from tests.support.mail import notification_mails
from tests.support.money import assert_books_balance, balance, posted_held


def _pledge(session, person, campaign, amount, **kw):
    return pledging.pledge(
        session, person.id, campaign.id, amount_minor=amount, idempotency_key=key(), **kw
    )


def _events(session, campaign):
    return session.scalars(
        select(CampaignEvent.kind)
        .where(CampaignEvent.campaign_id == campaign.id)
        .order_by(CampaignEvent.id)
    ).all()


def test_goal_reached_pays_the_initiator_to_the_cent(session, initiator, backers, frozen_now):
    campaign = live(session, initiator, goal_minor=100_000)
    ann, bob, cy = backers(3)
    _pledge(session, ann, campaign, 40_000)
    _pledge(session, bob, campaign, 35_001)
    _pledge(session, cy, campaign, 25_000)
    clock.set_now(campaign.deadline_at)
    settlement.close_campaign(session, campaign.id)

    assert campaign.status == CampaignStatus.SUCCEEDED
    gross = 100_001
    fee = 5_000  # 5 % of 1,000.01 is 50.0005, rounded to 50.00
    assert posted_held(session, initiator.id) == (gross - fee, 0)
    assert balance(session, ledger.PLATFORM_FEES) == (fee, 0)
    assert balance(session, campaign.escrow_code) == (0, 0)
    assert posted_held(session, ann.id) == (1_000_000 - 40_000, 0)
    assert posted_held(session, bob.id) == (1_000_000 - 35_001, 0)
    payout = session.scalar(select(Payout).where(Payout.campaign_id == campaign.id))
    assert (payout.gross_minor, payout.platform_fee_minor, payout.processing_fee_minor) == (
        gross,
        fee,
        0,
    )
    assert payout.net_minor == gross - fee
    statuses = {p.status for p in session.scalars(select(Pledge))}
    assert statuses == {PledgeStatus.COLLECTED}
    assert _events(session, campaign)[-2:] == ["campaign_paid_out", "campaign_succeeded"]
    (statement,) = [
        m for m in notification_mails(session, initiator.email) if m.subject.startswith("Payout")
    ]
    assert statement.subject == (
        f"Payout of “{campaign.title}”: €1,000.01 collected, €0.00 refunded, platform fee "
        "(5%) €50.00, card processing fees €0.00; €950.01 paid to your wallet."
    )
    assert f"/campaigns/{campaign.id}/dashboard" in statement.body
    assert_books_balance(session)


def test_goal_missed_charges_nobody(session, initiator, backers, frozen_now):
    campaign = live(session, initiator, goal_minor=100_000)
    ann, bob = backers(2)
    _pledge(session, ann, campaign, 40_000)
    _pledge(session, bob, campaign, 59_999)
    clock.set_now(campaign.deadline_at)
    settlement.close_campaign(session, campaign.id)

    assert campaign.status == CampaignStatus.FAILED
    assert posted_held(session, ann.id) == (1_000_000, 0)
    assert posted_held(session, bob.id) == (1_000_000, 0)
    assert balance(session, campaign.escrow_code) == (0, 0)
    assert {h.status for h in session.scalars(select(Hold))} == {"released"}
    for person in (ann, bob, initiator):  # the initiator too, in the same words
        (told,) = [m for m in notification_mails(session, person.email) if "goal" in m.subject]
        assert told.subject.startswith(f"“{campaign.title}” did not reach its goal")
        assert "nobody is charged and no fee is due" in told.subject
        assert "available again; no saved card is used" in told.body
    assert _events(session, campaign)[-1] == "campaign_failed"
    assert_books_balance(session)


def test_keep_it_all_pays_out_below_the_goal(session, initiator, backers, frozen_now):
    campaign = live(session, initiator, goal_minor=100_000, funding_model="keep_it_all")
    (ann,) = backers(1)
    _pledge(session, ann, campaign, 12_345)
    clock.set_now(campaign.deadline_at)
    settlement.close_campaign(session, campaign.id)
    assert campaign.status == CampaignStatus.SUCCEEDED
    assert posted_held(session, initiator.id) == (12_345 - 617, 0)  # 5 % of 123.45 = 6.1725 -> 6.17
    assert balance(session, ledger.PLATFORM_FEES) == (617, 0)
    assert_books_balance(session)


def test_keep_it_all_with_nothing_pledged_fails(session, initiator, frozen_now):
    campaign = live(session, initiator, funding_model="keep_it_all")
    clock.set_now(campaign.deadline_at)
    settlement.close_campaign(session, campaign.id)
    assert campaign.status == CampaignStatus.FAILED


def test_nothing_happens_before_the_deadline(session, initiator, backers, frozen_now):
    campaign = live(session, initiator, goal_minor=10_000)
    (ann,) = backers(1)
    _pledge(session, ann, campaign, 10_000)
    clock.set_now(campaign.deadline_at - timedelta(microseconds=1))
    settlement.close_campaign(session, campaign.id)
    assert campaign.status == CampaignStatus.LIVE
    clock.set_now(campaign.deadline_at)
    settlement.close_campaign(session, campaign.id)
    assert campaign.status == CampaignStatus.SUCCEEDED
    settlement.close_campaign(session, campaign.id)  # twice: a no-op
    assert session.scalars(select(Payout)).all().__len__() == 1
    assert_books_balance(session)


def test_refunds_only_until_payout(session, initiator, backers, frozen_now):
    campaign = live(session, initiator, goal_minor=10_000)
    (ann,) = backers(1)
    mine = _pledge(session, ann, campaign, 10_000)
    clock.set_now(campaign.deadline_at)
    settlement.close_campaign(session, campaign.id)
    with pytest.raises(InvalidState):
        refunds.refund_pledge(session, initiator.id, mine.id)


@settings(max_examples=15)
@given(
    amounts=st.lists(st.integers(min_value=100, max_value=2_000_000), min_size=1, max_size=5),
    fee_bps=st.integers(min_value=0, max_value=2_000),
)
def test_payout_adds_up_for_any_pledges(session, make_user, amounts, fee_bps):
    """Whatever the pledges and the fee, the initiator + the fee = what backers paid."""
    from tests.support.crowdfunding import draft
    from tests.support.money import deposit

    owner = make_user(roles=["initiator"], kyc="verified")
    campaign = draft(session, owner, goal_minor=10_000, funding_model="keep_it_all")
    campaign.platform_fee_bps = fee_bps
    session.commit()
    from p2pbank.crowdfunding import services

    services.launch_campaign(session, owner.id, campaign.id)
    people = []
    for amount in amounts:
        person = make_user(roles=["backer"])
        deposit(session, person.id, amount)
        _pledge(session, person, campaign, amount)
        people.append(person)
    clock.set_now(campaign.deadline_at)
    try:
        settlement.close_campaign(session, campaign.id)
    finally:
        clock.set_now(None)
    payout = session.scalar(select(Payout).where(Payout.campaign_id == campaign.id))
    total = sum(amounts)
    assert payout.gross_minor == total
    assert payout.net_minor + payout.platform_fee_minor == total
    assert posted_held(session, owner.id)[0] == payout.net_minor
    assert all(posted_held(session, p.id) == (0, 0) for p in people)
    assert balance(session, campaign.escrow_code) == (0, 0)

"""Crowdlending campaigns and the EU 2020/1503 investor safeguards."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from p2pbank import clock
from p2pbank.crowdfunding import checks, investors, pledging, services
from p2pbank.crowdfunding import due as crowdfunding_due
from p2pbank.crowdfunding.loans import CrowdLoanRequest, IssuedLoan
from p2pbank.crowdfunding.models import CampaignStatus, KnowledgeTestAttempt, PledgeStatus
from p2pbank.crowdfunding.read import progress as read_progress
from p2pbank.crowdfunding.rules import KNOWLEDGE_TEST
from p2pbank.errors import Forbidden, InvalidState, ValidationFailed
from p2pbank.ledger import holds
from p2pbank.ledger import services as ledger
from tests.support.crowdfunding import backer_factory, draft, key
from tests.support.money import assert_books_balance, posted_held

RIGHT = {q.key: q.answer for q in KNOWLEDGE_TEST}
LOAN = {
    "kind": "loan",
    "loan_rate_bps": 650,
    "loan_term_months": 24,
    "owner_legal_name": "Street Oven B.V.",
    "owner_registration": "KvK 12345678",
    "risks_md": "The oven may not sell enough bread to repay.",
}


@pytest.fixture
def lenders(make_user, session):
    """lenders(n) -> verified backers who passed the test and simulated a net worth of
    60,000 (income 40,000 + savings 30,000 - commitments 10,000)."""
    make = backer_factory(make_user, session)

    def _make(n: int, funds: int = 1_000_000):
        people = make(n, funds)
        for person in people:
            investors.take_knowledge_test(session, person.id, RIGHT)
            investors.simulate_loss_capacity(
                session,
                person.id,
                yearly_net_income_minor=4_000_000,
                liquid_assets_minor=3_000_000,
                yearly_commitments_minor=1_000_000,
            )
        return people

    return _make


def loan_campaign(session, initiator, goal=200_000, **kw):
    campaign = draft(session, initiator, goal_minor=goal, **{**LOAN, **kw})
    return services.launch_campaign(session, initiator.id, campaign.id)


def lend(session, person, campaign, amount, **kw):
    return pledging.pledge(
        session, person.id, campaign.id, amount_minor=amount, idempotency_key=key(), **kw
    )


def test_knowledge_test_is_recorded_and_valid_two_years(session, make_user, frozen_now):
    person = make_user(roles=["backer"], kyc="verified")
    wrong = {**RIGHT, "loss": "b", "share": "c"}
    failed = investors.take_knowledge_test(session, person.id, wrong)
    assert (failed.score, failed.passed) == (3, False)
    assert not investors.check_investment(session, person.id, 100).test_valid
    passed = investors.take_knowledge_test(session, person.id, RIGHT)
    assert passed.passed
    assert investors.check_investment(session, person.id, 100).test_valid
    assert len(session.scalars(select(KnowledgeTestAttempt)).all()) == 2
    clock.set_now(frozen_now + timedelta(days=731))
    assert not investors.check_investment(session, person.id, 100).test_valid


def test_unanswered_questions_are_refused(session, make_user):
    person = make_user(roles=["backer"])
    with pytest.raises(ValidationFailed) as caught:
        investors.take_knowledge_test(session, person.id, {"loss": "a"})
    assert "guarantee" in caught.value.field_errors


def test_simulation_gives_the_loss_capacity_and_the_warning_threshold(session, lenders):
    (ann,) = lenders(1)
    check = investors.check_investment(session, ann.id, 300_001)
    assert check.net_worth_minor == 6_000_000
    assert check.loss_capacity_minor == 600_000  # 10 %
    assert check.threshold_minor == 300_000  # 5 % of 60,000 beats 1,000
    assert check.needs_ack
    assert not investors.check_investment(session, ann.id, 300_000).needs_ack


def test_negative_figures_are_refused(session, make_user):
    person = make_user(roles=["backer"])
    with pytest.raises(ValidationFailed):
        investors.simulate_loss_capacity(
            session,
            person.id,
            yearly_net_income_minor=-1,
            liquid_assets_minor=0,
            yearly_commitments_minor=0,
        )


def test_a_loan_pledge_needs_the_test_the_simulation_and_a_verified_identity(
    session, initiator, make_user
):
    campaign = loan_campaign(session, initiator)
    unverified = make_user(roles=["backer"])
    with pytest.raises(Forbidden):
        lend(session, unverified, campaign, 10_000)
    fresh = backer_factory(make_user, session)(1)[0]
    with pytest.raises(Forbidden) as caught:
        lend(session, fresh, campaign, 10_000)
    assert "knowledge test" in caught.value.detail
    investors.take_knowledge_test(session, fresh.id, RIGHT)
    with pytest.raises(Forbidden) as caught:
        lend(session, fresh, campaign, 10_000)
    assert "bear loss" in caught.value.detail


def test_a_large_loan_pledge_needs_an_explicit_acknowledgment(session, initiator, lenders):
    campaign = loan_campaign(session, initiator)
    (ann,) = lenders(1)
    with pytest.raises(ValidationFailed) as caught:
        lend(session, ann, campaign, 300_001)
    assert "acknowledge_risk" in caught.value.field_errors
    made = lend(session, ann, campaign, 150_000)
    assert made.large_ack_at is None
    services.cancel_campaign(session, initiator.id, campaign.id, reason="testing the ack")
    other = loan_campaign(session, initiator, title="Second oven")
    made = lend(session, ann, other, 100_000)
    assert made.large_ack_at is None


def test_acknowledged_large_pledge_is_recorded(session, initiator, lenders):
    campaign = loan_campaign(session, initiator, goal=500_000)
    (ann,) = lenders(1)
    made = lend(session, ann, campaign, 400_000, acknowledge_risk=True)
    assert made.large_ack_at is not None


def test_sophisticated_investors_skip_the_assessment(session, initiator, make_user):
    admin = make_user(roles=["admin"], kyc="verified")
    (pro,) = backer_factory(make_user, session)(1)
    with pytest.raises(Forbidden):
        investors.set_sophisticated(session, pro.id, pro.id, sophisticated=True)
    investors.set_sophisticated(session, admin.id, pro.id, sophisticated=True)
    campaign = loan_campaign(session, initiator)
    assert lend(session, pro, campaign, 190_000).status == PledgeStatus.PENDING


def test_loan_pledges_stop_at_the_goal(session, initiator, lenders):
    campaign = loan_campaign(session, initiator, goal=100_000)
    ann, bob = lenders(2)
    lend(session, ann, campaign, 80_000)
    with pytest.raises(ValidationFailed) as caught:
        lend(session, bob, campaign, 20_001)
    assert "200.00 EUR is left" in caught.value.detail
    lend(session, bob, campaign, 20_000)


def test_loan_campaigns_are_euro_all_or_nothing_without_tiers(session, initiator):
    with pytest.raises(ValidationFailed):
        draft(session, initiator, funding_model="keep_it_all", **LOAN)
    with pytest.raises(ValidationFailed):
        draft(session, initiator, currency="USD", **LOAN)
    incomplete = draft(session, initiator, **{**LOAN, "risks_md": ""})
    with pytest.raises(ValidationFailed) as caught:
        services.launch_campaign(session, initiator.id, incomplete.id)
    assert "risks_md" in caught.value.field_errors


def test_revoke_within_four_days_without_cost(session, initiator, lenders, frozen_now):
    campaign = loan_campaign(session, initiator)
    ann, bob = lenders(2)
    early = lend(session, ann, campaign, 50_000)
    late = lend(session, bob, campaign, 50_000)
    with pytest.raises(InvalidState):
        pledging.cancel_pledge(session, ann.id, early.id)
    with pytest.raises(InvalidState):
        pledging.change_pledge(session, ann.id, early.id, amount_minor=60_000)
    assert read_progress.progress(session, campaign).revocable_minor == 100_000
    clock.set_now(frozen_now + timedelta(days=4) - timedelta(seconds=1))
    pledging.revoke_pledge(session, ann.id, early.id)
    assert early.status == PledgeStatus.REVOKED
    assert posted_held(session, ann.id) == (1_000_000, 0)
    clock.set_now(frozen_now + timedelta(days=4))
    with pytest.raises(InvalidState):
        pledging.revoke_pledge(session, bob.id, late.id)
    assert read_progress.progress(session, campaign).revocable_minor == 0
    assert_books_balance(session)


def test_owner_may_raise_at_most_five_million_in_twelve_months(session, initiator, frozen_now):
    loan_campaign(session, initiator, goal=400_000_000)
    second = draft(session, initiator, goal_minor=100_000_001, **LOAN)
    with pytest.raises(ValidationFailed) as caught:
        services.launch_campaign(session, initiator.id, second.id)
    assert "5,000,000" in caught.value.detail
    services.update_campaign(session, initiator.id, second.id, goal_minor=100_000_000)
    services.launch_campaign(session, initiator.id, second.id)  # exactly at the cap
    third = draft(session, initiator, goal_minor=10_000, **LOAN)
    with pytest.raises(ValidationFailed):
        services.launch_campaign(session, initiator.id, third.id)
    clock.set_now(frozen_now + timedelta(days=366))
    services.launch_campaign(session, initiator.id, third.id)


def test_settlement_waits_for_the_reflection_period_and_for_loan_issuing(
    session, initiator, lenders, frozen_now
):
    campaign = loan_campaign(session, initiator, goal=100_000)
    ann, bob = lenders(2)
    lend(session, ann, campaign, 60_000)
    clock.set_now(campaign.deadline_at - timedelta(hours=1))
    late = lend(session, bob, campaign, 40_000)
    clock.set_now(campaign.deadline_at)
    crowdfunding_due.run_due(session, gateway=None)
    assert campaign.status == CampaignStatus.COLLECTING  # bob may still revoke
    clock.set_now(late.revocable_until)
    report = crowdfunding_due.run_due(session, gateway=None)
    assert campaign.status == CampaignStatus.COLLECTING  # funded; no loan issuer here
    assert any("waits for loan issuing" in p for p in report.problems)
    assert posted_held(session, ann.id) == (1_000_000, 60_000)  # still held, nothing moved


def test_a_revocation_after_the_deadline_can_fail_the_campaign(
    session, initiator, lenders, frozen_now
):
    campaign = loan_campaign(session, initiator, goal=100_000)
    ann, bob = lenders(2)
    lend(session, ann, campaign, 60_000)
    clock.set_now(campaign.deadline_at - timedelta(hours=1))
    late = lend(session, bob, campaign, 40_000)
    clock.set_now(campaign.deadline_at + timedelta(days=1))
    crowdfunding_due.run_due(session, gateway=None)
    pledging.revoke_pledge(session, bob.id, late.id)
    clock.set_now(late.revocable_until)
    crowdfunding_due.run_due(session, gateway=None)
    assert campaign.status == CampaignStatus.FAILED
    assert posted_held(session, ann.id) == (1_000_000, 0)
    assert_books_balance(session)


def test_a_loan_issuer_turns_the_holds_into_the_loan(session, initiator, lenders, frozen_now):
    """The contract the lending domain implements: it receives the held parts, moves the
    money in the caller's transaction and names the loan and its parts."""
    campaign = loan_campaign(session, initiator, goal=100_000)
    ann, bob = lenders(2)
    first = lend(session, ann, campaign, 70_000)
    second = lend(session, bob, campaign, 30_000)
    seen: list[CrowdLoanRequest] = []

    def issue(session_, request: CrowdLoanRequest) -> IssuedLoan:
        seen.append(request)
        ledger.ensure_wallet(session_, request.borrower_id)
        for part in request.parts:
            holds.capture_hold(
                session_,
                part.hold_id,
                to_code=ledger.wallet_code(request.borrower_id),
                idempotency_key=f"test-loan:{part.pledge_id}",
                kind="loan_funding",
            )
        return IssuedLoan(
            loan_id=77, part_ids={p.pledge_id: 700 + p.pledge_id for p in request.parts}
        )

    clock.set_now(campaign.deadline_at)
    crowdfunding_due.run_due(session, gateway=None, loan_issuer=issue)
    assert campaign.status == CampaignStatus.SUCCEEDED
    assert campaign.loan_ref == 77
    (request,) = seen
    assert (request.rate_bps, request.term_months, request.principal_minor) == (650, 24, 100_000)
    assert {p.lender_id: p.amount_minor for p in request.parts} == {ann.id: 70_000, bob.id: 30_000}
    assert first.status == second.status == PledgeStatus.COLLECTED
    assert first.loan_part_ref == 700 + first.id
    assert posted_held(session, initiator.id) == (100_000, 0)
    # What the owner raised counts towards the 5,000,000 a year (Art. 1(2)(c)).
    since = campaign.launched_at - timedelta(days=1)
    assert checks.raised_by_owner(session, initiator.id, since) == 100_000
    assert_books_balance(session)

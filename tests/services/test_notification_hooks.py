"""Identity, questions, crowdfunding and trust tell people what happened: the real
commands run and the notification rows are read back (lending and withdrawals have files
of their own)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from p2pbank import clock
from p2pbank.crowdfunding import delivery, discussion, pledging, settlement
from p2pbank.crowdfunding import due as crowdfunding_due
from p2pbank.identity import services as identity
from p2pbank.identity.models import OutboxMail
from p2pbank.lending import due as lending_due
from p2pbank.notifications import kinds
from p2pbank.notifications import services as notifications
from p2pbank.notifications.models import Notification
from p2pbank.payments.sandbox_gateway import SandboxGateway
from p2pbank.questions import services as questions
from p2pbank.trust import refresh
from p2pbank.trust import services as trust
from tests.support.crowdfunding import (
    DECLINES_ON_CHARGE,
    an_initiator,
    backer_factory,
    card_pledge,
    key,
    live,
)
from tests.support.lending import at, borrower, funded_loan, instalments, lender, listing
from tests.support.mail import notification_mails
from tests.support.money import spend, wallet


def told(session, user_id: int, kind: str) -> list[Notification]:
    session.expire_all()
    return list(
        session.scalars(
            select(Notification)
            .where(Notification.user_id == user_id, Notification.kind == kind)
            .order_by(Notification.id)
        )
    )


# --- identity ------------------------------------------------------------------------------


def test_kyc_decisions_and_granted_roles_are_told(session, make_user):
    boss = make_user(roles=("admin",))
    ann = make_user(kyc="pending")
    identity.set_kyc_status(session, boss.id, ann.id, "verified", "documents fine")
    (verified,) = told(session, ann.id, "kyc_verified")
    assert verified.link == "/settings" and verified.email_state == "pending"
    bob = make_user(kyc="pending")
    identity.set_kyc_status(session, boss.id, bob.id, "rejected", "blurry photo")
    assert len(told(session, bob.id, "kyc_rejected")) == 1
    identity.grant_role(session, boss.id, ann.id, "auditor", "new auditor")
    (granted,) = told(session, ann.id, "role_granted")
    assert granted.params == {"role": "auditor"}


# --- questions -----------------------------------------------------------------------------


def test_a_question_is_told_to_the_borrower_and_its_answer_to_the_asker(
    session, make_user, frozen_now
):
    bo = borrower(make_user, session)
    request = listing(session, bo)
    lena = lender(make_user, session)
    question = questions.ask(session, lena.id, "listing", request.id, body="What car exactly?")
    (asked,) = told(session, bo.id, "question_asked")
    assert asked.params == {"title": "A used car to get to work"}
    assert asked.link == f"/lending/listings/{request.id}"
    questions.answer(session, bo.id, question.id, body="A 2019 hatchback.")
    (answered,) = told(session, lena.id, "question_answered")
    assert answered.link == f"/lending/listings/{request.id}"


def test_a_question_on_a_campaign_names_the_campaign(session, make_user, frozen_now):
    ian = an_initiator(make_user)
    campaign = live(session, ian)
    (ann,) = backer_factory(make_user, session)(1)
    questions.ask(session, ann.id, "campaign", campaign.id, body="Gluten-free bread too?")
    (asked,) = told(session, ian.id, "question_asked")
    assert asked.params == {"title": "Street oven"}
    assert asked.link == f"/campaigns/{campaign.id}"


# --- crowdfunding --------------------------------------------------------------------------


@pytest.fixture
def gateway(session):
    return SandboxGateway(session, webhook_secret="whsec_test_notifications")


def test_a_campaign_that_succeeds_tells_everyone_and_charges_tell_the_backers(
    session, make_user, frozen_now
):
    ian = an_initiator(make_user)
    campaign = live(session, ian, goal_minor=10_000)
    ann, bob = backer_factory(make_user, session)(2)
    for who in (ann, bob):
        pledging.pledge(session, who.id, campaign.id, amount_minor=6_000, idempotency_key=key())
    clock.set_now(campaign.deadline_at)
    settlement.close_campaign(session, campaign.id)
    assert len(told(session, ian.id, "campaign_succeeded")) == 1
    for who in (ann, bob):
        (charged,) = told(session, who.id, "pledge_charged")
        assert charged.params == {"title": "Street oven", "amount_minor": 6_000, "currency": "EUR"}
        (news,) = told(session, who.id, "campaign_succeeded")
        assert news.email_state == "pending"  # mailed like every other notification


def test_a_campaign_that_fails_tells_the_initiator_and_the_backers(session, make_user, frozen_now):
    ian = an_initiator(make_user)
    campaign = live(session, ian, goal_minor=100_000)
    (ann,) = backer_factory(make_user, session)(1)
    pledging.pledge(session, ann.id, campaign.id, amount_minor=6_000, idempotency_key=key())
    clock.set_now(campaign.deadline_at)
    settlement.close_campaign(session, campaign.id)
    assert len(told(session, ian.id, "campaign_failed")) == 1
    assert len(told(session, ann.id, "campaign_failed")) == 1


def test_a_declined_card_says_how_many_days_are_left(session, make_user, gateway, frozen_now):
    ian = an_initiator(make_user)
    campaign = live(session, ian, goal_minor=10_000)
    ann, bob = backer_factory(make_user, session)(2)
    card_pledge(session, gateway, ann, campaign, 4_000, card=DECLINES_ON_CHARGE)
    pledging.pledge(session, bob.id, campaign.id, amount_minor=8_000, idempotency_key=key())
    clock.set_now(campaign.deadline_at)
    crowdfunding_due.run_due(session, gateway=gateway)
    (declined,) = told(session, ann.id, "card_declined")
    assert declined.params == {"title": "Street oven", "days": 7}
    assert declined.link == "/pledges"


def test_updates_and_shipped_rewards_reach_the_backers(session, make_user, frozen_now):
    ian = an_initiator(make_user)
    campaign, (tier,) = live(
        session,
        ian,
        tiers=[{"title": "Loaf", "min_pledge_minor": 1_000, "quantity_limit": 5}],
    )
    (ann,) = backer_factory(make_user, session)(1)
    pledging.pledge(
        session, ann.id, campaign.id, amount_minor=100_000, idempotency_key=key(), tier_id=tier.id
    )
    discussion.post_update(session, ian.id, campaign.id, title="Bricks arrived", body_md="Yes")
    (update,) = told(session, ann.id, "campaign_update")
    assert update.params == {"title": "Street oven", "headline": "Bricks arrived", "body": "Yes"}
    clock.set_now(campaign.deadline_at)
    settlement.close_campaign(session, campaign.id)
    delivery.mark_tier_shipped(session, ian.id, tier.id)
    assert len(told(session, ann.id, "reward_shipped")) == 1


# --- trust ---------------------------------------------------------------------------------


def test_a_finished_loan_opens_rating_and_a_rating_is_revealed(session, make_user, frozen_now):
    bo = make_user(roles=["borrower"], kyc="verified", name="Bo")
    lena = make_user(roles=["lender"], kyc="verified", name="Lena")
    (transaction,) = trust.record_completed_transaction(
        session, ref_type="loan", ref_id=1, principal_id=bo.id, counterparty_ids=[lena.id]
    )
    session.commit()
    assert told(session, bo.id, "rating_open")[0].params == {"name": "Lena"}
    assert told(session, lena.id, "rating_open")[0].params == {"name": "Bo"}
    assert (
        told(session, lena.id, "rating_open")[0].link
        == f"/trust/transactions/{transaction.id}/rate"
    )
    trust.rate_counterparty(session, lena.id, transaction.id, value="positive")
    assert told(session, bo.id, "rating_revealed") == []  # sealed until both rated
    trust.rate_counterparty(session, bo.id, transaction.id, value="positive")
    assert told(session, bo.id, "rating_revealed")[0].params == {"name": "Lena"}
    assert told(session, lena.id, "rating_revealed")[0].params == {"name": "Bo"}


def test_a_grade_that_moves_is_told(session, make_user, frozen_now):
    bo, _lenders, loan = funded_loan(session, make_user, money=20_000)
    first_due = instalments(session, loan)[0].due_on
    lending_due.run_due_lending(session, at(first_due))  # paid on time: a trust event
    refresh.recompute_trust(session, clock.now())
    assert told(session, bo.id, "grade_changed") == []  # a first grade is not a change
    spend(session, bo.id, wallet(session, bo.id)[2])
    second_due = instalments(session, loan)[1].due_on
    lending_due.run_due_lending(session, at(second_due + timedelta(days=119)))
    lending_due.run_due_lending(session, at(second_due + timedelta(days=120)))
    refresh.recompute_trust(session, clock.now())
    (moved,) = told(session, bo.id, "grade_changed")
    assert moved.params["new"] == "E" and moved.params["old"] != "E"
    assert moved.link == f"/trust/members/{bo.id}"


def test_a_campaigns_own_mail_follows_the_notification_settings(session, make_user, frozen_now):
    ian = an_initiator(make_user)
    campaign = live(session, ian)
    ann, bob = backer_factory(make_user, session)(2)
    for who in (ann, bob):
        pledging.pledge(session, who.id, campaign.id, amount_minor=1_000, idempotency_key=key())
    notifications.set_email_kinds(session, bob.id, set(kinds.KINDS) - {"campaign_update"})
    discussion.post_update(session, ian.id, campaign.id, title="Bricks arrived", body_md="Yes")
    notification_mails(session, ann.email)
    mailed = set(
        session.scalars(select(OutboxMail.to_address).where(OutboxMail.subject.like("%Bricks%")))
    )
    assert mailed == {ann.email}  # Bob only sees it under the bell
    assert len(told(session, bob.id, "campaign_update")) == 1

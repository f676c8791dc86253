"""Campaign authoring, pledges and their rules against the real database."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from p2pbank import clock
from p2pbank.crowdfunding import discussion, pledging, rewards, services
from p2pbank.crowdfunding.models import (
    CampaignEvent,
    CampaignStatus,
    Comment,
    PledgeChange,
    PledgeStatus,
    RewardTier,
)
from p2pbank.errors import (
    Conflict,
    Forbidden,
    InsufficientFunds,
    InvalidState,
    NotFound,
    ValidationFailed,
)
from tests.support.crowdfunding import draft, key, live
from tests.support.mail import notification_mails
from tests.support.money import assert_books_balance, posted_held

# --- campaigns ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("goal", "ok"),
    [(9_999, False), (10_000, True), (500_000_000, True), (500_000_001, False)],
)
def test_goal_is_100_to_5_million(session, initiator, goal, ok):
    if ok:
        assert draft(session, initiator, goal_minor=goal).goal_minor == goal
    else:
        with pytest.raises(ValidationFailed) as caught:
            draft(session, initiator, goal_minor=goal)
        assert "goal_minor" in caught.value.field_errors


@pytest.mark.parametrize(("days", "ok"), [(0, False), (1, True), (60, True), (61, False)])
def test_duration_is_1_to_60_days(session, initiator, days, ok):
    if ok:
        assert draft(session, initiator, duration_days=days).duration_days == days
    else:
        with pytest.raises(ValidationFailed):
            draft(session, initiator, duration_days=days)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("category", "weapons"),
        ("currency", "XYZ"),
        ("funding_model", "sometimes"),
        ("kind", "equity"),
        ("title", "ab"),
        ("summary", "short"),
        ("goal_minor", 100_000.0),
        ("goal_minor", True),
    ],
)
def test_bad_campaign_fields_are_refused(session, initiator, field, value):
    with pytest.raises(ValidationFailed) as caught:
        draft(session, initiator, **{field: value})
    assert field in caught.value.field_errors


def test_only_initiators_start_campaigns(session, make_user):
    person = make_user(roles=["backer"], kyc="verified")
    with pytest.raises(Forbidden):
        draft(session, person)


def test_story_is_stored_sanitized(session, initiator):
    campaign = draft(session, initiator, story_md="Hi <script>alert(1)</script> [x](javascript:y)")
    assert "<script" not in campaign.story_html
    assert "javascript:" not in campaign.story_html


def test_launch_sets_the_deadline_and_locks_fields(session, initiator, frozen_now):
    campaign = live(session, initiator, duration_days=10)
    assert campaign.status == CampaignStatus.LIVE
    assert campaign.deadline_at == frozen_now + timedelta(days=10)
    with pytest.raises(ValidationFailed) as caught:
        services.update_campaign(session, initiator.id, campaign.id, goal_minor=200_000)
    assert "goal_minor" in caught.value.field_errors
    for locked in ("duration_days", "funding_model", "currency"):
        value = {"duration_days": 20, "funding_model": "keep_it_all", "currency": "USD"}[locked]
        with pytest.raises(ValidationFailed):
            services.update_campaign(session, initiator.id, campaign.id, **{locked: value})
    # Same value again is not a change; the story can still be improved.
    services.update_campaign(
        session, initiator.id, campaign.id, goal_minor=100_000, story_md="Better **story**"
    )
    assert "<strong>story</strong>" in campaign.story_html


def test_a_draft_can_change_anything(session, initiator):
    campaign = draft(session, initiator)
    services.update_campaign(
        session, initiator.id, campaign.id, goal_minor=250_000, funding_model="keep_it_all"
    )
    assert campaign.goal_minor == 250_000 and campaign.funding_model == "keep_it_all"


def test_launch_needs_a_verified_identity_and_a_story(session, make_user):
    unverified = make_user(roles=["initiator"])
    campaign = draft(session, unverified)
    with pytest.raises(Forbidden):
        services.launch_campaign(session, unverified.id, campaign.id)
    verified = make_user(roles=["initiator"], kyc="verified")
    empty = draft(session, verified, story_md="")
    with pytest.raises(ValidationFailed):
        services.launch_campaign(session, verified.id, empty.id)
    assert empty.status == CampaignStatus.DRAFT


def test_others_cannot_touch_a_campaign(session, initiator, make_user):
    other = make_user(roles=["initiator"], kyc="verified")
    campaign = draft(session, initiator)
    with pytest.raises(NotFound):  # a draft does not exist for others
        services.update_campaign(session, other.id, campaign.id, title="Mine now")
    services.launch_campaign(session, initiator.id, campaign.id)
    with pytest.raises(Forbidden):
        services.update_campaign(session, other.id, campaign.id, title="Mine now")
    with pytest.raises(Forbidden):
        services.cancel_campaign(session, other.id, campaign.id, reason="because")


def test_admin_may_cancel(session, initiator, make_user):
    admin = make_user(roles=["admin"], kyc="verified")
    campaign = live(session, initiator)
    services.cancel_campaign(session, admin.id, campaign.id, reason="fraud report")
    assert campaign.status == CampaignStatus.CANCELLED


def test_launch_twice_is_refused(session, initiator):
    campaign = live(session, initiator)
    with pytest.raises(InvalidState):
        services.launch_campaign(session, initiator.id, campaign.id)


def test_stretch_goals_must_be_above_the_goal(session, initiator):
    campaign = draft(session, initiator)
    with pytest.raises(ValidationFailed):
        rewards.add_stretch_goal(
            session, initiator.id, campaign.id, amount_minor=100_000, description="Same as goal"
        )
    goal = rewards.add_stretch_goal(
        session, initiator.id, campaign.id, amount_minor=150_000, description="A second oven"
    )
    assert goal.amount_minor == 150_000
    with pytest.raises(ValidationFailed):
        rewards.add_stretch_goal(
            session, initiator.id, campaign.id, amount_minor=150_000, description="Twice"
        )


# --- tiers ---------------------------------------------------------------------------------------


def test_tier_rules(session, initiator):
    campaign = draft(session, initiator)
    tier = rewards.add_tier(
        session,
        initiator.id,
        campaign.id,
        title="Bread for a year",
        min_pledge_minor=5_000,
        quantity_limit=10,
        delivery_month=date(2027, 3, 17),
    )
    assert tier.delivery_month == date(2027, 3, 1)
    with pytest.raises(ValidationFailed):
        rewards.add_tier(
            session,
            initiator.id,
            campaign.id,
            title="x",
            min_pledge_minor=0,
            delivery_month=date(2027, 1, 1),
        )
    with pytest.raises(ValidationFailed):
        rewards.add_tier(
            session,
            initiator.id,
            campaign.id,
            title="x",
            min_pledge_minor=500,
            quantity_limit=0,
            delivery_month=date(2027, 1, 1),
        )
    services.launch_campaign(session, initiator.id, campaign.id)
    with pytest.raises(ValidationFailed):
        rewards.update_tier(session, initiator.id, tier.id, min_pledge_minor=4_000)
    rewards.update_tier(session, initiator.id, tier.id, quantity_limit=12, title="Bread!")
    assert tier.quantity_limit == 12
    rewards.remove_tier(session, initiator.id, tier.id)
    assert tier.retired_at is not None  # live: retired, not deleted


def test_a_loan_campaign_has_no_tiers(session, initiator):
    campaign = draft(
        session,
        initiator,
        kind="loan",
        loan_rate_bps=600,
        loan_term_months=24,
        owner_legal_name="Oven BV",
        owner_registration="KvK 123",
        risks_md="Ovens break.",
    )
    with pytest.raises(InvalidState):
        rewards.add_tier(
            session,
            initiator.id,
            campaign.id,
            title="x",
            min_pledge_minor=500,
            delivery_month=date(2027, 1, 1),
        )


# --- pledges -------------------------------------------------------------------------------------


def test_wallet_pledge_holds_the_money(session, initiator, backers):
    campaign = live(session, initiator)
    (ann,) = backers(1, funds=50_000)
    made = pledging.pledge(session, ann.id, campaign.id, amount_minor=20_000, idempotency_key=key())
    assert made.status == PledgeStatus.PENDING and made.hold_ref
    assert posted_held(session, ann.id) == (50_000, 20_000)
    assert_books_balance(session)


def test_same_key_returns_the_same_pledge(session, initiator, backers):
    campaign = live(session, initiator)
    (ann,) = backers(1)
    k = key()
    first = pledging.pledge(session, ann.id, campaign.id, amount_minor=1_000, idempotency_key=k)
    again = pledging.pledge(session, ann.id, campaign.id, amount_minor=1_000, idempotency_key=k)
    assert again.id == first.id
    assert posted_held(session, ann.id)[1] == 1_000  # held once


def test_one_open_pledge_per_backer(session, initiator, backers):
    campaign = live(session, initiator)
    (ann,) = backers(1)
    pledging.pledge(session, ann.id, campaign.id, amount_minor=1_000, idempotency_key=key())
    with pytest.raises(Conflict):
        pledging.pledge(session, ann.id, campaign.id, amount_minor=2_000, idempotency_key=key())


def test_no_pledge_on_own_campaign_or_a_draft(session, initiator, backers):
    fund_initiator = live(session, initiator)
    with pytest.raises(Forbidden):
        pledging.pledge(
            session, initiator.id, fund_initiator.id, amount_minor=1_000, idempotency_key=key()
        )
    (ann,) = backers(1)
    hidden = draft(session, initiator)
    with pytest.raises(NotFound):
        pledging.pledge(session, ann.id, hidden.id, amount_minor=1_000, idempotency_key=key())


def test_not_enough_money_leaves_nothing_behind(session, initiator, backers):
    campaign, (tier,) = live(
        session,
        initiator,
        tiers=[{"title": "Loaf", "min_pledge_minor": 1_000, "quantity_limit": 1}],
    )
    (ann,) = backers(1, funds=500)
    with pytest.raises(InsufficientFunds):
        pledging.pledge(
            session, ann.id, campaign.id, amount_minor=1_000, tier_id=tier.id, idempotency_key=key()
        )
    session.refresh(tier)
    assert tier.claimed == 0
    assert session.scalars(select(PledgeChange)).all() == []


def test_tier_minimum_and_sell_out(session, initiator, backers):
    campaign, (tier,) = live(
        session,
        initiator,
        tiers=[{"title": "Loaf", "min_pledge_minor": 2_500, "quantity_limit": 2}],
    )
    ann, bob, cy = backers(3)
    with pytest.raises(ValidationFailed):
        pledging.pledge(
            session, ann.id, campaign.id, amount_minor=2_499, tier_id=tier.id, idempotency_key=key()
        )
    for person in (ann, bob):
        pledging.pledge(
            session,
            person.id,
            campaign.id,
            amount_minor=2_500,
            tier_id=tier.id,
            idempotency_key=key(),
        )
    with pytest.raises(Conflict) as caught:
        pledging.pledge(
            session, cy.id, campaign.id, amount_minor=9_000, tier_id=tier.id, idempotency_key=key()
        )
    assert "sold out" in caught.value.detail
    session.refresh(tier)
    assert tier.claimed == 2


def test_cancelling_frees_the_slot_and_the_money(session, initiator, backers):
    campaign, (tier,) = live(
        session,
        initiator,
        tiers=[{"title": "Loaf", "min_pledge_minor": 2_500, "quantity_limit": 1}],
    )
    ann, bob = backers(2)
    mine = pledging.pledge(
        session, ann.id, campaign.id, amount_minor=2_500, tier_id=tier.id, idempotency_key=key()
    )
    pledging.cancel_pledge(session, ann.id, mine.id)
    assert mine.status == PledgeStatus.RELEASED
    assert posted_held(session, ann.id) == (1_000_000, 0)
    pledging.pledge(
        session, bob.id, campaign.id, amount_minor=2_500, tier_id=tier.id, idempotency_key=key()
    )
    assert_books_balance(session)


def test_change_amount_and_tier(session, initiator, backers):
    campaign, (small, big) = live(
        session,
        initiator,
        tiers=[
            {"title": "Loaf", "min_pledge_minor": 1_000, "quantity_limit": 5},
            {"title": "Pizza party", "min_pledge_minor": 10_000, "quantity_limit": 1},
        ],
    )
    (ann,) = backers(1)
    mine = pledging.pledge(
        session, ann.id, campaign.id, amount_minor=1_000, tier_id=small.id, idempotency_key=key()
    )
    pledging.change_pledge(session, ann.id, mine.id, amount_minor=12_000, tier_id=big.id)
    session.refresh(small)
    session.refresh(big)
    assert (small.claimed, big.claimed) == (0, 1)
    assert posted_held(session, ann.id) == (1_000_000, 12_000)
    pledging.change_pledge(session, ann.id, mine.id, amount_minor=3_000, tier_id=None)
    assert posted_held(session, ann.id) == (1_000_000, 3_000)
    changes = session.scalars(
        select(PledgeChange.delta_minor).where(PledgeChange.pledge_id == mine.id)
    ).all()
    assert sorted(changes) == [-9_000, 1_000, 11_000]
    assert_books_balance(session)


def test_last_24_hours_only_raise(session, initiator, backers, frozen_now):
    campaign = live(session, initiator, duration_days=5)
    (ann,) = backers(1)
    mine = pledging.pledge(session, ann.id, campaign.id, amount_minor=5_000, idempotency_key=key())
    clock.set_now(campaign.deadline_at - timedelta(hours=24))
    with pytest.raises(ValidationFailed):
        pledging.change_pledge(session, ann.id, mine.id, amount_minor=4_000)
    with pytest.raises(InvalidState):
        pledging.cancel_pledge(session, ann.id, mine.id)
    pledging.change_pledge(session, ann.id, mine.id, amount_minor=6_000)
    assert mine.amount_minor == 6_000
    assert posted_held(session, ann.id)[1] == 6_000


def test_pledges_stop_exactly_at_the_deadline(session, initiator, backers, frozen_now):
    campaign = live(session, initiator, duration_days=1)
    ann, bob = backers(2)
    clock.set_now(campaign.deadline_at - timedelta(microseconds=1))
    pledging.pledge(session, ann.id, campaign.id, amount_minor=1_000, idempotency_key=key())
    clock.set_now(campaign.deadline_at)
    with pytest.raises(InvalidState):
        pledging.pledge(session, bob.id, campaign.id, amount_minor=1_000, idempotency_key=key())


def test_another_backer_cannot_touch_my_pledge(session, initiator, backers):
    campaign = live(session, initiator)
    ann, bob = backers(2)
    mine = pledging.pledge(session, ann.id, campaign.id, amount_minor=1_000, idempotency_key=key())
    with pytest.raises(NotFound):
        pledging.change_pledge(session, bob.id, mine.id, amount_minor=9_000)
    with pytest.raises(NotFound):
        pledging.cancel_pledge(session, bob.id, mine.id)


def test_cancel_campaign_releases_everything_and_tells_backers(session, initiator, backers):
    campaign = live(session, initiator)
    ann, bob = backers(2)
    for person in (ann, bob):
        pledging.pledge(session, person.id, campaign.id, amount_minor=3_000, idempotency_key=key())
    services.cancel_campaign(session, initiator.id, campaign.id, reason="Oven supplier closed")
    assert campaign.status == CampaignStatus.CANCELLED
    assert posted_held(session, ann.id) == (1_000_000, 0)
    assert posted_held(session, bob.id) == (1_000_000, 0)
    for person in (ann, bob):
        (told,) = [m for m in notification_mails(session, person.email) if "cancel" in m.subject]
        assert told.subject.startswith(f"“{campaign.title}” was cancelled (Oven supplier closed)")
        assert "Nothing was charged" in told.subject
    assert not [m for m in notification_mails(session, initiator.email) if "cancel" in m.subject]
    with pytest.raises(InvalidState):
        services.cancel_campaign(session, initiator.id, campaign.id, reason="again")
    assert_books_balance(session)


# --- updates and comments ------------------------------------------------------------------------


def test_updates_mail_backers_and_validate(session, initiator, backers):
    campaign = live(session, initiator)
    (ann,) = backers(1)
    pledging.pledge(session, ann.id, campaign.id, amount_minor=1_000, idempotency_key=key())
    update = discussion.post_update(
        session,
        initiator.id,
        campaign.id,
        title="Bricks arrived",
        body_md="**Yes**",
        visibility="backers",
    )
    assert update.body_html == "<p><strong>Yes</strong></p>"
    (mailed,) = [m for m in notification_mails(session, ann.email) if "update" in m.subject]
    assert mailed.subject == f"“{campaign.title}” posted an update: Bricks arrived"
    assert "**Yes**" in mailed.body  # the update itself, below the sentence
    with pytest.raises(ValidationFailed):
        discussion.post_update(
            session, initiator.id, campaign.id, title="x", body_md="y", visibility="secret"
        )
    with pytest.raises(Forbidden):
        discussion.post_update(session, ann.id, campaign.id, title="Hello", body_md="hi")


def test_comments_mark_the_initiator_and_stay_one_level(session, initiator, backers):
    campaign = live(session, initiator)
    (ann,) = backers(1)
    question = discussion.post_comment(session, ann.id, campaign.id, body="Gluten-free too?")
    answer = discussion.post_comment(
        session, initiator.id, campaign.id, body="Yes!", parent_id=question.id
    )
    deeper = discussion.post_comment(
        session, ann.id, campaign.id, body="Great", parent_id=answer.id
    )
    assert answer.by_initiator and not question.by_initiator
    assert deeper.parent_id == question.id
    with pytest.raises(ValidationFailed):
        discussion.post_comment(session, ann.id, campaign.id, body="   ")
    other = live(session, initiator, title="Other oven")
    with pytest.raises(ValidationFailed):
        discussion.post_comment(session, ann.id, other.id, body="x", parent_id=question.id)
    assert session.scalar(select(Comment).where(Comment.id == question.id)).body == (
        "Gluten-free too?"
    )


def test_launch_is_an_event(session, initiator):
    campaign = live(session, initiator)
    kinds = session.scalars(
        select(CampaignEvent.kind).where(CampaignEvent.campaign_id == campaign.id)
    ).all()
    assert kinds == ["campaign_launched"]


def test_tier_rows_belong_to_their_campaign(session, initiator, backers):
    first, (tier,) = live(session, initiator, tiers=[{"title": "Loaf", "min_pledge_minor": 1_000}])
    second = live(session, initiator, title="Second oven")
    (ann,) = backers(1)
    with pytest.raises(ValidationFailed):
        pledging.pledge(
            session, ann.id, second.id, amount_minor=1_000, tier_id=tier.id, idempotency_key=key()
        )
    assert session.get(RewardTier, tier.id).campaign_id == first.id


@pytest.mark.parametrize("bad_key", ["", "short", "k" * 101])
def test_idempotency_keys_are_8_to_100_characters(session, initiator, backers, bad_key):
    campaign = live(session, initiator)
    (ann,) = backers(1)
    with pytest.raises(ValidationFailed):
        pledging.pledge(session, ann.id, campaign.id, amount_minor=1_000, idempotency_key=bad_key)
    made = pledging.pledge(
        session, ann.id, campaign.id, amount_minor=1_000, idempotency_key="k" * 100
    )
    assert made.idempotency_key == f"{ann.id}:" + "k" * 100

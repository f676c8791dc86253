"""A limited reward is never oversold, also when many backers pledge at the same moment:
real threads, each with its own connection, committing for real on PostgreSQL. The rows
are removed again afterwards."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from sqlalchemy import delete, select
from sqlalchemy.orm import sessionmaker

from p2pbank.crowdfunding import pledging, rewards, services
from p2pbank.crowdfunding.models import (
    Campaign,
    CampaignEvent,
    Pledge,
    PledgeChange,
    RewardTier,
)
from p2pbank.errors import Conflict
from p2pbank.identity.models import User, UserRole
from p2pbank.ledger.models import Account

pytestmark = pytest.mark.postgres_only

BACKERS = 12
SLOTS = 3


def _person(session, n: int, role: str) -> User:
    user = User(
        email=f"race{n}-{role}@example.test",
        display_name=f"Racer {n}",
        password_hash="not-a-real-hash",
        kyc_status="verified",
    )
    user.roles.append(UserRole(role=role))
    session.add(user)
    return user


def test_the_last_slots_of_a_tier_go_to_exactly_as_many_backers(engine):
    make = sessionmaker(bind=engine, expire_on_commit=False)
    setup = make()
    people: list[User] = []
    campaign_id = None
    try:
        owner = _person(setup, 0, "initiator")
        people = [owner] + [_person(setup, n, "backer") for n in range(1, BACKERS + 1)]
        setup.commit()
        campaign = services.create_campaign(
            setup,
            owner.id,
            title="Race for the last loaf",
            summary="Only three loaves, twelve people want one.",
            category="food",
            goal_minor=10_000,
            duration_days=10,
            story_md="Bread.",
        )
        campaign_id = campaign.id
        tier = rewards.add_tier(
            setup,
            owner.id,
            campaign.id,
            title="Loaf",
            min_pledge_minor=1_000,
            quantity_limit=SLOTS,
            delivery_month=date(2027, 1, 1),
        )
        services.launch_campaign(setup, owner.id, campaign.id)

        start = threading.Barrier(BACKERS)
        outcomes: list[str] = []
        lock = threading.Lock()

        def attempt(backer_id: int) -> None:
            session = make()
            try:
                start.wait(timeout=30)
                pledging.pledge(
                    session,
                    backer_id,
                    campaign_id,
                    amount_minor=1_000,
                    tier_id=tier.id,
                    method="card",  # no ledger rows: the claim is the same for both methods
                    idempotency_key=f"race-{backer_id}-pledge",
                )
                result = "won"
            except Conflict:
                result = "sold out"
            finally:
                session.close()
            with lock:
                outcomes.append(result)

        threads = [threading.Thread(target=attempt, args=(p.id,)) for p in people[1:]]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)

        assert sorted(outcomes) == ["sold out"] * (BACKERS - SLOTS) + ["won"] * SLOTS
        check = make()
        assert check.get(RewardTier, tier.id).claimed == SLOTS
        pledges = check.scalars(select(Pledge).where(Pledge.tier_id == tier.id)).all()
        assert len(pledges) == SLOTS
        check.close()
    finally:
        setup.rollback()
        ids = [p.id for p in people if p.id is not None]
        if campaign_id is not None:
            setup.execute(delete(CampaignEvent).where(CampaignEvent.campaign_id == campaign_id))
            setup.execute(delete(PledgeChange).where(PledgeChange.campaign_id == campaign_id))
            setup.execute(delete(Pledge).where(Pledge.campaign_id == campaign_id))
            setup.execute(delete(RewardTier).where(RewardTier.campaign_id == campaign_id))
            setup.execute(delete(Campaign).where(Campaign.id == campaign_id))
            setup.execute(delete(Account).where(Account.code == f"campaign:{campaign_id}:escrow"))
        if ids:
            setup.execute(delete(UserRole).where(UserRole.user_id.in_(ids)))
            setup.execute(delete(User).where(User.id.in_(ids)))
        setup.commit()
        setup.close()

"""Crowdfunding for tests: initiators and backers with money, campaigns in a given state,
and card pledges saved through the test-mode gateway."""

from __future__ import annotations

import itertools
from datetime import date

from p2pbank.crowdfunding import cards, pledging, rewards, services
from p2pbank.crowdfunding.models import PledgeStatus
from tests.support.money import deposit

STORY = "## Why\n\nWe build a **community** oven for the street."

GOOD = "4242424242424242"
DECLINES_ON_CHARGE = "4000000000000341"  # saves fine, every charge is declined
DECLINES_ON_SAVE = "4000000000000002"

_keys = itertools.count(1)


def key() -> str:
    """A fresh idempotency key for a pledge."""
    return f"pledge-key-{next(_keys):06d}"


def an_initiator(make_user, name: str = "Ian"):
    """A verified initiator (Ian unless told)."""
    return make_user(roles=["initiator"], kyc="verified", name=name)


def backer_factory(make_user, session):
    """backers(n, funds=...) -> verified backers, each with that much in the wallet."""

    def _make(n: int, funds: int = 1_000_000):
        people = []
        for _ in range(n):
            person = make_user(roles=["backer"], kyc="verified")
            if funds:
                deposit(session, person.id, funds)
            people.append(person)
        return people

    return _make


def draft(session, initiator, **overrides):
    """The initiator's draft campaign: a street oven unless told otherwise."""
    values = {
        "title": "Street oven",
        "summary": "A wood-fired oven everyone on the street can use.",
        "category": "community",
        "goal_minor": 100_000,
        "duration_days": 30,
        "story_md": STORY,
    }
    values.update(overrides)
    return services.create_campaign(session, initiator.id, **values)


def live(session, initiator, tiers=(), **overrides):
    """A launched campaign; with `tiers` (dicts of add_tier's fields) returns (campaign,
    tiers)."""
    campaign = draft(session, initiator, **overrides)
    made = []
    for tier in tiers:
        made.append(
            rewards.add_tier(
                session,
                initiator.id,
                campaign.id,
                delivery_month=tier.get("delivery_month", date(2027, 1, 1)),
                **{k: v for k, v in tier.items() if k != "delivery_month"},
            )
        )
    services.launch_campaign(session, initiator.id, campaign.id)
    return (campaign, made) if tiers else campaign


def card_pledge(session, gateway, person, campaign, amount, card=GOOD, **kw):
    """A card pledge whose card was saved (the test-mode gateway's card numbers)."""
    made = pledging.pledge(
        session,
        person.id,
        campaign.id,
        amount_minor=amount,
        idempotency_key=key(),
        method="card",
        **kw,
    )
    assert made.status == PledgeStatus.AWAITING_CARD
    cards.start_card_setup(session, person.id, made.id, gateway=gateway)
    return cards.complete_test_card_setup(
        session, person.id, made.id, gateway=gateway, card_number=card
    )

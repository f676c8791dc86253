"""Helpers shared by the crowdfunding tests (no tests here): money into wallets, campaigns
in a given state, and the ledger's own check."""

from __future__ import annotations

import itertools
from datetime import date

from p2pbank.crowdfunding import rewards, services
from p2pbank.ledger import services as ledger
from p2pbank.ledger.checks import check_ledger

_keys = itertools.count(1)

STORY = "## Why\n\nWe build a **community** oven for the street."


def fund(session, user, minor: int, currency: str = "EUR") -> None:
    """A deposit: the gateway owes us, the wallet holds it."""
    ledger.ensure_wallet(session, user.id, currency)
    if currency == "EUR":
        ledger.ensure_platform_account(session, ledger.PLATFORM_GATEWAY_CLEARING, currency)
        clearing = ledger.PLATFORM_GATEWAY_CLEARING
    else:
        clearing = f"{ledger.PLATFORM_GATEWAY_CLEARING}:{currency}"
        ledger.ensure_account(session, clearing, type="asset", currency=currency)
    ledger.post_entry(
        session,
        postings=[(clearing, -minor), (ledger.wallet_code(user.id, currency), minor)],
        currency=currency,
        kind="deposit",
        idempotency_key=f"test-deposit-{next(_keys)}",
    )
    session.commit()


def balance(session, code: str) -> tuple[int, int]:
    """(posted, held) of an account."""
    account = ledger.find_account(session, code)
    if account is None:
        return (0, 0)
    session.refresh(account)
    return account.posted_minor, account.held_minor


def wallet(session, user, currency: str = "EUR") -> tuple[int, int]:
    return balance(session, ledger.wallet_code(user.id, currency))


def draft(session, initiator, **overrides):
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


def key() -> str:
    return f"pledge-key-{next(_keys):06d}"


def assert_ledger_ok(session) -> None:
    report = check_ledger(session)
    assert report.ok, report


def an_initiator(make_user, name: str = "Ian"):
    return make_user(roles=["initiator"], kyc="verified", name=name)


def backer_factory(make_user, session):
    """backers(n, funds=...) -> verified backers, each with that much in the wallet."""

    def _make(n: int, funds: int = 1_000_000):
        people = []
        for _ in range(n):
            person = make_user(roles=["backer"], kyc="verified")
            if funds:
                fund(session, person, funds)
            people.append(person)
        return people

    return _make

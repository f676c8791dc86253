"""Matrix objects of crowdfunding: the owner's campaigns in each state, and the owner's
pledges and investor checks on third members' campaigns."""

from __future__ import annotations

from tests.support.crowdfunding import draft
from tests.support.matrix.payments import payments_gateway
from tests.support.matrix.rows import Objects, World
from tests.support.money import deposit
from tests.support.people import member


def _cf_person(world: World, tag: str, roles=("initiator", "backer")):
    """A verified third member, "Third <tag>"."""
    return member(
        world.session, f"Third {tag}", roles, email=f"cf-{tag}@example.test", reason="matrix"
    )


def _cf_money(world: World, *people) -> None:
    """EUR 3,000 in each one's wallet."""
    for person in people:
        deposit(world.session, person.id, 300_000)


def _cf_campaign(world: World, initiator, title: str, *, launch=True, **extra):
    from datetime import date

    from p2pbank.crowdfunding import rewards
    from p2pbank.crowdfunding import services as cf

    campaign = draft(
        world.session,
        initiator,
        title=title,
        summary="A wood-fired oven for the whole street.",
        category="food",
        story_md="Bread for all.",
        **extra,
    )
    tier = None
    if campaign.kind == "reward":
        tier = rewards.add_tier(
            world.session,
            initiator.id,
            campaign.id,
            title="Loaf",
            min_pledge_minor=1_000,
            quantity_limit=10,
            delivery_month=date(2027, 1, 1),
        )
    goal = rewards.add_stretch_goal(
        world.session, initiator.id, campaign.id, amount_minor=200_000, description="Two ovens"
    )
    if launch:
        cf.launch_campaign(world.session, initiator.id, campaign.id)
    return campaign, tier, goal


def cf_draft(world: World) -> Objects:
    """The owner's draft: nobody else may know it exists."""
    campaign, tier, goal = _cf_campaign(world, world.owner, "Owner draft oven", launch=False)
    return Objects(
        path={"campaign_id": campaign.id, "tier_id": tier.id, "goal_id": goal.id},
        private=["Owner draft oven"],
    )


def cf_live(world: World) -> Objects:
    """The owner's live campaign, backed by a third member whose name only the owner (and
    an admin) may see on the dashboard."""
    from p2pbank.crowdfunding import pledging

    campaign, tier, goal = _cf_campaign(world, world.owner, "Owner live oven")
    backer = _cf_person(world, "backer")
    _cf_money(world, backer)
    pledging.pledge(
        world.session, backer.id, campaign.id, amount_minor=4_321, idempotency_key="matrix-cf-1"
    )
    return Objects(
        path={"campaign_id": campaign.id, "tier_id": tier.id, "goal_id": goal.id},
        private=["Third backer"],
    )


def cf_others_campaign(world: World) -> Objects:
    """A third member's live campaign; the owner and the other member have money."""
    campaign, _tier, _goal = _cf_campaign(world, _cf_person(world, "initiator"), "Third oven")
    _cf_money(world, world.owner, world.other)
    return Objects(path={"campaign_id": campaign.id})


def cf_pledge(world: World) -> Objects:
    """The owner's wallet pledge of 77.77 to a third member's campaign."""
    from p2pbank.crowdfunding import pledging

    made = cf_others_campaign(world)
    pledge = pledging.pledge(
        world.session,
        world.owner.id,
        made.path["campaign_id"],
        amount_minor=7_777,
        idempotency_key="matrix-cf-owner-pledge",
    )
    return Objects(path={**made.path, "pledge_id": pledge.id}, private=["€77.77"])


def cf_card_pledge(world: World) -> Objects:
    """The owner's card pledge whose card is not saved yet."""
    from p2pbank.crowdfunding import pledging

    made = cf_others_campaign(world)
    pledge = pledging.pledge(
        world.session,
        world.owner.id,
        made.path["campaign_id"],
        amount_minor=6_666,
        idempotency_key="matrix-cf-owner-card",
        method="card",
    )
    return Objects(path={**made.path, "pledge_id": pledge.id}, private=["€66.66"])


def cf_loan_campaign(world: World) -> Objects:
    """A third member's live loan campaign; the owner passed the investor checks."""
    from p2pbank.crowdfunding import investors
    from p2pbank.crowdfunding.rules import KNOWLEDGE_TEST

    campaign, _tier, _goal = _cf_campaign(
        world,
        _cf_person(world, "borrower"),
        "Third bakery loan",
        kind="loan",
        loan_rate_bps=600,
        loan_term_months=12,
        owner_legal_name="Third Bakery B.V.",
        owner_registration="KvK 1",
        risks_md="It may not be repaid.",
    )
    _cf_money(world, world.owner)
    investors.take_knowledge_test(
        world.session, world.owner.id, {q.key: q.answer for q in KNOWLEDGE_TEST}
    )
    investors.simulate_loss_capacity(
        world.session,
        world.owner.id,
        yearly_net_income_minor=1_234_567,
        liquid_assets_minor=0,
        yearly_commitments_minor=0,
    )
    return Objects(path={"campaign_id": campaign.id})


def cf_loan_pledge(world: World) -> Objects:
    """The owner lent 55.55 to a third member's loan campaign, within the reflection period."""
    from p2pbank.crowdfunding import pledging

    made = cf_loan_campaign(world)
    pledge = pledging.pledge(
        world.session,
        world.owner.id,
        made.path["campaign_id"],
        amount_minor=5_555,
        idempotency_key="matrix-cf-owner-loan",
    )
    return Objects(path={**made.path, "pledge_id": pledge.id}, private=["€55.55"])


def cf_investor(world: World) -> Objects:
    """The owner simulated a net worth of 12,345.67: private."""
    from p2pbank.crowdfunding import investors

    investors.simulate_loss_capacity(
        world.session,
        world.owner.id,
        yearly_net_income_minor=1_234_567,
        liquid_assets_minor=0,
        yearly_commitments_minor=0,
    )
    return Objects(path={"user_id": world.owner.id}, private=["€12,345.67", "12345.67"])


def _cf_settle(world: World, campaign) -> None:
    from p2pbank import clock
    from p2pbank.crowdfunding import due as crowdfunding_due

    previous = clock.now()
    clock.set_now(campaign.deadline_at)
    try:
        crowdfunding_due.run_due(world.session, gateway=payments_gateway(world))
    finally:
        clock.set_now(previous)


def cf_collecting(world: World) -> Objects:
    """The owner's campaign after its deadline, collecting: a third member's wallet pledge
    is collected (refundable), a card pledge was declined and waits to be fixed."""
    from p2pbank.crowdfunding import cards, pledging

    campaign, _tier, _goal = _cf_campaign(world, world.owner, "Owner collecting oven")
    payer = _cf_person(world, "payer")
    _cf_money(world, payer)
    paid = pledging.pledge(
        world.session, payer.id, campaign.id, amount_minor=100_000, idempotency_key="matrix-p"
    )
    carder = _cf_person(world, "carder")
    card = pledging.pledge(
        world.session,
        carder.id,
        campaign.id,
        amount_minor=2_000,
        idempotency_key="matrix-c",
        method="card",
    )
    gateway = payments_gateway(world)
    cards.start_card_setup(world.session, carder.id, card.id, gateway=gateway)
    cards.complete_test_card_setup(
        world.session, carder.id, card.id, gateway=gateway, card_number="4000000000000341"
    )
    _cf_settle(world, campaign)
    return Objects(path={"campaign_id": campaign.id, "pledge_id": paid.id})


def cf_succeeded(world: World) -> Objects:
    """The owner's funded campaign; a third member chose the reward."""
    from p2pbank.crowdfunding import pledging

    campaign, tier, _goal = _cf_campaign(world, world.owner, "Owner funded oven")
    backer = _cf_person(world, "funder")
    _cf_money(world, backer)
    pledging.pledge(
        world.session,
        backer.id,
        campaign.id,
        amount_minor=100_000,
        tier_id=tier.id,
        idempotency_key="matrix-f",
    )
    _cf_settle(world, campaign)
    return Objects(path={"campaign_id": campaign.id, "tier_id": tier.id})


def cf_shipped(world: World) -> Objects:
    """The owner's collected pledge with a reward that shipped."""
    from p2pbank.crowdfunding import delivery, pledging

    third = _cf_person(world, "shipper")
    campaign, tier, _goal = _cf_campaign(world, third, "Third funded oven")
    _cf_money(world, world.owner)
    pledge = pledging.pledge(
        world.session,
        world.owner.id,
        campaign.id,
        amount_minor=100_000,
        tier_id=tier.id,
        idempotency_key="matrix-s",
    )
    _cf_settle(world, campaign)
    delivery.mark_tier_shipped(world.session, third.id, tier.id)
    return Objects(path={"campaign_id": campaign.id, "pledge_id": pledge.id})

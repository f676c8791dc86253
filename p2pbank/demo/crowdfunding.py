"""Demo: campaigns at every stage, with backers, pledges, updates and a payout."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from p2pbank import clock
from p2pbank.clock import now
from p2pbank.crowdfunding import (
    cards,
    delivery,
    discussion,
    investors,
    pledging,
    rewards,
    services,
)
from p2pbank.crowdfunding import due as crowdfunding_due
from p2pbank.crowdfunding.rules import KNOWLEDGE_TEST
from p2pbank.identity import services as identity
from p2pbank.identity.models import User
from p2pbank.payments.sandbox_gateway import SandboxGateway
from p2pbank.payments.settings import PaymentSettings


def seed_crowdfunding(session: Session) -> Iterator[str]:
    """Campaigns in every state, through the crowdfunding services and the real settlement
    job: one funded and paid out (a reward shipped and confirmed), one that missed its goal
    and released every hold, and live ones with wallet and card pledges, rewards, stretch
    goals, an update and comments, plus a crowdlending campaign with the EU safeguards."""
    people = {
        key: identity.find_user_by_email(session, f"{key}@demo.p2pbank.test")
        for key in ("ian", "lena", "lars", "bea")
    }
    if any(person is None for person in people.values()):
        return
    gateway = SandboxGateway(
        session, webhook_secret=PaymentSettings.from_mapping({}).test_webhook_secret
    )
    demo = _Demo(session, now(), gateway, **people)
    yield "crowdfunding campaigns:"
    for seed_one in (_oven, _studio, _cafe, _garden, _bakery):
        yield from seed_one(demo)


@dataclass
class _Demo:
    """The people and the test-mode gateway every demo campaign uses."""

    session: Session
    today: datetime
    gateway: SandboxGateway
    ian: User
    lena: User
    lars: User
    bea: User

    def campaign(self, title, summary, category, goal, days, story, **extra):
        return services.create_campaign(
            self.session,
            self.ian.id,
            title=title,
            summary=summary,
            category=category,
            goal_minor=goal,
            duration_days=days,
            story_md=story,
            **extra,
        )

    def pledge(self, person, made, amount, n, **extra):
        return pledging.pledge(
            self.session,
            person.id,
            made.id,
            amount_minor=amount,
            idempotency_key=f"demo-pledge-{made.id}-{n}",
            **extra,
        )

    def card_pledge(self, person, made, amount, n, card="4242424242424242", **extra):
        row = self.pledge(person, made, amount, n, method="card", **extra)
        cards.start_card_setup(self.session, person.id, row.id, gateway=self.gateway)
        return cards.complete_test_card_setup(
            self.session, person.id, row.id, gateway=self.gateway, card_number=card
        )


def _oven(d: _Demo) -> Iterator[str]:
    """Funded and paid out 30 days ago; the bread was delivered and confirmed."""
    session, today, gateway = d.session, d.today, d.gateway
    ian, lena, lars, bea = d.ian, d.lena, d.lars, d.bea
    campaign, pledge, card_pledge = d.campaign, d.pledge, d.card_pledge
    shipped = today - timedelta(days=25)
    shipped_month = date(shipped.year, shipped.month, 1)
    with clock.frozen_at(today - timedelta(days=40)):
        oven = campaign(
            "Neighbourhood bread oven",
            "A wood-fired oven in the courtyard, baking for the whole street.",
            "food",
            50_000,
            10,
            "## The idea\n\nA **wood-fired oven** everyone on the street can use on Saturdays."
            "\n\n## What your money buys\n\n- the oven kit\n- fire bricks\n- a roof over it",
        )
        loaf = rewards.add_tier(
            session,
            ian.id,
            oven.id,
            title="A loaf every Saturday for a month",
            min_pledge_minor=2_500,
            quantity_limit=30,
            delivery_month=shipped_month,
        )
        services.launch_campaign(session, ian.id, oven.id)
    for day, (person, amount, tier) in enumerate(
        [(lena, 30_000, loaf.id), (lars, 15_000, loaf.id), (bea, 10_000, None)], start=1
    ):
        with clock.frozen_at(oven.launched_at + timedelta(days=2 * day, hours=3)):
            if person is bea:
                card_pledge(bea, oven, amount, day)
            else:
                pledge(person, oven, amount, day, tier_id=tier)
    with clock.frozen_at(oven.deadline_at):
        crowdfunding_due.run_due(session, gateway=gateway)
    with clock.frozen_at(oven.deadline_at + timedelta(days=5)):
        delivery.mark_tier_shipped(session, ian.id, loaf.id)
        for row in pledging_rows(session, oven.id):
            if row.backer_id == lena.id:
                delivery.confirm_receipt(session, lena.id, row.id)
    yield f"  {oven.title}: {oven.status} (paid out, a reward confirmed received)"


def _studio(d: _Demo) -> Iterator[str]:
    """Missed its goal 20 days ago: every hold released, nobody charged."""
    session, today, gateway = d.session, d.today, d.gateway
    ian, lena, lars = d.ian, d.lena, d.lars
    campaign, pledge = d.campaign, d.pledge
    with clock.frozen_at(today - timedelta(days=35)):
        studio = campaign(
            "Recording studio in the old church",
            "Turn the church loft into a small studio for local bands.",
            "music",
            400_000,
            14,
            "We need acoustic panels, two microphones and a mixing desk.",
        )
        services.launch_campaign(session, ian.id, studio.id)
        pledge(lars, studio, 20_000, 1)
        pledge(lena, studio, 35_000, 2)
    with clock.frozen_at(studio.deadline_at):
        crowdfunding_due.run_due(session, gateway=gateway)
    yield f"  {studio.title}: {studio.status} (every hold released)"


def _cafe(d: _Demo) -> Iterator[str]:
    """Live: rewards with a limit, a stretch goal, wallet and card pledges, talk."""
    session, today = d.session, d.today
    ian, lena, lars, bea = d.ian, d.lena, d.lars, d.bea
    campaign, pledge, card_pledge = d.campaign, d.pledge, d.card_pledge
    with clock.frozen_at(today - timedelta(days=6)):
        cafe = campaign(
            "Repair café toolkit",
            "Tools and a soldering station so neighbours can fix things instead of binning them.",
            "community",
            150_000,
            30,
            "## Why\n\nEvery month forty people bring a broken lamp, radio or bike. "
            "With proper tools we can fix twice as many.\n\n"
            "[Our monthly meetups](https://example.org/repair-cafe)",
        )
        rewards.add_tier(
            session,
            ian.id,
            cafe.id,
            title="Thank-you card",
            min_pledge_minor=1_000,
            delivery_month=date(today.year + 1, 1, 1),
        )
        workshop = rewards.add_tier(
            session,
            ian.id,
            cafe.id,
            title="Soldering workshop seat",
            min_pledge_minor=4_000,
            quantity_limit=8,
            delivery_month=date(today.year + 1, 3, 1),
        )
        rewards.add_stretch_goal(
            session, ian.id, cafe.id, amount_minor=250_000, description="A 3D printer for parts"
        )
        services.launch_campaign(session, ian.id, cafe.id)
        pledge(lena, cafe, 45_000, 1, tier_id=workshop.id)
    with clock.frozen_at(today - timedelta(days=3)):
        card_pledge(lars, cafe, 4_000, 2, tier_id=workshop.id)
        pledge(bea, cafe, 2_500, 3)
        question = discussion.post_comment(
            session, bea.id, cafe.id, body="Will you also fix coffee machines?"
        )
        discussion.post_comment(
            session, ian.id, cafe.id, body="Yes, bring it along!", parent_id=question.id
        )
        discussion.post_update(
            session,
            ian.id,
            cafe.id,
            title="The soldering station is chosen",
            body_md="We picked a **temperature-controlled** station. Thank you, backers!",
            visibility="backers",
        )
    yield f"  {cafe.title}: live, ends {cafe.deadline_at:%Y-%m-%d}"


def _garden(d: _Demo) -> Iterator[str]:
    """Live and keep-it-all: whatever it raises is paid out."""
    session = d.session
    ian, lars = d.ian, d.lars
    campaign, pledge = d.campaign, d.pledge
    garden = campaign(
        "Community garden beds",
        "Raised beds and a rain barrel for the empty lot behind the school.",
        "environment",
        80_000,
        21,
        "Every euro helps: this campaign keeps whatever it raises.",
        funding_model="keep_it_all",
    )
    services.launch_campaign(session, ian.id, garden.id)
    pledge(lars, garden, 12_500, 1)
    yield f"  {garden.title}: live, keep-it-all"


def _bakery(d: _Demo) -> Iterator[str]:
    """Crowdlending: a business borrows from the crowd, with the EU investor checks."""
    session = d.session
    ian, lena = d.ian, d.lena
    campaign, pledge = d.campaign, d.pledge
    bakery = campaign(
        "Bakery expansion loan",
        "Ian's Bakery B.V. borrows to open a second shop; lenders earn 6.5 % a year.",
        "business",
        2_000_000,
        30,
        "A second shop in the station hall. The loan pays for the fit-out and an oven.",
        kind="loan",
        loan_rate_bps=650,
        loan_term_months=24,
        owner_legal_name="Ian's Bakery B.V.",
        owner_registration="KvK 90000001",
        risks_md="If the new shop sells less than planned, the loan may be repaid late or "
        "not in full. The loan is not secured.",
    )
    services.launch_campaign(session, ian.id, bakery.id)
    investors.take_knowledge_test(session, lena.id, {q.key: q.answer for q in KNOWLEDGE_TEST})
    investors.simulate_loss_capacity(
        session,
        lena.id,
        yearly_net_income_minor=4_500_000,
        liquid_assets_minor=6_000_000,
        yearly_commitments_minor=1_500_000,
    )
    pledge(lena, bakery, 100_000, 1)
    yield f"  {bakery.title}: live loan campaign (Lena lent, revocable for 4 days)"


def pledging_rows(session: Session, campaign_id: int):
    from sqlalchemy import select

    from p2pbank.crowdfunding.models import Pledge

    return list(session.scalars(select(Pledge).where(Pledge.campaign_id == campaign_id)))


# Who says what after a completed loan or campaign: (value, comment, detailed stars).

"""Matrix objects of lending: the owner's listing, loan, order and loan parts for sale."""

from __future__ import annotations

from sqlalchemy import select

from tests.support.lending import listing, one_lender_loan, order
from tests.support.matrix.rows import Objects, World
from tests.support.money import deposit
from tests.support.people import member


def _lending_money(world: World, *people) -> None:
    """EUR 5,000 in each one's wallet."""
    for person in people:
        deposit(world.session, person.id, 500_000)


def lending_money(world: World) -> Objects:
    """EUR 5,000 in the owner's and the other member's wallets."""
    _lending_money(world, world.owner, world.other)
    return Objects()


def lending_listing(world: World) -> Objects:
    """The owner's loan request, listed; both members have money to lend."""
    _lending_money(world, world.owner, world.other)
    request = listing(world.session, world.owner, amount=100_000, rate=1_400)
    return Objects(path={"request_id": request.id})


def listing_subject(world: World) -> Objects:
    """The owner's listing as the subject of questions."""
    return Objects(
        path={"subject_type": "listing", "subject_id": lending_listing(world).path["request_id"]}
    )


def question_on_listing(world: World) -> Objects:
    """A question a third member asked on the owner's listing."""
    from p2pbank.questions import services as questions

    objects = lending_listing(world)
    third = member(
        world.session, "Asker", ["lender"], email="third-asker@example.test", kyc="unverified"
    )
    question = questions.ask(
        world.session, third.id, "listing", objects.path["request_id"], body="Why a car?"
    )
    return Objects(path={**objects.path, "question_id": question.id})


def lending_loan(world: World) -> Objects:
    """The owner's loan, funded by a third member; the owner has money to pay it."""
    third = member(
        world.session, "Third", ["lender"], email="third-lender@example.test", reason="matrix"
    )
    _lending_money(world, world.owner, third)
    loan = one_lender_loan(world.session, world.owner, third)
    return Objects(path={"loan_id": loan.id, "request_id": loan.request_id})


def lending_order(world: World) -> Objects:
    """The owner's auto-invest order with money waiting."""
    _lending_money(world, world.owner)
    made = order(world.session, world.owner, amount=50_000, rates={"D": 900})
    return Objects(path={"order_id": made.id})


def resale_part(world: World) -> Objects:
    """A loan part of the owner's, all of a third member's loan; both members have money."""
    from p2pbank.lending.models import LoanPart

    third = member(
        world.session, "Third", ["borrower"], email="third-borrower@example.test", reason="matrix"
    )
    _lending_money(world, world.owner, world.other)
    one_lender_loan(world.session, third, world.owner)
    part = world.session.scalar(select(LoanPart).where(LoanPart.lender_id == world.owner.id))
    return Objects(path={"part_id": part.id})


def resale_offer(world: World) -> Objects:
    """The owner's part on the secondary market at par (EUR 600.00, nothing accrued yet)."""
    from p2pbank.resale import services as resale

    made = resale_part(world)
    offer = resale.offer_part(world.session, world.owner.id, made.path["part_id"], premium_bps=0)
    return Objects(path={**made.path, "offer_id": offer.id})

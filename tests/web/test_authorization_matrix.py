"""Who may do what: every route, asked by four callers.

    anonymous  nobody signed in / no API token
    other      a member with the same roles as the owner, who does not own the object
    owner      the member whose object it is (for routes without an object: any member)
    admin      an admin (with two-factor sign-in, as admins must have)
    auditor    an auditor, asked only where a row gives an `auditor` status (auditor pages)

Each ROWS entry is one route and the status each caller gets. Pages are called with a
signed-in browser (CSRF token included), API routes with a write token. `LOGIN` means
"sent to the sign-in page". Every refused call must write nothing, and nothing the
owner's objects hold privately (see `Objects.private`) may reach `other` or `anonymous`.

Adding a route? Add a row here (`test_every_route_has_a_row` fails until you do). Rows
that need objects (a loan, a campaign, a token) get them from an `objects` function,
made through services, before the callers ask.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import pytest
from sqlalchemy import func, select

from p2pbank.db import Base
from p2pbank.identity import services as identity
from p2pbank.models import load_all
from tests.conftest import STRONG_PASSWORD, Browser

ANONYMOUS, OTHER, OWNER, ADMIN, AUDITOR = "anonymous", "other", "owner", "admin", "auditor"
CALLERS = (ANONYMOUS, OTHER, AUDITOR, ADMIN, OWNER)  # the owner last: they may change things
LOGIN = "login"  # a 302 to the sign-in page


@dataclass
class World:
    """The people of one matrix row and the session their objects are made in."""

    session: object
    owner: object
    other: object
    admin: object


@dataclass
class Objects:
    """What an `objects` function made: path placeholders, and private strings that only
    the owner (and, where a row allows, the admin) may see."""

    path: dict[str, object] = field(default_factory=dict)
    private: list[str] = field(default_factory=list)


def no_objects(_world: World) -> Objects:
    return Objects()


@dataclass(frozen=True)
class Row:
    method: str
    path: str  # as in url_map, with {placeholders} instead of <converters>
    anonymous: int | str
    other: int | str
    owner: int | str
    admin: int | str
    objects: Callable[[World], Objects] = no_objects
    data: dict = field(default_factory=dict)  # form fields or JSON body
    roles: tuple[str, ...] = ()  # roles of owner and other
    kyc: str = "verified"  # KYC status of owner and other
    admin_sees_private: bool = False
    auditor: int | str | None = None  # None: auditors are not asked

    @property
    def is_api(self) -> bool:
        return self.path.startswith("/api/")

    @property
    def id(self) -> str:
        return f"{self.method} {self.path}"


# --- objects -------------------------------------------------------------------------------


def owner_token(world: World) -> Objects:
    row, secret = identity.create_api_token(
        world.session, world.owner.id, name="owner-private-laptop", scope="read"
    )
    return Objects(path={"token_id": row.id}, private=["owner-private-laptop", secret])


def owner_email(world: World) -> Objects:
    return Objects(private=[world.owner.email])


def owner_id(world: World) -> Objects:
    return Objects(path={"user_id": world.owner.id}, private=[world.owner.email])


def owner_enrolling(world: World) -> Objects:
    """The owner started two-factor set-up: their secret is private to them."""
    from p2pbank.identity import twofactor_services

    secret = twofactor_services.start_enrolment(world.session, world.owner.id)
    return Objects(private=[secret, world.owner.email])


def owner_reset_link(world: World) -> Objects:
    """A password-reset link the owner asked for (its token is the credential)."""
    from p2pbank.identity import reset_services

    links: list[str] = []
    reset_services.request_password_reset(
        world.session,
        world.owner.email,
        ttl_seconds=3600,
        link_for=lambda token: links.append(token) or f"/password/reset/{token}",
    )
    (token,) = links
    return Objects(path={"token": token}, private=[world.owner.email])


def failed_mail_to_owner(world: World) -> Objects:
    """An undeliverable mail to the owner: admins see who and what, never the body."""
    from p2pbank.identity.models import OutboxMail

    row = OutboxMail(
        to_address=world.owner.email, subject="s", body="mail-body-secret", status="failed"
    )
    world.session.add(row)
    world.session.commit()
    return Objects(path={"mail_id": row.id}, private=["mail-body-secret"])


def owner_notification(world: World) -> Objects:
    """A notification of the owner's: only they read it or mark it read."""
    from p2pbank.notifications import services as notifications

    note = notifications.notify(
        world.session, world.owner.id, "question_answered", {"title": "owner-private-note"}, "/"
    )
    world.session.commit()
    return Objects(path={"notification_id": note.id}, private=["owner-private-note"])


def pending_sign_up_link(world: World) -> Objects:
    """A mailed sign-up link for a new address (the link is the credential)."""
    from p2pbank.identity import signup_services

    links: list[str] = []
    signup_services.request_sign_up(
        world.session,
        email="newcomer@example.test",
        display_name="Newcomer",
        password="pale-window-orbit-93",
        ttl_seconds=3600,
        link_for=lambda token: links.append(token) or f"/signup/confirm/{token}",
        sign_in_link="/login",
        reset_link="/password/forgot",
    )
    (token,) = links
    return Objects(path={"token": token})


def _payments_gateway(world: World):
    from p2pbank.payments.sandbox_gateway import SandboxGateway

    return SandboxGateway(world.session, webhook_secret="whsec_matrix")


def _owner_deposit(world: World, card: str | None) -> Objects:
    from p2pbank.payments import services, webhooks

    gateway = _payments_gateway(world)
    started = services.start_deposit(
        world.session,
        gateway,
        world.owner.id,
        amount_minor=12_345,
        idempotency_key=f"matrix-{uuid.uuid4().hex}",
    )
    payment = started.payment
    if card:
        services.complete_test_card_payment(
            world.session, gateway, world.owner.id, payment.id, card_number=card
        )
        webhooks.deliver_test_mode_events(world.session, gateway)
    return Objects(path={"payment_id": payment.id}, private=[payment.gateway_payment_id])


def owner_deposit(world: World) -> Objects:
    """A deposit the owner started and has not paid yet."""
    return _owner_deposit(world, None)


def owner_deposit_needing_authentication(world: World) -> Objects:
    return _owner_deposit(world, "4000002760003184")


def owner_paid_deposit(world: World) -> Objects:
    return _owner_deposit(world, "4242424242424242")


def owner_payout_account(world: World) -> Objects:
    from p2pbank.payments import payouts

    payouts.onboard_payouts(
        world.session,
        _payments_gateway(world),
        world.owner.id,
        refresh_url="http://x/r",
        return_url="http://x/b",
    )
    account = payouts.refresh_payout_account(
        world.session, _payments_gateway(world), world.owner.id
    )
    return Objects(private=[account.gateway_account_id])


def owner_withdrawal(world: World) -> Objects:
    from p2pbank.payments import payouts

    made = owner_paid_deposit(world)
    gateway = _payments_gateway(world)
    owner_payout_account(world)
    payouts.complete_test_onboarding(
        world.session, gateway, world.owner.id, iban="DE89370400440532013000"
    )
    payout = payouts.withdraw(
        world.session, gateway, world.owner.id, amount_minor=2_000, idempotency_key="matrix"
    )
    return Objects(
        path={"payout_id": payout.id, **made.path},
        private=[payout.gateway_transfer_id, *made.private],
    )


def owner_money(world: World) -> Objects:
    """EUR 43.21 deposited into the owner's wallet, with a private memo; also a leaf in the
    audit log (every journal entry is one)."""
    from p2pbank import clock
    from p2pbank.audit import sequencer
    from p2pbank.audit.queries import head_size
    from p2pbank.ledger import services as ledger

    clearing = ledger.PLATFORM_GATEWAY_CLEARING
    ledger.ensure_platform_account(world.session, clearing)
    ledger.ensure_wallet(world.session, world.owner.id)
    wallet = ledger.wallet_code(world.owner.id)
    entry = ledger.post_entry(
        world.session,
        postings=[(clearing, -4_321), (wallet, 4_321)],
        kind="deposit",
        idempotency_key=f"matrix-deposit:{world.owner.id}",
        memo="owner-private-memo",
    )
    world.session.commit()
    sequencer.integrate_queued(world.session, clock.now())  # as it runs every second
    return Objects(
        path={"code": wallet, "entry_id": entry.id, "sequence": head_size(world.session) - 1},
        private=["owner-private-memo", "43.21"],
    )


def _lending_money(world: World, *people) -> None:
    from p2pbank.ledger import services as ledger

    clearing = ledger.PLATFORM_GATEWAY_CLEARING
    ledger.ensure_platform_account(world.session, clearing)
    for person in people:
        ledger.ensure_wallet(world.session, person.id)
        ledger.post_entry(
            world.session,
            postings=[(clearing, -500_000), (ledger.wallet_code(person.id), 500_000)],
            kind="deposit",
            idempotency_key=f"matrix-lending-deposit:{person.id}",
        )
    world.session.commit()


def lending_money(world: World) -> Objects:
    """EUR 5,000 in the owner's and the other member's wallets."""
    _lending_money(world, world.owner, world.other)
    return Objects()


def lending_listing(world: World) -> Objects:
    """The owner's loan request, listed; both members have money to lend."""
    from p2pbank.lending import services as lending

    _lending_money(world, world.owner, world.other)
    request = lending.request_loan(
        world.session,
        world.owner.id,
        amount_minor=100_000,
        term_months=12,
        max_rate_bps=1_400,
        purpose_category="car",
        purpose_text="A used car to get to work",
    )
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
    third = identity.sign_up(
        world.session,
        email="third-asker@example.test",
        display_name="Asker",
        password=STRONG_PASSWORD,
        roles=["lender"],
    )
    question = questions.ask(
        world.session, third.id, "listing", objects.path["request_id"], body="Why a car?"
    )
    return Objects(path={**objects.path, "question_id": question.id})


def lending_loan(world: World) -> Objects:
    """The owner's loan, funded by a third member; the owner has money to pay it."""
    from p2pbank.lending import ordering
    from p2pbank.lending import services as lending

    third = identity.sign_up(
        world.session,
        email="third-lender@example.test",
        display_name="Third",
        password=STRONG_PASSWORD,
        roles=["lender"],
    )
    identity.set_kyc_status(world.session, None, third.id, "pending", "matrix")
    identity.set_kyc_status(world.session, None, third.id, "verified", "matrix")
    _lending_money(world, world.owner, third)
    request = lending.request_loan(
        world.session,
        world.owner.id,
        amount_minor=60_000,
        term_months=12,
        max_rate_bps=1_400,
        purpose_category="car",
        purpose_text="A used car to get to work",
    )
    ordering.commit_to_listing(
        world.session, third.id, request.id, amount_minor=60_000, rate_bps=1_200
    )
    from p2pbank.lending.models import Loan

    loan = world.session.scalar(select(Loan).where(Loan.request_id == request.id))
    return Objects(path={"loan_id": loan.id, "request_id": request.id})


def lending_order(world: World) -> Objects:
    """The owner's auto-invest order with money waiting."""
    from p2pbank.lending import ordering

    _lending_money(world, world.owner)
    order = ordering.place_order(
        world.session, world.owner.id, amount_minor=50_000, min_rate_bps={"D": 900}
    )
    return Objects(path={"order_id": order.id})


def resale_part(world: World) -> Objects:
    """A loan part of the owner's, all of a third member's loan; both members have money."""
    from p2pbank.lending import ordering
    from p2pbank.lending import services as lending
    from p2pbank.lending.models import LoanPart

    third = identity.sign_up(
        world.session,
        email="third-borrower@example.test",
        display_name="Third",
        password=STRONG_PASSWORD,
        roles=["borrower"],
    )
    identity.set_kyc_status(world.session, None, third.id, "pending", "matrix")
    identity.set_kyc_status(world.session, None, third.id, "verified", "matrix")
    _lending_money(world, world.owner, world.other)
    request = lending.request_loan(
        world.session,
        third.id,
        amount_minor=60_000,
        term_months=12,
        max_rate_bps=1_400,
        purpose_category="car",
        purpose_text="A used car to get to work",
    )
    ordering.commit_to_listing(
        world.session, world.owner.id, request.id, amount_minor=60_000, rate_bps=1_200
    )
    part = world.session.scalar(select(LoanPart).where(LoanPart.lender_id == world.owner.id))
    return Objects(path={"part_id": part.id})


def resale_offer(world: World) -> Objects:
    """The owner's part on the secondary market at par (EUR 600.00, nothing accrued yet)."""
    from p2pbank.resale import services as resale

    made = resale_part(world)
    offer = resale.offer_part(world.session, world.owner.id, made.path["part_id"], premium_bps=0)
    return Objects(path={**made.path, "offer_id": offer.id})


def _trust_counterparty(world: World):
    """A third member the owner did business with (not the matrix's `other`)."""
    return identity.sign_up(
        world.session,
        email=f"xena-{uuid.uuid4().hex[:8]}@example.test",
        display_name="Xena Counterparty",
        password=STRONG_PASSWORD,
    )


def _trust_transaction(world: World):
    from p2pbank.trust import services as trust

    xena = _trust_counterparty(world)
    (transaction,) = trust.record_completed_transaction(
        world.session,
        ref_type="loan",
        ref_id=uuid.uuid4().int % 1_000_000,
        principal_id=world.owner.id,
        counterparty_ids=[xena.id],
    )
    world.session.commit()
    return transaction, xena


def trust_pending(world: World) -> Objects:
    """A completed loan between the owner and Xena that nobody rated yet."""
    transaction, _xena = _trust_transaction(world)
    return Objects(path={"transaction_id": transaction.id}, private=["Xena Counterparty"])


def trust_sealed(world: World) -> Objects:
    """The owner rated Xena; the rating is sealed, its comment private to the owner."""
    from p2pbank.trust import services as trust

    transaction, _xena = _trust_transaction(world)
    rating = trust.rate_counterparty(
        world.session,
        world.owner.id,
        transaction.id,
        value="negative",
        comment="owner-sealed-comment",
    )
    return Objects(
        path={"transaction_id": transaction.id, "rating_id": rating.id},
        private=["owner-sealed-comment"],
    )


def trust_received(world: World) -> Objects:
    """Xena rated the owner (negative) and the owner rated her: both shown."""
    from p2pbank.trust import services as trust

    transaction, xena = _trust_transaction(world)
    about_owner = trust.rate_counterparty(
        world.session, xena.id, transaction.id, value="negative", comment="Paid late twice"
    )
    trust.rate_counterparty(world.session, world.owner.id, transaction.id, value="positive")
    return Objects(path={"rating_id": about_owner.id, "user_id": world.owner.id})


def trust_revision_asked(world: World) -> Objects:
    """The owner rated Xena negative; Xena asked the owner to reconsider."""
    from p2pbank.trust import revisions
    from p2pbank.trust import services as trust

    transaction, xena = _trust_transaction(world)
    owners = trust.rate_counterparty(
        world.session, world.owner.id, transaction.id, value="negative", comment="Slow"
    )
    trust.rate_counterparty(world.session, xena.id, transaction.id, value="positive")
    revisions.request_revision(world.session, xena.id, owners.id, note="xena-private-plea")
    return Objects(path={"rating_id": owners.id}, private=["xena-private-plea"])


def trust_subject(world: World) -> Objects:
    """The owner's pseudonym in the trust log (their KYC check is logged)."""
    from p2pbank.audit.services import pseudonym

    return Objects(path={"subject": pseudonym(world.session, world.owner.id)})


_HIDE = {"reason": "abusive", "note": "insults"}


LENDING = ("borrower", "lender")
_ORDER_FORM = {"amount": "100", "rate_d": "8"}
_REQUEST_FORM = {
    "amount": "1000",
    "term_months": "12",
    "max_rate": "12",
    "purpose_category": "car",
    "purpose_text": "A used car to get to work",
}
_REQUEST_JSON = {
    "amount_minor": 100_000,
    "term_months": 12,
    "max_rate_bps": 1_400,
    "purpose_category": "car",
    "purpose_text": "A used car to get to work",
}


# crowdfunding: campaigns of the owner (an initiator and backer) and pledges of the owner


def _cf_person(world: World, tag: str, roles=("initiator", "backer")):
    person = identity.sign_up(
        world.session,
        email=f"cf-{tag}@example.test",
        display_name=f"Third {tag}",
        password=STRONG_PASSWORD,
        roles=list(roles),
    )
    identity.set_kyc_status(world.session, None, person.id, "pending", "matrix")
    identity.set_kyc_status(world.session, None, person.id, "verified", "matrix")
    return person


def _cf_money(world: World, *people) -> None:
    from p2pbank.ledger import services as ledger

    clearing = ledger.PLATFORM_GATEWAY_CLEARING
    ledger.ensure_platform_account(world.session, clearing)
    for person in people:
        ledger.ensure_wallet(world.session, person.id)
        ledger.post_entry(
            world.session,
            postings=[(clearing, -300_000), (ledger.wallet_code(person.id), 300_000)],
            kind="deposit",
            idempotency_key=f"matrix-cf-deposit:{person.id}:{uuid.uuid4().hex}",
        )
    world.session.commit()


def _cf_campaign(world: World, initiator, title: str, *, launch=True, **extra):
    from datetime import date

    from p2pbank.crowdfunding import rewards
    from p2pbank.crowdfunding import services as cf

    values = {
        "summary": "A wood-fired oven for the whole street.",
        "category": "food",
        "goal_minor": 100_000,
        "duration_days": 30,
        "story_md": "Bread for all.",
        **extra,
    }
    campaign = cf.create_campaign(world.session, initiator.id, title=title, **values)
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
        crowdfunding_due.run_due(world.session, gateway=_payments_gateway(world))
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
    gateway = _payments_gateway(world)
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


CF = ("initiator", "backer")
_CF_FORM = {
    "title": "Matrix oven",
    "summary": "A wood-fired oven for the whole street.",
    "category": "food",
    "goal": "1000",
    "duration_days": "30",
    "story_md": "Bread.",
}
_CF_JSON = {
    "title": "Matrix oven",
    "summary": "A wood-fired oven for the whole street.",
    "category": "food",
    "goal_minor": 100_000,
    "duration_days": 30,
}
_CF_TIER_FORM = {"title": "Loaf", "min_pledge": "10", "delivery_month": "2027-01"}
_CF_TIER_JSON = {"title": "Loaf", "min_pledge_minor": 1_000, "delivery_month": "2027-01"}
_CF_ANSWERS = {"loss": "a", "guarantee": "b", "liquidity": "b", "diversify": "a", "share": "a"}
_CF_SIMULATION = {"yearly_net_income": "40000", "liquid_assets": "0", "yearly_commitments": "0"}


# --- the table -----------------------------------------------------------------------------

NEW_PASSWORD = "a-brand-new-secret-77"

ROWS: list[Row] = [
    # public pages
    Row("GET", "/", 200, 200, 200, 200),
    Row("GET", "/login", 200, 200, 200, 200),
    Row("GET", "/signup", 200, 200, 200, 200),
    # the mailed sign-up link is the credential, whoever holds it; a used or unknown one is gone
    Row("GET", "/signup/confirm/{token}", 200, 200, 200, 200, objects=pending_sign_up_link),
    Row(
        "POST",
        "/signup/confirm/{token}",
        410,
        410,
        410,
        410,
        objects=lambda w: Objects(path={"token": "not-a-real-sign-up-token"}),
    ),
    Row("GET", "/healthz", 200, 200, 200, 200),
    Row("GET", "/statistics", 200, 200, 200, 200),
    # questions: any member asks (the owner is refused with a message); only the owner
    # answers; only admins hide
    Row(
        "POST",
        "/questions/{subject_type}/{subject_id}",
        LOGIN,
        302,
        302,
        302,
        objects=listing_subject,
        roles=LENDING,
        data={"body": "What is the car for?"},
    ),
    Row(
        "POST",
        "/questions/{question_id}/answer",
        LOGIN,
        403,
        302,
        403,
        objects=question_on_listing,
        roles=LENDING,
        data={"body": "To get to work."},
    ),
    Row(
        "POST",
        "/questions/{question_id}/hide",
        LOGIN,
        403,
        403,
        302,
        objects=question_on_listing,
        roles=LENDING,
        data={"reason": "off topic"},
    ),
    Row(
        "GET",
        "/api/v1/questions/{subject_type}/{subject_id}",
        401,
        200,
        200,
        200,
        objects=listing_subject,
        roles=LENDING,
    ),
    Row(
        "POST",
        "/api/v1/questions/{subject_type}/{subject_id}",
        401,
        201,
        409,
        201,
        objects=listing_subject,
        roles=LENDING,
        data={"body": "Why a car?"},
    ),
    Row(
        "POST",
        "/api/v1/questions/{question_id}/answer",
        401,
        403,
        200,
        403,
        objects=question_on_listing,
        roles=LENDING,
        data={"body": "To get to work."},
    ),
    Row(
        "POST",
        "/api/v1/questions/{question_id}/hide",
        401,
        403,
        403,
        200,
        objects=question_on_listing,
        roles=LENDING,
        data={"reason": "off topic"},
    ),
    Row("GET", "/statistics.json", 200, 200, 200, 200),
    Row("GET", "/statistics.csv", 200, 200, 200, 200),
    Row("GET", "/readyz", 200, 200, 200, 200),
    # a member's own pages
    Row("GET", "/dashboard", LOGIN, 200, 200, 200, objects=owner_email),
    Row("POST", "/logout", LOGIN, 302, 302, 302),
    Row("GET", "/settings/password", LOGIN, 200, 200, 200, objects=owner_email),
    Row(
        "POST",
        "/settings/password",
        LOGIN,
        302,
        302,
        302,
        data={"current_password": STRONG_PASSWORD, "new_password": NEW_PASSWORD},
    ),
    # settings: always the caller's own
    Row("GET", "/settings", LOGIN, 200, 200, 200, objects=owner_email),
    Row("GET", "/settings/tokens", LOGIN, 200, 200, 200, objects=owner_token),
    Row("POST", "/settings/tokens", LOGIN, 201, 201, 201, data={"name": "n", "scope": "read"}),
    Row("POST", "/settings/tokens/{token_id}/revoke", LOGIN, 404, 302, 404, objects=owner_token),
    Row("GET", "/settings/language", LOGIN, 200, 200, 200, objects=owner_email),
    Row("POST", "/settings/language", LOGIN, 302, 302, 302, data={"locale": "nl"}),
    Row("GET", "/settings/roles", LOGIN, 200, 200, 200, objects=owner_email),
    Row("POST", "/settings/roles", LOGIN, 302, 302, 302, data={"role": "backer"}),
    Row("POST", "/settings/roles", LOGIN, 422, 422, 422, data={"role": "admin"}),
    # asking for an identity check: possible when not verified (the admin is verified: 409)
    Row("POST", "/settings/kyc-review", LOGIN, 302, 302, 409, kyc="unverified"),
    # two-factor set-up: the caller's own; admins already have it on and must keep it
    Row("GET", "/settings/two-factor", LOGIN, 200, 200, 200, objects=owner_enrolling),
    Row("GET", "/settings/two-factor/qr.svg", LOGIN, 404, 200, 404, objects=owner_enrolling),
    Row("POST", "/settings/two-factor/start", LOGIN, 302, 302, 409),
    Row(
        "POST",
        "/settings/two-factor/confirm",
        LOGIN,
        422,
        422,
        422,
        data={"code": "000000"},
        objects=owner_enrolling,
    ),
    Row("POST", "/settings/two-factor/cancel", LOGIN, 302, 302, 302, objects=owner_enrolling),
    Row(
        "POST",
        "/settings/two-factor/recovery-codes",
        LOGIN,
        422,
        422,
        422,
        data={"code": "000000"},
    ),
    Row("POST", "/settings/two-factor/disable", LOGIN, 422, 422, 403, data={"code": "000000"}),
    # the sign-in challenge: without a password-checked sign-in there is nothing to answer
    Row("GET", "/login/two-factor", 302, 302, 302, 302),
    Row("POST", "/login/two-factor", 302, 302, 302, 302, data={"code": "000000"}),
    # password reset: the emailed link is the credential, whoever holds it
    Row("GET", "/password/forgot", 200, 200, 200, 200),
    Row("GET", "/password/reset/{token}", 200, 200, 200, 200, objects=owner_reset_link),
    Row(
        "POST",
        "/password/reset/{token}",
        410,
        410,
        410,
        410,
        objects=lambda w: Objects(path={"token": "not-a-real-reset-token"}),
    ),
    # admin pages: admins only; the person concerned is not an admin either
    Row("GET", "/admin/people", LOGIN, 403, 403, 200, objects=owner_email, admin_sees_private=True),
    Row(
        "GET",
        "/admin/people/{user_id}",
        LOGIN,
        403,
        403,
        200,
        objects=owner_id,
        admin_sees_private=True,
    ),
    Row(
        "POST",
        "/admin/people/{user_id}/roles",
        LOGIN,
        403,
        403,
        302,
        objects=owner_id,
        data={"role": "backer", "action": "grant", "reason": "asked by phone"},
        admin_sees_private=True,
    ),
    Row(
        "POST",
        "/admin/people/{user_id}/kyc",
        LOGIN,
        403,
        403,
        302,
        objects=owner_id,
        data={"status": "rejected", "reason": "documents expired"},
        admin_sees_private=True,
    ),
    Row(
        "GET",
        "/api/v1/admin/users/{user_id}/roles",
        401,
        403,
        403,
        200,
        objects=owner_id,
        admin_sees_private=True,
    ),
    Row(
        "GET",
        "/api/v1/admin/users/{user_id}/kyc",
        401,
        403,
        403,
        200,
        objects=owner_id,
        admin_sees_private=True,
    ),
    Row(
        "POST",
        "/api/v1/admin/users/{user_id}/roles",
        401,
        403,
        403,
        200,
        objects=owner_id,
        data={"role": "backer", "action": "grant", "reason": "asked by phone"},
        admin_sees_private=True,
    ),
    Row(
        "POST",
        "/api/v1/admin/users/{user_id}/kyc",
        401,
        403,
        403,
        200,
        objects=owner_id,
        data={"status": "rejected", "reason": "documents expired"},
        admin_sees_private=True,
    ),
    # notifications: each person's own; another's is not found
    Row("GET", "/notifications", LOGIN, 200, 200, 200, objects=owner_notification),
    Row("POST", "/notifications/read-all", LOGIN, 302, 302, 302, objects=owner_notification),
    Row(
        "POST",
        "/notifications/{notification_id}/read",
        LOGIN,
        404,
        302,
        404,
        objects=owner_notification,
    ),
    Row("GET", "/settings/notifications", LOGIN, 200, 200, 200, objects=owner_notification),
    Row("POST", "/settings/notifications", LOGIN, 302, 302, 302, data={"email": "order_filled"}),
    Row("GET", "/api/v1/notifications", 401, 200, 200, 200, objects=owner_notification),
    Row("POST", "/api/v1/notifications/read-all", 401, 200, 200, 200, objects=owner_notification),
    Row(
        "POST",
        "/api/v1/notifications/{notification_id}/read",
        401,
        404,
        200,
        404,
        objects=owner_notification,
    ),
    # outgoing mail: admins only, and even they never see a mail's body; the development
    # mail folder does not exist outside development
    Row("GET", "/admin/mail", LOGIN, 403, 403, 200, objects=failed_mail_to_owner),
    Row("POST", "/admin/mail/{mail_id}/retry", LOGIN, 403, 403, 302, objects=failed_mail_to_owner),
    Row("GET", "/api/v1/admin/mail", 401, 403, 403, 200, objects=failed_mail_to_owner),
    Row(
        "POST",
        "/api/v1/admin/mail/{mail_id}/retry",
        401,
        403,
        403,
        200,
        objects=failed_mail_to_owner,
    ),
    Row("GET", "/dev/mail", 404, 404, 404, 404),
    Row("GET", "/dev/mail/{mail_id}", 404, 404, 404, 404, objects=failed_mail_to_owner),
    # payments: a member's own deposits, withdrawals and payout account
    Row("GET", "/payments", LOGIN, 200, 200, 200, objects=owner_withdrawal),
    Row("GET", "/payments/deposit", LOGIN, 200, 200, 200),
    Row(
        "POST",
        "/payments/deposit",
        LOGIN,
        302,
        302,
        302,
        data={"amount": "25.00", "idempotency_key": "matrix-page"},
    ),
    Row("GET", "/payments/deposits/{payment_id}", LOGIN, 404, 200, 404, objects=owner_deposit),
    Row(
        "POST",
        "/payments/deposits/{payment_id}/card",
        LOGIN,
        404,
        302,
        404,
        objects=owner_deposit,
        data={"card_number": "4242424242424242"},
    ),
    Row(
        "POST",
        "/payments/deposits/{payment_id}/authenticate",
        LOGIN,
        404,
        302,
        404,
        objects=owner_deposit_needing_authentication,
        data={"outcome": "complete"},
    ),
    Row(
        "POST",
        "/payments/deposits/{payment_id}/cancel",
        LOGIN,
        404,
        302,
        404,
        objects=owner_deposit,
    ),
    Row(
        "GET",
        "/payments/deposits/{payment_id}/return",
        LOGIN,
        404,
        302,
        404,
        objects=owner_deposit,
    ),
    Row("GET", "/payments/withdraw", LOGIN, 200, 200, 200),
    # Nobody here has a payout account yet: the form comes back with the reason.
    Row(
        "POST",
        "/payments/withdraw",
        LOGIN,
        422,
        422,
        422,
        data={"amount": "10", "idempotency_key": "matrix-page"},
    ),
    Row("GET", "/payments/payout-account", LOGIN, 200, 200, 200, objects=owner_payout_account),
    Row("POST", "/payments/payout-account", LOGIN, 302, 302, 302),
    Row("GET", "/payments/payout-account/return", LOGIN, 302, 302, 302),
    Row(
        "POST",
        "/payments/payout-account/test-bank",
        LOGIN,
        409,
        302,
        409,
        objects=owner_payout_account,
        data={"iban": "DE89370400440532013000"},
    ),
    Row(
        "GET",
        "/payments/reconciliation",
        LOGIN,
        403,
        403,
        200,
        objects=owner_paid_deposit,
        admin_sees_private=True,
    ),
    Row("GET", "/payments/refunds", LOGIN, 403, 403, 200),
    Row(
        "POST",
        "/payments/refunds",
        LOGIN,
        403,
        403,
        302,
        objects=owner_paid_deposit,
        data={
            "payment_id": "{payment_id}",
            "amount": "1",
            "reason": "asked",
            "idempotency_key": "m",
        },
    ),
    Row("GET", "/api/v1/payments/deposits", 401, 200, 200, 200, objects=owner_deposit),
    Row(
        "POST",
        "/api/v1/payments/deposits",
        401,
        201,
        201,
        201,
        data={"amount_minor": 2500, "idempotency_key": "matrix-api"},
    ),
    Row(
        "GET",
        "/api/v1/payments/deposits/{payment_id}",
        401,
        404,
        200,
        404,
        objects=owner_deposit,
    ),
    Row(
        "POST",
        "/api/v1/payments/deposits/{payment_id}/test-card",
        401,
        404,
        200,
        404,
        objects=owner_deposit,
        data={"card_number": "4242424242424242"},
    ),
    Row(
        "POST",
        "/api/v1/payments/deposits/{payment_id}/cancel",
        401,
        404,
        200,
        404,
        objects=owner_deposit,
    ),
    Row(
        "POST",
        "/api/v1/payments/deposits/{payment_id}/refunds",
        401,
        403,
        403,
        201,
        objects=owner_paid_deposit,
        admin_sees_private=True,
        data={"amount_minor": 100, "reason": "asked", "idempotency_key": "matrix-api"},
    ),
    Row("GET", "/api/v1/payments/withdrawals", 401, 200, 200, 200, objects=owner_withdrawal),
    # Nobody here has a payout account yet.
    Row(
        "POST",
        "/api/v1/payments/withdrawals",
        401,
        409,
        409,
        409,
        data={"amount_minor": 100, "idempotency_key": "matrix-api"},
    ),
    Row(
        "GET",
        "/api/v1/payments/withdrawals/{payout_id}",
        401,
        404,
        200,
        404,
        objects=owner_withdrawal,
    ),
    Row(
        "GET",
        "/api/v1/payments/payout-account",
        401,
        404,
        200,
        404,
        objects=owner_payout_account,
    ),
    Row(
        "POST",
        "/api/v1/payments/payout-account",
        401,
        200,
        200,
        200,
        data={"refresh_url": "https://app.example/r", "return_url": "https://app.example/b"},
    ),
    Row(
        "POST",
        "/api/v1/payments/payout-account/test-bank",
        401,
        409,
        200,
        409,
        objects=owner_payout_account,
        data={"iban": "DE89370400440532013000"},
    ),
    Row(
        "GET",
        "/api/v1/payments/reconciliation",
        401,
        403,
        403,
        200,
        objects=owner_paid_deposit,
        admin_sees_private=True,
    ),
    # wallet: everyone sees their own money only
    Row("GET", "/wallet", LOGIN, 200, 200, 200, objects=owner_money),
    Row("GET", "/wallet/statement.csv", LOGIN, 200, 200, 200, objects=owner_money),
    Row("GET", "/api/v1/wallet", 401, 200, 200, 200, objects=owner_money),
    Row("GET", "/api/v1/wallet/statement", 401, 200, 200, 200, objects=owner_money),
    # the ledger: auditors and admins see every account; members see none of it
    *(
        Row(
            "GET",
            path,
            LOGIN,
            403,
            403,
            200,
            objects=owner_money,
            auditor=200,
            admin_sees_private=True,
        )
        for path in (
            "/ledger",
            "/ledger/trial-balance",
            "/ledger/check",
            "/ledger/accounts",
            "/ledger/accounts/{code}",
            "/ledger/entries/{entry_id}",
        )
    ),
    *(
        Row(
            "GET",
            path,
            401,
            403,
            403,
            200,
            objects=owner_money,
            auditor=200,
            admin_sees_private=True,
        )
        for path in (
            "/api/v1/ledger/accounts",
            "/api/v1/ledger/accounts/{code}",
            "/api/v1/ledger/accounts/{code}/statement",
            "/api/v1/ledger/entries/{entry_id}",
            "/api/v1/ledger/trial-balance",
        )
    ),
    # the trust log's signed promise for an entry's leaf: for whom the entry moved money
    Row(
        "GET",
        "/api/v1/ledger/entries/{entry_id}/promise",
        401,
        404,
        200,
        200,
        objects=owner_money,
        auditor=200,
    ),
    # the journal with everything each content hash covers: for auditors' verifiers only
    Row("GET", "/api/v1/ledger/journal", 401, 403, 403, 403, objects=owner_money, auditor=200),
    # the trust log: its pages are for auditors; its API is public (pseudonymous by design)
    *(
        Row("GET", path, LOGIN, 403, 403, 403, objects=owner_money, auditor=200)
        for path in ("/audit/", "/audit/checkpoints", "/audit/entries/{sequence}", "/audit/proof")
    ),
    Row("POST", "/audit/proof", LOGIN, 403, 403, 403, auditor=422, data={"index": "x"}),
    Row("GET", "/api/v1/audit/entries?start=0&end=1", 200, 200, 200, 200, objects=owner_money),
    Row("GET", "/api/v1/audit/key", 200, 200, 200, 200),
    Row(
        "GET",
        "/api/v1/audit/proof/inclusion?index=0&size=1",
        200,
        200,
        200,
        200,
        objects=owner_money,
    ),
    Row(
        "GET",
        "/api/v1/audit/proof/consistency?old=1&new=1",
        200,
        200,
        200,
        200,
        objects=owner_money,
    ),
    # no checkpoint is signed here: the same 404 for everyone, never a 401 (it is public)
    Row("GET", "/api/v1/audit/checkpoint", 404, 404, 404, 404),
    # trust: profiles and the ranking for members; ratings only between the two parties
    Row("GET", "/trust/members", LOGIN, 200, 200, 200),
    Row("GET", "/trust/members/{user_id}", LOGIN, 200, 200, 200, objects=owner_id),
    Row("GET", "/trust/ratings", LOGIN, 200, 200, 200, objects=trust_sealed),
    Row(
        "GET",
        "/trust/transactions/{transaction_id}/rate",
        LOGIN,
        404,
        200,
        404,
        objects=trust_pending,
    ),
    Row(
        "POST",
        "/trust/transactions/{transaction_id}/rate",
        LOGIN,
        404,
        302,
        404,
        objects=trust_pending,
        data={"value": "positive", "comment": "fine"},
    ),
    Row(
        "POST",
        "/trust/ratings/{rating_id}/revision-request",
        LOGIN,
        404,
        302,
        404,
        objects=trust_received,
        data={"note": "please"},
    ),
    Row(
        "GET",
        "/trust/ratings/{rating_id}/revise",
        LOGIN,
        404,
        200,
        404,
        objects=trust_revision_asked,
    ),
    Row(
        "POST",
        "/trust/ratings/{rating_id}/revise",
        LOGIN,
        404,
        302,
        404,
        objects=trust_revision_asked,
        data={"value": "positive"},
    ),
    Row("GET", "/trust/moderation", LOGIN, 403, 403, 200, objects=trust_received),
    Row(
        "POST",
        "/trust/ratings/{rating_id}/hide",
        LOGIN,
        403,
        403,
        302,
        objects=trust_received,
        data=_HIDE,
    ),
    Row("GET", "/trust/audit", LOGIN, 403, 403, 403, auditor=200),
    Row("GET", "/api/v1/trust/members", 401, 200, 200, 200),
    Row("GET", "/api/v1/trust/members/{user_id}", 401, 200, 200, 200, objects=owner_id),
    Row("GET", "/api/v1/trust/ratings", 401, 200, 200, 200, objects=trust_sealed),
    Row("GET", "/api/v1/trust/ratings/pending", 401, 200, 200, 200, objects=trust_pending),
    Row(
        "POST",
        "/api/v1/trust/transactions/{transaction_id}/ratings",
        401,
        404,
        201,
        404,
        objects=trust_pending,
        data={"value": "neutral"},
    ),
    Row(
        "POST",
        "/api/v1/trust/ratings/{rating_id}/revision-request",
        401,
        404,
        201,
        404,
        objects=trust_received,
    ),
    Row(
        "POST",
        "/api/v1/trust/ratings/{rating_id}/revision",
        401,
        404,
        200,
        404,
        objects=trust_revision_asked,
        data={"value": "neutral"},
    ),
    Row(
        "POST",
        "/api/v1/trust/ratings/{rating_id}/hide",
        401,
        403,
        403,
        200,
        objects=trust_received,
        data=_HIDE,
    ),
    Row(
        "GET",
        "/api/v1/trust/audit/members/{subject}",
        401,
        403,
        403,
        403,
        objects=trust_subject,
        auditor=200,
    ),
    # API: who am I, my tokens
    Row("GET", "/api/v1/openapi.json", 200, 200, 200, 200),
    Row("GET", "/api/v1/me", 401, 200, 200, 200, objects=owner_email),
    Row("GET", "/api/v1/tokens", 401, 200, 200, 200, objects=owner_token),
    Row("POST", "/api/v1/tokens", 401, 201, 201, 201, data={"name": "new", "scope": "read"}),
    Row("DELETE", "/api/v1/tokens/{token_id}", 401, 404, 204, 404, objects=owner_token),
    # lending pages: listings open for funding are for every member; requests, orders
    # and loans are their owner's (admins may look, and cancel a listing)
    Row("GET", "/lending/", LOGIN, 200, 200, 200, objects=lending_listing, roles=LENDING),
    Row(
        "GET",
        "/lending/listings/{request_id}",
        LOGIN,
        200,
        200,
        200,
        objects=lending_listing,
        roles=LENDING,
    ),
    Row(
        "POST",
        "/lending/listings/{request_id}/commit",
        LOGIN,
        302,
        422,
        403,
        objects=lending_listing,
        roles=LENDING,
        data={"amount": "25", "rate": "9"},
    ),
    Row("GET", "/lending/borrow", LOGIN, 200, 200, 200, objects=lending_loan, roles=LENDING),
    Row("GET", "/lending/lend", LOGIN, 200, 200, 200, objects=lending_loan, roles=LENDING),
    Row("GET", "/lending/requests/new", LOGIN, 200, 200, 200, roles=LENDING),
    Row(
        "POST",
        "/lending/requests/new",
        LOGIN,
        302,
        302,
        403,
        roles=LENDING,
        data={**_REQUEST_FORM, "action": "confirm"},
    ),
    Row(
        "POST",
        "/lending/requests/{request_id}/cancel",
        LOGIN,
        404,
        302,
        302,
        objects=lending_listing,
        roles=LENDING,
    ),
    Row(
        "POST",
        "/lending/requests/{request_id}/accept",
        LOGIN,
        404,
        302,
        404,
        objects=lending_listing,
        roles=LENDING,
    ),
    Row(
        "GET", "/lending/loans/{loan_id}", LOGIN, 404, 200, 200, objects=lending_loan, roles=LENDING
    ),
    Row(
        "POST",
        "/lending/loans/{loan_id}/pay",
        LOGIN,
        404,
        302,
        404,
        objects=lending_loan,
        roles=LENDING,
    ),
    Row(
        "GET",
        "/lending/loans/{loan_id}/early",
        LOGIN,
        404,
        200,
        404,
        objects=lending_loan,
        roles=LENDING,
    ),
    Row(
        "POST",
        "/lending/loans/{loan_id}/early",
        LOGIN,
        404,
        302,
        404,
        objects=lending_loan,
        roles=LENDING,
        data={"principal": "10"},
    ),
    Row("GET", "/lending/orders/new", LOGIN, 200, 200, 200, roles=LENDING),
    Row(
        "POST",
        "/lending/orders/new",
        LOGIN,
        302,
        302,
        403,
        objects=lending_money,
        roles=LENDING,
        data=_ORDER_FORM,
    ),
    Row(
        "GET",
        "/lending/orders/{order_id}",
        LOGIN,
        404,
        200,
        200,
        objects=lending_order,
        roles=LENDING,
    ),
    Row(
        "POST",
        "/lending/orders/{order_id}/cancel",
        LOGIN,
        404,
        302,
        404,
        objects=lending_order,
        roles=LENDING,
    ),
    Row(
        "POST",
        "/lending/orders/{order_id}/reinvest",
        LOGIN,
        404,
        302,
        404,
        objects=lending_order,
        roles=LENDING,
        data={"reinvest": "on"},
    ),
    Row(
        "GET",
        "/api/v1/lending/listings",
        401,
        200,
        200,
        200,
        objects=lending_listing,
        roles=LENDING,
    ),
    Row(
        "GET",
        "/api/v1/lending/listings/{request_id}",
        401,
        200,
        200,
        200,
        objects=lending_listing,
        roles=LENDING,
    ),
    Row(
        "POST",
        "/api/v1/lending/listings/{request_id}/commitments",
        401,
        201,
        422,
        403,
        objects=lending_listing,
        roles=LENDING,
        data={"amount_minor": 2500, "rate_bps": 900},
    ),
    Row(
        "POST",
        "/api/v1/lending/schedule-preview",
        401,
        200,
        200,
        200,
        roles=LENDING,
        data={"amount_minor": 100000, "term_months": 12, "max_rate_bps": 1400},
    ),
    Row("GET", "/api/v1/lending/requests", 401, 200, 200, 200, objects=lending_loan, roles=LENDING),
    Row("POST", "/api/v1/lending/requests", 401, 201, 201, 403, roles=LENDING, data=_REQUEST_JSON),
    Row(
        "POST",
        "/api/v1/lending/requests/{request_id}/cancel",
        401,
        404,
        409,
        200,
        objects=lending_listing,
        roles=LENDING,
    ),
    Row(
        "POST",
        "/api/v1/lending/requests/{request_id}/accept",
        401,
        404,
        409,
        404,
        objects=lending_listing,
        roles=LENDING,
    ),
    Row("GET", "/api/v1/lending/orders", 401, 200, 200, 200, objects=lending_order, roles=LENDING),
    Row(
        "POST",
        "/api/v1/lending/orders",
        401,
        201,
        201,
        403,
        objects=lending_money,
        roles=LENDING,
        data={"amount_minor": 10000, "min_rate_bps": {"D": 800}},
    ),
    Row(
        "GET",
        "/api/v1/lending/orders/{order_id}",
        401,
        404,
        200,
        200,
        objects=lending_order,
        roles=LENDING,
    ),
    Row(
        "POST",
        "/api/v1/lending/orders/{order_id}/cancel",
        401,
        404,
        200,
        404,
        objects=lending_order,
        roles=LENDING,
    ),
    Row(
        "POST",
        "/api/v1/lending/orders/{order_id}/reinvest",
        401,
        404,
        200,
        404,
        objects=lending_order,
        roles=LENDING,
        data={"reinvest": True},
    ),
    Row("GET", "/api/v1/lending/parts", 401, 200, 200, 200, objects=lending_loan, roles=LENDING),
    Row(
        "GET",
        "/api/v1/lending/dashboard/lender",
        401,
        200,
        200,
        200,
        objects=lending_loan,
        roles=LENDING,
    ),
    Row(
        "GET",
        "/api/v1/lending/dashboard/borrower",
        401,
        200,
        200,
        200,
        objects=lending_loan,
        roles=LENDING,
    ),
    Row("GET", "/api/v1/lending/loans", 401, 200, 200, 200, objects=lending_loan, roles=LENDING),
    Row(
        "GET",
        "/api/v1/lending/loans/{loan_id}",
        401,
        404,
        200,
        200,
        objects=lending_loan,
        roles=LENDING,
    ),
    Row(
        "GET",
        "/api/v1/lending/loans/{loan_id}/repayments",
        401,
        404,
        200,
        200,
        objects=lending_loan,
        roles=LENDING,
    ),
    Row(
        "POST",
        "/api/v1/lending/loans/{loan_id}/pay",
        401,
        404,
        201,
        404,
        objects=lending_loan,
        roles=LENDING,
    ),
    Row(
        "GET",
        "/api/v1/lending/loans/{loan_id}/early-repayment",
        401,
        404,
        200,
        404,
        objects=lending_loan,
        roles=LENDING,
    ),
    Row(
        "POST",
        "/api/v1/lending/loans/{loan_id}/early-repayment",
        401,
        404,
        201,
        404,
        objects=lending_loan,
        roles=LENDING,
        data={"principal_minor": 1000},
    ),
    # crowdfunding pages: the owner is the initiator (or the backer) the object belongs to
    Row("GET", "/campaigns", 200, 200, 200, 200, objects=cf_live, roles=CF),
    Row(
        "GET",
        "/campaigns/{campaign_id}",
        404,
        404,
        200,
        200,
        objects=cf_draft,
        roles=CF,
        admin_sees_private=True,
    ),
    Row("GET", "/campaigns/{campaign_id}/cover", 404, 404, 404, 404, objects=cf_draft, roles=CF),
    Row("GET", "/campaigns/new", LOGIN, 200, 200, 200, roles=CF),
    Row("POST", "/campaigns/new", LOGIN, 302, 302, 403, roles=CF, data=_CF_FORM),
    Row("GET", "/campaigns/{campaign_id}/edit", LOGIN, 404, 200, 403, objects=cf_draft, roles=CF),
    Row(
        "POST",
        "/campaigns/{campaign_id}/edit",
        LOGIN,
        404,
        302,
        403,
        objects=cf_draft,
        roles=CF,
        data=_CF_FORM,
    ),
    Row("POST", "/campaigns/{campaign_id}/cover", LOGIN, 404, 302, 403, objects=cf_draft, roles=CF),
    Row(
        "POST",
        "/campaigns/{campaign_id}/tiers",
        LOGIN,
        404,
        302,
        403,
        objects=cf_draft,
        roles=CF,
        data=_CF_TIER_FORM,
    ),
    Row(
        "POST",
        "/tiers/{tier_id}/edit",
        LOGIN,
        404,
        302,
        403,
        objects=cf_draft,
        roles=CF,
        data=_CF_TIER_FORM,
    ),
    Row("POST", "/tiers/{tier_id}/delete", LOGIN, 404, 302, 403, objects=cf_draft, roles=CF),
    Row("POST", "/tiers/{tier_id}/ship", LOGIN, 403, 302, 403, objects=cf_succeeded, roles=CF),
    Row(
        "POST",
        "/campaigns/{campaign_id}/stretch-goals",
        LOGIN,
        404,
        302,
        403,
        objects=cf_draft,
        roles=CF,
        data={"amount": "3000", "description": "Three ovens"},
    ),
    Row(
        "POST", "/stretch-goals/{goal_id}/delete", LOGIN, 404, 302, 403, objects=cf_draft, roles=CF
    ),
    Row(
        "POST", "/campaigns/{campaign_id}/launch", LOGIN, 404, 302, 403, objects=cf_draft, roles=CF
    ),
    # an admin may call a campaign off; asked after the admin, the owner finds it cancelled
    Row(
        "POST",
        "/campaigns/{campaign_id}/cancel",
        LOGIN,
        403,
        409,
        302,
        objects=cf_live,
        roles=CF,
        data={"reason": "Supplier closed"},
    ),
    Row(
        "POST",
        "/campaigns/{campaign_id}/updates",
        LOGIN,
        403,
        302,
        403,
        objects=cf_live,
        roles=CF,
        data={"title": "Bricks arrived", "body_md": "Yes", "visibility": "backers"},
    ),
    Row(
        "POST",
        "/campaigns/{campaign_id}/comments",
        LOGIN,
        302,
        302,
        302,
        objects=cf_live,
        roles=CF,
        data={"body": "Gluten free?"},
    ),
    Row("GET", "/campaigns/{campaign_id}/pledge", LOGIN, 200, 200, 200, objects=cf_live, roles=CF),
    Row(
        "POST",
        "/campaigns/{campaign_id}/pledge",
        LOGIN,
        302,
        302,
        422,  # an admin without money in the wallet: the form again
        objects=cf_others_campaign,
        roles=CF,
        data={"amount": "10", "idempotency_key": "matrix-pledge-key"},
    ),
    Row(
        "GET",
        "/campaigns/{campaign_id}/dashboard",
        LOGIN,
        403,
        200,
        200,
        objects=cf_live,
        roles=CF,
        admin_sees_private=True,
    ),
    Row(
        "GET",
        "/campaigns/{campaign_id}/information-sheet",
        200,
        200,
        200,
        200,
        objects=cf_loan_campaign,
        roles=CF,
    ),
    Row("GET", "/my/campaigns", LOGIN, 200, 200, 200, objects=cf_draft, roles=CF),
    Row("GET", "/pledges", LOGIN, 200, 200, 200, objects=cf_pledge, roles=CF),
    Row("GET", "/pledges/{pledge_id}/change", LOGIN, 404, 200, 404, objects=cf_pledge, roles=CF),
    Row(
        "POST",
        "/pledges/{pledge_id}/change",
        LOGIN,
        404,
        302,
        404,
        objects=cf_pledge,
        roles=CF,
        data={"amount": "80"},
    ),
    Row("POST", "/pledges/{pledge_id}/cancel", LOGIN, 404, 302, 404, objects=cf_pledge, roles=CF),
    Row(
        "POST",
        "/pledges/{pledge_id}/revoke",
        LOGIN,
        404,
        302,
        404,
        objects=cf_loan_pledge,
        roles=CF,
    ),
    Row("GET", "/pledges/{pledge_id}/card", LOGIN, 404, 200, 404, objects=cf_card_pledge, roles=CF),
    Row(
        "POST",
        "/pledges/{pledge_id}/card",
        LOGIN,
        404,
        422,  # the card form needs a started card setup: GET first
        404,
        objects=cf_card_pledge,
        roles=CF,
        data={"card_number": "4242424242424242"},
    ),
    Row(
        "GET",
        "/pledges/{pledge_id}/card/return",
        LOGIN,
        404,
        302,
        404,
        objects=cf_card_pledge,
        roles=CF,
    ),
    Row(
        "POST", "/pledges/{pledge_id}/received", LOGIN, 404, 302, 404, objects=cf_shipped, roles=CF
    ),
    Row(
        "POST",
        "/pledges/{pledge_id}/problem",
        LOGIN,
        404,
        302,
        404,
        objects=cf_shipped,
        roles=CF,
        data={"note": "It never came"},
    ),
    Row(
        "POST", "/pledges/{pledge_id}/refund", LOGIN, 404, 302, 403, objects=cf_collecting, roles=CF
    ),
    Row("GET", "/investor", LOGIN, 200, 200, 200, objects=cf_investor, roles=CF),
    Row("POST", "/investor/test", LOGIN, 302, 302, 302, roles=CF, data=_CF_ANSWERS),
    Row("POST", "/investor/simulation", LOGIN, 302, 302, 302, roles=CF, data=_CF_SIMULATION),
    # crowdfunding API
    Row("GET", "/api/v1/campaigns", 401, 200, 200, 200, objects=cf_live, roles=CF),
    Row("POST", "/api/v1/campaigns", 401, 201, 201, 403, roles=CF, data=_CF_JSON),
    Row("GET", "/api/v1/campaigns/mine", 401, 200, 200, 200, objects=cf_draft, roles=CF),
    Row(
        "GET",
        "/api/v1/campaigns/{campaign_id}",
        401,
        404,
        200,
        200,
        objects=cf_draft,
        roles=CF,
        admin_sees_private=True,
    ),
    Row(
        "PATCH",
        "/api/v1/campaigns/{campaign_id}",
        401,
        404,
        200,
        403,
        objects=cf_draft,
        roles=CF,
        data={"title": "Renamed oven"},
    ),
    Row(
        "POST",
        "/api/v1/campaigns/{campaign_id}/launch",
        401,
        404,
        200,
        403,
        objects=cf_draft,
        roles=CF,
    ),
    Row(
        "POST",
        "/api/v1/campaigns/{campaign_id}/cancel",
        401,
        403,
        409,
        200,
        objects=cf_live,
        roles=CF,
        data={"reason": "Supplier closed"},
    ),
    Row(
        "POST",
        "/api/v1/campaigns/{campaign_id}/tiers",
        401,
        404,
        201,
        403,
        objects=cf_draft,
        roles=CF,
        data=_CF_TIER_JSON,
    ),
    Row(
        "PATCH",
        "/api/v1/campaigns/{campaign_id}/tiers/{tier_id}",
        401,
        404,
        200,
        403,
        objects=cf_draft,
        roles=CF,
        data={"title": "Two loaves"},
    ),
    Row(
        "DELETE",
        "/api/v1/campaigns/{campaign_id}/tiers/{tier_id}",
        401,
        404,
        204,
        403,
        objects=cf_draft,
        roles=CF,
    ),
    Row(
        "POST",
        "/api/v1/campaigns/{campaign_id}/tiers/{tier_id}/ship",
        401,
        403,
        200,
        403,
        objects=cf_succeeded,
        roles=CF,
    ),
    Row(
        "POST",
        "/api/v1/campaigns/{campaign_id}/stretch-goals",
        401,
        404,
        201,
        403,
        objects=cf_draft,
        roles=CF,
        data={"amount_minor": 300_000, "description": "Three ovens"},
    ),
    Row(
        "DELETE",
        "/api/v1/campaigns/{campaign_id}/stretch-goals/{goal_id}",
        401,
        404,
        204,
        403,
        objects=cf_draft,
        roles=CF,
    ),
    Row(
        "POST",
        "/api/v1/campaigns/{campaign_id}/updates",
        401,
        403,
        201,
        403,
        objects=cf_live,
        roles=CF,
        data={"title": "Bricks arrived", "body_md": "Yes"},
    ),
    Row(
        "POST",
        "/api/v1/campaigns/{campaign_id}/comments",
        401,
        201,
        201,
        201,
        objects=cf_live,
        roles=CF,
        data={"body": "Gluten free?"},
    ),
    Row(
        "POST",
        "/api/v1/campaigns/{campaign_id}/pledges",
        401,
        201,
        201,
        409,  # an admin without money in the wallet
        objects=cf_others_campaign,
        roles=CF,
        data={"amount_minor": 1_000, "idempotency_key": "matrix-api-pledge"},
    ),
    Row(
        "GET",
        "/api/v1/campaigns/{campaign_id}/dashboard",
        401,
        403,
        200,
        200,
        objects=cf_live,
        roles=CF,
        admin_sees_private=True,
    ),
    Row(
        "GET",
        "/api/v1/campaigns/{campaign_id}/information-sheet",
        401,
        200,
        200,
        200,
        objects=cf_loan_campaign,
        roles=CF,
    ),
    Row("GET", "/api/v1/campaigns/pledges", 401, 200, 200, 200, objects=cf_pledge, roles=CF),
    Row(
        "GET",
        "/api/v1/campaigns/pledges/{pledge_id}",
        401,
        404,
        200,
        404,
        objects=cf_pledge,
        roles=CF,
    ),
    Row(
        "PATCH",
        "/api/v1/campaigns/pledges/{pledge_id}",
        401,
        404,
        200,
        404,
        objects=cf_pledge,
        roles=CF,
        data={"amount_minor": 8_000},
    ),
    Row(
        "DELETE",
        "/api/v1/campaigns/pledges/{pledge_id}",
        401,
        404,
        200,
        404,
        objects=cf_pledge,
        roles=CF,
    ),
    Row(
        "POST",
        "/api/v1/campaigns/pledges/{pledge_id}/revoke",
        401,
        404,
        200,
        404,
        objects=cf_loan_pledge,
        roles=CF,
    ),
    Row(
        "POST",
        "/api/v1/campaigns/pledges/{pledge_id}/card",
        401,
        404,
        200,
        404,
        objects=cf_card_pledge,
        roles=CF,
    ),
    Row(
        "POST",
        "/api/v1/campaigns/pledges/{pledge_id}/card/test",
        401,
        404,
        409,  # no card setup started yet
        404,
        objects=cf_card_pledge,
        roles=CF,
        data={"card_number": "4242424242424242"},
    ),
    Row(
        "POST",
        "/api/v1/campaigns/pledges/{pledge_id}/card/confirm",
        401,
        404,
        409,  # the test-mode gateway has no setup to read back
        404,
        objects=cf_card_pledge,
        roles=CF,
    ),
    Row(
        "POST",
        "/api/v1/campaigns/pledges/{pledge_id}/received",
        401,
        404,
        200,
        404,
        objects=cf_shipped,
        roles=CF,
    ),
    Row(
        "POST",
        "/api/v1/campaigns/pledges/{pledge_id}/problem",
        401,
        404,
        200,
        404,
        objects=cf_shipped,
        roles=CF,
        data={"note": "It never came"},
    ),
    Row(
        "POST",
        "/api/v1/campaigns/pledges/{pledge_id}/refund",
        401,
        404,
        200,
        403,
        objects=cf_collecting,
        roles=CF,
    ),
    Row("GET", "/api/v1/campaigns/investor", 401, 200, 200, 200, objects=cf_investor, roles=CF),
    Row("GET", "/api/v1/campaigns/investor/knowledge-test", 401, 200, 200, 200, roles=CF),
    Row(
        "POST",
        "/api/v1/campaigns/investor/knowledge-test",
        401,
        201,
        201,
        201,
        roles=CF,
        data={"answers": _CF_ANSWERS},
    ),
    Row(
        "POST",
        "/api/v1/campaigns/investor/simulation",
        401,
        200,
        200,
        200,
        roles=CF,
        data={
            "yearly_net_income_minor": 4_000_000,
            "liquid_assets_minor": 0,
            "yearly_commitments_minor": 0,
        },
    ),
    Row(
        "PUT",
        "/api/v1/campaigns/investors/{user_id}/sophisticated",
        401,
        403,
        403,
        204,
        objects=cf_investor,
        roles=CF,
        data={"sophisticated": True},
        admin_sees_private=True,
    ),
    Row(
        "GET",
        "/api/v1/campaigns/events",
        401,
        403,
        403,
        200,
        objects=cf_live,
        roles=CF,
        auditor=200,
        admin_sees_private=True,
    ),
]

# the secondary market: members list and look; only a part's owner offers or withdraws
# it; another lender buys (the seller and an admin without the lender role are refused)
ROWS += [
    Row("GET", "/resale/", LOGIN, 200, 200, 200, roles=LENDING),
    Row("GET", "/resale/mine", LOGIN, 200, 200, 200, objects=resale_offer, roles=LENDING),
    Row(
        "GET",
        "/resale/offers/{offer_id}",
        LOGIN,
        200,
        200,
        200,
        objects=resale_offer,
        roles=LENDING,
    ),
    Row(
        "GET",
        "/resale/parts/{part_id}/sell",
        LOGIN,
        404,
        200,
        404,
        objects=resale_part,
        roles=LENDING,
    ),
    Row(
        "POST",
        "/resale/parts/{part_id}/sell",
        LOGIN,
        404,
        302,
        404,
        objects=resale_part,
        roles=LENDING,
        data={"premium": "-1.5", "idempotency_key": "matrix"},
    ),
    Row(
        "POST",
        "/resale/offers/{offer_id}/buy",
        LOGIN,
        302,
        403,
        403,
        objects=resale_offer,
        roles=LENDING,
        data={"expected_total_minor": "60000", "idempotency_key": "matrix"},
    ),
    Row(
        "POST",
        "/resale/offers/{offer_id}/cancel",
        LOGIN,
        404,
        302,
        404,
        objects=resale_offer,
        roles=LENDING,
    ),
    Row(
        "POST",
        "/resale/orders/{order_id}/auto",
        LOGIN,
        404,
        302,
        404,
        objects=lending_order,
        roles=LENDING,
        data={"enabled": "on"},
    ),
    Row("GET", "/api/v1/resale/offers", 401, 200, 200, 200, objects=resale_offer, roles=LENDING),
    Row(
        "GET",
        "/api/v1/resale/offers/{offer_id}",
        401,
        200,
        200,
        200,
        objects=resale_offer,
        roles=LENDING,
    ),
    Row("GET", "/api/v1/resale/trades", 401, 200, 200, 200, objects=resale_offer, roles=LENDING),
    Row(
        "POST",
        "/api/v1/resale/parts/{part_id}/offers",
        401,
        404,
        201,
        403,
        objects=resale_part,
        roles=LENDING,
        data={"premium_bps": -150},
    ),
    Row(
        "POST",
        "/api/v1/resale/offers/{offer_id}/buy",
        401,
        201,
        403,
        403,
        objects=resale_offer,
        roles=LENDING,
        data={"expected_total_minor": 60_000, "idempotency_key": "matrix"},
    ),
    Row(
        "POST",
        "/api/v1/resale/offers/{offer_id}/cancel",
        401,
        404,
        200,
        404,
        objects=resale_offer,
        roles=LENDING,
    ),
    Row(
        "PUT",
        "/api/v1/resale/orders/{order_id}/auto",
        401,
        404,
        200,
        404,
        objects=lending_order,
        roles=LENDING,
        data={"enabled": True},
    ),
]

# Routes that are not about whose data it is, with the reason; everything else needs a row.
EXEMPT: dict[tuple[str, str], str] = {
    ("GET", "/static/{filename}"): "the package's CSS, JS and images",
    ("POST", "/signup"): "the same answer for every address: tests/web/test_auth.py",
    ("POST", "/login"): "authentication itself: tests/web/test_auth.py",
    ("POST", "/password/forgot"): "the same answer for every address: the reset tests",
    ("POST", "/webhooks/stripe"): "signed by the gateway, no session: test_webhook_endpoint",
}


# --- the machinery -------------------------------------------------------------------------


def row_counts(session) -> dict[str, int]:
    load_all()
    return {
        t.name: session.scalar(select(func.count()).select_from(t))
        for t in Base.metadata.sorted_tables
    }


def _ask(row: Row, caller: str, who: dict, path: str, client_for):
    if row.is_api:
        client = client_for(ANONYMOUS).client
        headers = who.get(caller, {})
        body = row.data if row.method not in ("GET", "DELETE") else None
        return client.open(path, method=row.method, json=body, headers=headers)
    browser: Browser = client_for(caller)
    if row.method == "GET":
        return browser.get(path)
    csrf_page = "/login" if caller == ANONYMOUS else "/dashboard"
    return browser.submit(csrf_page, dict(row.data), action=path)


def _outcome(response) -> int | str:
    location = response.headers.get("Location", "")
    if response.status_code == 302 and "/login" in location and "next=" in location:
        return LOGIN
    return response.status_code


class Callers:
    """The three people of a test, their API tokens and their (signed-in) browsers."""

    def __init__(
        self,
        app,
        session,
        make_user,
        signed_in,
        api_token,
        roles=(),
        kyc="verified",
        auditor=False,
    ):
        self.app = app
        self.session = session
        self.signed_in = signed_in
        owner = make_user(roles=roles, kyc=kyc, name="Owner")
        other = make_user(roles=roles, kyc=kyc, name="Other")
        admin = make_user(roles=("admin",), kyc="verified", name="Admin")
        self.world = World(session, owner, other, admin)
        self.people = {OWNER: owner, OTHER: other, ADMIN: admin}
        if auditor:
            self.people[AUDITOR] = make_user(roles=("auditor",), kyc="verified", name="Auditor")
        self.tokens = {name: api_token(person, "write") for name, person in self.people.items()}
        self.browsers: dict[str, Browser] = {}

    def browser(self, caller: str) -> Browser:
        if caller not in self.browsers:
            self.browsers[caller] = (
                Browser(self.app.test_client())
                if caller == ANONYMOUS
                else self.signed_in(self.people[caller])
            )
        return self.browsers[caller]

    def check(self, row: Row, made: Objects | None = None) -> list[str]:
        """Ask the row's route as each caller; return what went against the table.
        `made`: the row's objects when they were made already (rows reading the same ones)."""
        made = made if made is not None else row.objects(self.world)
        path = row.path.format(**made.path)
        # Form fields may name the objects too, e.g. {"payment_id": "{payment_id}"}.
        data = {k: v.format(**made.path) if isinstance(v, str) else v for k, v in row.data.items()}
        row = replace(row, data=data)
        expected = {
            ANONYMOUS: row.anonymous,
            OTHER: row.other,
            OWNER: row.owner,
            ADMIN: row.admin,
            AUDITOR: row.auditor,
        }
        problems = []
        for caller in CALLERS:
            if expected[caller] is None:
                continue
            if not row.is_api:
                self.browser(caller)  # sign in before counting rows
            before = row_counts(self.session)
            response = _ask(row, caller, self.tokens, path, self.browser)
            got = _outcome(response)
            if got != expected[caller]:
                problems.append(f"{row.id}: {caller}: expected {expected[caller]}, got {got}")
            refused = got == LOGIN or (isinstance(got, int) and got >= 400)
            self.session.expire_all()
            if refused and row_counts(self.session) != before:
                problems.append(f"{row.id}: {caller}: refused, but rows changed")
            shown = response.get_data(as_text=True)
            private_to = (ANONYMOUS, OTHER) + (() if row.admin_sees_private else (ADMIN,))
            if caller in private_to:
                leaked = [s for s in made.private if s in shown]
                if leaked:
                    problems.append(f"{row.id}: {caller} sees private data: {leaked}")
        return problems


# Reading rows change nothing, so rows that read the same objects share one set of people
# and one making of the objects (signing in costs argon2 work); every other row gets fresh
# people and objects of its own.
READING_GROUPS: dict[tuple, list[Row]] = {}
for _row in ROWS:
    if _row.method == "GET":
        READING_GROUPS.setdefault((_row.objects, _row.roles, _row.kyc), []).append(_row)
READING = [row for group in READING_GROUPS.values() for row in group]
CHANGING = [r for r in ROWS if r not in READING]


@pytest.mark.parametrize(
    "rows",
    list(READING_GROUPS.values()),
    ids=[f"GET reading {group[0].objects.__name__}" for group in READING_GROUPS.values()],
)
def test_reading_routes(rows: list[Row], app, session, make_user, signed_in, api_token):
    auditor = any(row.auditor is not None for row in rows)
    callers = Callers(
        app, session, make_user, signed_in, api_token, rows[0].roles, rows[0].kyc, auditor
    )
    made = rows[0].objects(callers.world)
    problems = [problem for row in rows for problem in callers.check(row, made)]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("row", CHANGING, ids=[r.id for r in CHANGING])
def test_changing_route(row: Row, app, session, make_user, signed_in, api_token):
    callers = Callers(
        app, session, make_user, signed_in, api_token, row.roles, row.kyc, row.auditor is not None
    )
    problems = callers.check(row)
    assert not problems, "\n".join(problems)


def _rule_path(rule) -> str:
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)


def test_every_route_has_a_row(app):
    covered = {(r.method, r.path.split("?")[0]) for r in ROWS} | set(EXEMPT)
    missing = sorted(
        (method, _rule_path(rule))
        for rule in app.url_map.iter_rules()
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})
        if (method, _rule_path(rule)) not in covered
    )
    assert not missing, "routes without a row in the authorization matrix:\n" + "\n".join(
        f"  {m} {p}" for m, p in missing
    )


def test_rows_name_real_routes(app):
    """A row for a route that does not exist would pass by answering 404."""
    real = {
        (method, _rule_path(rule))
        for rule in app.url_map.iter_rules()
        for method in rule.methods or ()
    }
    stale = [r.id for r in ROWS if (r.method, r.path.split("?")[0]) not in real]
    assert not stale, f"rows for routes that do not exist: {stale}"

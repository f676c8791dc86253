"""Demo data: a living platform on a fresh clone. Every feature adds its part here; the
marketplace's year of history and the secondary market live in demo/marketplace.py."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import timedelta

from sqlalchemy.orm import Session

from p2pbank import clock
from p2pbank.audit import sequencer
from p2pbank.audit import services as audit
from p2pbank.audit.note import Signer
from p2pbank.clock import now
from p2pbank.identity import services as identity
from p2pbank.identity import twofactor
from p2pbank.identity import twofactor_services as two_factor
from p2pbank.ledger import services as ledger
from p2pbank.money import Money
from p2pbank.notifications import services as notifications

# Demo passwords are printed once by `make run`; they exist only in development data.
DEMO_PEOPLE = [
    ("lena@demo.p2pbank.test", "Lena Lender", ["lender"], "verified"),
    ("lars@demo.p2pbank.test", "Lars Lender", ["lender", "backer"], "verified"),
    ("bo@demo.p2pbank.test", "Bo Borrower", ["borrower"], "verified"),
    ("bea@demo.p2pbank.test", "Bea Borrower", ["borrower", "lender"], "verified"),
    ("ian@demo.p2pbank.test", "Ian Initiator", ["initiator", "backer"], "verified"),
    ("ada@demo.p2pbank.test", "Ada Auditor", ["auditor"], "verified"),
    ("admin@demo.p2pbank.test", "Alex Admin", ["admin"], "verified"),
]


def demo_password(email: str) -> str:
    """Stable per person and printed once; it must pass the password policy, which refuses
    passwords that contain the e-mail address's name part."""
    return "demo-" + hashlib.sha256(email.encode()).hexdigest()[:8] + "-2026!"


# Auditors and admins must sign in with two factors, so the demo auditor and admin have it
# on with this known key (printed once by `make run`): add it to any authenticator app, or
# print the current code with the one-liner shown. Demo data only; never a real account's.
DEMO_TOTP_SECRET = "P2PBANKDEMOTOTPSECRETFORDEMOONLY"  # noqa: S105 (printed on purpose)


def seed(session: Session, audit_signer: Signer | None = None) -> Iterator[str]:
    """Everything, in order; the trust log's checkpoint is signed last so it covers it all.

    The history is replayed with a moving clock; the trust log's sequencer runs before
    every move, as it would every second, so each leaf is integrated at the time it was
    queued and within the maximum merge delay."""
    with clock.watching(lambda moment: _sequence(session, moment)):
        yield from _seed_all(session, audit_signer)
    _sequence(session, clock.now())


def _sequence(session: Session, moment) -> None:
    """Between the demo's commands (each commits its own work), the session may still hold
    the transaction of a read; end it, so the sequencer sees every committed leaf. Never
    while objects wait to be written: that would be inside a command."""
    if session.new or session.dirty or session.deleted:
        return
    session.commit()
    sequencer.integrate_queued(session, moment)


def _seed_all(session: Session, audit_signer: Signer | None) -> Iterator[str]:
    from p2pbank.demo import marketplace

    # Members joined months ago, so "member since" comes before their loans' history.
    with clock.frozen_at(now() - timedelta(days=marketplace.PEOPLE_SINCE_DAYS)):
        yield from _seed_people(session)
        yield from seed_wallets(session)
    yield from marketplace.seed_history(session)
    yield from seed_lending(session)
    yield from marketplace.seed_marketplace(session)
    yield from seed_crowdfunding(session)
    yield from seed_payments(session)
    yield from seed_trust(session)
    yield from seed_notifications(session)
    if audit_signer is not None:
        yield from seed_audit_checkpoint(session, audit_signer)  # keep last


# Opening wallet balances (minor units), posted as deposits from the gateway clearing
# account so the wallets, statements and trial balance have something to show.
DEMO_WALLETS = {
    "lena@demo.p2pbank.test": 500_000,
    "lars@demo.p2pbank.test": 250_000,
    "bo@demo.p2pbank.test": 15_000,
    "bea@demo.p2pbank.test": 120_000,
    "ian@demo.p2pbank.test": 30_000,
}


def seed_notifications(session: Session) -> Iterator[str]:
    """The replayed past told everyone about everything as it happened; the last week's
    notifications stay unread (the bell shows them), older ones are read and not mailed."""
    settled = notifications.settle_history(session, now() - timedelta(days=7))
    yield f"notifications: {settled} from the replayed past marked read"


def seed_wallets(session: Session) -> Iterator[str]:
    """Give the demo people money to lend and pledge: one deposit each, idempotent (the
    key names the person, so seeding twice posts nothing new)."""
    ledger.ensure_platform_account(session, ledger.PLATFORM_GATEWAY_CLEARING)
    yield "wallets (opening deposits):"
    for email, minor in DEMO_WALLETS.items():
        user = identity.find_user_by_email(session, email)
        if user is None:
            continue
        ledger.ensure_wallet(session, user.id)
        ledger.transfer(
            session,
            from_code=ledger.PLATFORM_GATEWAY_CLEARING,
            to_code=ledger.wallet_code(user.id),
            amount=Money(minor),
            kind="deposit",
            idempotency_key=f"demo:opening-deposit:{email}",
            memo="Opening deposit (demo data)",
        )
        session.commit()
        yield f"  {email:32} {Money(minor)}"


# Card deposits through the real payment flow on the embedded test-mode gateway (Stripe's
# test cards; no real money): (e-mail, amount in minor units, card number).
DEMO_CARD_DEPOSITS = [
    ("lena@demo.p2pbank.test", 100_000, "4242424242424242"),
    ("lars@demo.p2pbank.test", 25_000, "4242424242424242"),
    ("bo@demo.p2pbank.test", 5_000, "4000000000000002"),  # declined: changes nothing
    ("bea@demo.p2pbank.test", 12_500, "4000000000009995"),  # declined: insufficient funds
    ("bea@demo.p2pbank.test", 12_500, "4242424242424242"),
]


def seed_payments(session: Session) -> Iterator[str]:
    """A few test-mode card deposits (and declines), a payout account and a withdrawal,
    each through p2pbank.payments services and the gateway's own signed events."""
    from p2pbank.payments import payouts, webhooks
    from p2pbank.payments import services as payments
    from p2pbank.payments.sandbox_gateway import SandboxGateway
    from p2pbank.payments.settings import PaymentSettings

    gateway = SandboxGateway(
        session, webhook_secret=PaymentSettings.from_mapping({}).test_webhook_secret
    )
    yield "card deposits (test mode, Stripe's test cards; no real money):"
    for n, (email, minor, card) in enumerate(DEMO_CARD_DEPOSITS):
        user = identity.find_user_by_email(session, email)
        if user is None:
            continue
        started = payments.start_deposit(
            session, gateway, user.id, amount_minor=minor, idempotency_key=f"demo-card-{n}"
        )
        payments.complete_test_card_payment(
            session, gateway, user.id, started.payment.id, card_number=card
        )
        webhooks.deliver_test_mode_events(session, gateway)
        session.refresh(started.payment)
        yield f"  {email:32} {Money(minor)}  card {card[-4:]}: {started.payment.status}"
    lars = identity.find_user_by_email(session, "lars@demo.p2pbank.test")
    if lars is not None:
        payouts.onboard_payouts(
            session,
            gateway,
            lars.id,
            refresh_url="/payments/payout-account",
            return_url="/payments/payout-account",
        )
        payouts.complete_test_onboarding(session, gateway, lars.id, iban="DE89370400440532013000")
        payout = payouts.withdraw(
            session, gateway, lars.id, amount_minor=5_000, idempotency_key="demo-withdrawal"
        )
        webhooks.deliver_test_mode_events(session, gateway)
        yield f"  lars withdrew {Money(payout.amount_minor)} to a test IBAN: {payout.status}"


def seed_crowdfunding(session: Session) -> Iterator[str]:
    """Campaigns in every state, through the crowdfunding services and the real settlement
    job: one funded and paid out (a reward shipped and confirmed), one that missed its goal
    and released every hold, and live ones with wallet and card pledges, rewards, stretch
    goals, an update and comments, plus a crowdlending campaign with the EU safeguards."""
    from datetime import date

    from p2pbank import clock
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
    from p2pbank.payments.sandbox_gateway import SandboxGateway
    from p2pbank.payments.settings import PaymentSettings

    people = {
        key: identity.find_user_by_email(session, f"{key}@demo.p2pbank.test")
        for key in ("ian", "lena", "lars", "bea")
    }
    if any(person is None for person in people.values()):
        return
    ian, lena, lars, bea = people["ian"], people["lena"], people["lars"], people["bea"]
    gateway = SandboxGateway(
        session, webhook_secret=PaymentSettings.from_mapping({}).test_webhook_secret
    )
    today = now()
    yield "crowdfunding campaigns:"

    def campaign(title, summary, category, goal, days, story, **extra):
        made = services.create_campaign(
            session,
            ian.id,
            title=title,
            summary=summary,
            category=category,
            goal_minor=goal,
            duration_days=days,
            story_md=story,
            **extra,
        )
        return made

    def pledge(person, made, amount, n, **extra):
        return pledging.pledge(
            session,
            person.id,
            made.id,
            amount_minor=amount,
            idempotency_key=f"demo-pledge-{made.id}-{n}",
            **extra,
        )

    def card_pledge(person, made, amount, n, card="4242424242424242", **extra):
        row = pledge(person, made, amount, n, method="card", **extra)
        cards.start_card_setup(session, person.id, row.id, gateway=gateway)
        return cards.complete_test_card_setup(
            session, person.id, row.id, gateway=gateway, card_number=card
        )

    # Funded and paid out, 30 days ago; the bread was delivered and confirmed.
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

    # Missed its goal 20 days ago: every hold released, nobody charged.
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

    # Live: rewards with a limit, a stretch goal, wallet and card pledges, talk.
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

    # Crowdlending: a business borrows from the crowd, with the EU investor checks.
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
DEMO_RATINGS = {
    "borrower": (
        "positive",
        "Every instalment on time, and a friendly note when repaid.",
        {"communication": 5, "kept_schedule": 5},
    ),
    "lender": ("positive", "Lent at a fair rate; no fuss.", {}),
    "initiator": (
        "positive",
        "Fresh bread every Saturday, as promised.",
        {"as_described": 5, "delivered_on_time": 4, "communication": 5},
    ),
    "backer": ("positive", "Collected on time and said thanks.", {}),
}


def seed_trust(session: Session) -> Iterator[str]:
    """Reputation with a past, through the trust and lending services: scores as of every
    30 days of the lending history (computed for those moments, published now), Eve's loan
    repaid early so she and her lenders rate each other, ratings after the funded campaign
    (Bea's left sealed: Ian has not rated her yet), and today's grades."""
    from sqlalchemy import select

    from p2pbank import clock
    from p2pbank.errors import DomainError
    from p2pbank.lending import services as lending
    from p2pbank.lending.models import Loan
    from p2pbank.trust import refresh
    from p2pbank.trust import services as trust
    from p2pbank.trust.read import ratings as ratings_read

    today = clock.now()
    moment = today - timedelta(days=LENDING_HISTORY_DAYS) + timedelta(days=30)
    runs = 0
    while moment < today - timedelta(days=1):
        refresh.recompute_trust(session, moment)
        moment += timedelta(days=30)
        runs += 1
    eve = identity.find_user_by_email(session, "eve@demo.p2pbank.test")
    loan_id = session.scalar(select(Loan.id).where(Loan.borrower_id == eve.id)) if eve else None
    if eve is not None and loan_id is not None:
        try:
            lending.repay_early(session, eve.id, loan_id, idempotency_key="demo:eve:early")
        except DomainError as exc:
            yield f"  (Eve could not repay early: {exc.detail})"
    people = [identity.find_user_by_email(session, e) for e, *_ in DEMO_PEOPLE]
    people += [identity.find_user_by_email(session, e) for e, *_ in DEMO_LENDING_PEOPLE]
    bea = identity.find_user_by_email(session, "bea@demo.p2pbank.test")
    given = sealed = 0
    for person in (p for p in people if p is not None):
        for item in ratings_read.pending_ratings(session, person.id):
            if item.other_id == (bea.id if bea else None) and item.my_side == "initiator":
                continue  # Ian has not rated Bea yet: her rating of him stays sealed
            value, comment, stars = DEMO_RATINGS[item.other_side]
            rating = trust.rate_counterparty(
                session,
                person.id,
                item.transaction_id,
                value=value,
                comment=comment,
                details=stars,
            )
            given += 1
            sealed += rating.status == "sealed"
    counts = refresh.recompute_trust(session)
    yield (
        f"trust: {runs} past score runs, {given} ratings ({sealed} still sealed), "
        f"{counts['trust.members_scored']} members graded today; profiles on /trust/members"
    )


def seed_audit_checkpoint(session: Session, signer: Signer) -> Iterator[str]:
    """Sign a checkpoint of the trust log, so the auditor pages and verifier have one."""
    checkpoint = audit.sign_checkpoint(session, signer, signer.name)
    yield f"trust log: checkpoint of {checkpoint.tree_size} entries signed by {signer.name}"
    yield (
        "  verify it: python -m p2pbank.audit.verify --url http://127.0.0.1:5000 "
        f"--key {signer.verifier.vkey}"
    )


def _seed_people(session: Session) -> Iterator[str]:
    yield "demo people (e-mail / password):"
    for email, name, roles, kyc in DEMO_PEOPLE:
        self_service = [r for r in roles if r not in ("auditor", "admin")]
        user = identity.sign_up(
            session,
            email=email,
            display_name=name,
            password=demo_password(email),
            roles=self_service,
        )
        for role in roles:
            if role in ("auditor", "admin"):
                identity.grant_role(session, None, user.id, role, "demo data")
        if kyc == "verified":
            identity.set_kyc_status(session, None, user.id, "pending", "demo data")
            identity.set_kyc_status(session, None, user.id, "verified", "demo data")
        if user.two_factor_required:
            two_factor.start_enrolment(session, user.id, secret=DEMO_TOTP_SECRET)
            two_factor.confirm_enrolment(
                session, user.id, twofactor.code_at(DEMO_TOTP_SECRET, now())
            )
        yield f"  {email:32} {demo_password(email):28} {', '.join(roles)}"
    yield from _two_factor_note()


def _two_factor_note() -> Iterator[str]:
    grouped = " ".join(DEMO_TOTP_SECRET[i : i + 4] for i in range(0, len(DEMO_TOTP_SECRET), 4))
    yield "two-factor sign-in is on for the auditor and the admin (their roles require it):"
    yield f"  authenticator app key: {grouped}"
    yield (
        "  no app at hand? print the current code: .venv/bin/python -c "
        f"\"import pyotp; print(pyotp.TOTP('{DEMO_TOTP_SECRET}').now())\""
    )


# --- lending (issue 5) ---------------------------------------------------------------------

# People whose loans started months ago: the lending demo moves the clock back, lets them
# borrow and lend, and runs the daily job up to today, so repayments, a late loan and
# returns are all there when the platform opens.
DEMO_LENDING_PEOPLE = [
    ("liv@demo.p2pbank.test", "Liv Lender", ["lender"], 800_000),
    ("max@demo.p2pbank.test", "Max Lender", ["lender"], 600_000),
    ("nia@demo.p2pbank.test", "Nia Lender", ["lender"], 400_000),
    ("cleo@demo.p2pbank.test", "Cleo Borrower", ["borrower"], 0),
    ("dan@demo.p2pbank.test", "Dan Borrower", ["borrower"], 0),
    ("eve@demo.p2pbank.test", "Eve Borrower", ["borrower"], 0),
    ("finn@demo.p2pbank.test", "Finn Borrower", ["borrower"], 0),
]
LENDING_HISTORY_DAYS = 150


def _demo_deposit(session: Session, user_id: int, minor: int, key: str) -> None:
    ledger.ensure_wallet(session, user_id)
    ledger.transfer(
        session,
        from_code=ledger.PLATFORM_GATEWAY_CLEARING,
        to_code=ledger.wallet_code(user_id),
        amount=Money(minor),
        kind="deposit",
        idempotency_key=f"demo:lending-deposit:{key}",
        memo="Deposit (demo data)",
    )
    session.commit()


def _demo_withdraw(session: Session, user_id: int, minor: int, key: str) -> None:
    ledger.transfer(
        session,
        from_code=ledger.wallet_code(user_id),
        to_code=ledger.PLATFORM_GATEWAY_CLEARING,
        amount=Money(minor),
        kind="withdrawal",
        idempotency_key=f"demo:lending-withdrawal:{key}",
        memo="Paid out to the bank (demo data)",
    )
    session.commit()


def _demo_request(session: Session, user_id: int, amount: int, term: int, rate: int, text: str):
    from p2pbank.lending import services as lending

    return lending.request_loan(
        session,
        user_id,
        amount_minor=amount,
        term_months=term,
        max_rate_bps=rate,
        purpose_category="other" if "course" not in text else "education",
        purpose_text=text,
        idempotency_key=f"demo:{user_id}:{amount}:{term}",
    )


def seed_lending(session: Session) -> Iterator[str]:
    """Lending with a past: funded loans with instalments repaid (one borrower late),
    listings open on the marketplace, auto-invest orders still active."""
    from p2pbank import clock
    from p2pbank.lending import due as lending_due
    from p2pbank.lending import ordering

    today = clock.now()
    start = today - timedelta(days=LENDING_HISTORY_DAYS)
    people: dict[str, object] = {}
    with clock.frozen_at(start):
        for email, name, roles, money in DEMO_LENDING_PEOPLE:
            user = identity.sign_up(
                session, email=email, display_name=name, password=demo_password(email), roles=roles
            )
            identity.set_kyc_status(session, None, user.id, "pending", "demo data")
            identity.set_kyc_status(session, None, user.id, "verified", "demo data")
            if money:
                _demo_deposit(session, user.id, money, email)
            people[name.split()[0]] = user
        # Auto-invest orders placed first; the listings that follow are matched at once.
        for name, amount, rates, reinvest in (
            ("Liv", 600_000, {"C": 800, "D": 900}, True),
            ("Max", 400_000, {"C": 700, "D": 1_000, "E": 1_500}, False),
            ("Nia", 300_000, {"D": 1_100}, True),
        ):
            ordering.place_order(
                session,
                people[name].id,
                amount_minor=amount,
                min_rate_bps=rates,
                max_per_borrower_minor=80_000,
                slice_minor=5_000,
                reinvest=reinvest,
                idempotency_key=f"demo:order:{name}",
            )
        loans = (
            ("Cleo", 150_000, 12, 1_300, "A second-hand van for my flower stall", 150_000),
            ("Dan", 200_000, 24, 1_400, "New windows before the winter", 20_000),
            ("Eve", 100_000, 6, 1_200, "An evening course in bookkeeping", 120_000),
        )
        for name, amount, term, rate, text, savings in loans:
            request = _demo_request(session, people[name].id, amount, term, rate, text)
            # The borrower spends the loan, and sets money aside for the instalments (Dan
            # too little: he falls behind).
            paid_out = amount - amount * request.origination_fee_bps // 10_000
            _demo_withdraw(session, people[name].id, paid_out, f"{name}:spends-the-loan")
            _demo_deposit(session, people[name].id, savings, f"{name}:savings")
        day = start
        while day < today - timedelta(days=5):
            day += timedelta(days=1)
            clock.set_now(day)
            lending_due.run_due_lending(session, day)
        # Cheaper than any order takes: open on the marketplace, funded in part by hand.
        finn = _demo_request(
            session,
            people["Finn"].id,
            180_000,
            18,
            850,
            "Stock for a market stall selling second-hand books",
        )
        ordering.commit_to_listing(
            session,
            people["Max"].id,
            finn.id,
            amount_minor=60_000,
            rate_bps=850,
            idempotency_key="demo:commit:Max",
        )
        while day < today:
            day = min(day + timedelta(days=1), today)
            clock.set_now(day)
            lending_due.run_due_lending(session, day)
    # Today: more listings and an active order from the first demo people.
    by_email = {email: identity.find_user_by_email(session, email) for email, *_ in DEMO_PEOPLE}
    bo = by_email["bo@demo.p2pbank.test"]
    bea = by_email["bea@demo.p2pbank.test"]
    lena = by_email["lena@demo.p2pbank.test"]
    lars = by_email["lars@demo.p2pbank.test"]
    if bo and bea and lena and lars:
        listed = _demo_request(
            session, bo.id, 120_000, 12, 800, "Repairing the roof of my workshop"
        )
        _demo_request(session, bea.id, 80_000, 6, 880, "A laptop for my design studies")
        ordering.place_order(
            session,
            lena.id,
            amount_minor=200_000,
            min_rate_bps={"C": 800, "D": 850},
            max_per_borrower_minor=20_000,
            slice_minor=2_500,
            reinvest=True,
            idempotency_key="demo:order:Lena",
        )
        ordering.commit_to_listing(
            session,
            lars.id,
            listed.id,
            amount_minor=15_000,
            rate_bps=750,
            idempotency_key="demo:commit:Lars",
        )
    yield "lending: loans with history (Cleo and Eve on time, Dan late), open listings,"
    yield "  active auto-invest orders (Liv, Max, Nia, Lena); lenders' returns on /lending/lend"

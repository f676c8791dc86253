"""Demo data: a living platform on a fresh clone. Every feature adds its part here; the
marketplace's year of history and the secondary market live in demo/marketplace.py."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from sqlalchemy.orm import Session

from p2pbank import clock
from p2pbank.audit import sequencer
from p2pbank.audit import services as audit
from p2pbank.audit.note import Signer
from p2pbank.clock import now
from p2pbank.demo import lending as lending_demo
from p2pbank.demo.lending import DEMO_LENDING_PEOPLE, LENDING_HISTORY_DAYS
from p2pbank.demo.people import DEMO_PEOPLE, DEMO_TOTP_SECRET, demo_password
from p2pbank.identity import services as identity
from p2pbank.identity import twofactor
from p2pbank.identity import twofactor_services as two_factor
from p2pbank.ledger import services as ledger
from p2pbank.money import Money
from p2pbank.notifications import services as notifications

__all__ = ["DEMO_PEOPLE", "DEMO_TOTP_SECRET", "demo_password", "seed"]


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
    from p2pbank.demo.crowdfunding import seed_crowdfunding

    # Members joined months ago, so "member since" comes before their loans' history.
    with clock.frozen_at(now() - timedelta(days=marketplace.PEOPLE_SINCE_DAYS)):
        yield from _seed_people(session)
        yield from seed_wallets(session)
    yield from marketplace.seed_history(session)
    yield from lending_demo.seed_lending(session)
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


# --- lending ------------------------------------------------------------------------------

# People whose loans started months ago: the lending demo moves the clock back, lets them
# borrow and lend, and runs the daily job up to today, so repayments, a late loan and
# returns are all there when the platform opens.

"""Real concurrency on PostgreSQL: real threads, real connections, real commits.

1. Eight workers deliver every event of one paid deposit at the same moment (the gateway
   retrying while its first attempt is still running): each event is recorded once, the
   wallet is credited once, the fee booked once.
2. Eight workers withdraw 30% of a wallet at the same moment: exactly three succeed, the
   others are refused for lack of money, and nothing of theirs is left behind.

The test commits for real, so it works in a schema of its own (created here, dropped at
the end) and never touches the rolled-back fixture or other tests' tables.
"""

from __future__ import annotations

import secrets
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import sessionmaker

from p2pbank.audit.keys import derive_pseudonym_key, session_info
from p2pbank.db import Base, make_engine
from p2pbank.errors import InsufficientFunds
from p2pbank.ledger.checks import check_ledger
from p2pbank.ledger.models import JournalEntry
from p2pbank.ledger.queries import wallet_summary
from p2pbank.models import load_all
from p2pbank.payments import payouts, services, webhooks
from p2pbank.payments.models import GatewayEvent, Payout, PayoutStatus
from p2pbank.payments.sandbox_gateway import SandboxGateway
from tests.support.database import TEST_SECRET
from tests.support.people import member

pytestmark = [pytest.mark.postgres_only, pytest.mark.slow]

WORKERS = 8
SECRET = "whsec_concurrency"


@pytest.fixture
def sessions(database_url):
    load_all()
    schema = f"payments_race_{secrets.token_hex(4)}"
    admin = make_engine(database_url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in database_url else "?"
    engine = make_engine(
        f"{database_url}{sep}options=-csearch_path%3D{schema}",
        pool_size=WORKERS + 2,
        max_overflow=0,
    )
    try:
        Base.metadata.create_all(engine)
        # Sessions carry the trust log's pseudonym key, as the app's do.
        yield sessionmaker(
            bind=engine,
            expire_on_commit=False,
            info=session_info(derive_pseudonym_key(TEST_SECRET)),
        )
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _person(session):
    return member(session, "Racer", email="racer@example.test").id


def _race(work, count=WORKERS):
    barrier = threading.Barrier(count)

    def run(i):
        barrier.wait()
        return work(i)

    with ThreadPoolExecutor(count) as pool:
        return [f.result() for f in [pool.submit(run, i) for i in range(count)]]


def test_the_same_events_delivered_at_once_credit_once(sessions):
    with sessions() as session:
        user_id = _person(session)
        gateway = SandboxGateway(session, webhook_secret=SECRET)
        started = services.start_deposit(
            session, gateway, user_id, amount_minor=10_000, idempotency_key="race"
        )
        services.complete_test_card_payment(
            session, gateway, user_id, started.payment.id, card_number="4242424242424242"
        )
        payloads = [row.payload.encode() for row in gateway.undelivered_events()]
    assert len(payloads) >= 3

    def deliver(_i):
        outcomes = []
        with sessions() as session:
            gateway = SandboxGateway(session, webhook_secret=SECRET)
            for payload in payloads:
                result = webhooks.handle_event(session, gateway, payload, gateway.sign(payload))
                outcomes.append(result.outcome)
        return outcomes

    results = _race(deliver)
    per_event = list(zip(*results, strict=True))
    for outcomes in per_event:  # each event: one worker handled it, the rest saw a duplicate
        assert sum(outcome != "duplicate" for outcome in outcomes) == 1, outcomes
    with sessions() as session:
        assert session.scalar(select(func.count(GatewayEvent.id))) == len(payloads)
        assert wallet_summary(session, user_id).posted == 10_000
        kinds = session.scalars(select(JournalEntry.kind)).all()
        assert sorted(kinds) == ["deposit", "gateway_fee"]
        assert check_ledger(session).ok


def test_withdrawals_racing_for_one_wallet(sessions):
    with sessions() as session:
        user_id = _person(session)
        gateway = SandboxGateway(session, webhook_secret=SECRET)
        started = services.start_deposit(
            session, gateway, user_id, amount_minor=10_000, idempotency_key="fund"
        )
        services.complete_test_card_payment(
            session, gateway, user_id, started.payment.id, card_number="4242424242424242"
        )
        webhooks.deliver_test_mode_events(session, gateway)
        payouts.onboard_payouts(
            session, gateway, user_id, refresh_url="http://x", return_url="http://x"
        )
        payouts.complete_test_onboarding(session, gateway, user_id, iban="DE89370400440532013000")

    def withdraw(i):
        with sessions() as session:
            gateway = SandboxGateway(session, webhook_secret=SECRET)
            try:
                payout = payouts.withdraw(
                    session, gateway, user_id, amount_minor=3_000, idempotency_key=f"w{i}"
                )
            except InsufficientFunds:
                return "refused"
            return payout.status

    results = _race(withdraw)
    assert sorted(results) == ["paid"] * 3 + ["refused"] * (WORKERS - 3)
    with sessions() as session:
        summary = wallet_summary(session, user_id)
        assert (summary.posted, summary.held, summary.available) == (1_000, 0, 1_000)
        statuses = session.scalars(select(Payout.status)).all()
        assert statuses == [PayoutStatus.PAID] * 3
        assert len(SandboxGateway(session, webhook_secret=SECRET).list_transfers()) == 3
        assert check_ledger(session).ok

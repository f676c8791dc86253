"""Work that falls due while the demo runs: on each `make run` (`flask demo-refresh`), a
new loan whose first instalment is due today and a campaign whose deadline is a few
minutes away, so a newcomer who leaves the platform running sees the worker collect the
instalment and settle the campaign, with nobody typing a command.

The loan is issued a month back and the campaign launched a day back with the clock moved
there; the trust log's sequencer runs before the clock comes back, so every leaf is
integrated at the time it was queued (the log keeps its maximum merge delay)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from p2pbank import clock
from p2pbank.audit import sequencer
from p2pbank.identity import services as identity
from p2pbank.ledger import services as ledger
from p2pbank.money import Money

DEADLINE_IN = timedelta(minutes=3)
LENDER = "lena@demo.p2pbank.test"
INITIATOR = "ian@demo.p2pbank.test"
BACKER = "lars@demo.p2pbank.test"


def refresh(session: Session, password_for) -> Iterator[str]:
    """Add one loan due today and one campaign ending DEADLINE_IN from now; needs the demo
    people (`flask seed-demo`). `password_for(email)` gives a new borrower's password."""
    moment = clock.now()
    stamp = moment.strftime("%Y%m%d%H%M%S")
    if identity.find_user_by_email(session, LENDER) is None:
        yield "demo-refresh: no demo data (run flask seed-demo first); nothing added"
        return
    loan_id = _loan_due_today(session, moment, stamp, password_for)
    yield f"demo-refresh: loan {loan_id} has its first instalment due today ({moment.date()})"
    campaign_id, deadline = _campaign_ending_soon(session, moment, stamp)
    yield (
        f"demo-refresh: campaign {campaign_id} reaches its deadline at "
        f"{deadline:%H:%M:%S} UTC; the worker settles it within a minute after"
    )


def _deposit(session: Session, user_id: int, minor: int, key: str) -> None:
    ledger.ensure_platform_account(session, ledger.PLATFORM_GATEWAY_CLEARING)
    ledger.ensure_wallet(session, user_id)
    ledger.transfer(
        session,
        from_code=ledger.PLATFORM_GATEWAY_CLEARING,
        to_code=ledger.wallet_code(user_id),
        amount=Money(minor),
        kind="deposit",
        idempotency_key=f"demo:live-deposit:{key}",
        memo="Deposit (demo data)",
    )
    session.commit()


def _settle_log(session: Session) -> None:
    """Integrate what the moved clock queued, at that time, before the clock comes back."""
    sequencer.integrate_queued(session, clock.now())


def _loan_due_today(session: Session, moment: datetime, stamp: str, password_for) -> int:
    from p2pbank.lending import ordering
    from p2pbank.lending import services as lending
    from p2pbank.lending.models import Loan, LoanRequest

    lender = identity.find_user_by_email(session, LENDER)
    assert lender is not None
    email = f"live-{stamp}@demo.p2pbank.test"
    with clock.frozen_at(moment - timedelta(days=31)):
        user = identity.sign_up(
            session, email=email, display_name=f"Gus Borrower {stamp[-6:]}",
            password=password_for(email), roles=["borrower"],
        )  # fmt: skip
        identity.set_kyc_status(session, None, user.id, "pending", "demo data")
        identity.set_kyc_status(session, None, user.id, "verified", "demo data")
        _deposit(session, user.id, 20_000, f"{stamp}:borrower")
        _deposit(session, lender.id, 60_000, f"{stamp}:lender")
        request = lending.request_loan(
            session, user.id, amount_minor=60_000, term_months=12, max_rate_bps=1_200,
            purpose_category="other", purpose_text="A cargo bike for deliveries (demo)",
            idempotency_key=f"demo:live:{stamp}",
        )  # fmt: skip
        session.refresh(request)
        left = session.scalar(
            select(LoanRequest.amount_minor - LoanRequest.funded_minor).where(
                LoanRequest.id == request.id
            )
        )
        if left:
            ordering.commit_to_listing(
                session, lender.id, request.id, amount_minor=left, rate_bps=900
            )
        _settle_log(session)
    return session.scalar(select(Loan.id).where(Loan.request_id == request.id)) or 0


def _campaign_ending_soon(session: Session, moment: datetime, stamp: str) -> tuple[int, datetime]:
    from p2pbank.crowdfunding import pledging
    from p2pbank.crowdfunding import services as crowdfunding

    initiator = identity.find_user_by_email(session, INITIATOR)
    backer = identity.find_user_by_email(session, BACKER)
    assert initiator is not None and backer is not None
    launched = moment + DEADLINE_IN - timedelta(days=1)
    with clock.frozen_at(launched):
        campaign = crowdfunding.create_campaign(
            session, initiator.id, title=f"Street library {stamp[-6:]}",
            summary="A weatherproof book exchange on the corner (demo).",
            category="community", goal_minor=10_000, duration_days=1,
            story_md="## Why\n\nBooks for everyone on the street.",
        )  # fmt: skip
        crowdfunding.launch_campaign(session, initiator.id, campaign.id)
        _deposit(session, backer.id, 10_000, f"{stamp}:backer")
        pledging.pledge(
            session, backer.id, campaign.id, amount_minor=10_000,
            idempotency_key=f"demo:live-pledge:{stamp}",
        )  # fmt: skip
        _settle_log(session)
        session.refresh(campaign)
    return campaign.id, campaign.deadline_at

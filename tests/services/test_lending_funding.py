"""Lending services on the real database: requests, orders, matching, commitments,
issuing loans, partial funding, expiry and cancellation -- and the bad input that must be
refused with a clear error and nothing written."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from p2pbank import clock
from p2pbank.errors import (
    Conflict,
    Forbidden,
    InsufficientFunds,
    InvalidState,
    NotFound,
    ValidationFailed,
)
from p2pbank.ledger import inputs as ledger_inputs
from p2pbank.ledger import services as ledger
from p2pbank.ledger.models import JournalEntry
from p2pbank.lending import due as lending_due
from p2pbank.lending import matching, ordering, services
from p2pbank.lending.funding import as_listing, as_offer
from p2pbank.lending.models import (
    Commitment,
    Instalment,
    LenderOrder,
    Loan,
    LoanPart,
    LoanRequest,
    MatchRecord,
    OrderStatus,
    RequestStatus,
)
from p2pbank.lending.read import market, orders
from tests.support.database import row_counts
from tests.support.lending import borrower, lender, listing, order
from tests.support.money import account, assert_books_balance, deposit, wallet


@pytest.fixture(autouse=True)
def _books_balance_after_each_test(session):
    yield
    assert_books_balance(session)


# --- requests ------------------------------------------------------------------------------


def test_a_new_borrower_lists_a_request_graded_d_with_reasons(session, make_user, frozen_now):
    bo = borrower(make_user, session)
    request = listing(session, bo, amount=150_000, term=24, rate=1_500)
    assert request.status == RequestStatus.LISTED
    assert request.grade == "D"
    assert "no repayment history on this platform yet" in request.grade_reasons
    assert request.grade_rule_version.startswith("lending-interim-")
    assert request.origination_fee_bps == 400
    assert request.expires_at == frozen_now + timedelta(days=14)
    # Nothing to match yet, and the listing says why.
    record = session.scalar(select(MatchRecord).where(MatchRecord.request_id == request.id))
    assert record.trigger == "listing_placed"
    assert record.explanation["fills"] == []


def test_the_same_request_key_twice_lists_once(session, make_user, frozen_now):
    bo = borrower(make_user, session)
    first = listing(session, bo, idempotency_key="req-1")
    again = listing(session, bo, idempotency_key="req-1")
    assert first.id == again.id
    assert session.query(LoanRequest).count() == 1


BAD_REQUESTS = [
    ({"amount": 49_999}, "amount_minor", "EUR 500.00 to EUR 25,000.00"),
    ({"amount": 2_500_001}, "amount_minor", "EUR 500.00 to EUR 25,000.00"),
    ({"term": 7}, "term_months", "must be one of 6, 12, 18, 24, 36, 48, 60"),
    ({"term": 72}, "term_months", "must be one of"),
    ({"rate": 3_601}, "max_rate_bps", "platform cap of 36.00%"),
    ({"rate": 50}, "max_rate_bps", "from 1.00%"),
    ({"purpose_category": "yacht"}, "purpose_category", "listed purposes"),
    ({"purpose_text": "car"}, "purpose_text", "10 to 500 characters"),
]


@pytest.mark.parametrize(("change", "field", "message"), BAD_REQUESTS)
def test_bad_requests_are_refused_and_nothing_is_written(
    session, make_user, frozen_now, change, field, message
):
    bo = borrower(make_user, session)
    before = row_counts(session)
    with pytest.raises(ValidationFailed) as refused:
        listing(session, bo, **change)
    assert message in " ".join(refused.value.field_errors[field])
    assert row_counts(session) == before


def test_borrowing_without_kyc_or_role_is_refused(session, make_user, frozen_now):
    unverified = make_user(roles=["borrower"], kyc="pending")
    no_role = make_user(roles=["lender"], kyc="verified")
    before = row_counts(session)
    with pytest.raises(Forbidden, match="identity check"):
        listing(session, unverified)
    with pytest.raises(Forbidden, match="borrower role"):
        listing(session, no_role)
    assert row_counts(session) == before


def test_a_first_loan_over_the_limit_is_refused(session, make_user, frozen_now):
    bo = borrower(make_user, session)
    before = row_counts(session)
    with pytest.raises(ValidationFailed, match="Over your limit of EUR 2,000.00"):
        listing(session, bo, amount=200_001)
    assert row_counts(session) == before
    assert listing(session, bo, amount=200_000).amount_minor == 200_000


def test_one_open_request_at_a_time(session, make_user, frozen_now):
    bo = borrower(make_user, session)
    listing(session, bo)
    with pytest.raises(Conflict, match="already have an open loan request"):
        listing(session, bo, amount=60_000)


# --- orders and matching -------------------------------------------------------------------


def test_an_order_holds_its_money_and_funds_open_listings_pay_as_bid(
    session, make_user, frozen_now
):
    bo = borrower(make_user, session)
    request = listing(session, bo, amount=100_000, rate=1_500)
    cheap = lender(make_user, session, "Cheap")
    dear = lender(make_user, session, "Dear")
    order(session, dear, 80_000, {"D": 1_200}, max_per_borrower_minor=80_000)
    assert wallet(session, dear.id) == (1_000_000, 80_000, 920_000)
    order(session, cheap, 30_000, {"D": 900}, max_per_borrower_minor=30_000)
    # The listing is open at 20,000 after the first order; the cheaper one fills it.
    session.refresh(request)
    assert request.status == RequestStatus.FUNDED
    parts = session.scalars(select(LoanPart).order_by(LoanPart.id)).all()
    assert [(p.lender_id, p.principal_minor, p.rate_bps) for p in parts] == [
        (dear.id, 80_000, 1_200),
        (cheap.id, 20_000, 900),
    ]
    loan = session.scalar(select(Loan))
    assert loan.rate_bps == 1_140  # (80,000 x 12 % + 20,000 x 9 %) / 100,000
    cheap_order = session.scalar(select(LenderOrder).where(LenderOrder.lender_id == cheap.id))
    assert cheap_order.remaining_minor == 10_000
    assert wallet(session, cheap.id) == (980_000, 10_000, 970_000)


def test_a_listing_fills_lowest_rate_first_and_explains_the_skipped(session, make_user, frozen_now):
    lenders = [lender(make_user, session, f"L{n}") for n in range(4)]
    order(session, lenders[0], 40_000, {"D": 1_100}, max_per_borrower_minor=40_000)
    order(session, lenders[1], 40_000, {"D": 900}, max_per_borrower_minor=40_000)
    order(session, lenders[2], 40_000, {"C": 500}, max_per_borrower_minor=40_000)
    order(session, lenders[3], 40_000, {"D": 2_000}, max_per_borrower_minor=40_000)
    bo = borrower(make_user, session)
    request = listing(session, bo, amount=60_000, rate=1_500)
    record = session.scalar(select(MatchRecord).where(MatchRecord.request_id == request.id))
    fills = record.explanation["fills"]
    assert [(f["lender_id"], f["amount_minor"], f["rate_bps"]) for f in fills] == [
        (lenders[1].id, 40_000, 900),
        (lenders[0].id, 20_000, 1_100),
    ]
    reasons = {s["lender_id"]: s["reason"] for s in record.explanation["skipped"]}
    assert reasons == {lenders[2].id: "grade_not_accepted", lenders[3].id: "rate_above_max"}
    assert "above the listing's maximum" in record.explanation["skipped"][-1]["text"]


def test_the_per_borrower_cap_spreads_an_order_over_many_borrowers(session, make_user, frozen_now):
    lena = lender(make_user, session)
    borrowers = [borrower(make_user, session, f"B{n}") for n in range(5)]
    requests = [listing(session, b, amount=50_000) for b in borrowers]
    placed = order(session, lena, 250_000, {"D": 800}, slice_minor=2_500)
    # The default cap is 1 % of the order (2,500), one slice: one slice per borrower.
    assert placed.max_per_borrower_minor == 2_500
    for request in requests:
        session.refresh(request)
        assert request.funded_minor == 2_500
    assert placed.remaining_minor == 250_000 - 5 * 2_500
    held = session.scalars(select(Commitment).where(Commitment.lender_id == lena.id)).all()
    assert len(held) == 5
    assert wallet(session, lena.id) == (1_000_000, 250_000, 750_000)


BAD_ORDERS = [
    ({"slice_minor": 2_499}, "slice_minor", "at least EUR 25.00"),
    ({"amount": 2_000}, "amount_minor", "EUR 25.00 to"),
    ({"rates": {"D": 3_700}}, "min_rate_bps", "platform cap"),
    ({"rates": {}}, "min_rate_bps", "at least one grade"),
    ({"rates": {"F": 500}}, "min_rate_bps", "Grades are A to E"),
    ({"min_term_months": 3}, "min_term_months", "from 6 to 60"),
    ({"min_term_months": 36, "max_term_months": 12}, "max_term_months", "not be below"),
    ({"max_per_borrower_minor": 1_000}, "max_per_borrower_minor", "at least one slice"),
]


@pytest.mark.parametrize(("change", "field", "message"), BAD_ORDERS)
def test_bad_orders_are_refused_and_nothing_is_written(
    session, make_user, frozen_now, change, field, message
):
    lena = lender(make_user, session)
    before = row_counts(session)
    kw = dict(change)
    amount = kw.pop("amount", 50_000)
    rates = kw.pop("rates", None)
    with pytest.raises(ValidationFailed) as refused:
        order(session, lena, amount, rates, **kw)
    assert message in " ".join(refused.value.field_errors[field])
    assert row_counts(session) == before


def test_an_order_beyond_the_wallet_is_refused_and_nothing_is_written(
    session, make_user, frozen_now
):
    lena = lender(make_user, session, money=10_000)
    before = row_counts(session)
    with pytest.raises(InsufficientFunds, match="EUR 100.00 available"):
        order(session, lena, 10_001)
    assert row_counts(session) == before
    assert wallet(session, lena.id) == (10_000, 0, 10_000)


def test_lending_without_kyc_is_refused(session, make_user, frozen_now):
    pending = make_user(roles=["lender"], kyc="pending")
    with pytest.raises(Forbidden, match="identity check"):
        order(session, pending, 10_000)


def test_lending_to_yourself_is_refused_and_orders_skip_your_listing(
    session, make_user, frozen_now
):
    bea = make_user(roles=["borrower", "lender"], kyc="verified", name="Bea")
    deposit(session, bea.id, 100_000)
    request = listing(session, bea)
    before = row_counts(session)
    with pytest.raises(ValidationFailed, match="cannot lend to yourself"):
        ordering.commit_to_listing(session, bea.id, request.id, amount_minor=5_000, rate_bps=900)
    assert row_counts(session) == before
    placed = order(session, bea, 50_000, {"D": 500}, max_per_borrower_minor=50_000)
    session.refresh(request)
    assert request.funded_minor == 0
    assert placed.remaining_minor == 50_000
    detail = orders.order_detail(session, bea, placed.id)
    assert detail.not_matched == [(request.id, "Lenders cannot fund their own listing.")]


# --- manual commitments --------------------------------------------------------------------


def test_a_manual_commitment_holds_money_and_completing_it_issues_the_loan(
    session, make_user, frozen_now
):
    bo = borrower(make_user, session, money=1_000)
    request = listing(session, bo, amount=60_000, rate=1_400)
    lenders = [lender(make_user, session, f"L{n}") for n in range(3)]
    ordering.commit_to_listing(
        session, lenders[0].id, request.id, amount_minor=20_000, rate_bps=1_000
    )
    ordering.commit_to_listing(
        session, lenders[1].id, request.id, amount_minor=25_000, rate_bps=1_400
    )
    assert wallet(session, lenders[0].id) == (1_000_000, 20_000, 980_000)
    entries_before = session.query(JournalEntry).filter_by(kind="loan_funding").count()
    ordering.commit_to_listing(
        session, lenders[2].id, request.id, amount_minor=15_000, rate_bps=1_200
    )
    session.refresh(request)
    assert request.status == RequestStatus.FUNDED
    # One balanced entry: lenders' money to the borrower, minus the 4 % grade-D fee.
    funding_entries = session.query(JournalEntry).filter_by(kind="loan_funding").all()
    assert len(funding_entries) == entries_before + 1
    assert wallet(session, bo.id) == (1_000 + 60_000 - 2_400, 0, 1_000 + 57_600)
    assert account(session, ledger.PLATFORM_FEES) == 2_400
    assert wallet(session, lenders[0].id) == (980_000, 0, 980_000)
    for who, amount in zip(lenders, (20_000, 25_000, 15_000), strict=True):
        assert account(session, f"lending:lent:{who.id}") == amount
    assert account(session, f"lending:owed:{bo.id}") == -60_000
    loan = session.scalar(select(Loan))
    rows = session.scalars(select(Instalment).where(Instalment.loan_id == loan.id)).all()
    assert len(rows) == 12
    assert sum(r.principal_minor for r in rows) == 60_000
    for row in rows:
        assert sum(p.principal_minor + p.interest_minor for p in row.parts) == row.payment_minor
    assert loan.apr_bps > loan.rate_bps  # the fee raises the APR above the rate


def test_bad_commitments_are_refused_and_nothing_is_written(session, make_user, frozen_now):
    bo = borrower(make_user, session)
    request = listing(session, bo, amount=60_000, rate=1_400)
    lena = lender(make_user, session)
    before = row_counts(session)
    with pytest.raises(ValidationFailed, match="above this listing's maximum of 14.00%"):
        ordering.commit_to_listing(session, lena.id, request.id, amount_minor=5_000, rate_bps=1_401)
    with pytest.raises(ValidationFailed, match="at least EUR 25.00"):
        ordering.commit_to_listing(session, lena.id, request.id, amount_minor=2_000, rate_bps=900)
    with pytest.raises(Conflict, match="Only EUR 600.00 of this listing is still open"):
        ordering.commit_to_listing(session, lena.id, request.id, amount_minor=60_001, rate_bps=900)
    with pytest.raises(NotFound):
        ordering.commit_to_listing(session, lena.id, 999_999, amount_minor=5_000, rate_bps=900)
    assert row_counts(session) == before


def test_the_last_piece_may_be_smaller_than_a_slice(session, make_user, frozen_now):
    bo = borrower(make_user, session)
    request = listing(session, bo, amount=51_000, rate=1_400)
    lena = lender(make_user, session)
    ordering.commit_to_listing(session, lena.id, request.id, amount_minor=50_000, rate_bps=900)
    ordering.commit_to_listing(session, lena.id, request.id, amount_minor=1_000, rate_bps=900)
    session.refresh(request)
    assert request.status == RequestStatus.FUNDED


def test_a_commitment_key_replayed_commits_once(session, make_user, frozen_now):
    bo = borrower(make_user, session)
    request = listing(session, bo, amount=60_000)
    lena = lender(make_user, session)
    first = ordering.commit_to_listing(
        session, lena.id, request.id, amount_minor=5_000, rate_bps=900, idempotency_key="k"
    )
    again = ordering.commit_to_listing(
        session, lena.id, request.id, amount_minor=5_000, rate_bps=900, idempotency_key="k"
    )
    assert first.id == again.id
    assert wallet(session, lena.id)[1] == 5_000


# --- cancelling and expiring ---------------------------------------------------------------


def test_cancelling_a_listing_returns_money_to_orders_and_wallets(session, make_user, frozen_now):
    bo = borrower(make_user, session)
    request = listing(session, bo, amount=100_000)
    auto = lender(make_user, session, "Auto")
    hand = lender(make_user, session, "Hand")
    placed = order(session, auto, 40_000, {"D": 800}, max_per_borrower_minor=40_000)
    ordering.commit_to_listing(session, hand.id, request.id, amount_minor=30_000, rate_bps=900)
    assert placed.remaining_minor == 0 and placed.status == OrderStatus.USED_UP
    services.cancel_request(session, bo.id, request.id)
    session.refresh(request)
    assert request.status == RequestStatus.CANCELLED
    # The manual commitment goes back to the wallet; the order's money back to the order.
    assert wallet(session, hand.id) == (1_000_000, 0, 1_000_000)
    session.refresh(placed)
    assert placed.status == OrderStatus.ACTIVE and placed.remaining_minor == 40_000
    assert wallet(session, auto.id) == (1_000_000, 40_000, 960_000)
    with pytest.raises(InvalidState):
        services.cancel_request(session, bo.id, request.id)


def test_only_the_borrower_or_an_admin_cancels_a_listing(session, make_user, frozen_now):
    bo = borrower(make_user, session)
    request = listing(session, bo)
    other = borrower(make_user, session, "Other")
    with pytest.raises(NotFound):
        services.cancel_request(session, other.id, request.id)
    admin = make_user(roles=["admin"], kyc="verified")
    assert services.cancel_request(session, admin.id, request.id).status == "cancelled"


def test_cancelling_an_order_releases_its_money_and_keeps_commitments(
    session, make_user, frozen_now
):
    bo = borrower(make_user, session)
    request = listing(session, bo, amount=100_000)
    lena = lender(make_user, session)
    placed = order(session, lena, 50_000, {"D": 800}, max_per_borrower_minor=10_000)
    assert wallet(session, lena.id) == (1_000_000, 50_000, 950_000)
    ordering.cancel_order(session, lena.id, placed.id)
    assert placed.status == OrderStatus.CANCELLED and placed.remaining_minor == 0
    assert wallet(session, lena.id) == (1_000_000, 10_000, 990_000)  # the commitment stays
    with pytest.raises(NotFound):
        ordering.cancel_order(session, bo.id, placed.id)
    # The listing ends: the cancelled order's commitment goes to the wallet.
    services.cancel_request(session, bo.id, request.id)
    assert wallet(session, lena.id) == (1_000_000, 0, 1_000_000)


def test_an_unfunded_listing_expires_and_the_money_returns(session, make_user, frozen_now):
    bo = borrower(make_user, session)
    request = listing(session, bo, amount=100_000)
    lena = lender(make_user, session)
    ordering.commit_to_listing(session, lena.id, request.id, amount_minor=60_000, rate_bps=900)
    clock.advance(timedelta(days=14))
    done = lending_due.run_due_lending(session, clock.now())
    assert done["listings_expired"] == 1
    session.refresh(request)
    assert request.status == RequestStatus.EXPIRED
    assert wallet(session, lena.id) == (1_000_000, 0, 1_000_000)


def test_seventy_percent_funded_may_be_accepted_within_48_hours(session, make_user, frozen_now):
    bo = borrower(make_user, session)
    request = listing(session, bo, amount=100_000, rate=1_400)
    lena = lender(make_user, session)
    ordering.commit_to_listing(session, lena.id, request.id, amount_minor=70_000, rate_bps=1_000)
    clock.advance(timedelta(days=14, hours=1))
    assert lending_due.run_due_lending(session, clock.now())["awaiting_acceptance"] == 1
    session.refresh(request)
    assert request.status == RequestStatus.AWAITING_ACCEPTANCE
    detail = market.listing_detail(session, bo, request.id)
    assert detail.acceptance.principal_minor == 70_000
    assert detail.acceptance.apr_bps > 1_000
    assert detail.acceptance.total_cost_minor == (
        detail.acceptance.total_interest_minor + detail.acceptance.fee_minor
    )
    loan = services.accept_request(session, bo.id, request.id)
    assert loan.principal_minor == 70_000
    assert wallet(session, bo.id)[0] == 70_000 - 2_800


def test_partial_funding_not_accepted_in_time_is_released(session, make_user, frozen_now):
    bo = borrower(make_user, session)
    request = listing(session, bo, amount=100_000)
    lena = lender(make_user, session)
    ordering.commit_to_listing(session, lena.id, request.id, amount_minor=80_000, rate_bps=1_000)
    clock.advance(timedelta(days=14))
    lending_due.run_due_lending(session, clock.now())
    clock.advance(timedelta(hours=48))
    lending_due.run_due_lending(session, clock.now())
    session.refresh(request)
    assert request.status == RequestStatus.EXPIRED
    assert wallet(session, lena.id) == (1_000_000, 0, 1_000_000)
    with pytest.raises(InvalidState):
        services.accept_request(session, bo.id, request.id)


def test_below_seventy_percent_expires_at_the_window(session, make_user, frozen_now):
    bo = borrower(make_user, session)
    request = listing(session, bo, amount=100_000)
    lena = lender(make_user, session)
    ordering.commit_to_listing(session, lena.id, request.id, amount_minor=69_999, rate_bps=1_000)
    clock.advance(timedelta(days=14))
    lending_due.run_due_lending(session, clock.now())
    session.refresh(request)
    assert request.status == RequestStatus.EXPIRED


# --- the whole book ------------------------------------------------------------------------


def test_incremental_matching_leaves_nothing_for_a_full_rerun(session, make_user, frozen_now):
    """After listings and orders arrive one by one (each matched at once), matching the
    whole remaining book in one batch finds nothing more: incremental equals batch."""
    lenders = [lender(make_user, session, f"L{n}") for n in range(4)]
    borrowers = [borrower(make_user, session, f"B{n}") for n in range(4)]
    rates = [{"D": 700}, {"D": 1_100, "C": 900}, {"D": 1_300}, {"D": 900}]
    for n in range(4):
        clock.advance(timedelta(minutes=5))
        listing(session, borrowers[n], amount=60_000 + 10_000 * n, rate=1_000 + 100 * n)
        clock.advance(timedelta(minutes=5))
        order(session, lenders[n], 45_000, rates[n], max_per_borrower_minor=20_000)
    open_listings = session.scalars(
        select(LoanRequest).where(LoanRequest.status == RequestStatus.LISTED)
    ).all()
    active = session.scalars(
        select(LenderOrder).where(LenderOrder.status == OrderStatus.ACTIVE)
    ).all()
    from p2pbank.lending.funding import exposure

    results = matching.match_book(
        [as_listing(r) for r in sorted(open_listings, key=lambda r: (r.listed_at, r.id))],
        [as_offer(o) for o in active],
        exposure(session, [o.lender_id for o in active], [r.borrower_id for r in open_listings]),
    )
    assert open_listings and active
    assert all(not r.fills for r in results)


def test_a_loan_with_more_lenders_than_one_entry_holds_is_posted_in_balanced_entries(
    session, make_user, frozen_now, monkeypatch
):
    monkeypatch.setattr(ledger_inputs, "MAX_POSTINGS", 10)
    bo = borrower(make_user, session)
    request = listing(session, bo, amount=50_000)
    lenders = [lender(make_user, session, f"L{n}", money=20_000) for n in range(8)]
    for who in lenders[:-1]:
        ordering.commit_to_listing(session, who.id, request.id, amount_minor=6_250, rate_bps=900)
    ordering.commit_to_listing(
        session, lenders[-1].id, request.id, amount_minor=6_250, rate_bps=900
    )
    entries = session.query(JournalEntry).filter_by(kind="loan_funding").all()
    assert len(entries) > 1
    assert wallet(session, bo.id)[0] == 50_000 - 2_000
    assert account(session, ledger.PLATFORM_FEES) == 2_000

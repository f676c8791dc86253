"""The secondary market on the real database: offers, the one sale entry, the change of
owner, later instalments, lateness, refusals, idempotency and auto-invest orders."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from p2pbank import clock
from p2pbank.errors import Conflict, Forbidden, InvalidState, NotFound, ValidationFailed
from p2pbank.identity import services as identity
from p2pbank.ledger.models import Account, JournalEntry, Posting
from p2pbank.lending import due as lending
from p2pbank.lending.models import Instalment, LoanPart, LoanStatus, RepaymentShare
from p2pbank.resale import services
from p2pbank.resale.models import OfferStatus, ResaleSale
from p2pbank.resale.read import quote_offer
from tests.support.lending import at, lender, order, running_loan
from tests.support.money import account, assert_books_balance, spend, wallet


@pytest.fixture(autouse=True)
def _books_balance_after_each_test(session):
    yield
    assert_books_balance(session)


def first_due(session, loan):
    return session.scalar(
        select(Instalment.due_on).where(Instalment.loan_id == loan.id, Instalment.number == 1)
    )


def test_a_sale_is_one_exact_entry_and_later_instalments_go_to_the_buyer(
    session, make_user, frozen_now
):
    bo, (lena, lars, _lou), loan, (part, *_rest) = running_loan(session, make_user)
    at(first_due(session, loan) - timedelta(days=10))
    offer = services.offer_part(session, lena.id, part.id, premium_bps=-200)
    buyer = lender(make_user, session, "Bea")
    before_buyer, before_lena = wallet(session, buyer.id)[0], wallet(session, lena.id)[0]
    fees_before = account(session, "platform:fees")
    quote = quote_offer(session, buyer, offer.id).quote
    assert quote.outstanding_minor == 20_000 and quote.premium_minor == -400
    assert quote.accrued_minor > 0  # two thirds of the first month's interest, roughly

    sale = services.buy(
        session, buyer.id, offer.id, expected_total_minor=quote.total_minor, idempotency_key="b1"
    )
    assert sale.total_minor == quote.total_minor == 19_600 + quote.accrued_minor
    entry = session.get(JournalEntry, sale.entry_id)
    legs = dict(
        session.execute(
            select(Account.code, Posting.amount_minor)
            .join(Account, Account.id == Posting.account_id)
            .where(Posting.entry_id == entry.id)
        ).all()
    )
    assert legs == {
        f"user:{buyer.id}:wallet": -quote.total_minor,
        f"user:{lena.id}:wallet": quote.seller_gets_minor,
        "platform:fees": quote.fee_minor,
        f"lending:lent:{lena.id}": -20_000,
        f"lending:lent:{buyer.id}": 20_000,
    }
    assert wallet(session, buyer.id)[0] == before_buyer - quote.total_minor
    assert wallet(session, lena.id)[0] == before_lena + quote.seller_gets_minor
    assert account(session, "platform:fees") == fees_before + quote.fee_minor
    assert account(session, f"lending:lent:{lena.id}") == 0
    assert account(session, f"lending:lent:{buyer.id}") == 20_000
    session.refresh(part)
    assert part.lender_id == buyer.id and part.order_id is None
    session.refresh(offer)
    assert offer.status == OfferStatus.SOLD

    at(first_due(session, loan))
    lending.run_due_lending(session, clock.now())
    shares = session.scalars(select(RepaymentShare).where(RepaymentShare.part_id == part.id)).all()
    assert [s.lender_id for s in shares] == [buyer.id]
    session.refresh(part)
    assert account(session, f"lending:lent:{buyer.id}") == part.outstanding_minor < 20_000


def test_the_price_stays_within_minus_twenty_and_plus_ten_percent(session, make_user):
    _bo, (lena, *_), _loan, (part, *_) = running_loan(session, make_user)
    for bad in (-2_001, 1_001):
        with pytest.raises(ValidationFailed) as refused:
            services.offer_part(session, lena.id, part.id, premium_bps=bad)
        assert "premium" in refused.value.field_errors
    assert services.offer_part(session, lena.id, part.id, premium_bps=1_000).premium_bps == 1_000


def test_only_the_owner_offers_once_and_may_cancel(session, make_user):
    _bo, (lena, lars, _), _loan, (part, *_) = running_loan(session, make_user)
    with pytest.raises(NotFound):
        services.offer_part(session, lars.id, part.id, premium_bps=0)
    offer = services.offer_part(session, lena.id, part.id, premium_bps=0, idempotency_key="k")
    assert (
        services.offer_part(session, lena.id, part.id, premium_bps=0, idempotency_key="k") == offer
    )
    with pytest.raises(Conflict):
        services.offer_part(session, lena.id, part.id, premium_bps=-100)
    with pytest.raises(NotFound):
        services.cancel_offer(session, lars.id, offer.id)
    services.cancel_offer(session, lena.id, offer.id)
    assert services.cancel_offer(session, lena.id, offer.id).status == OfferStatus.CANCELLED
    with pytest.raises(InvalidState):
        services.buy(session, lars.id, offer.id, expected_total_minor=1, idempotency_key="x")


def test_no_self_dealing(session, make_user):
    bo, (lena, *_), _loan, (part, *_) = running_loan(session, make_user)
    offer = services.offer_part(session, lena.id, part.id, premium_bps=0)
    with pytest.raises(Forbidden):
        services.buy(session, lena.id, offer.id, expected_total_minor=1, idempotency_key="s")
    identity.grant_role(session, None, bo.id, "lender", "also lends")
    with pytest.raises(Forbidden, match="borrower"):
        services.buy(session, bo.id, offer.id, expected_total_minor=1, idempotency_key="b")
    assert session.scalar(select(func.count()).select_from(ResaleSale)) == 0


def test_buying_twice_with_one_key_is_one_sale_and_a_changed_price_is_refused(
    session, make_user, frozen_now
):
    _bo, (lena, lars, _), loan, (part, *_) = running_loan(session, make_user)
    at(first_due(session, loan) - timedelta(days=5))
    offer = services.offer_part(session, lena.id, part.id, premium_bps=0)
    shown = quote_offer(session, lars, offer.id).quote.total_minor
    with pytest.raises(Conflict):
        services.buy(
            session, lars.id, offer.id, expected_total_minor=shown - 1, idempotency_key="k"
        )
    first = services.buy(
        session, lars.id, offer.id, expected_total_minor=shown, idempotency_key="k"
    )
    again = services.buy(
        session, lars.id, offer.id, expected_total_minor=shown, idempotency_key="k"
    )
    assert first.id == again.id
    assert session.scalar(select(func.count()).select_from(ResaleSale)) == 1
    assert session.scalar(select(func.count()).where(JournalEntry.kind == "resale")) == 1
    with pytest.raises(Conflict):
        services.buy(
            session, lars.id, offer.id + 1, expected_total_minor=shown, idempotency_key="k"
        )


def test_a_late_part_sells_only_with_the_lateness_acknowledged_and_defaulted_not_at_all(
    session, make_user, frozen_now
):
    bo, (lena, lars, lou), loan, (part, part2, _) = running_loan(session, make_user)
    spend(session, bo.id, wallet(session, bo.id)[2])
    due_on = first_due(session, loan)
    for days in (0, 16, 20):
        at(due_on + timedelta(days=days))
        lending.run_due_lending(session, clock.now())
    session.refresh(loan)
    assert loan.status == LoanStatus.LATE
    offer = services.offer_part(session, lena.id, part.id, premium_bps=-2_000)
    view = quote_offer(session, lars, offer.id)
    assert view.days_past_due == 20
    with pytest.raises(ValidationFailed) as refused:
        services.buy(
            session,
            lars.id,
            offer.id,
            expected_total_minor=view.quote.total_minor,
            idempotency_key="l",
        )
    assert "accept_late" in refused.value.field_errors
    sale = services.buy(
        session,
        lars.id,
        offer.id,
        expected_total_minor=view.quote.total_minor,
        accept_late=True,
        idempotency_key="l",
    )
    assert sale.days_past_due == 20
    open_offer = services.offer_part(session, lou.id, _.id, premium_bps=0)
    at(due_on + timedelta(days=120))
    lending.run_due_lending(session, clock.now())
    session.refresh(loan)
    assert loan.status == LoanStatus.DEFAULTED
    with pytest.raises(InvalidState, match="defaulted"):
        services.offer_part(session, lars.id, part.id, premium_bps=0)
    assert services.run_due_resale(session, clock.now())["resale_offers_closed"] == 1
    session.refresh(open_offer)
    assert open_offer.status == OfferStatus.CANCELLED


def test_an_order_that_opted_in_buys_current_parts_at_par_or_below(session, make_user):
    _bo, (lena, lars, _), loan, (part, part2, _p3) = running_loan(session, make_user)
    saver = lender(make_user, session, "Sam")
    placed = order(session, saver, amount=100_000, rates={"D": 900}, max_per_borrower_minor=50_000)
    services.offer_part(session, lena.id, part.id, premium_bps=0)
    assert session.get(LoanPart, part.id).lender_id == lena.id  # not opted in yet
    services.set_auto_resale(session, saver.id, placed.id, True)
    session.refresh(part)
    assert part.lender_id == saver.id and part.order_id == placed.id
    session.refresh(placed)
    assert placed.remaining_minor < 100_000 - 20_000 + 1
    services.offer_part(session, lars.id, part2.id, premium_bps=100)  # a premium: not bought
    assert session.get(LoanPart, part2.id).lender_id == lars.id
    with pytest.raises(NotFound):
        services.set_auto_resale(session, lena.id, placed.id, True)


def test_nar_and_xirr_of_both_sides_count_the_sale(session, make_user, frozen_now):
    from p2pbank.lending.read import lender as lending_queries
    from p2pbank.resale.portfolio import holdings_of, lender_returns

    _bo, (lena, lars, _), loan, (part, *_) = running_loan(session, make_user)
    due_on = first_due(session, loan)
    at(due_on)
    lending.run_due_lending(session, clock.now())
    # Without a sale, the figures are the dashboard's own.
    dash = lending_queries.lender_dashboard(session, lena.id).returns
    assert lender_returns(session, lena.id) == (dash.net_annualized_return, dash.xirr)
    at(due_on + timedelta(days=15))
    offer = services.offer_part(session, lena.id, part.id, premium_bps=-1_000)
    total = quote_offer(session, lars, offer.id).quote.total_minor
    sale = services.buy(session, lars.id, offer.id, expected_total_minor=total, idempotency_key="n")
    seller = holdings_of(session, lena.id)
    assert len(seller) == 1 and seller[0].sold_on == clock.now().date()
    assert seller[0].proceeds_minor == sale.seller_gets_minor
    buyer = [h for h in holdings_of(session, lars.id) if h.paid_minor == sale.total_minor]
    assert len(buyer) == 1 and buyer[0].principal_minor == sale.outstanding_minor
    nar_before = dash.net_annualized_return
    nar_after, xirr_after = lender_returns(session, lena.id)
    assert nar_after < nar_before and xirr_after < 0  # sold at a 10 % discount
    at(due_on + timedelta(days=200))
    lending.run_due_lending(session, clock.now())
    bought_nar, bought_xirr = lender_returns(session, lars.id)
    assert bought_nar is not None and bought_xirr is not None


def test_the_dashboard_panel_shows_the_full_dashboards_figures(session, make_user, frozen_now):
    """The panel's summary is read with a few statements; its figures are the dashboard's."""
    from p2pbank.resale.portfolio import lender_dashboard, lender_summary

    _bo, (lena, lars, _), loan, (part, *_) = running_loan(session, make_user)
    at(first_due(session, loan) + timedelta(days=1))
    lending.run_due_lending(session, clock.now())
    offer = services.offer_part(session, lena.id, part.id, premium_bps=-500)
    total = quote_offer(session, lars, offer.id).quote.total_minor
    services.buy(session, lars.id, offer.id, expected_total_minor=total, idempotency_key="p")
    for who in (lena, lars):
        full, panel = lender_dashboard(session, who.id), lender_summary(session, who.id)
        assert panel.lent_out_minor == full.lent_out_minor
        assert panel.income_minor == full.income_minor > 0
        assert panel.returns == full.returns

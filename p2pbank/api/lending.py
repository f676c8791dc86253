"""Lending endpoints under /api/v1/lending: the marketplace, loan requests, orders,
manual commitments, loans, payments and both dashboards. Thin: each route calls one
lending service or query; money is integer cents, rates integer basis points."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from p2pbank.api.auth import current_api_user, protect
from p2pbank.db import db_session
from p2pbank.lending import services
from p2pbank.lending.read import borrower, lender, loans, market, orders
from p2pbank.lending.read import schedules as schedule_read
from p2pbank.lending.schemas import (
    BorrowerDashboardOut,
    CommitIn,
    CommitmentOut,
    EarlyIn,
    LenderDashboardOut,
    ListingDetailOut,
    ListingOut,
    LoanOut,
    MarketOut,
    MarketQuery,
    OrderDetailOut,
    OrderIn,
    OrderOut,
    PartOut,
    PayIn,
    PreviewIn,
    PreviewOut,
    QuoteOut,
    QuoteQuery,
    ReinvestIn,
    RepaymentOut,
    RequestIn,
)

blp = Blueprint(
    "lending_api",
    __name__,
    url_prefix="/api/v1/lending",
    description="P2P lending: listings, orders, loans, repayments",
)
protect(blp)


def _me():
    return current_api_user()


def _listing(request_id: int):
    return market.listing_detail(db_session(), _me(), request_id).listing


def _order(order_id: int):
    return orders.order_detail(db_session(), _me(), order_id).order


# --- the marketplace -----------------------------------------------------------------------


@blp.route("/listings")
class Listings(MethodView):
    @blp.arguments(MarketQuery, location="query")
    @blp.response(200, MarketOut)
    def get(self, args):
        """Listings open for funding, newest first; filter by grade, term, purpose, the
        least rate you want (listings whose maximum rate reaches it) and money still open."""
        return market.marketplace(db_session(), _me().id, **args)


@blp.route("/listings/<int:request_id>")
class Listing(MethodView):
    @blp.response(200, ListingDetailOut)
    def get(self, request_id: int):
        """A listing with every match's explanation (fills taken, offers skipped and why)."""
        return market.listing_detail(db_session(), _me(), request_id)


@blp.route("/listings/<int:request_id>/commitments")
class Commitments(MethodView):
    @blp.arguments(CommitIn)
    @blp.response(201, CommitmentOut)
    def post(self, data, request_id: int):
        """Commit money to this listing by hand at a rate up to its maximum; it is held."""
        return services.commit_to_listing(db_session(), _me().id, request_id, **data)


# --- borrowers -----------------------------------------------------------------------------


@blp.route("/schedule-preview")
class Preview(MethodView):
    @blp.arguments(PreviewIn)
    @blp.response(200, PreviewOut)
    def post(self, data):
        """The full schedule, total cost and APR if funded at your highest rate (worst
        case), with your grade's origination fee. Nothing is written."""
        return schedule_read.preview_schedule(db_session(), _me().id, **data)


@blp.route("/requests")
class Requests(MethodView):
    @blp.response(200, ListingOut(many=True))
    def get(self):
        """Your loan requests, newest first."""
        return market.my_requests(db_session(), _me().id)

    @blp.arguments(RequestIn)
    @blp.response(201, ListingOut)
    def post(self, data):
        """Ask for a loan: it is graded, listed for 14 days and matched at once."""
        request = services.request_loan(db_session(), _me().id, **data)
        return _listing(request.id)


@blp.route("/requests/<int:request_id>/cancel")
class CancelRequest(MethodView):
    @blp.response(200, ListingOut)
    def post(self, request_id: int):
        """Withdraw your listing (or decline partial funding); lenders' money is released."""
        services.cancel_request(db_session(), _me().id, request_id)
        return _listing(request_id)


@blp.route("/requests/<int:request_id>/accept")
class AcceptRequest(MethodView):
    @blp.response(201, LoanOut)
    def post(self, request_id: int):
        """Accept a partly funded request (70 % or more) within 48 hours: the loan is issued."""
        loan = services.accept_request(db_session(), _me().id, request_id)
        return loans.loan_detail(db_session(), _me(), loan.id)


# --- lenders -------------------------------------------------------------------------------


@blp.route("/orders")
class Orders(MethodView):
    @blp.response(200, OrderOut(many=True))
    def get(self):
        """Your orders, newest first."""
        return orders.my_orders(db_session(), _me().id)

    @blp.arguments(OrderIn)
    @blp.response(201, OrderOut)
    def post(self, data):
        """Place an auto-invest order; its money is held and it matches at once."""
        order = services.place_order(db_session(), _me().id, **data)
        return _order(order.id)


@blp.route("/orders/<int:order_id>")
class Order(MethodView):
    @blp.response(200, OrderDetailOut)
    def get(self, order_id: int):
        """An order, its commitments, and why it does not fund each open listing now."""
        return orders.order_detail(db_session(), _me(), order_id)


@blp.route("/orders/<int:order_id>/cancel")
class CancelOrder(MethodView):
    @blp.response(200, OrderOut)
    def post(self, order_id: int):
        """Release the order's uncommitted money."""
        services.cancel_order(db_session(), _me().id, order_id)
        return _order(order_id)


@blp.route("/orders/<int:order_id>/reinvest")
class Reinvest(MethodView):
    @blp.arguments(ReinvestIn)
    @blp.response(200, OrderOut)
    def post(self, data, order_id: int):
        """Switch reinvestment of repayments into this order on or off."""
        services.set_reinvest(db_session(), _me().id, order_id, data["reinvest"])
        return _order(order_id)


@blp.route("/parts")
class Parts(MethodView):
    @blp.response(200, PartOut(many=True))
    def get(self):
        """Your loan parts with their status, arrears bucket and next payment."""
        return lender.lender_parts(db_session(), _me().id)


@blp.route("/dashboard/lender")
class LenderDashboard(MethodView):
    @blp.response(200, LenderDashboardOut)
    def get(self):
        """Cash available, held and lent out; income; expected payments; NAR and XIRR."""
        return lender.lender_dashboard(db_session(), _me().id)


@blp.route("/dashboard/borrower")
class BorrowerDashboard(MethodView):
    @blp.response(200, BorrowerDashboardOut)
    def get(self):
        """Your limit with its reason, your grade with its reasons, requests and loans."""
        return borrower.borrower_dashboard(db_session(), _me().id)


# --- loans ---------------------------------------------------------------------------------


@blp.route("/loans")
class Loans(MethodView):
    @blp.response(200, LoanOut(many=True))
    def get(self):
        """Your loans as a borrower, each with its schedule."""
        return loans.my_loans(db_session(), _me().id)


@blp.route("/loans/<int:loan_id>")
class Loan(MethodView):
    @blp.response(200, LoanOut)
    def get(self, loan_id: int):
        """A loan with its schedule (paid, due, late rows) and arrears."""
        return loans.loan_detail(db_session(), _me(), loan_id)


@blp.route("/loans/<int:loan_id>/repayments")
class Repayments(MethodView):
    @blp.response(200, RepaymentOut(many=True))
    def get(self, loan_id: int):
        """Every payment on the loan and how it was allocated."""
        return loans.repayments_of(db_session(), _me(), loan_id)


@blp.route("/loans/<int:loan_id>/pay")
class Pay(MethodView):
    @blp.arguments(PayIn)
    @blp.response(201, RepaymentOut)
    def post(self, data, loan_id: int):
        """Pay from your wallet: what is due (late fees, interest, principal, oldest
        first), or the next instalment when nothing is due; after a default, the debt."""
        return services.pay_now(db_session(), _me().id, loan_id, **data)


@blp.route("/loans/<int:loan_id>/early-repayment")
class Early(MethodView):
    @blp.arguments(QuoteQuery, location="query")
    @blp.response(200, QuoteOut)
    def get(self, args, loan_id: int):
        """What repaying early costs today (principal_minor, or everything) and the
        schedule after it. Nothing is written."""
        return loans.early_quote(db_session(), _me().id, loan_id, args["principal_minor"])

    @blp.arguments(EarlyIn)
    @blp.response(201, RepaymentOut)
    def post(self, data, loan_id: int):
        """Repay principal early without penalty; the term gets shorter."""
        return services.repay_early(db_session(), _me().id, loan_id, **data)

"""Lending pages: the marketplace, listings, borrowing (requests, schedule preview, loans,
pay now, early repayment) and lending (orders, manual commitments, the dashboard with
returns). Thin: every page calls p2pbank.lending services or queries.

Forms come back with their field errors; action buttons refused by a business rule come
back as a flash message on the page they were pressed on; another person's objects are
a 404, as the services decide."""

from __future__ import annotations

from decimal import Decimal

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import format_decimal, format_percent
from flask_babel import gettext as _
from flask_login import current_user, login_required
from marshmallow import ValidationError

from p2pbank import charts
from p2pbank.db import db_session
from p2pbank.errors import DomainError
from p2pbank.lending import ordering, services
from p2pbank.lending.read import borrower, loans, market
from p2pbank.lending.read import schedules as schedule_read
from p2pbank.lending.rules import GRADES, POLICY
from p2pbank.lending.schemas import (
    CommitForm,
    EarlyForm,
    MarketFilterForm,
    PayForm,
    RequestForm,
)
from p2pbank.resale import portfolio
from p2pbank.web.filters import money
from p2pbank.web.forms import form_errors, form_key, load_form, new_form_key, refused
from p2pbank.web.nav import dashboard_panel, everyone, has_role, nav_item

bp = Blueprint("lending", __name__, url_prefix="/lending")

nav_item("Marketplace", "lending.marketplace", visible=everyone, order=30, group="lend")
nav_item(
    "My lending", "lending.lender_dashboard", visible=has_role("lender"), order=31, group="lend"
)
nav_item(
    "My borrowing",
    "lending.borrower_dashboard",
    visible=has_role("borrower"),
    order=32,
    group="borrow",
)
dashboard_panel("lending/_lender_panel.html", visible=has_role("lender"), order=30)
dashboard_panel("lending/_borrower_panel.html", visible=has_role("borrower"), order=31)

PURPOSES = {
    "car": "Car",
    "home": "Home",
    "education": "Education",
    "business": "Business",
    "debt_consolidation": "Debt consolidation",
    "medical": "Medical",
    "other": "Other",
}


# Service field names -> the form's field names.
FORM_NAMES = {
    "amount_minor": "amount",
    "max_rate_bps": "max_rate",
    "rate_bps": "rate",
    "slice_minor": "slice",
    "max_per_borrower_minor": "max_per_borrower",
    "min_rate_bps": "rate_d",
    "principal_minor": "principal",
}


@bp.app_template_filter("rate")
def rate_filter(bps: int | None) -> str:
    """Basis points as a percentage: 725 -> '7.25%'."""
    if bps is None:
        return ""
    return format_decimal(Decimal(bps).scaleb(-2), "#,##0.00") + "%"


@bp.app_template_filter("ratio")
def ratio_filter(value: float | None) -> str:
    """A return as a percentage (0.0531 -> '5.31%'); a dash when there is none yet."""
    if value is None:
        return "–"
    return format_percent(value, "#,##0.00%")


@bp.app_context_processor
def _lending_context():
    def lending_lender_summary(user):
        return portfolio.lender_summary(db_session(), user.id)

    def lending_borrower_summary(user):
        return borrower.borrower_dashboard(db_session(), user.id)

    return {
        "lending_lender_summary": lending_lender_summary,
        "lending_borrower_summary": lending_borrower_summary,
        "lending_purposes": PURPOSES,
    }


# --- the marketplace -----------------------------------------------------------------------


@bp.get("/")
@login_required
def marketplace():
    schema = MarketFilterForm()
    raw = {k: v for k, v in request.args.to_dict(flat=False).items() if any(x.strip() for x in v)}
    data = {k: (v if k == "grade" else v[0]) for k, v in raw.items()}
    errors = schema.validate(data)
    args = schema.load({} if errors else data)
    page = market.marketplace(db_session(), current_user.id, **args)
    return render_template(
        "lending/marketplace.html",
        page=page,
        args=args,
        errors=errors,
        grades=GRADES,
        terms=POLICY.terms_months,
    ), (422 if errors else 200)


@bp.get("/listings/<int:request_id>")
@login_required
def listing(request_id: int):
    detail = market.listing_detail(db_session(), current_user, request_id)
    return render_template(
        "lending/listing.html", detail=detail, errors={}, form={}, key=new_form_key()
    )


@bp.post("/listings/<int:request_id>/commit")
@login_required
def commit(request_id: int):
    session = db_session()
    data, errors = load_form(CommitForm())
    if data is not None:
        try:
            ordering.commit_to_listing(session, current_user.id, request_id, **data)
        except DomainError as exc:
            errors = form_errors(exc, renamed=FORM_NAMES)
        else:
            flash(_("Your money is committed to this listing."), "success")
            return redirect(url_for(".listing", request_id=request_id))
    detail = market.listing_detail(session, current_user, request_id)
    return render_template(
        "lending/listing.html",
        detail=detail,
        errors=errors,
        form=request.form,
        key=form_key(),
    ), 422


# --- borrowing -----------------------------------------------------------------------------


@bp.get("/borrow")
@login_required
def borrower_dashboard():
    dash = borrower.borrower_dashboard(db_session(), current_user.id)
    schedules = {
        loan.id: charts.bars(
            [
                (row.due_on.isoformat(), row.payment_minor + row.late_fee_minor, row.state)
                for row in loan.rows
            ],
            600,
            120,
        )
        for loan in dash.loans
    }
    return render_template("lending/borrower.html", dash=dash, schedules=schedules)


@bp.route("/requests/new", methods=["GET", "POST"])
@login_required
def request_new():
    session = db_session()
    errors: dict = {}
    preview = None
    if request.method == "POST":
        data, errors = load_form(RequestForm())
        if data is not None:
            try:
                if request.form.get("action") == "confirm":
                    made = services.request_loan(session, current_user.id, **data)
                    flash(_("Your request is listed on the marketplace."), "success")
                    return redirect(url_for(".listing", request_id=made.id))
                preview = schedule_read.preview_schedule(
                    session,
                    current_user.id,
                    amount_minor=data["amount_minor"],
                    term_months=data["term_months"],
                    max_rate_bps=data["max_rate_bps"],
                    method=data["method"],
                )
            except DomainError as exc:
                errors = form_errors(exc, renamed=FORM_NAMES)
    dash = borrower.borrower_dashboard(session, current_user.id)
    return render_template(
        "lending/request_new.html",
        errors=errors,
        form=request.form,
        preview=preview,
        dash=dash,
        key=form_key(),
        terms=POLICY.terms_months,
    ), (422 if errors else 200)


@bp.post("/requests/<int:request_id>/cancel")
@login_required
def request_cancel(request_id: int):
    try:
        services.cancel_request(db_session(), current_user.id, request_id)
    except DomainError as exc:
        return refused(exc, ".listing", request_id=request_id)
    flash(_("Your request is withdrawn; the lenders' money is released."), "success")
    return redirect(url_for(".listing", request_id=request_id))


@bp.post("/requests/<int:request_id>/accept")
@login_required
def request_accept(request_id: int):
    try:
        loan = services.accept_request(db_session(), current_user.id, request_id)
    except DomainError as exc:
        return refused(exc, ".listing", request_id=request_id)
    flash(_("Your loan is issued. The money is in your wallet."), "success")
    return redirect(url_for(".loan", loan_id=loan.id))


@bp.get("/loans/<int:loan_id>")
@login_required
def loan(loan_id: int):
    view = loans.loan_detail(db_session(), current_user, loan_id)
    return render_template("lending/loan.html", loan=view, errors={}, form={}, key=new_form_key())


@bp.post("/loans/<int:loan_id>/pay")
@login_required
def pay(loan_id: int):
    session = db_session()
    data, errors = load_form(PayForm())
    if data is not None:
        try:
            paid = services.pay_now(session, current_user.id, loan_id, **data)
        except DomainError as exc:
            errors = form_errors(exc, renamed=FORM_NAMES)
        else:
            flash(
                _("Paid %(amount)s. Thank you.", amount=money(paid.amount_minor, "EUR")),
                "success",
            )
            return redirect(url_for(".loan", loan_id=loan_id))
    view = loans.loan_detail(session, current_user, loan_id)
    return render_template(
        "lending/loan.html", loan=view, errors=errors, form=request.form, key=new_form_key()
    ), 422


@bp.route("/loans/<int:loan_id>/early", methods=["GET", "POST"])
@login_required
def early(loan_id: int):
    session = db_session()
    errors: dict = {}
    source = request.form if request.method == "POST" else request.args
    schema = EarlyForm()
    try:
        data = schema.load(
            {k: v for k, v in source.items() if k in ("principal", "idempotency_key")}
        )
    except ValidationError as exc:
        data, errors = None, exc.messages
    if data is not None and request.method == "POST":
        try:
            services.repay_early(session, current_user.id, loan_id, **data)
        except DomainError as exc:
            errors = form_errors(exc, renamed=FORM_NAMES)
        else:
            flash(_("Early repayment received. Your schedule is updated."), "success")
            return redirect(url_for(".loan", loan_id=loan_id))
    view = loans.loan_detail(session, current_user, loan_id)
    quote = None
    if data is not None and not errors:
        try:
            quote = loans.early_quote(
                session, current_user.id, loan_id, data.get("principal_minor")
            )
        except DomainError as exc:
            errors = form_errors(exc, renamed=FORM_NAMES)
    return render_template(
        "lending/early.html",
        loan=view,
        quote=quote,
        errors=errors,
        form=source,
        key=form_key(source),
    ), (422 if errors else 200)

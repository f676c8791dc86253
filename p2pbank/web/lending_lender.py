"""Lending pages for lenders: the dashboard with returns and charts, and standing orders
(place, see, cancel, reinvest). The routes join the lending blueprint (same URLs and
endpoint names); thin, as the rest.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from p2pbank import charts
from p2pbank.db import db_session
from p2pbank.errors import DomainError
from p2pbank.lending import ordering
from p2pbank.lending.read import lender, orders
from p2pbank.lending.rules import GRADES, POLICY
from p2pbank.lending.schemas import (
    OrderForm,
)
from p2pbank.resale import portfolio
from p2pbank.web.forms import form_errors, form_key, load_form, refused
from p2pbank.web.lending import FORM_NAMES, bp


@bp.get("/lend")
@login_required
def lender_dashboard():
    session = db_session()
    dash = portfolio.lender_dashboard(session, current_user.id)
    income = lender.income_by_month(session, current_user.id)[-12:]
    return render_template(
        "lending/lender.html",
        dash=dash,
        by_grade=charts.bars(_lent_by(dash.parts, "grade"), 600, 120),
        by_state=charts.bars(_lent_by(dash.parts, "loan_status"), 600, 120),
        income=charts.bars([(month, minor, "") for month, minor in income], 600, 120),
    )


def _lent_by(parts, attribute: str) -> list[tuple[str, int, str]]:
    """Principal lent through the loan parts, per grade or per loan state, for a chart."""
    totals: dict[str, int] = {}
    for part in parts:
        key = getattr(part, attribute)
        totals[key] = totals.get(key, 0) + part.principal_minor
    return [(key, total, key) for key, total in sorted(totals.items())]


@bp.route("/orders/new", methods=["GET", "POST"])
@login_required
def order_new():
    errors: dict = {}
    if request.method == "POST":
        data, errors = load_form(OrderForm())
        if data is not None:
            try:
                made = ordering.place_order(db_session(), current_user.id, **data)
            except DomainError as exc:
                errors = form_errors(exc, renamed=FORM_NAMES)
            else:
                flash(_("Your order is placed and its money held."), "success")
                return redirect(url_for(".order", order_id=made.id))
    return render_template(
        "lending/order_new.html",
        errors=errors,
        form=request.form,
        key=form_key(),
        grades=GRADES,
        terms=POLICY.terms_months,
    ), (422 if errors else 200)


@bp.get("/orders/<int:order_id>")
@login_required
def order(order_id: int):
    detail = orders.order_detail(db_session(), current_user, order_id)
    return render_template("lending/order.html", detail=detail)


@bp.post("/orders/<int:order_id>/cancel")
@login_required
def order_cancel(order_id: int):
    try:
        ordering.cancel_order(db_session(), current_user.id, order_id)
    except DomainError as exc:
        return refused(exc, ".order", order_id=order_id)
    flash(_("Your order is cancelled; its uncommitted money is released."), "success")
    return redirect(url_for(".order", order_id=order_id))


@bp.post("/orders/<int:order_id>/reinvest")
@login_required
def order_reinvest(order_id: int):
    switch_on = request.form.get("reinvest") == "on"
    try:
        ordering.set_reinvest(db_session(), current_user.id, order_id, switch_on)
    except DomainError as exc:
        return refused(exc, ".order", order_id=order_id)
    if switch_on:
        flash(_("Repayments will be reinvested through this order."), "success")
    else:
        flash(_("Repayments will stay in your wallet."), "success")
    return redirect(url_for(".order", order_id=order_id))

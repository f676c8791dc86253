"""Secondary-market pages: the list of parts for sale, the offer form of a part, the buy
confirmation (every line the buyer pays and the fee, shown before buying), cancelling,
your trades, and the auto-invest order's switch. Thin: each calls p2pbank.resale."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from p2pbank.db import db_session
from p2pbank.errors import DomainError
from p2pbank.lending.rules import GRADES
from p2pbank.resale import read, services
from p2pbank.resale.schemas import OfferFilterForm, OfferForm, PageQuery
from p2pbank.web.forms import form_errors, form_key, load_form, new_form_key, refused
from p2pbank.web.nav import has_role, nav_item

bp = Blueprint("resale", __name__, url_prefix="/resale")

nav_item("Secondary market", "resale.market", visible=has_role("lender"), order=33, group="lend")


@bp.app_context_processor
def _resale_context():
    def resale_order_buys(order_id: int) -> bool:
        from p2pbank.resale.models import ResaleOrderOption

        option = db_session().get(ResaleOrderOption, order_id)
        return bool(option and option.buys_resale)

    return {"resale_order_buys": resale_order_buys}


# Service field names -> the form's field names.
_FORM_NAMES = {"premium_bps": "premium"}


@bp.get("/")
@login_required
def market():
    schema = OfferFilterForm()
    raw = {k: v for k, v in request.args.to_dict(flat=False).items() if any(x.strip() for x in v)}
    data = {k: (v if k == "grade" else v[0]) for k, v in raw.items()}
    errors = schema.validate(data)
    args = schema.load({} if errors else data)
    page = read.market(db_session(), current_user.id, **args)
    return render_template(
        "resale/market.html", page=page, args=args, errors=errors, grades=GRADES
    ), (422 if errors else 200)


@bp.route("/parts/<int:part_id>/sell", methods=["GET", "POST"])
@login_required
def sell(part_id: int):
    form = read.sale_form(db_session(), current_user.id, part_id)
    errors: dict = {}
    if request.method == "POST":
        data, errors = load_form(OfferForm())
        if data is not None:
            try:
                offer = services.offer_part(db_session(), current_user.id, part_id, **data)
            except DomainError as exc:
                errors = form_errors(exc, renamed=_FORM_NAMES)
            else:
                if offer.status == "sold":
                    flash(_("An auto-invest order bought your part at once."), "success")
                else:
                    flash(_("Your part is on the secondary market."), "success")
                return redirect(url_for(".offer", offer_id=offer.id))
    return render_template(
        "resale/sell.html",
        form=form,
        errors=errors,
        values=request.form,
        key=form_key(),
    ), (422 if errors else 200)


@bp.get("/offers/<int:offer_id>")
@login_required
def offer(offer_id: int):
    view = read.quote_offer(db_session(), current_user, offer_id)
    return render_template("resale/offer.html", o=view, key=new_form_key(), errors={})


@bp.post("/offers/<int:offer_id>/buy")
@login_required
def buy(offer_id: int):
    try:
        expected = int(request.form.get("expected_total_minor", ""))
    except ValueError:
        expected = -1
    try:
        services.buy(
            db_session(),
            current_user.id,
            offer_id,
            expected_total_minor=expected,
            accept_late=request.form.get("accept_late") == "on",
            idempotency_key=request.form.get("idempotency_key") or "",
        )
    except DomainError as exc:
        errors = form_errors(exc, renamed=_FORM_NAMES)
        view = read.quote_offer(db_session(), current_user, offer_id)
        return render_template(
            "resale/offer.html", o=view, key=new_form_key(), errors=errors
        ), exc.status
    flash(_("The loan part is yours; its next payments come to you."), "success")
    return redirect(url_for(".trades"))


@bp.post("/offers/<int:offer_id>/cancel")
@login_required
def cancel(offer_id: int):
    try:
        services.cancel_offer(db_session(), current_user.id, offer_id)
    except DomainError as exc:
        return refused(exc, ".offer", offer_id=offer_id)
    flash(_("Your offer is withdrawn."), "success")
    return redirect(url_for(".trades"))


@bp.get("/mine")
@login_required
def trades():
    schema = PageQuery()
    raw = {k: v for k, v in request.args.items() if k == "page"}
    args = schema.load({} if schema.validate(raw) else raw)
    page = read.my_trades(db_session(), current_user.id, **args)
    return render_template("resale/trades.html", page=page)


@bp.post("/orders/<int:order_id>/auto")
@login_required
def order_auto(order_id: int):
    switch_on = request.form.get("enabled") == "on"
    try:
        services.set_auto_resale(db_session(), current_user.id, order_id, switch_on)
    except DomainError as exc:
        return refused(exc, "lending.order", order_id=order_id)
    if switch_on:
        flash(_("This order may now buy current parts at par or below."), "success")
    else:
        flash(_("This order buys on the secondary market no more."), "success")
    return redirect(url_for("lending.order", order_id=order_id))

"""Crowdfunding pages: explore, campaign, create/edit wizard, pledge, my pledges, the
initiator's dashboard, the key investment information sheet and the investor profile.
Thin: every page calls p2pbank.crowdfunding services and queries."""

from __future__ import annotations

from pathlib import Path

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from marshmallow import EXCLUDE, ValidationError

from p2pbank.crowdfunding import (
    cards,
    collection,
    delivery,
    discussion,
    pledging,
    refunds,
    rules,
)
from p2pbank.crowdfunding.content import cover_path
from p2pbank.crowdfunding.read import backer, campaign_page, catalogue, crowdlending
from p2pbank.crowdfunding.schemas import (
    CampaignCommentForm,
    CampaignExploreQuery,
    CampaignPledgeChangeForm,
    CampaignPledgeForm,
    CardNumberIn,
    DeliveryProblemIn,
)
from p2pbank.db import db_session
from p2pbank.errors import DomainError, NotFound, ValidationFailed
from p2pbank.payments.gateway import CardDeclined, GatewayError
from p2pbank.web.forms import ERROR_PAGES, form_errors_with_summary, form_key, load_form, refused
from p2pbank.web.nav import dashboard_panel, everyone, has_role, nav_item
from p2pbank.web.payments import STRIPE_CSP, gateway, payment_settings

bp = Blueprint("crowdfunding", __name__)

nav_item("Explore campaigns", "crowdfunding.explore", visible=everyone, order=30, group="campaigns")
nav_item("My pledges", "crowdfunding.my_pledges", visible=everyone, order=31, group="campaigns")
nav_item(
    "My campaigns",
    "crowdfunding.my_campaigns",
    visible=has_role("initiator"),
    order=32,
    group="campaigns",
)
dashboard_panel("crowdfunding/_panel.html", visible=everyone, order=30)

AMOUNT_FIELDS = {
    "goal_minor": "goal",
    "amount_minor": "amount",
    "min_pledge_minor": "min_pledge",
    "loan_rate_bps": "loan_rate",
}


def viewer_id() -> int | None:
    return current_user.id if current_user.is_authenticated else None


def args_of(schema) -> dict:
    try:
        return schema.load(request.args.to_dict(), unknown=EXCLUDE)
    except ValidationError as exc:
        raise ValidationFailed(
            _("The page address is not valid."), field_errors=exc.messages
        ) from exc


def done(message: str, endpoint: str, **values):
    flash(message, "success")
    return redirect(url_for(endpoint, **values))


def covers_folder() -> Path:
    return Path(current_app.instance_path) / "covers"


@bp.app_context_processor
def _crowdfunding_context():
    def crowdfunding_summary(user):
        session = db_session()
        mine = backer.my_pledges(session, user.id)
        open_ = [p for p in mine if p.pledge.status in ("pending", "awaiting_card", "errored")]
        return {
            "open": len(open_),
            "errored": sum(1 for p in mine if p.pledge.status == "errored"),
            "campaigns": catalogue.my_campaigns(session, user.id)
            if user.has_role("initiator")
            else [],
        }

    return {
        "crowdfunding_summary": crowdfunding_summary,
        "crowdfunding_categories": rules.CATEGORIES,
    }


# --- explore and one campaign -----------------------------------------------------------------


@bp.get("/campaigns")
def explore():
    args = args_of(CampaignExploreQuery())
    page = catalogue.explore(db_session(), **args)
    return render_template("crowdfunding/explore.html", page=page, args=args)


@bp.get("/campaigns/<int:campaign_id>")
def show(campaign_id: int):
    view = campaign_page.campaign_page(db_session(), campaign_id, viewer_id())
    return render_template(
        "crowdfunding/campaign.html", view=view, errors={}, form={}, comment_errors={}
    )


@bp.get("/campaigns/<int:campaign_id>/cover")
def cover(campaign_id: int):
    name = campaign_page.cover_filename(db_session(), campaign_id, viewer_id())
    path = cover_path(covers_folder(), name)
    if not path.is_file():
        raise NotFound("This campaign has no cover image.")
    mimetype = "image/png" if name.endswith(".png") else "image/jpeg"
    response = send_file(path, mimetype=mimetype, max_age=3600)
    response.headers["Content-Disposition"] = "inline"
    return response


def decimal_text(minor: int) -> str:
    whole, cents = divmod(minor, 100)
    return f"{whole}.{cents:02d}"


@bp.post("/campaigns/<int:campaign_id>/comments")
@login_required
def post_comment(campaign_id: int):
    data, errors = load_form(CampaignCommentForm())
    if data is None:
        flash(_("Write a comment first (up to 2,000 characters)."), "error")
        return redirect(url_for("crowdfunding.show", campaign_id=campaign_id))
    try:
        discussion.post_comment(db_session(), current_user.id, campaign_id, **data)
    except ValidationFailed as exc:
        return refused(exc, "crowdfunding.show", campaign_id=campaign_id)
    return redirect(url_for("crowdfunding.show", campaign_id=campaign_id) + "#comments")


# --- pledging ---------------------------------------------------------------------------------


def _pledge_page(view, errors: dict, form, status: int = 200):
    session = db_session()
    amount = 0
    if form.get("amount"):
        try:
            from p2pbank.money_text import parse_amount

            amount = parse_amount(form.get("amount"))
        except ValueError:
            amount = 0
    investor = (
        crowdlending.investor_view(session, current_user.id, amount)
        if view.campaign.is_loan
        else None
    )
    return render_template(
        "crowdfunding/pledge.html",
        view=view,
        errors=errors,
        form=form,
        investor=investor,
        key=form_key(form),
        cards_available=cards.card_pledges_available(gateway()),
    ), status


@bp.route("/campaigns/<int:campaign_id>/pledge", methods=["GET", "POST"])
@login_required
def pledge(campaign_id: int):
    session = db_session()
    view = campaign_page.campaign_page(session, campaign_id, current_user.id)
    if request.method == "GET":
        form = {"tier_id": request.args.get("tier", "")}
        return _pledge_page(view, {}, form)
    data, errors = load_form(CampaignPledgeForm())
    if data is not None:
        try:
            made = pledging.pledge(session, current_user.id, campaign_id, **data)
        except DomainError as exc:
            errors = form_errors_with_summary(exc, renamed=AMOUNT_FIELDS)
        else:
            if made.status == "awaiting_card":
                return redirect(url_for("crowdfunding.card", pledge_id=made.id))
            return done(
                _("Thank you! Your pledge is held in your wallet until the deadline."),
                "crowdfunding.show",
                campaign_id=campaign_id,
            )
    return _pledge_page(view, errors, request.form, 422)


@bp.get("/pledges")
@login_required
def my_pledges():
    return render_template(
        "crowdfunding/my_pledges.html", pledges=backer.my_pledges(db_session(), current_user.id)
    )


@bp.route("/pledges/<int:pledge_id>/change", methods=["GET", "POST"])
@login_required
def change_pledge(pledge_id: int):
    session = db_session()
    mine = backer.my_pledge(session, current_user.id, pledge_id)
    view = campaign_page.campaign_page(session, mine.campaign_id, current_user.id)
    errors: dict = {}
    form = {
        "amount": decimal_text(mine.pledge.amount_minor),
        "tier_id": mine.pledge.tier_id or "",
    }
    if request.method == "POST":
        form = request.form
        data, errors = load_form(CampaignPledgeChangeForm())
        if data is not None:
            try:
                pledging.change_pledge(session, current_user.id, pledge_id, **data)
            except DomainError as exc:
                errors = form_errors_with_summary(exc, renamed=AMOUNT_FIELDS)
            else:
                return done(_("Your pledge was changed."), "crowdfunding.my_pledges")
    return render_template(
        "crowdfunding/pledge_change.html", mine=mine, view=view, errors=errors, form=form
    ), (422 if errors else 200)


@bp.post("/pledges/<int:pledge_id>/cancel")
@login_required
def cancel_pledge(pledge_id: int):
    pledging.cancel_pledge(db_session(), current_user.id, pledge_id)
    return done(_("Your pledge was cancelled; nothing was charged."), "crowdfunding.my_pledges")


@bp.post("/pledges/<int:pledge_id>/revoke")
@login_required
def revoke_pledge(pledge_id: int):
    pledging.revoke_pledge(db_session(), current_user.id, pledge_id)
    return done(
        _("Your loan pledge was revoked without cost; the money is free in your wallet."),
        "crowdfunding.my_pledges",
    )


@bp.route("/pledges/<int:pledge_id>/card", methods=["GET", "POST"])
@login_required
def card(pledge_id: int):
    """Save the card for a card pledge (or a new card for a declined one)."""
    session = db_session()
    gw = gateway()
    if not cards.card_pledges_available(gw):
        raise NotFound("Card pledges are not available on this server.")
    mine = backer.my_pledge(session, current_user.id, pledge_id)
    errors: dict = {}
    status = 200
    if request.method == "GET":
        cards.start_card_setup(session, current_user.id, pledge_id, gateway=gw)
    else:
        data, errors = load_form(CardNumberIn())
        if data is not None:
            was_errored = mine.pledge.status == "errored"
            try:
                cards.complete_test_card_setup(
                    session, current_user.id, pledge_id, gateway=gw, **data
                )
                if was_errored:
                    collection.collect_card_pledge(session, pledge_id, gateway=gw)
            except (CardDeclined, GatewayError) as exc:
                errors = {"card_number": [exc.detail]}
            except DomainError as exc:
                if exc.status in ERROR_PAGES:
                    raise
                errors = {"_": [exc.detail]}
            else:
                return _card_done(pledge_id)
        status = 422
    mine = backer.my_pledge(session, current_user.id, pledge_id)
    sandbox = cards.sandbox_cards(gw)
    response = render_template(
        "crowdfunding/card.html",
        mine=mine,
        errors=errors,
        test_mode=sandbox,
        publishable_key=payment_settings().stripe_publishable_key,
    )
    if not sandbox:
        return response, status, {"Content-Security-Policy": STRIPE_CSP}
    return response, status


def _card_done(pledge_id: int):
    mine = backer.my_pledge(db_session(), current_user.id, pledge_id)
    if mine.pledge.status == "collected":
        return done(_("Your new card was charged. Thank you!"), "crowdfunding.my_pledges")
    if mine.pledge.status == "errored":
        flash(_("This card was declined too: %(reason)s", reason=mine.pledge.error_message))
        return redirect(url_for("crowdfunding.card", pledge_id=pledge_id))
    return done(
        _("Your card is saved. It is charged only if the campaign succeeds."),
        "crowdfunding.show",
        campaign_id=mine.campaign_id,
    )


@bp.get("/pledges/<int:pledge_id>/card/return")
@login_required
def card_return(pledge_id: int):
    """Where Stripe sends the backer back after Stripe.js confirmed the card."""
    session = db_session()
    gw = gateway()
    mine = backer.my_pledge(session, current_user.id, pledge_id)
    was_errored = mine.pledge.status == "errored"
    try:
        cards.confirm_card_setup(session, current_user.id, pledge_id, gateway=gw)
        if was_errored:
            collection.collect_card_pledge(session, pledge_id, gateway=gw)
    except DomainError as exc:
        return refused(exc, "crowdfunding.card", pledge_id=pledge_id)
    return _card_done(pledge_id)


@bp.post("/pledges/<int:pledge_id>/received")
@login_required
def confirm_receipt(pledge_id: int):
    delivery.confirm_receipt(db_session(), current_user.id, pledge_id)
    return done(_("Thank you for confirming."), "crowdfunding.my_pledges")


@bp.post("/pledges/<int:pledge_id>/problem")
@login_required
def report_problem(pledge_id: int):
    data, _errs = load_form(DeliveryProblemIn())
    if data is None:
        raise ValidationFailed(_("Describe the problem (3-1000 characters)."))
    delivery.report_problem(db_session(), current_user.id, pledge_id, **data)
    return done(_("The initiator was told about the problem."), "crowdfunding.my_pledges")


@bp.post("/pledges/<int:pledge_id>/refund")
@login_required
def refund(pledge_id: int):
    row = refunds.refund_pledge(db_session(), current_user.id, pledge_id, gateway=gateway())
    return done(
        _("The pledge was refunded."), "crowdfunding.dashboard", campaign_id=row.campaign_id
    )

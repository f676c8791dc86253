"""Crowdfunding pages: explore, campaign, create/edit wizard, pledge, my pledges, the
initiator's dashboard, the key investment information sheet and the investor profile.
Thin: every page calls p2pbank.crowdfunding services and queries."""

from __future__ import annotations

import uuid
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
    delivery,
    investors,
    pledging,
    queries,
    rules,
    services,
    settlement,
)
from p2pbank.crowdfunding.content import COVER_MAX_BYTES, cover_path
from p2pbank.crowdfunding.schemas import (
    CampaignCancelIn,
    CampaignCommentForm,
    CampaignExploreQuery,
    CampaignForm,
    CampaignPledgeChangeForm,
    CampaignPledgeForm,
    CampaignUpdateIn,
    CardNumberIn,
    DeliveryProblemIn,
    LossSimulationForm,
    RewardTierForm,
    StretchGoalForm,
)
from p2pbank.db import db_session
from p2pbank.errors import DomainError, NotFound, ValidationFailed
from p2pbank.identity.rules import same_site_path
from p2pbank.payments.gateway import CardDeclined, GatewayError
from p2pbank.web.forms import load_form
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


def _viewer_id() -> int | None:
    return current_user.id if current_user.is_authenticated else None


def _errors(exc: DomainError) -> dict:
    """Field errors as the forms name them (services speak in minor units)."""
    errors = dict(exc.field_errors or {"_": [exc.detail]})
    for service_name, form_name in AMOUNT_FIELDS.items():
        if service_name in errors:
            errors[form_name] = errors.pop(service_name)
    if "_" not in errors:
        errors["_"] = [exc.detail]
    return errors


def _args(schema) -> dict:
    try:
        return schema.load(request.args.to_dict(), unknown=EXCLUDE)
    except ValidationError as exc:
        raise ValidationFailed(
            _("The page address is not valid."), field_errors=exc.messages
        ) from exc


def _done(message: str, endpoint: str, **values):
    flash(message, "success")
    return redirect(url_for(endpoint, **values))


def _refused(exc: DomainError, endpoint: str, **values):
    flash(exc.detail, "error")
    return redirect(url_for(endpoint, **values))


def covers_folder() -> Path:
    return Path(current_app.instance_path) / "covers"


def _key() -> str:
    return uuid.uuid4().hex


@bp.app_context_processor
def _crowdfunding_context():
    def crowdfunding_summary(user):
        session = db_session()
        mine = queries.my_pledges(session, user.id)
        open_ = [p for p in mine if p.pledge.status in ("pending", "awaiting_card", "errored")]
        return {
            "open": len(open_),
            "errored": sum(1 for p in mine if p.pledge.status == "errored"),
            "campaigns": queries.my_campaigns(session, user.id)
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
    args = _args(CampaignExploreQuery())
    page = queries.explore(db_session(), **args)
    return render_template("crowdfunding/explore.html", page=page, args=args)


@bp.get("/campaigns/<int:campaign_id>")
def show(campaign_id: int):
    view = queries.campaign_page(db_session(), campaign_id, _viewer_id())
    return render_template(
        "crowdfunding/campaign.html", view=view, errors={}, form={}, comment_errors={}
    )


@bp.get("/campaigns/<int:campaign_id>/cover")
def cover(campaign_id: int):
    name = queries.cover_filename(db_session(), campaign_id, _viewer_id())
    path = cover_path(covers_folder(), name)
    if not path.is_file():
        raise NotFound("This campaign has no cover image.")
    mimetype = "image/png" if name.endswith(".png") else "image/jpeg"
    response = send_file(path, mimetype=mimetype, max_age=3600)
    response.headers["Content-Disposition"] = "inline"
    return response


# --- create and edit --------------------------------------------------------------------------


@bp.route("/campaigns/new", methods=["GET", "POST"])
@login_required
def new():
    errors: dict = {}
    if not current_user.has_role("initiator"):
        flash(_("Take the initiator role (Settings, Roles) to start a campaign."), "warning")
    if request.method == "POST":
        data, errors = load_form(CampaignForm())
        if data is not None:
            try:
                campaign = services.create_campaign(db_session(), current_user.id, **data)
            except DomainError as exc:
                if exc.status == 403:
                    raise
                errors = _errors(exc)
            else:
                return _done(
                    _("Draft saved. Add rewards and a cover, then launch."),
                    "crowdfunding.edit",
                    campaign_id=campaign.id,
                )
    return render_template(
        "crowdfunding/form.html", errors=errors, form=request.form, campaign=None
    ), (422 if errors else 200)


def _owned(campaign_id: int):
    return services.own_campaign(db_session(), current_user.id, campaign_id, lock=None)


def _form_from(campaign) -> dict:
    return {
        "title": campaign.title,
        "summary": campaign.summary,
        "story_md": campaign.story_md,
        "category": campaign.category,
        "goal": _decimal(campaign.goal_minor),
        "currency": campaign.currency,
        "duration_days": campaign.duration_days,
        "funding_model": campaign.funding_model,
        "kind": campaign.kind,
        "loan_rate": _decimal(campaign.loan_rate_bps) if campaign.loan_rate_bps else "",
        "loan_term_months": campaign.loan_term_months or "",
        "owner_legal_name": campaign.owner_legal_name,
        "owner_registration": campaign.owner_registration,
        "risks_md": campaign.risks_md,
    }


def _decimal(minor: int) -> str:
    whole, cents = divmod(minor, 100)
    return f"{whole}.{cents:02d}"


@bp.route("/campaigns/<int:campaign_id>/edit", methods=["GET", "POST"])
@login_required
def edit(campaign_id: int):
    session = db_session()
    campaign = _owned(campaign_id)
    errors: dict = {}
    form = _form_from(campaign)
    if request.method == "POST":
        data, errors = load_form(CampaignForm())
        form = request.form
        if data is not None:
            try:
                services.update_campaign(session, current_user.id, campaign.id, **data)
            except DomainError as exc:
                errors = _errors(exc)
            else:
                return _done(_("Campaign saved."), "crowdfunding.edit", campaign_id=campaign.id)
    view = queries.campaign_page(session, campaign.id, current_user.id)
    return render_template(
        "crowdfunding/edit.html",
        campaign=campaign,
        view=view,
        errors=errors,
        form=form,
        tier_errors={},
        goal_errors={},
        cover_max_kb=COVER_MAX_BYTES // 1024,
    ), (422 if errors else 200)


@bp.post("/campaigns/<int:campaign_id>/cover")
@login_required
def upload_cover(campaign_id: int):
    upload = request.files.get("cover")
    data = upload.read(COVER_MAX_BYTES + 1) if upload else b""
    try:
        services.set_cover(db_session(), current_user.id, campaign_id, data, folder=covers_folder())
    except ValidationFailed as exc:
        return _refused(exc, "crowdfunding.edit", campaign_id=campaign_id)
    return _done(_("Cover image saved."), "crowdfunding.edit", campaign_id=campaign_id)


@bp.post("/campaigns/<int:campaign_id>/tiers")
@login_required
def add_tier(campaign_id: int):
    data, errors = load_form(RewardTierForm())
    if data is None:
        flash(_("The reward needs attention: %(fields)s", fields=", ".join(errors)), "error")
        return redirect(url_for("crowdfunding.edit", campaign_id=campaign_id))
    try:
        services.add_tier(db_session(), current_user.id, campaign_id, **data)
    except ValidationFailed as exc:
        return _refused(exc, "crowdfunding.edit", campaign_id=campaign_id)
    return _done(_("Reward added."), "crowdfunding.edit", campaign_id=campaign_id)


@bp.post("/tiers/<int:tier_id>/edit")
@login_required
def edit_tier(tier_id: int):
    data, errors = load_form(RewardTierForm())
    campaign_id = _tier_campaign(tier_id)
    if data is None:
        flash(_("The reward needs attention: %(fields)s", fields=", ".join(errors)), "error")
        return redirect(url_for("crowdfunding.edit", campaign_id=campaign_id))
    try:
        services.update_tier(db_session(), current_user.id, tier_id, **data)
    except ValidationFailed as exc:
        return _refused(exc, "crowdfunding.edit", campaign_id=campaign_id)
    return _done(_("Reward saved."), "crowdfunding.edit", campaign_id=campaign_id)


def _tier_campaign(tier_id: int) -> int:
    from p2pbank.crowdfunding.models import RewardTier

    tier = db_session().get(RewardTier, tier_id)
    if tier is None:
        raise NotFound("No such reward tier.")
    return tier.campaign_id


@bp.post("/tiers/<int:tier_id>/delete")
@login_required
def remove_tier(tier_id: int):
    campaign_id = _tier_campaign(tier_id)
    services.remove_tier(db_session(), current_user.id, tier_id)
    return _done(_("Reward removed."), "crowdfunding.edit", campaign_id=campaign_id)


@bp.post("/tiers/<int:tier_id>/ship")
@login_required
def ship_tier(tier_id: int):
    campaign_id = _tier_campaign(tier_id)
    delivery.mark_tier_shipped(db_session(), current_user.id, tier_id)
    return _done(
        _("Marked as shipped; the backers are asked to confirm receipt."),
        "crowdfunding.dashboard",
        campaign_id=campaign_id,
    )


@bp.post("/campaigns/<int:campaign_id>/stretch-goals")
@login_required
def add_stretch_goal(campaign_id: int):
    data, errors = load_form(StretchGoalForm())
    if data is None:
        flash(_("The stretch goal needs attention: %(fields)s", fields=", ".join(errors)), "error")
        return redirect(url_for("crowdfunding.edit", campaign_id=campaign_id))
    try:
        services.add_stretch_goal(db_session(), current_user.id, campaign_id, **data)
    except ValidationFailed as exc:
        return _refused(exc, "crowdfunding.edit", campaign_id=campaign_id)
    return _done(_("Stretch goal added."), "crowdfunding.edit", campaign_id=campaign_id)


@bp.post("/stretch-goals/<int:goal_id>/delete")
@login_required
def remove_stretch_goal(goal_id: int):
    from p2pbank.crowdfunding.models import StretchGoal

    goal = db_session().get(StretchGoal, goal_id)
    if goal is None:
        raise NotFound("No such stretch goal.")
    campaign_id = goal.campaign_id
    services.remove_stretch_goal(db_session(), current_user.id, goal_id)
    return _done(_("Stretch goal removed."), "crowdfunding.edit", campaign_id=campaign_id)


@bp.post("/campaigns/<int:campaign_id>/launch")
@login_required
def launch(campaign_id: int):
    try:
        services.launch_campaign(db_session(), current_user.id, campaign_id)
    except ValidationFailed as exc:
        return _refused(exc, "crowdfunding.edit", campaign_id=campaign_id)
    return _done(_("Your campaign is live."), "crowdfunding.show", campaign_id=campaign_id)


@bp.post("/campaigns/<int:campaign_id>/cancel")
@login_required
def cancel(campaign_id: int):
    data, _errs = load_form(CampaignCancelIn())
    if data is None:
        raise ValidationFailed(_("Say in a few words why (3-300 characters)."))
    services.cancel_campaign(db_session(), current_user.id, campaign_id, **data)
    return _done(
        _("The campaign is cancelled; every backer was released."),
        "crowdfunding.show",
        campaign_id=campaign_id,
    )


# --- updates and comments ---------------------------------------------------------------------


@bp.post("/campaigns/<int:campaign_id>/updates")
@login_required
def post_update(campaign_id: int):
    data, errors = load_form(CampaignUpdateIn())
    if data is None:
        flash(_("The update needs a title and a text."), "error")
        return redirect(url_for("crowdfunding.dashboard", campaign_id=campaign_id))
    services.post_update(db_session(), current_user.id, campaign_id, **data)
    return _done(_("Update posted."), "crowdfunding.show", campaign_id=campaign_id)


@bp.post("/campaigns/<int:campaign_id>/comments")
@login_required
def post_comment(campaign_id: int):
    data, errors = load_form(CampaignCommentForm())
    if data is None:
        flash(_("Write a comment first (up to 2,000 characters)."), "error")
        return redirect(url_for("crowdfunding.show", campaign_id=campaign_id))
    try:
        services.post_comment(db_session(), current_user.id, campaign_id, **data)
    except ValidationFailed as exc:
        return _refused(exc, "crowdfunding.show", campaign_id=campaign_id)
    return redirect(url_for("crowdfunding.show", campaign_id=campaign_id) + "#comments")


# --- pledging ---------------------------------------------------------------------------------


def _pledge_page(view, errors: dict, form, status: int = 200):
    session = db_session()
    amount = 0
    if form.get("amount"):
        try:
            from p2pbank.payments.rules import parse_amount

            amount = parse_amount(form.get("amount"))
        except ValueError:
            amount = 0
    investor = (
        queries.investor_view(session, current_user.id, amount) if view.campaign.is_loan else None
    )
    return render_template(
        "crowdfunding/pledge.html",
        view=view,
        errors=errors,
        form=form,
        investor=investor,
        key=form.get("idempotency_key") or _key(),
        cards_available=cards.card_pledges_available(gateway()),
    ), status


@bp.route("/campaigns/<int:campaign_id>/pledge", methods=["GET", "POST"])
@login_required
def pledge(campaign_id: int):
    session = db_session()
    view = queries.campaign_page(session, campaign_id, current_user.id)
    if request.method == "GET":
        form = {"tier_id": request.args.get("tier", "")}
        return _pledge_page(view, {}, form)
    data, errors = load_form(CampaignPledgeForm())
    if data is not None:
        try:
            made = pledging.pledge(session, current_user.id, campaign_id, **data)
        except DomainError as exc:
            if exc.status in (403, 404):
                raise
            errors = _errors(exc)
        else:
            if made.status == "awaiting_card":
                return redirect(url_for("crowdfunding.card", pledge_id=made.id))
            return _done(
                _("Thank you! Your pledge is held in your wallet until the deadline."),
                "crowdfunding.show",
                campaign_id=campaign_id,
            )
    return _pledge_page(view, errors, request.form, 422)


@bp.get("/pledges")
@login_required
def my_pledges():
    return render_template(
        "crowdfunding/my_pledges.html", pledges=queries.my_pledges(db_session(), current_user.id)
    )


@bp.route("/pledges/<int:pledge_id>/change", methods=["GET", "POST"])
@login_required
def change_pledge(pledge_id: int):
    session = db_session()
    mine = queries.my_pledge(session, current_user.id, pledge_id)
    view = queries.campaign_page(session, mine.campaign_id, current_user.id)
    errors: dict = {}
    form = {
        "amount": _decimal(mine.pledge.amount_minor),
        "tier_id": mine.pledge.tier_id or "",
    }
    if request.method == "POST":
        form = request.form
        data, errors = load_form(CampaignPledgeChangeForm())
        if data is not None:
            try:
                pledging.change_pledge(session, current_user.id, pledge_id, **data)
            except DomainError as exc:
                if exc.status == 404:
                    raise
                errors = _errors(exc)
            else:
                return _done(_("Your pledge was changed."), "crowdfunding.my_pledges")
    return render_template(
        "crowdfunding/pledge_change.html", mine=mine, view=view, errors=errors, form=form
    ), (422 if errors else 200)


@bp.post("/pledges/<int:pledge_id>/cancel")
@login_required
def cancel_pledge(pledge_id: int):
    pledging.cancel_pledge(db_session(), current_user.id, pledge_id)
    return _done(_("Your pledge was cancelled; nothing was charged."), "crowdfunding.my_pledges")


@bp.post("/pledges/<int:pledge_id>/revoke")
@login_required
def revoke_pledge(pledge_id: int):
    pledging.revoke_pledge(db_session(), current_user.id, pledge_id)
    return _done(
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
    mine = queries.my_pledge(session, current_user.id, pledge_id)
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
                    settlement.collect_card_pledge(session, pledge_id, gateway=gw)
            except (CardDeclined, GatewayError) as exc:
                errors = {"card_number": [exc.detail]}
            except DomainError as exc:
                if exc.status in (403, 404):
                    raise
                errors = {"_": [exc.detail]}
            else:
                return _card_done(pledge_id)
        status = 422
    mine = queries.my_pledge(session, current_user.id, pledge_id)
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
    mine = queries.my_pledge(db_session(), current_user.id, pledge_id)
    if mine.pledge.status == "collected":
        return _done(_("Your new card was charged. Thank you!"), "crowdfunding.my_pledges")
    if mine.pledge.status == "errored":
        flash(_("This card was declined too: %(reason)s", reason=mine.pledge.error_message))
        return redirect(url_for("crowdfunding.card", pledge_id=pledge_id))
    return _done(
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
    mine = queries.my_pledge(session, current_user.id, pledge_id)
    was_errored = mine.pledge.status == "errored"
    try:
        cards.confirm_card_setup(session, current_user.id, pledge_id, gateway=gw)
        if was_errored:
            settlement.collect_card_pledge(session, pledge_id, gateway=gw)
    except DomainError as exc:
        return _refused(exc, "crowdfunding.card", pledge_id=pledge_id)
    return _card_done(pledge_id)


@bp.post("/pledges/<int:pledge_id>/received")
@login_required
def confirm_receipt(pledge_id: int):
    delivery.confirm_receipt(db_session(), current_user.id, pledge_id)
    return _done(_("Thank you for confirming."), "crowdfunding.my_pledges")


@bp.post("/pledges/<int:pledge_id>/problem")
@login_required
def report_problem(pledge_id: int):
    data, _errs = load_form(DeliveryProblemIn())
    if data is None:
        raise ValidationFailed(_("Describe the problem (3-1000 characters)."))
    delivery.report_problem(db_session(), current_user.id, pledge_id, **data)
    return _done(_("The initiator was told about the problem."), "crowdfunding.my_pledges")


@bp.post("/pledges/<int:pledge_id>/refund")
@login_required
def refund(pledge_id: int):
    row = settlement.refund_pledge(db_session(), current_user.id, pledge_id, gateway=gateway())
    return _done(
        _("The pledge was refunded."), "crowdfunding.dashboard", campaign_id=row.campaign_id
    )


# --- the initiator ----------------------------------------------------------------------------


@bp.get("/my/campaigns")
@login_required
def my_campaigns():
    return render_template(
        "crowdfunding/my_campaigns.html",
        campaigns=queries.my_campaigns(db_session(), current_user.id),
    )


@bp.get("/campaigns/<int:campaign_id>/dashboard")
@login_required
def dashboard(campaign_id: int):
    board = queries.dashboard(db_session(), current_user.id, campaign_id)
    return render_template("crowdfunding/dashboard.html", board=board)


# --- crowdlending -----------------------------------------------------------------------------


@bp.get("/campaigns/<int:campaign_id>/information-sheet")
def information_sheet(campaign_id: int):
    sheet = queries.information_sheet(db_session(), campaign_id, _viewer_id())
    return render_template("crowdfunding/information_sheet.html", sheet=sheet)


@bp.get("/investor")
@login_required
def investor():
    return _investor_page({}, {}, 200)


def _investor_page(test_errors: dict, sim_errors: dict, status: int):
    return render_template(
        "crowdfunding/investor.html",
        investor=queries.investor_view(db_session(), current_user.id),
        questions=rules.KNOWLEDGE_TEST,
        test_errors=test_errors,
        sim_errors=sim_errors,
        form=request.form,
        next_url=_safe_next(),
    ), status


def _safe_next() -> str:
    target = same_site_path(request.values.get("next")) or ""
    return target if target.startswith("/campaigns/") else ""


@bp.post("/investor/test")
@login_required
def knowledge_test():
    answers = {
        q.key: request.form.get(q.key, "") for q in rules.KNOWLEDGE_TEST if request.form.get(q.key)
    }
    try:
        attempt = investors.take_knowledge_test(db_session(), current_user.id, answers)
    except ValidationFailed as exc:
        return _investor_page(exc.field_errors or {"_": [exc.detail]}, {}, 422)
    if attempt.passed:
        flash(
            _(
                "You passed (%(score)s of 5). The result is valid for two years.",
                score=attempt.score,
            ),
            "success",
        )
    else:
        flash(
            _(
                "%(score)s of 5 correct; you need 4. Read the explanations and try again.",
                score=attempt.score,
            ),
            "warning",
        )
    return redirect(url_for("crowdfunding.investor", next=_safe_next() or None))


@bp.post("/investor/simulation")
@login_required
def simulation():
    data, errors = load_form(LossSimulationForm())
    if data is None:
        return _investor_page({}, errors, 422)
    investors.simulate_loss_capacity(db_session(), current_user.id, **data)
    flash(_("Your ability to bear loss was simulated."), "success")
    target = _safe_next()
    if target:
        return redirect(target)
    return redirect(url_for("crowdfunding.investor"))

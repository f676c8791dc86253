"""Crowdfunding pages for the initiator: the create and edit wizard, cover, tiers and stretch
goals, launch and cancel, updates, their campaigns and each campaign's dashboard. The
routes join the crowdfunding blueprint (same URLs and endpoint names); thin, as the rest.
"""

from __future__ import annotations

from flask import (
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from p2pbank.crowdfunding import (
    delivery,
    discussion,
    kernel,
    rewards,
    services,
)
from p2pbank.crowdfunding.content import COVER_MAX_BYTES
from p2pbank.crowdfunding.read import campaign_page, catalogue, initiator
from p2pbank.crowdfunding.schemas import (
    CampaignCancelIn,
    CampaignForm,
    CampaignUpdateIn,
    RewardTierForm,
    StretchGoalForm,
)
from p2pbank.db import db_session
from p2pbank.errors import DomainError, NotFound, ValidationFailed
from p2pbank.web.crowdfunding import AMOUNT_FIELDS, bp, covers_folder, decimal_text, done
from p2pbank.web.forms import form_errors_with_summary, load_form, refused


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
                errors = form_errors_with_summary(exc, renamed=AMOUNT_FIELDS)
            else:
                return done(
                    _("Draft saved. Add rewards and a cover, then launch."),
                    "crowdfunding.edit",
                    campaign_id=campaign.id,
                )
    return render_template(
        "crowdfunding/form.html", errors=errors, form=request.form, campaign=None
    ), (422 if errors else 200)


def _owned(campaign_id: int):
    return kernel.own_campaign(db_session(), current_user.id, campaign_id, lock=None)


def _form_from(campaign) -> dict:
    return {
        "title": campaign.title,
        "summary": campaign.summary,
        "story_md": campaign.story_md,
        "category": campaign.category,
        "goal": decimal_text(campaign.goal_minor),
        "currency": campaign.currency,
        "duration_days": campaign.duration_days,
        "funding_model": campaign.funding_model,
        "kind": campaign.kind,
        "loan_rate": decimal_text(campaign.loan_rate_bps) if campaign.loan_rate_bps else "",
        "loan_term_months": campaign.loan_term_months or "",
        "owner_legal_name": campaign.owner_legal_name,
        "owner_registration": campaign.owner_registration,
        "risks_md": campaign.risks_md,
    }


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
                errors = form_errors_with_summary(exc, renamed=AMOUNT_FIELDS)
            else:
                return done(_("Campaign saved."), "crowdfunding.edit", campaign_id=campaign.id)
    view = campaign_page.campaign_page(session, campaign.id, current_user.id)
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
        return refused(exc, "crowdfunding.edit", campaign_id=campaign_id)
    return done(_("Cover image saved."), "crowdfunding.edit", campaign_id=campaign_id)


@bp.post("/campaigns/<int:campaign_id>/tiers")
@login_required
def add_tier(campaign_id: int):
    data, errors = load_form(RewardTierForm())
    if data is None:
        flash(_("The reward needs attention: %(fields)s", fields=", ".join(errors)), "error")
        return redirect(url_for("crowdfunding.edit", campaign_id=campaign_id))
    try:
        rewards.add_tier(db_session(), current_user.id, campaign_id, **data)
    except ValidationFailed as exc:
        return refused(exc, "crowdfunding.edit", campaign_id=campaign_id)
    return done(_("Reward added."), "crowdfunding.edit", campaign_id=campaign_id)


@bp.post("/tiers/<int:tier_id>/edit")
@login_required
def edit_tier(tier_id: int):
    data, errors = load_form(RewardTierForm())
    campaign_id = _tier_campaign(tier_id)
    if data is None:
        flash(_("The reward needs attention: %(fields)s", fields=", ".join(errors)), "error")
        return redirect(url_for("crowdfunding.edit", campaign_id=campaign_id))
    try:
        rewards.update_tier(db_session(), current_user.id, tier_id, **data)
    except ValidationFailed as exc:
        return refused(exc, "crowdfunding.edit", campaign_id=campaign_id)
    return done(_("Reward saved."), "crowdfunding.edit", campaign_id=campaign_id)


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
    rewards.remove_tier(db_session(), current_user.id, tier_id)
    return done(_("Reward removed."), "crowdfunding.edit", campaign_id=campaign_id)


@bp.post("/tiers/<int:tier_id>/ship")
@login_required
def ship_tier(tier_id: int):
    campaign_id = _tier_campaign(tier_id)
    delivery.mark_tier_shipped(db_session(), current_user.id, tier_id)
    return done(
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
        rewards.add_stretch_goal(db_session(), current_user.id, campaign_id, **data)
    except ValidationFailed as exc:
        return refused(exc, "crowdfunding.edit", campaign_id=campaign_id)
    return done(_("Stretch goal added."), "crowdfunding.edit", campaign_id=campaign_id)


@bp.post("/stretch-goals/<int:goal_id>/delete")
@login_required
def remove_stretch_goal(goal_id: int):
    from p2pbank.crowdfunding.models import StretchGoal

    goal = db_session().get(StretchGoal, goal_id)
    if goal is None:
        raise NotFound("No such stretch goal.")
    campaign_id = goal.campaign_id
    rewards.remove_stretch_goal(db_session(), current_user.id, goal_id)
    return done(_("Stretch goal removed."), "crowdfunding.edit", campaign_id=campaign_id)


@bp.post("/campaigns/<int:campaign_id>/launch")
@login_required
def launch(campaign_id: int):
    try:
        services.launch_campaign(db_session(), current_user.id, campaign_id)
    except ValidationFailed as exc:
        return refused(exc, "crowdfunding.edit", campaign_id=campaign_id)
    return done(_("Your campaign is live."), "crowdfunding.show", campaign_id=campaign_id)


@bp.post("/campaigns/<int:campaign_id>/cancel")
@login_required
def cancel(campaign_id: int):
    data, _errs = load_form(CampaignCancelIn())
    if data is None:
        raise ValidationFailed(_("Say in a few words why (3-300 characters)."))
    services.cancel_campaign(db_session(), current_user.id, campaign_id, **data)
    return done(
        _("The campaign is cancelled; every backer was released."),
        "crowdfunding.show",
        campaign_id=campaign_id,
    )


@bp.post("/campaigns/<int:campaign_id>/updates")
@login_required
def post_update(campaign_id: int):
    data, errors = load_form(CampaignUpdateIn())
    if data is None:
        flash(_("The update needs a title and a text."), "error")
        return redirect(url_for("crowdfunding.dashboard", campaign_id=campaign_id))
    discussion.post_update(db_session(), current_user.id, campaign_id, **data)
    return done(_("Update posted."), "crowdfunding.show", campaign_id=campaign_id)


@bp.get("/my/campaigns")
@login_required
def my_campaigns():
    return render_template(
        "crowdfunding/my_campaigns.html",
        campaigns=catalogue.my_campaigns(db_session(), current_user.id),
    )


@bp.get("/campaigns/<int:campaign_id>/dashboard")
@login_required
def dashboard(campaign_id: int):
    board = initiator.dashboard(db_session(), current_user.id, campaign_id)
    return render_template("crowdfunding/dashboard.html", board=board)

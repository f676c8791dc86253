"""Trust pages: member profiles and the ranking, rating a counterparty, revision requests
and revisions, moderation (admins) and the member score breakdown (auditors). Thin: every
page calls p2pbank.trust services or queries, which decide who may see and do what.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from marshmallow import EXCLUDE, ValidationError

from p2pbank import charts
from p2pbank.db import db_session
from p2pbank.errors import DomainError, Forbidden, NotFound
from p2pbank.permissions import Permission, require
from p2pbank.trust import breakdown as breakdowns
from p2pbank.trust import revisions, services
from p2pbank.trust.badges import feedback_windows, repayment_record
from p2pbank.trust.models import DETAILS_FOR, VALUES, HideReason
from p2pbank.trust.read import moderation as moderation_read
from p2pbank.trust.read import profile as profile_read
from p2pbank.trust.read import ranking as ranking_read
from p2pbank.trust.read import ratings as ratings_read
from p2pbank.trust.schemas import (
    BreakdownArgs,
    HideIn,
    RankingArgs,
    RateForm,
    ReviseForm,
    RevisionRequestIn,
)
from p2pbank.web.forms import form_errors, load_form, refused
from p2pbank.web.nav import dashboard_panel, everyone, has_permission, nav_item

bp = Blueprint("trust", __name__, url_prefix="/trust")

nav_item("My ratings", "trust.ratings", visible=everyone, order=60, group="person")
nav_item("Reputation", "trust.members", visible=everyone, order=61, group="lend")
nav_item(
    "Moderation",
    "trust.moderation",
    visible=has_permission(Permission.MODERATE),
    order=92,
    group="admin",
)
nav_item(
    "Score breakdown",
    "trust.breakdown",
    visible=has_permission(Permission.READ_AUDIT_LOG),
    order=93,
    group="audit",
)
dashboard_panel("trust/_panel.html", visible=everyone, order=60)


def N_(text: str) -> str:
    """Marks a label for the translation catalog; templates translate it where shown."""
    return text


DETAIL_LABELS = {
    "communication": N_("Communication"),
    "kept_schedule": N_("Kept to the schedule"),
    "as_described": N_("As described"),
    "delivered_on_time": N_("Delivered on time"),
}
HIDE_REASONS = {
    "personal_data": N_("Personal data"),
    "abusive": N_("Abusive or hateful"),
    "off_topic": N_("Not about the transaction"),
    "fraud": N_("Fraud or manipulation"),
    "legal": N_("Legal request"),
}


@bp.app_context_processor
def _trust_context():
    def trust_summary(user):
        return profile_read.summary(db_session(), user.id)

    return {
        "trust_summary": trust_summary,
        "trust_detail_labels": DETAIL_LABELS,
        "trust_hide_reasons": HIDE_REASONS,
        "trust_values": list(VALUES),
    }


@bp.app_template_filter("bps_percent")
def bps_percent(value: float | None) -> str:
    """A share 0..1 as a percent with one decimal; a dash when there is none."""
    if value is None:
        return "–"
    return f"{value * 100:.1f}%"


# --- profiles and the ranking ----------------------------------------------------------------


@bp.get("/members")
@login_required
def members():
    try:
        args = RankingArgs().load(request.args.to_dict(), unknown=EXCLUDE)
    except ValidationError:
        args = {"page": 1}
    page = ranking_read.ranking(db_session(), page=args["page"])
    return render_template("trust/members.html", ranking=page)


@bp.get("/members/<int:user_id>")
@login_required
def profile(user_id: int):
    session = db_session()
    view = profile_read.member_profile(session, user_id)
    grades = [
        (h.as_of.strftime("%Y-%m-%d"), GRADE_HEIGHT.get(h.grade, 0), h.grade)
        for h in reversed(view.history)
    ]
    return render_template(
        "trust/profile.html",
        profile=view,
        windows=feedback_windows(session, user_id),
        record=repayment_record(session, user_id),
        grade_chart=charts.bars(grades, 600, 100),
    )


GRADE_HEIGHT = {"A": 5, "B": 4, "C": 3, "D": 2, "E": 1}  # the grade history chart's bars


# --- rating ----------------------------------------------------------------------------------


@bp.get("/ratings")
@login_required
def ratings():
    mine = ratings_read.my_ratings(db_session(), current_user.id)
    return render_template("trust/ratings.html", mine=mine)


@bp.route("/transactions/<int:transaction_id>/rate", methods=["GET", "POST"])
@login_required
def rate(transaction_id: int):
    session = db_session()
    pending = ratings_read.pending_rating(session, current_user.id, transaction_id)
    errors: dict = {}
    details = [str(d) for d in DETAILS_FOR[pending.other_side]]
    shown = ["value", "comment", *details]
    if request.method == "POST":
        data, errors = load_form(RateForm())
        errors = form_errors(errors, shown=shown)
        if data is not None:
            try:
                rating = services.rate_counterparty(
                    session, current_user.id, transaction_id, **data
                )
            except DomainError as exc:
                errors = form_errors(exc, shown=shown)
            else:
                if rating.status == "revealed":
                    flash(_("Thank you. Both ratings are now shown."), "success")
                else:
                    flash(
                        _(
                            "Thank you. Your rating stays sealed until %(name)s rates you "
                            "too, or until %(date)s.",
                            name=pending.other_name,
                            date=rating.reveal_due_at.date().isoformat(),
                        ),
                        "success",
                    )
                return redirect(url_for(".ratings"))
    return render_template(
        "trust/rate.html",
        pending=pending,
        errors=errors,
        form=request.form,
        details=details,
    ), (422 if errors else 200)


@bp.post("/ratings/<int:rating_id>/revision-request")
@login_required
def request_revision(rating_id: int):
    data, errors = load_form(RevisionRequestIn())
    if data is None:
        flash(" ".join(m for ms in errors.values() for m in ms), "error")
        return redirect(url_for(".ratings"))
    try:
        revisions.request_revision(db_session(), current_user.id, rating_id, **data)
    except DomainError as exc:
        return refused(exc, ".ratings")
    flash(_("Your request was sent. The author may raise the rating once."), "success")
    return redirect(url_for(".ratings"))


@bp.route("/ratings/<int:rating_id>/revise", methods=["GET", "POST"])
@login_required
def revise(rating_id: int):
    session = db_session()
    own = ratings_read.own_rating(session, current_user.id, rating_id)
    if own.rater_id != current_user.id:
        raise Forbidden("Only its author revises a rating.")
    if not own.can_revise:
        flash(_("This rating cannot be revised now."), "error")
        return redirect(url_for(".ratings"))
    errors: dict = {}
    details = [str(d) for d in DETAILS_FOR[own.ratee_side]]
    shown = ["value", "comment", *details]
    if request.method == "POST":
        data, errors = load_form(ReviseForm())
        errors = form_errors(errors, shown=shown)
        if data is not None:
            try:
                revisions.revise_rating(session, current_user.id, rating_id, **data)
            except DomainError as exc:
                errors = form_errors(exc, shown=shown)
            else:
                flash(_("Your rating is revised."), "success")
                return redirect(url_for(".ratings"))
    return render_template(
        "trust/revise.html",
        own=own,
        errors=errors,
        form=request.form if request.method == "POST" else None,
        details=details,
        values=list(VALUES),
    ), (422 if errors else 200)


# --- moderation ------------------------------------------------------------------------------


@bp.get("/moderation")
@login_required
def moderation():
    hidden = request.args.get("hidden") == "1"
    rows = moderation_read.moderation_list(db_session(), current_user, hidden=hidden)
    return render_template(
        "trust/moderation.html", rows=rows, hidden=hidden, reasons=[str(r) for r in HideReason]
    )


@bp.post("/ratings/<int:rating_id>/hide")
@login_required
def hide(rating_id: int):
    moderation_read.require_moderator(current_user)
    data, errors = load_form(HideIn())
    if data is None:
        flash(" ".join(m for ms in errors.values() for m in ms), "error")
        return redirect(url_for(".moderation"))
    try:
        revisions.hide_rating(db_session(), current_user.id, rating_id, **data)
    except DomainError as exc:
        return refused(exc, ".moderation")
    flash(_("The rating is hidden. It stays on record with your reason."), "success")
    return redirect(url_for(".moderation"))


# --- auditors --------------------------------------------------------------------------------


@bp.get("/audit")
@login_required
def breakdown():
    require(
        current_user.role_names, Permission.READ_AUDIT_LOG, "The score breakdown is for auditors."
    )
    subject = request.args.get("subject", "").strip()
    result = None
    errors: dict = {}
    status = 200
    if subject:
        try:
            args = BreakdownArgs().load({"subject": subject})
            result = breakdowns.member_breakdown(db_session(), current_user, args["subject"])
        except ValidationError as exc:
            errors, status = exc.messages, 422
        except NotFound as exc:
            errors, status = {"subject": [exc.detail]}, 404
    return render_template(
        "trust/breakdown.html", subject=subject, result=result, errors=errors
    ), status

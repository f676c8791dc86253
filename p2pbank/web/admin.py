"""Admin pages: find people, grant and revoke roles, decide identity checks (KYC).
Who may do this is decided in the identity services and queries (admins only)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from p2pbank.db import db_session
from p2pbank.errors import DomainError
from p2pbank.identity import queries, rules, services
from p2pbank.identity.rules import Role
from p2pbank.identity.schemas import AdminKycIn, AdminRoleIn
from p2pbank.permissions import Permission
from p2pbank.web.forms import ALL_BUT_CONFLICTS, form_errors, load_form
from p2pbank.web.nav import has_permission, nav_item

bp = Blueprint("admin", __name__, url_prefix="/admin")

nav_item(
    "People",
    "admin.people",
    visible=has_permission(Permission.MANAGE_PEOPLE),
    order=95,
    group="admin",
)


@bp.before_request
@login_required
def _signed_in_only() -> None:
    return None


@bp.get("/people")
def people():
    query = request.args.get("q", "")[:100]
    page = request.args.get("page", 1, type=int) or 1
    found = queries.search_people(db_session(), current_user.id, query, page=page)
    return render_template("admin/people.html", found=found, query=query)


def _person_page(user_id: int, role_errors: dict, kyc_errors: dict, status: int = 200):
    session = db_session()
    queries.require_admin(session, current_user.id)
    person = queries.person(session, current_user.id, user_id)
    return render_template(
        "admin/person.html",
        person=person,
        roles=[r.value for r in Role],
        kyc_targets=rules.kyc_targets(person.kyc_status),
        role_history=queries.role_history(session, current_user.id, user_id),
        kyc_history=queries.kyc_history(session, current_user.id, user_id),
        role_errors=role_errors,
        kyc_errors=kyc_errors,
        form=request.form,
    ), status


@bp.get("/people/<int:user_id>")
def person(user_id: int):
    return _person_page(user_id, {}, {})


@bp.post("/people/<int:user_id>/roles")
def change_role(user_id: int):
    queries.require_admin(db_session(), current_user.id)
    data, errors = load_form(AdminRoleIn())
    if data is not None:
        change = services.grant_role if data["action"] == "grant" else services.revoke_role
        try:
            change(db_session(), current_user.id, user_id, data["role"], data["reason"])
        except DomainError as exc:
            errors = form_errors(exc, error_pages=ALL_BUT_CONFLICTS)
        else:
            message = (
                _("Role %(role)s granted.", role=_(data["role"]))
                if data["action"] == "grant"
                else _("Role %(role)s revoked.", role=_(data["role"]))
            )
            flash(message, "success")
            return redirect(url_for("admin.person", user_id=user_id))
    return _person_page(user_id, errors, {}, 422)


@bp.post("/people/<int:user_id>/kyc")
def decide_kyc(user_id: int):
    queries.require_admin(db_session(), current_user.id)
    data, errors = load_form(AdminKycIn())
    if data is not None:
        try:
            services.set_kyc_status(
                db_session(), current_user.id, user_id, data["status"], data["reason"]
            )
        except DomainError as exc:
            errors = form_errors(exc, error_pages=ALL_BUT_CONFLICTS)
        else:
            flash(_("Identity check set to %(status)s.", status=_(data["status"])), "success")
            return redirect(url_for("admin.person", user_id=user_id))
    return _person_page(user_id, {}, errors, 422)

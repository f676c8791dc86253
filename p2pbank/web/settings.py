"""A person's own settings: overview, API tokens, language, roles, asking for a KYC review."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from p2pbank.db import db_session
from p2pbank.errors import DomainError
from p2pbank.identity import queries, rules, services, twofactor_services
from p2pbank.identity.rules import SELF_SERVICE_ROLES
from p2pbank.identity.schemas import LocaleIn, TakeRoleIn, TokenIn
from p2pbank.web.forms import form_errors, load_form
from p2pbank.web.nav import nav_item

bp = Blueprint("settings", __name__, url_prefix="/settings")

nav_item("Settings", "settings.index", order=90, group="person")

LANGUAGES = (("en", "English"), ("nl", "Nederlands"))


@bp.before_request
@login_required
def _signed_in_only() -> None:
    return None


@bp.get("")
def index():
    user = services.get_user(db_session(), current_user.id)
    return render_template(
        "settings/index.html",
        user=user,
        codes_left=twofactor_services.recovery_codes_left(db_session(), user.id),
        may_request_review=rules.may_request_kyc_review(user.kyc_status),
        kyc_history=queries.kyc_history(db_session(), user.id, user.id),
    )


@bp.post("/kyc-review")
def kyc_review():
    services.request_kyc_review(db_session(), current_user.id)
    flash(_("Thank you. An admin will review your identity check."), "success")
    return redirect(url_for("settings.index"))


# --- API tokens -----------------------------------------------------------------------------


def _tokens_page(errors: dict, created=None, secret: str | None = None, status: int = 200):
    page = render_template(
        "settings/tokens.html",
        tokens=services.list_api_tokens(db_session(), current_user.id),
        errors=errors,
        form=request.form,
        created=created,
        secret=secret,
    )
    response = current_app.make_response((page, status))
    if secret:
        response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/tokens", methods=["GET", "POST"])
def tokens():
    if request.method == "GET":
        return _tokens_page({})
    data, errors = load_form(TokenIn())
    if data is None:
        return _tokens_page(errors, status=422)
    row, secret = services.create_api_token(db_session(), current_user.id, **data)
    flash(_("Token created. Copy it now: it is shown only this once."), "success")
    return _tokens_page({}, created=row, secret=secret, status=201)


@bp.post("/tokens/<int:token_id>/revoke")
def revoke_token(token_id: int):
    row = services.revoke_api_token(db_session(), current_user.id, token_id)
    flash(_("The token “%(name)s” was revoked.", name=row.name), "info")
    return redirect(url_for("settings.tokens"))


# --- language -------------------------------------------------------------------------------


@bp.route("/language", methods=["GET", "POST"])
def language():
    errors: dict = {}
    if request.method == "POST":
        data, errors = load_form(LocaleIn())
        if data is not None:
            services.set_locale(db_session(), current_user.id, data["locale"] or None)
            flash(_("Your language was saved."), "success")
            return redirect(url_for("settings.language"))
    user = services.get_user(db_session(), current_user.id)
    return render_template(
        "settings/language.html", user=user, languages=LANGUAGES, errors=errors
    ), (422 if errors else 200)


# --- roles ----------------------------------------------------------------------------------


@bp.route("/roles", methods=["GET", "POST"])
def roles():
    errors: dict = {}
    if request.method == "POST":
        data, errors = load_form(TakeRoleIn())
        if data is not None:
            try:
                services.take_role(db_session(), current_user.id, data["role"])
            except DomainError as exc:
                errors = form_errors(exc, no_field="role", error_pages=())
            else:
                flash(_("You now also act as %(role)s.", role=_(data["role"])), "success")
                return redirect(url_for("settings.roles"))
    user = services.get_user(db_session(), current_user.id)
    available = sorted(r.value for r in SELF_SERVICE_ROLES if not user.has_role(r))
    return render_template(
        "settings/roles.html",
        user=user,
        available=available,
        history=queries.role_history(db_session(), user.id, user.id),
        errors=errors,
    ), (422 if errors else 200)

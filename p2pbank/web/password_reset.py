"""Forgotten password: ask for a reset link, then choose a new password with it."""

from __future__ import annotations

import logging

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from p2pbank.db import db_session
from p2pbank.errors import InvalidState, ValidationFailed
from p2pbank.extensions import limiter
from p2pbank.identity import reset_services
from p2pbank.identity.schemas import ResetPasswordIn, ResetRequestIn
from p2pbank.links import absolute_url
from p2pbank.web.forms import form_errors, load_form

log = logging.getLogger("p2pbank.identity")

bp = Blueprint("password_reset", __name__)


def _email_key() -> str:
    return "reset-email:" + request.form.get("email", "").strip().lower()[:254]


def _limit(key: str, default: str) -> str:
    return current_app.config.get(key, default)


@bp.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit(
    lambda: _limit("PASSWORD_RESET_LIMIT_PER_IP", "20 per hour"),
    methods=["POST"],
    error_message="Too many reset requests.",
)
@limiter.limit(
    lambda: _limit("PASSWORD_RESET_LIMIT_PER_EMAIL", "5 per hour"),
    methods=["POST"],
    key_func=_email_key,
    error_message="Too many reset requests for this address.",
)
def forgot():
    errors: dict = {}
    if request.method == "POST":
        data, errors = load_form(ResetRequestIn())
        if data is not None:
            link = reset_services.request_password_reset(
                db_session(),
                data["email"],
                ttl_seconds=int(current_app.config["PASSWORD_RESET_TTL_SECONDS"]),
                link_for=lambda token: absolute_url("password_reset.reset", token=token),
                language=str(get_locale()),
            )
            if link and current_app.config.get("ENV") != "production":
                # Development has no mail server: the link is in the outbox and here.
                log.info("password reset link for %s: %s", data["email"], link)
            # The same answer whether or not the address has an account.
            return render_template("auth/reset_requested.html", email=data["email"])
    return render_template("auth/forgot_password.html", errors=errors, form=request.form), (
        422 if errors else 200
    )


@bp.route("/password/reset/<string(maxlength=128):token>", methods=["GET", "POST"])
def reset(token: str):
    errors: dict = {}
    try:
        reset_services.check_reset_token(db_session(), token)
    except InvalidState:
        return render_template("auth/reset_invalid.html"), 410
    if request.method == "POST":
        data, errors = load_form(ResetPasswordIn())
        if data is not None:
            try:
                reset_services.reset_password(db_session(), token, data["new_password"])
            except InvalidState:
                return render_template("auth/reset_invalid.html"), 410
            except ValidationFailed as exc:
                errors = form_errors(exc)
            else:
                flash(_("Your password was changed. Sign in with the new password."), "success")
                return redirect(url_for("auth.login"))
    return render_template("auth/reset_password.html", errors=errors), (422 if errors else 200)

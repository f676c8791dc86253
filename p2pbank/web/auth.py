"""Sign up (by a mailed link), sign in, sign out, password change."""

from __future__ import annotations

import logging

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from p2pbank.db import db_session
from p2pbank.errors import DomainError, InvalidState, Unauthorized
from p2pbank.extensions import client_source, limiter
from p2pbank.identity import services, sign_ins, signup_services
from p2pbank.identity.rules import same_site_path
from p2pbank.identity.schemas import ChangePasswordIn, SignInIn, SignUpIn
from p2pbank.links import absolute_url
from p2pbank.web.errors import N_
from p2pbank.web.forms import form_errors, load_form

log = logging.getLogger("p2pbank.identity")

bp = Blueprint("auth", __name__)


def _login_account_key() -> str:
    """Failed sign-ins count per account AND source: guesses from one place lock that place
    out of the account, never the owner elsewhere (anyone could lock anyone out); the
    per-source limit still bounds guessing across accounts."""
    email = request.form.get("email", "").strip().lower()[:254]
    return f"login-account:{email}:{client_source()}"


def _safe_next(target: str | None) -> str:
    return same_site_path(target) or url_for("main.dashboard")


def start_session(user) -> None:
    """Rotate the session at sign-in so a planted session id is worthless; the cookie
    carries the key of a new server-side sign-in (ended again at sign-out)."""
    next_url = session.get("next")
    session.clear()
    user.sign_in_key = sign_ins.start(db_session(), user.id)
    login_user(user)
    if next_url:
        session["next"] = next_url


@bp.route("/signup", methods=["GET", "POST"])
@limiter.limit(
    lambda: _cfg("SIGN_UP_LIMIT_PER_IP"),
    methods=["POST"],
    deduct_when=lambda response: response.status_code == 200,
    error_message=N_("Too many sign-ups."),
)
@limiter.limit(
    lambda: _cfg("SIGN_UP_LIMIT_PER_EMAIL"),
    methods=["POST"],
    key_func=lambda: "sign-up-email:" + request.form.get("email", "").strip().lower()[:254],
    deduct_when=lambda response: response.status_code == 200,
    error_message=N_("Too many sign-ups for this address."),
)
def signup():
    """The same "check your mail" answer for every valid request: whether the address has
    an account is told only to the address itself (see signup_services)."""
    errors: dict = {}
    if request.method == "POST":
        data, errors = load_form(SignUpIn())
        if data is not None:
            try:
                link = signup_services.request_sign_up(
                    db_session(),
                    **data,
                    language=str(get_locale()),
                    ttl_seconds=int(_cfg("SIGN_UP_TTL_SECONDS")),
                    link_for=lambda token: absolute_url("auth.confirm_signup", token=token),
                    sign_in_link=absolute_url("auth.login"),
                    reset_link=absolute_url("password_reset.forgot"),
                )
            except DomainError as exc:
                errors = form_errors(exc, error_pages=())
            else:
                if link and _cfg("ENV") != "production":
                    log.info("sign-up link for %s: %s", data["email"], link)  # no mail server
                return render_template("auth/signup_requested.html", email=data["email"])
    return render_template("auth/signup.html", errors=errors, form=request.form), (
        422 if errors else 200
    )


@bp.route("/signup/confirm/<string(maxlength=128):token>", methods=["GET", "POST"])
def confirm_signup(token: str):
    """Opening the mailed link shows a button; only the button creates the account (mail
    scanners open links too)."""
    try:
        pending = signup_services.check_sign_up_link(db_session(), token)
        if request.method == "POST":
            user = signup_services.confirm_sign_up(db_session(), token)
            start_session(user)
            flash(_("Welcome to p2pbank, %(name)s.", name=user.display_name), "success")
            return redirect(url_for("main.dashboard"))
    except InvalidState:
        return render_template("auth/signup_invalid.html"), 410
    return render_template("auth/signup_confirm.html", pending=pending)


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(
    lambda: _cfg("LOGIN_LIMIT_PER_IP"), methods=["POST"], error_message="Too many sign-in attempts."
)
@limiter.limit(
    lambda: _cfg("LOGIN_LIMIT_PER_ACCOUNT"),
    methods=["POST"],
    key_func=_login_account_key,
    error_message="Too many sign-in attempts for this account.",
)
def login():
    error = None
    if request.method == "POST":
        data, errors = load_form(SignInIn())
        if data is None:
            error = _("Enter your e-mail address and password.")
        else:
            try:
                user = services.authenticate(db_session(), **data)
            except Unauthorized:
                error = _("E-mail address or password is wrong.")
            else:
                if user.totp_enabled:
                    session.clear()
                    session["2fa_user_id"] = user.id
                    session["2fa_epoch"] = user.session_epoch
                    session["next"] = _safe_next(request.args.get("next"))
                    return redirect(url_for("twofactor.challenge"))
                start_session(user)
                return redirect(_safe_next(request.args.get("next")))
    status = 401 if error else 200
    return render_template("auth/login.html", error=error, form=request.form), status


def _cfg(key: str) -> str:
    from flask import current_app

    return current_app.config[key]


@bp.post("/logout")
@login_required
def logout():
    sign_ins.end(db_session(), current_user.sign_in_key)  # a copied cookie dies with it
    logout_user()
    session.clear()
    flash(_("You are signed out."), "info")
    return redirect(url_for("main.index"))


@bp.route("/settings/password", methods=["GET", "POST"])
@login_required
def change_password():
    errors: dict = {}
    if request.method == "POST":
        data, errors = load_form(ChangePasswordIn())
        if data is not None:
            try:
                user = services.change_password(
                    db_session(),
                    current_user.id,
                    current=data["current_password"],
                    new=data["new_password"],
                )
            except DomainError as exc:
                errors = form_errors(exc, error_pages=())
            else:
                start_session(user)  # the epoch changed: re-issue this session
                flash(_("Your password was changed."), "success")
                return redirect(url_for("main.dashboard"))
    return render_template("auth/change_password.html", errors=errors), (422 if errors else 200)

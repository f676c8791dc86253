"""Two-factor sign-in pages: the sign-in challenge, enrolment with a QR code, recovery codes,
turning it off; and the rule that auditors and admins use no page before they enrol."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from p2pbank.clock import now
from p2pbank.db import db_session
from p2pbank.errors import DomainError, InvalidState, NotFound, Unauthorized
from p2pbank.extensions import limiter
from p2pbank.identity import services, twofactor, twofactor_services
from p2pbank.identity.schemas import CodeIn
from p2pbank.web.auth import _safe_next, start_session
from p2pbank.web.forms import ALL_BUT_CONFLICTS, form_errors, load_form

bp = Blueprint("twofactor", __name__)

# How long a password-checked sign-in may wait for its second factor.
CHALLENGE_SECONDS = 600

# What a person who must enrol may still open (everything else sends them to enrolment).
ENROLMENT_ENDPOINTS = frozenset(
    {
        "twofactor.settings",
        "twofactor.start",
        "twofactor.qr",
        "twofactor.confirm",
        "twofactor.cancel",
        "twofactor.challenge",
        "auth.logout",
        "static",
        "main.healthz",
        "main.readyz",
    }
)


def _no_store(response):
    """Pages that show a secret must not stay in any cache or history snapshot."""
    response = current_app.make_response(response)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.before_app_request
def require_two_factor_for_privileged():
    """Auditors and admins without two-factor sign-in are sent to enrolment first. (The API
    refuses their tokens in the service layer, so API paths are left to it.)"""
    if request.endpoint in ENROLMENT_ENDPOINTS or request.endpoint is None:
        return None
    if request.path.startswith("/api/"):
        return None
    if current_user.is_authenticated and current_user.two_factor_missing:
        flash(
            _(
                "Your role (auditor or admin) requires two-factor sign-in. "
                "Set it up now to continue."
            ),
            "warning",
        )
        return redirect(url_for("twofactor.settings"), code=303)
    return None


# --- the sign-in challenge ------------------------------------------------------------------


def _cfg(key: str) -> str:
    return current_app.config[key]


def _challenge_account_key() -> str:
    return f"2fa-account:{session.get('2fa_user_id')}"


def _no_pending_challenge() -> bool:
    return "2fa_user_id" not in session


def _failed(response) -> bool:
    return response.status_code >= 400


def _abandon_challenge(message: str):
    for key in ("2fa_user_id", "2fa_epoch", "2fa_deadline", "2fa_next", "next"):
        session.pop(key, None)
    flash(message, "warning")
    return redirect(url_for("auth.login"))


@bp.route("/login/two-factor", methods=["GET", "POST"])
@limiter.limit(
    lambda: _cfg("LOGIN_LIMIT_PER_IP"),
    methods=["POST"],
    deduct_when=_failed,
    error_message="Too many two-factor attempts.",
)
@limiter.limit(
    lambda: _cfg("LOGIN_LIMIT_PER_ACCOUNT"),
    methods=["POST"],
    key_func=_challenge_account_key,
    deduct_when=_failed,
    exempt_when=_no_pending_challenge,
    error_message="Too many two-factor attempts for this account.",
)
def challenge():
    if "next" in session:
        # Flask-Login's "strong" session protection drops a key called "next" as soon as a
        # page looks at the (still anonymous) user: keep it under our own name.
        session["2fa_next"] = session.pop("next")
    user_id = session.get("2fa_user_id")
    if user_id is None:
        return redirect(url_for("auth.login"))
    moment = now().timestamp()
    deadline = session.setdefault("2fa_deadline", moment + CHALLENGE_SECONDS)
    if moment > deadline:
        return _abandon_challenge(_("That took too long. Sign in again."))
    try:
        user = services.get_user(db_session(), user_id)
    except NotFound:
        return _abandon_challenge(_("Sign in again."))
    if user.session_epoch != session.get("2fa_epoch") or not user.totp_enabled:
        return _abandon_challenge(_("Your account changed meanwhile. Sign in again."))
    error = None
    if request.method == "POST":
        data, _errors = load_form(CodeIn())
        if data is None:
            error = _("Enter the code from your authenticator app, or a recovery code.")
        else:
            try:
                result = twofactor_services.verify_second_factor(
                    db_session(), user.id, data["code"]
                )
            except Unauthorized:
                error = _("The code is wrong, expired or was already used.")
            else:
                next_url = session.get("2fa_next")
                start_session(user)  # clears the session, then signs in: a new session
                session.pop("next", None)
                if result.method == "recovery":
                    flash(
                        _(
                            "You signed in with a recovery code. %(count)d codes are left; "
                            "make new ones on the two-factor page when you run low.",
                            count=result.recovery_codes_left,
                        ),
                        "warning",
                    )
                return redirect(_safe_next(next_url))
    status = 401 if error else 200
    return render_template("twofactor/challenge.html", error=error), status


# --- enrolment and settings -----------------------------------------------------------------


@bp.get("/settings/two-factor")
@login_required
def settings():
    user = current_user
    left = twofactor_services.recovery_codes_left(db_session(), user.id)
    secret = user.totp_secret if user.totp_pending else None
    page = render_template(
        "twofactor/settings.html",
        user=user,
        secret=secret,
        secret_groups=_groups(secret) if secret else "",
        codes_left=left,
        errors={},
    )
    return _no_store(page)


def _groups(secret: str) -> str:
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


@bp.post("/settings/two-factor/start")
@login_required
def start():
    twofactor_services.start_enrolment(db_session(), current_user.id)
    return redirect(url_for("twofactor.settings") + "#setup")


@bp.get("/settings/two-factor/qr.svg")
@login_required
def qr():
    try:
        uri = twofactor_services.enrolment_uri(db_session(), current_user.id)
    except InvalidState as exc:
        raise NotFound("There is no two-factor set-up in progress.") from exc
    response = Response(twofactor.qr_svg(uri), mimetype="image/svg+xml")
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/settings/two-factor/confirm")
@login_required
def confirm():
    user_id = current_user.id
    data, errors = load_form(CodeIn())
    if data is not None:
        try:
            codes = twofactor_services.confirm_enrolment(db_session(), user_id, data["code"])
        except DomainError as exc:
            errors = form_errors(exc, no_field="code", error_pages=())
        else:
            # The account's epoch moved (other sessions end): re-issue this one.
            start_session(services.get_user(db_session(), user_id))
            flash(_("Two-factor sign-in is on."), "success")
            page = render_template("twofactor/recovery_codes.html", codes=codes, fresh=True)
            return _no_store(page)
    user = services.get_user(db_session(), user_id)
    page = render_template(
        "twofactor/settings.html",
        user=user,
        secret=user.totp_secret if user.totp_pending else None,
        secret_groups=_groups(user.totp_secret) if user.totp_pending else "",
        codes_left=0,
        errors=errors,
    )
    return _no_store((page, 422))


@bp.post("/settings/two-factor/cancel")
@login_required
def cancel():
    twofactor_services.cancel_enrolment(db_session(), current_user.id)
    flash(_("The set-up was cancelled."), "info")
    return redirect(url_for("twofactor.settings"))


@bp.post("/settings/two-factor/recovery-codes")
@login_required
def recovery_codes():
    data, errors = load_form(CodeIn())
    if data is not None:
        try:
            codes = twofactor_services.regenerate_recovery_codes(
                db_session(), current_user.id, data["code"]
            )
        except DomainError as exc:
            errors = form_errors(exc, no_field="code", error_pages=ALL_BUT_CONFLICTS)
        else:
            flash(_("New recovery codes were made; the old ones no longer work."), "success")
            page = render_template("twofactor/recovery_codes.html", codes=codes, fresh=False)
            return _no_store(page)
    return _settings_with_errors("recovery", errors)


@bp.post("/settings/two-factor/disable")
@login_required
def disable():
    user_id = current_user.id
    data, errors = load_form(CodeIn())
    if data is not None:
        try:
            twofactor_services.disable(db_session(), user_id, data["code"])
        except DomainError as exc:
            # Forbidden for auditors and admins goes to the error page
            errors = form_errors(exc, no_field="code", error_pages=ALL_BUT_CONFLICTS)
        else:
            start_session(services.get_user(db_session(), user_id))
            flash(_("Two-factor sign-in is off."), "info")
            return redirect(url_for("twofactor.settings"))
    return _settings_with_errors("disable", errors)


def _settings_with_errors(failed: str, errors: dict):
    user = services.get_user(db_session(), current_user.id)
    page = render_template(
        "twofactor/settings.html",
        user=user,
        secret=None,
        secret_groups="",
        codes_left=twofactor_services.recovery_codes_left(db_session(), user.id),
        errors={},
        **{f"{failed}_errors": errors},
    )
    return _no_store((page, 422))

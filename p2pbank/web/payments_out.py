"""Payment pages for money out: withdrawals, the payout account (onboarding, the sandbox
test bank), and for staff reconciliation and refunds. The routes join the payments
blueprint (same URLs and endpoint names).
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import (
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from p2pbank.db import db_session
from p2pbank.errors import DomainError, ValidationFailed
from p2pbank.links import absolute_url
from p2pbank.money_text import format_minor
from p2pbank.payments import payouts, queries, refunds
from p2pbank.payments.gateway import GatewayError
from p2pbank.payments.reconcile import reconcile
from p2pbank.payments.schemas import (
    RefundForm,
    TestBankIn,
    WithdrawalForm,
)
from p2pbank.permissions import Permission, require
from p2pbank.web.forms import SERVER_ERRORS, form_errors, form_key, load_form
from p2pbank.web.payments import bp, deliver_events, gateway, payment_settings

# The services name the amount `amount_minor`; the forms call it `amount`.
AMOUNT_FIELD = {"amount_minor": "amount"}


@bp.route("/withdraw", methods=["GET", "POST"])
@login_required
def withdraw():
    session = db_session()
    errors: dict = {}
    form = request.form
    if request.method == "POST":
        data, errors = load_form(WithdrawalForm())
        if data is not None:
            try:
                payout = payouts.withdraw(
                    session,
                    gateway(),
                    current_user.id,
                    amount_minor=data["amount"],
                    idempotency_key=data["idempotency_key"],
                    totp_code=data.get("totp_code"),
                )
            except DomainError as exc:
                errors = form_errors(exc, renamed=AMOUNT_FIELD, error_pages=SERVER_ERRORS)
            else:
                deliver_events()
                if payout.status == "paid":
                    flash(
                        _(
                            "%(amount)s is on its way to your bank account.",
                            amount=format_minor(payout.amount_minor, payout.currency),
                        ),
                        "success",
                    )
                else:
                    flash(
                        _(
                            "The withdrawal failed: %(reason)s The money stays in your wallet.",
                            reason=payout.failure_message or "",
                        ),
                        "error",
                    )
                return redirect(url_for(".overview"))
    return render_template(
        "payments/withdraw.html",
        errors=errors,
        form=form,
        key=form_key(form),
        wallet=queries.wallet(session, current_user.id),
        account=queries.payout_account(session, current_user.id),
        needs_code=current_user.totp_enabled,
    ), (422 if errors else 200)


@bp.get("/payout-account")
@login_required
def payout_account():
    return render_template(
        "payments/payout_account.html",
        account=queries.payout_account(db_session(), current_user.id),
        test_mode=gateway().name == "test",
        errors={},
        form={},
    )


@bp.post("/payout-account")
@login_required
def payout_account_start():
    url = payouts.onboard_payouts(
        db_session(),
        gateway(),
        current_user.id,
        refresh_url=absolute_url("payments.payout_account"),
        return_url=absolute_url("payments.payout_account_return"),
        country=payment_settings().payout_country,
    )
    return redirect(url)


@bp.get("/payout-account/return")
@login_required
def payout_account_return():
    """Back from the gateway's onboarding: read the account's state from the gateway."""
    payouts.refresh_payout_account(db_session(), gateway(), current_user.id)
    return redirect(url_for(".payout_account"))


@bp.post("/payout-account/test-bank")
@login_required
def payout_account_test_bank():
    data, errors = load_form(TestBankIn())
    if data is not None:
        try:
            payouts.complete_test_onboarding(
                db_session(), gateway(), current_user.id, iban=data["iban"]
            )
        except (ValidationFailed, GatewayError) as exc:
            errors = form_errors(exc, no_field="iban", error_pages=())
        else:
            deliver_events()
            flash(_("Your bank account is ready for withdrawals."), "success")
            return redirect(url_for(".payout_account"))
    return render_template(
        "payments/payout_account.html",
        account=queries.payout_account(db_session(), current_user.id),
        test_mode=True,
        errors=errors,
        form=request.form,
    ), 422


@bp.get("/reconciliation")
@login_required
def reconciliation():
    session = db_session()
    queries.require_books(session, current_user.id)
    since = None
    raw = request.args.get("since", "").strip()
    if raw:
        try:
            since = datetime.fromisoformat(raw)
        except ValueError as exc:
            raise ValidationFailed(_("Give the date as YYYY-MM-DD.")) from exc
        if since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
    report = reconcile(session, gateway(), since=since)
    events = queries.recent_events(session, current_user.id, limit=20)
    return render_template("payments/reconciliation.html", report=report, since=raw, events=events)


@bp.route("/refunds", methods=["GET", "POST"])
@login_required
def refund():
    session = db_session()
    require(
        current_user.role_names,
        Permission.REFUND_DEPOSITS,
        _("Only an admin can refund a deposit."),
    )
    errors: dict = {}
    form = request.form
    if request.method == "POST":
        data, errors = load_form(RefundForm())
        if data is not None:
            try:
                row = refunds.refund_deposit(
                    session,
                    gateway(),
                    current_user.id,
                    data["payment_id"],
                    amount_minor=data["amount"],
                    reason=data["reason"],
                    idempotency_key=data["idempotency_key"],
                )
            except DomainError as exc:
                errors = form_errors(exc, renamed=AMOUNT_FIELD, error_pages=SERVER_ERRORS)
            else:
                deliver_events()
                flash(_("Refund %(id)s: %(status)s", id=row.id, status=_(row.status)), "info")
                return redirect(url_for(".refund"))
    return render_template(
        "payments/refund.html",
        errors=errors,
        form=form,
        key=form_key(form),
    ), (422 if errors else 200)

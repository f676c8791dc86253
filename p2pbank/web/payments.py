"""Deposit, withdraw, payout account, reconciliation and the gateway's webhook endpoint.

Thin: every page calls p2pbank.payments services or queries. Pages that use the embedded
test-mode gateway say so with the "test mode — no real money" banner."""

from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from p2pbank.db import db_session
from p2pbank.errors import ValidationFailed
from p2pbank.extensions import csrf
from p2pbank.money_text import format_minor
from p2pbank.payments import queries, services, webhooks
from p2pbank.payments.gateway import PaymentGateway
from p2pbank.payments.models import PaymentStatus
from p2pbank.payments.schemas import (
    AuthenticationForm,
    DepositForm,
    TestCardIn,
)
from p2pbank.payments.settings import PaymentSettings, make_gateway
from p2pbank.permissions import Permission
from p2pbank.web.forms import form_key, load_form
from p2pbank.web.nav import dashboard_panel, everyone, has_permission, nav_item

bp = Blueprint("payments", __name__, url_prefix="/payments")
webhook_bp = Blueprint("payment_webhooks", __name__)

nav_item("Deposit & withdraw", "payments.overview", visible=everyone, order=25, group="wallet")
nav_item(
    "Reconciliation",
    "payments.reconciliation",
    visible=has_permission(Permission.READ_BOOKS),
    order=91,
    group="audit",
)
dashboard_panel("payments/_panel.html", visible=everyone, order=12)

# Stripe.js is loaded from Stripe on the one page that takes a card with Stripe.
STRIPE_CSP = (
    "default-src 'self'; script-src 'self' https://js.stripe.com; style-src 'self'; "
    "img-src 'self' data:; frame-src https://js.stripe.com https://hooks.stripe.com; "
    "connect-src 'self' https://api.stripe.com; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)


def payment_settings() -> PaymentSettings:
    return PaymentSettings.from_mapping(current_app.config)


def gateway() -> PaymentGateway:
    """This request's gateway: Stripe when configured, else the test-mode gateway."""
    if "payment_gateway" not in g:
        g.payment_gateway = make_gateway(db_session(), payment_settings())
    return g.payment_gateway


def deliver_events() -> None:
    """Test mode: hand the gateway's new events to the webhook handler right away."""
    if gateway().name == "test":
        webhooks.deliver_test_mode_events(db_session(), gateway())


@bp.app_context_processor
def _payments_context():
    def payments_test_mode() -> bool:
        return payment_settings().is_test_mode

    def payments_notices(user):
        return queries.payout_notices(db_session(), user.id, limit=3)

    return {"payments_test_mode": payments_test_mode, "payments_notices": payments_notices}


# --- overview ------------------------------------------------------------------------------


@bp.get("")
@login_required
def overview():
    session = db_session()
    return render_template(
        "payments/overview.html",
        wallet=queries.wallet(session, current_user.id),
        deposits=queries.deposits(session, current_user.id),
        payouts=queries.withdrawals(session, current_user.id),
        account=queries.payout_account(session, current_user.id),
        notices=queries.payout_notices(session, current_user.id),
    )


# --- deposits ------------------------------------------------------------------------------


@bp.route("/deposit", methods=["GET", "POST"])
@login_required
def deposit_new():
    settings = payment_settings()
    errors: dict = {}
    form = request.form
    if request.method == "POST":
        data, errors = load_form(DepositForm())
        if data is not None:
            try:
                started = services.start_deposit(
                    db_session(),
                    gateway(),
                    current_user.id,
                    amount_minor=data["amount"],
                    idempotency_key=data["idempotency_key"],
                    min_minor=settings.min_deposit_minor,
                    max_minor=settings.max_deposit_minor,
                )
            except ValidationFailed as exc:
                errors = {"amount": exc.field_errors.get("amount_minor", [exc.detail])}
            else:
                return redirect(url_for(".deposit", payment_id=started.payment.id))
    return render_template(
        "payments/deposit_new.html",
        errors=errors,
        form=form,
        key=form_key(form),
        min_text=format_minor(settings.min_deposit_minor),
        max_text=format_minor(settings.max_deposit_minor),
    ), (422 if errors else 200)


@bp.get("/deposits/<int:payment_id>")
@login_required
def deposit(payment_id: int):
    session = db_session()
    payment = queries.deposit(session, current_user.id, payment_id)
    client_secret = None
    stripe_page = gateway().name == "stripe"
    waiting = payment.status in (PaymentStatus.PENDING, PaymentStatus.FAILED)
    if stripe_page and waiting and payment.gateway_payment_id:
        client_secret = gateway().get_payment(payment.gateway_payment_id).client_secret
    response = current_app.make_response(
        render_template(
            "payments/deposit.html",
            payment=payment,
            waiting=waiting,
            stripe_page=stripe_page,
            client_secret=client_secret,
            publishable_key=payment_settings().stripe_publishable_key,
            errors={},
        )
    )
    if client_secret:
        response.headers["Content-Security-Policy"] = STRIPE_CSP
    return response


@bp.post("/deposits/<int:payment_id>/card")
@login_required
def deposit_card(payment_id: int):
    data, errors = load_form(TestCardIn())
    if data is None:
        flash(_("Enter a card number."), "error")
        return redirect(url_for(".deposit", payment_id=payment_id))
    session = db_session()
    state = services.complete_test_card_payment(
        session, gateway(), current_user.id, payment_id, card_number=data["card_number"]
    )
    deliver_events()
    payment = queries.deposit(session, current_user.id, payment_id)
    if payment.status == PaymentStatus.SUCCEEDED:
        flash(_("Payment received. The money is in your wallet."), "success")
    elif payment.status == PaymentStatus.NEEDS_ACTION:
        flash(_("Your bank asks you to confirm this payment."), "warning")
    elif state.failure_message:
        flash(_("The card was not charged: %(reason)s", reason=state.failure_message), "error")
    return redirect(url_for(".deposit", payment_id=payment_id))


@bp.post("/deposits/<int:payment_id>/authenticate")
@login_required
def deposit_authenticate(payment_id: int):
    data, errors = load_form(AuthenticationForm())
    if data is None:
        return redirect(url_for(".deposit", payment_id=payment_id))
    services.complete_test_authentication(
        db_session(),
        gateway(),
        current_user.id,
        payment_id,
        succeed=data["outcome"] == "complete",
    )
    deliver_events()
    payment = queries.deposit(db_session(), current_user.id, payment_id)
    if payment.status == PaymentStatus.SUCCEEDED:
        flash(_("Payment received. The money is in your wallet."), "success")
    else:
        flash(_("The payment was not authenticated; nothing was charged."), "error")
    return redirect(url_for(".deposit", payment_id=payment_id))


@bp.post("/deposits/<int:payment_id>/cancel")
@login_required
def deposit_cancel(payment_id: int):
    payment = services.cancel_deposit(db_session(), gateway(), current_user.id, payment_id)
    deliver_events()
    if payment.status == PaymentStatus.CANCELED:
        flash(_("The deposit was canceled. Nothing was charged."), "info")
    return redirect(url_for(".deposit", payment_id=payment_id))


@bp.get("/deposits/<int:payment_id>/return")
@login_required
def deposit_return(payment_id: int):
    """Where Stripe's payment page sends the payer back: ask Stripe how it went."""
    queries.deposit(db_session(), current_user.id, payment_id)  # only the owner
    services.sync_payment(db_session(), gateway(), payment_id)
    return redirect(url_for(".deposit", payment_id=payment_id))


# --- the gateway's webhook endpoint --------------------------------------------------------


@webhook_bp.post("/webhooks/stripe")
@csrf.exempt
def stripe_webhook():
    """Signed by the gateway, not by a browser: no session, no CSRF token. Forged, stale
    or malformed -> 400; duplicate -> 200 no-op; handler error -> 500 (the gateway retries)."""
    result = webhooks.handle_event(
        db_session(),
        gateway(),
        request.get_data(cache=False),
        request.headers.get("Stripe-Signature"),
    )
    return jsonify(received=True, duplicate=result.duplicate, outcome=result.outcome)

"""Payments API: deposits, withdrawals, the payout account, refunds (admins) and the
reconciliation report (auditors). Thin: each endpoint calls the same services as the pages.

Money is integer minor units (`amount_minor`) with its `currency`; every command takes an
`idempotency_key` of the caller's choosing, so a retried request never pays twice.
"""

from __future__ import annotations

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint

from p2pbank.api.auth import current_api_user, protect
from p2pbank.db import db_session
from p2pbank.errors import NotFound
from p2pbank.payments import payouts, queries, refunds, services, webhooks
from p2pbank.payments.reconcile import reconcile
from p2pbank.payments.schemas import (
    DepositIn,
    DepositOut,
    DepositStartedOut,
    OnboardIn,
    OnboardingOut,
    PayoutAccountOut,
    ReconcileArgs,
    ReconReportOut,
    RefundIn,
    RefundOut,
    TestBankIn,
    TestCardIn,
    WithdrawalIn,
    WithdrawalOut,
)
from p2pbank.payments.settings import PaymentSettings, make_gateway

blp = Blueprint(
    "payments_api",
    __name__,
    url_prefix="/api/v1/payments",
    description="Money in by card, money out to your bank, reconciliation",
)
protect(blp)


def _settings() -> PaymentSettings:
    return PaymentSettings.from_mapping(current_app.config)


def _gateway():
    return make_gateway(db_session(), _settings())


def _deliver(gateway) -> None:
    if gateway.name == "test":
        webhooks.deliver_test_mode_events(db_session(), gateway)


@blp.route("/deposits")
class Deposits(MethodView):
    @blp.response(200, DepositOut(many=True))
    def get(self):
        """Your deposits, newest first."""
        return queries.deposits(db_session(), current_api_user().id)

    @blp.arguments(DepositIn)
    @blp.response(201, DepositStartedOut)
    def post(self, data):
        """Start a deposit. Pay it with Stripe.js and the `client_secret` (or, in test mode,
        with POST .../test-card); your wallet is credited once the gateway confirms it."""
        settings = _settings()
        started = services.start_deposit(
            db_session(),
            _gateway(),
            current_api_user().id,
            amount_minor=data["amount_minor"],
            currency=data["currency"],
            idempotency_key=data["idempotency_key"],
            min_minor=settings.min_deposit_minor,
            max_minor=settings.max_deposit_minor,
        )
        payment = started.payment
        return {
            **{name: getattr(payment, name) for name in DepositOut().fields},
            "client_secret": started.client_secret,
        }


@blp.route("/deposits/<int:payment_id>")
class Deposit(MethodView):
    @blp.response(200, DepositOut)
    def get(self, payment_id: int):
        return queries.deposit(db_session(), current_api_user().id, payment_id)


@blp.route("/deposits/<int:payment_id>/test-card")
class DepositTestCard(MethodView):
    @blp.arguments(TestCardIn)
    @blp.response(200, DepositOut)
    def post(self, data, payment_id: int):
        """Test mode only: pay with one of Stripe's test cards (4242 4242 4242 4242 and
        friends). The answer shows the deposit after the gateway's events were handled."""
        gateway = _gateway()
        user = current_api_user()
        services.complete_test_card_payment(
            db_session(), gateway, user.id, payment_id, card_number=data["card_number"]
        )
        _deliver(gateway)
        return queries.deposit(db_session(), user.id, payment_id)


@blp.route("/deposits/<int:payment_id>/cancel")
class DepositCancel(MethodView):
    @blp.response(200, DepositOut)
    def post(self, payment_id: int):
        """Abandon a deposit that has not succeeded."""
        gateway = _gateway()
        payment = services.cancel_deposit(db_session(), gateway, current_api_user().id, payment_id)
        _deliver(gateway)
        return payment


@blp.route("/deposits/<int:payment_id>/refunds")
class DepositRefunds(MethodView):
    @blp.arguments(RefundIn)
    @blp.response(201, RefundOut)
    def post(self, data, payment_id: int):
        """Admins: refund (part of) a deposit to its card."""
        gateway = _gateway()
        refund = refunds.refund_deposit(
            db_session(), gateway, current_api_user().id, payment_id, **data
        )
        _deliver(gateway)
        return refund


@blp.route("/withdrawals")
class Withdrawals(MethodView):
    @blp.response(200, WithdrawalOut(many=True))
    def get(self):
        """Your withdrawals, newest first."""
        return queries.withdrawals(db_session(), current_api_user().id)

    @blp.arguments(WithdrawalIn)
    @blp.response(201, WithdrawalOut)
    def post(self, data):
        """Withdraw to your payout account. Needs a verified identity check, a payout
        account ready for payouts and, when two-factor sign-in is on, `totp_code`."""
        gateway = _gateway()
        payout = payouts.withdraw(
            db_session(),
            gateway,
            current_api_user().id,
            amount_minor=data["amount_minor"],
            currency=data["currency"],
            idempotency_key=data["idempotency_key"],
            totp_code=data["totp_code"],
        )
        _deliver(gateway)
        return payout


@blp.route("/withdrawals/<int:payout_id>")
class Withdrawal(MethodView):
    @blp.response(200, WithdrawalOut)
    def get(self, payout_id: int):
        return queries.withdrawal(db_session(), current_api_user().id, payout_id)


@blp.route("/payout-account")
class PayoutAccount(MethodView):
    @blp.response(200, PayoutAccountOut)
    def get(self):
        account = queries.payout_account(db_session(), current_api_user().id)
        if account is None:
            raise NotFound("You have no payout account yet.")
        return account

    @blp.arguments(OnboardIn)
    @blp.response(200, OnboardingOut)
    def post(self, data):
        """Open your payout account (once) and get the link where you finish onboarding."""
        url = payouts.onboard_payouts(
            db_session(),
            _gateway(),
            current_api_user().id,
            refresh_url=data["refresh_url"],
            return_url=data["return_url"],
            country=_settings().payout_country,
        )
        return {"onboarding_url": url}


@blp.route("/payout-account/test-bank")
class PayoutAccountTestBank(MethodView):
    @blp.arguments(TestBankIn)
    @blp.response(200, PayoutAccountOut)
    def post(self, data):
        """Test mode only: the bank details the provider's onboarding would collect."""
        gateway = _gateway()
        account = payouts.complete_test_onboarding(
            db_session(), gateway, current_api_user().id, iban=data["iban"]
        )
        _deliver(gateway)
        return account


@blp.route("/reconciliation")
class Reconciliation(MethodView):
    @blp.arguments(ReconcileArgs, location="query")
    @blp.response(200, ReconReportOut)
    def get(self, args):
        """Auditors: every gateway payment, refund and transfer against the ledger."""
        session = db_session()
        queries.require_books(session, current_api_user().id)
        return reconcile(session, _gateway(), since=args["since"])

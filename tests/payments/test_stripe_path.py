"""The whole Stripe path through our services: the official SDK against localstripe (and
the fake for Connect), with the signed webhooks the servers really send, handled by
`handle_event`."""

from __future__ import annotations

import time

import pytest

from p2pbank.ledger.queries import balances, wallet_summary
from p2pbank.payments import payouts, refunds, services, webhooks
from p2pbank.payments.models import PaymentStatus, PayoutStatus, RefundStatus
from p2pbank.payments.reconcile import MATCHED, reconcile
from tests.support.gateways import Gateways, make_stripe_gateway


@pytest.fixture
def stripe(session, stripe_servers) -> Gateways:
    return Gateways("stripe", make_stripe_gateway(stripe_servers), stripe_servers)


def _deliver(session, stripe: Gateways, event_type: str, object_id: str):
    delivery = stripe.event(event_type, object_id)
    return webhooks.handle_event(session, stripe.gateway, delivery.payload, delivery.signature)


def _key() -> str:
    return f"k{time.time_ns()}"


def test_deposit_withdraw_refund_and_reconcile_with_stripe(session, make_user, stripe):
    lena = make_user(kyc="verified")
    gateway = stripe.gateway

    started = services.start_deposit(
        session, gateway, lena.id, amount_minor=40_000, idempotency_key=_key()
    )
    payment = started.payment
    assert payment.gateway == "stripe" and started.client_secret
    stripe.pay(payment.gateway_payment_id, "ok")  # what Stripe.js does in the browser
    assert wallet_summary(session, lena.id).available == 0  # not before the webhook
    result = _deliver(session, stripe, "payment_intent.succeeded", payment.gateway_payment_id)
    assert result.outcome == "processed"
    session.refresh(payment)
    assert payment.status == PaymentStatus.SUCCEEDED
    assert payment.fee_minor == 0  # localstripe's balance transactions carry no fee
    assert wallet_summary(session, lena.id).available == 40_000

    url = payouts.onboard_payouts(
        session,
        gateway,
        lena.id,
        refresh_url="http://localhost/refresh",
        return_url="http://localhost/return",
    )
    assert "/_fake/onboarding/" in url
    account = payouts.refresh_payout_account(session, gateway, lena.id)
    stripe.onboard(account.gateway_account_id, "DE89370400440532013000")
    _deliver(session, stripe, "account.updated", account.gateway_account_id)
    session.refresh(account)
    assert account.payouts_enabled and account.bank_last4 == "3000"

    payout = payouts.withdraw(
        session, gateway, lena.id, amount_minor=15_000, idempotency_key=_key()
    )
    assert payout.status == PayoutStatus.PAID and payout.gateway_transfer_id.startswith("tr_")
    assert _deliver(session, stripe, "transfer.created", payout.gateway_transfer_id).outcome == (
        "processed"
    )
    _deliver(session, stripe, "payout.paid", account.gateway_account_id)
    session.refresh(account)
    assert account.last_bank_payout_status == "paid"
    assert wallet_summary(session, lena.id).available == 25_000

    admin = make_user(roles=["admin"])
    refund = refunds.refund_deposit(
        session,
        gateway,
        admin.id,
        payment.id,
        amount_minor=5_000,
        reason="asked",
        idempotency_key=_key(),
    )
    assert refund.status == RefundStatus.SUCCEEDED and refund.gateway_refund_id.startswith("re_")
    assert wallet_summary(session, lena.id).available == 20_000
    assert balances(session, services.CLEARING).posted == -40_000 + 15_000 + 5_000

    report = reconcile(session, gateway)
    ours = {payment.gateway_payment_id, payout.gateway_transfer_id, refund.gateway_refund_id}
    lines = {line.gateway_id: line for line in report.lines if line.gateway_id in ours}
    assert set(lines) == ours
    assert {line.status for line in lines.values()} == {MATCHED}
    assert lines[payout.gateway_transfer_id].ledger_minor == 15_000


def test_a_declined_card_with_stripe_changes_nothing(session, make_user, stripe):
    lena = make_user()
    started = services.start_deposit(
        session, stripe.gateway, lena.id, amount_minor=2_000, idempotency_key=_key()
    )
    stripe.pay(started.payment.gateway_payment_id, "declined")
    _deliver(session, stripe, "payment_intent.payment_failed", started.payment.gateway_payment_id)
    session.refresh(started.payment)
    assert started.payment.status == PaymentStatus.FAILED
    assert started.payment.failure_code == "card_declined"
    assert wallet_summary(session, lena.id).available == 0


def test_the_return_page_sync_credits_without_waiting_for_the_webhook(session, make_user, stripe):
    lena = make_user()
    started = services.start_deposit(
        session, stripe.gateway, lena.id, amount_minor=3_000, idempotency_key=_key()
    )
    stripe.pay(started.payment.gateway_payment_id, "ok")
    services.sync_payment(session, stripe.gateway, started.payment.id)
    assert wallet_summary(session, lena.id).available == 3_000
    # The webhook arriving afterwards changes nothing.
    _deliver(session, stripe, "payment_intent.succeeded", started.payment.gateway_payment_id)
    assert wallet_summary(session, lena.id).available == 3_000


def test_a_refund_the_gateway_refuses_releases_the_hold(session, make_user, stripe):
    """The payer's card was refunded outside our platform (e.g. in the dashboard): Stripe
    then refuses our refund, and the wallet amount we held is released."""
    lena = make_user()
    admin = make_user(roles=["admin"])
    started = services.start_deposit(
        session, stripe.gateway, lena.id, amount_minor=3_000, idempotency_key=_key()
    )
    stripe.pay(started.payment.gateway_payment_id, "ok")
    services.sync_payment(session, stripe.gateway, started.payment.id)
    from p2pbank.money import Money

    stripe.gateway.refund_payment(
        started.payment.gateway_payment_id,
        amount=Money(3_000, "EUR"),
        reference={},
        idempotency_key=_key(),
    )
    refund = refunds.refund_deposit(
        session,
        stripe.gateway,
        admin.id,
        started.payment.id,
        amount_minor=1_000,
        reason="asked",
        idempotency_key=_key(),
    )
    assert refund.status == RefundStatus.FAILED
    assert "already been refunded" in refund.failure_reason
    summary = wallet_summary(session, lena.id)
    assert (summary.held, summary.available) == (0, 3_000)
    report = reconcile(session, stripe.gateway)
    outside = [
        line
        for line in report.lines
        if line.kind == "refund" and line.note == "no refund of ours has this id"
    ]
    assert outside  # reconciliation shows the refund made outside the platform

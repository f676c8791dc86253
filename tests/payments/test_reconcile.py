"""Reconciliation: each gateway payment, fee, refund and transfer against exactly one
ledger entry; the CLI and the report agree and the CLI fails on any mismatch."""

from __future__ import annotations

from datetime import timedelta

import pytest

from p2pbank import clock
from p2pbank.payments import payouts, refunds, services, webhooks
from p2pbank.payments.reconcile import (
    AMOUNT_MISMATCH,
    MATCHED,
    MISSING_AT_GATEWAY,
    MISSING_IN_LEDGER,
    reconcile,
)
from p2pbank.payments.settings import PaymentSettings, make_gateway
from tests.support.money import deposit


@pytest.fixture
def gateway(app, session):
    """The gateway the app (and so the CLI) uses: test mode, in the test's transaction."""
    return make_gateway(session, PaymentSettings.from_mapping(app.config))


def _paid(session, gateway, user, amount=10_000, deliver=True):
    started = services.start_deposit(
        session, gateway, user.id, amount_minor=amount, idempotency_key=f"r{amount}-{user.id}"
    )
    services.complete_test_card_payment(
        session, gateway, user.id, started.payment.id, card_number="4242424242424242"
    )
    if deliver:
        webhooks.deliver_test_mode_events(session, gateway)
    session.refresh(started.payment)
    return started.payment


def _by_status(report):
    out: dict[str, list] = {}
    for line in report.lines:
        out.setdefault(line.status, []).append(line)
    return out


def _cli(app, *args):
    return app.test_cli_runner().invoke(args=["payments-reconcile", *args])


def test_everything_matches(app, session, make_user, gateway):
    lena = make_user(kyc="verified")
    payment = _paid(session, gateway, lena, 20_000)
    payouts.onboard_payouts(
        session, gateway, lena.id, refresh_url="http://x", return_url="http://x"
    )
    payouts.complete_test_onboarding(session, gateway, lena.id, iban="DE89370400440532013000")
    payout = payouts.withdraw(session, gateway, lena.id, amount_minor=5_000, idempotency_key="w")
    admin = make_user(roles=["admin"])
    refund = refunds.refund_deposit(
        session, gateway, admin.id, payment.id, amount_minor=1_000, reason="r", idempotency_key="r"
    )
    webhooks.deliver_test_mode_events(session, gateway)
    report = reconcile(session, gateway)
    assert report.ok, report.problems
    kinds = {(line.kind, line.gateway_id): line for line in report.lines}
    assert kinds[("payment", payment.gateway_payment_id)].ledger_minor == 20_000
    assert kinds[("transfer", payout.gateway_transfer_id)].ledger_minor == 5_000
    assert kinds[("refund", refund.gateway_refund_id)].ledger_minor == 1_000
    fee = next(line for line in report.lines if line.kind == "fee")
    assert (fee.gateway_minor, fee.ledger_minor) == (325, 325)  # 1.5% of €200 + €0.25
    result = _cli(app)
    assert result.exit_code == 0, result.output
    assert "matched" in result.output and payment.gateway_payment_id in result.output


def test_a_payment_the_webhook_never_delivered_is_missing_in_the_ledger(
    app, session, make_user, gateway
):
    lena = make_user()
    payment = _paid(session, gateway, lena, deliver=False)
    report = reconcile(session, gateway)
    missing = {line.kind: line for line in _by_status(report)[MISSING_IN_LEDGER]}
    assert set(missing) == {"payment", "fee"}  # neither the money nor its fee was booked
    assert (missing["payment"].gateway_id, missing["payment"].gateway_minor) == (
        payment.gateway_payment_id,
        10_000,
    )
    assert missing["fee"].gateway_minor == 175
    result = _cli(app)
    assert result.exit_code == 1
    assert "missing_in_ledger" in result.output
    # Delivering the events (or a sync) repairs it.
    webhooks.deliver_test_mode_events(session, gateway)
    assert reconcile(session, gateway).ok


def test_a_ledger_deposit_without_a_gateway_payment_is_missing_at_the_gateway(
    session, make_user, gateway
):
    lena = make_user()
    deposit(session, lena.id, 7_700, key="ghost", gateway_ref="pi_ghost")
    (line,) = _by_status(reconcile(session, gateway))[MISSING_AT_GATEWAY]
    assert (line.gateway_id, line.ledger_minor) == ("pi_ghost", 7_700)


def test_a_ledger_amount_that_differs_from_the_gateway(session, make_user, gateway):
    lena = make_user()
    payment = _paid(session, gateway, lena, deliver=False)
    deposit(session, lena.id, 9_999, key="wrong-amount", gateway_ref=payment.gateway_payment_id)
    lines = _by_status(reconcile(session, gateway))
    (line,) = lines[AMOUNT_MISMATCH]
    assert (line.gateway_minor, line.ledger_minor) == (10_000, 9_999)


def test_a_payment_booked_twice(session, make_user, gateway):
    lena = make_user()
    payment = _paid(session, gateway, lena)
    deposit(session, lena.id, 10_000, key="twice", gateway_ref=payment.gateway_payment_id)
    (line,) = _by_status(reconcile(session, gateway))[AMOUNT_MISMATCH]
    assert "booked 2 times" in line.note and line.ledger_minor == 20_000


def test_since_limits_the_report(app, session, make_user, gateway, frozen_now):
    lena = make_user()
    _paid(session, gateway, lena, 10_000)
    clock.advance(timedelta(days=3))
    later = _paid(session, gateway, lena, 20_000)
    report = reconcile(session, gateway, since=frozen_now + timedelta(days=1))
    assert [line.gateway_id for line in report.lines if line.kind == "payment"] == [
        later.gateway_payment_id
    ]
    assert report.ok
    result = _cli(app, "--since", (frozen_now + timedelta(days=1)).strftime("%Y-%m-%d"))
    assert result.exit_code == 0
    assert later.gateway_payment_id in result.output
    assert _cli(app, "--since", "yesterday").exit_code == 2  # click refuses the date


def test_a_failed_or_canceled_payment_needs_no_entry(session, make_user, gateway):
    lena = make_user()
    started = services.start_deposit(
        session, gateway, lena.id, amount_minor=1_500, idempotency_key="f"
    )
    services.complete_test_card_payment(
        session, gateway, lena.id, started.payment.id, card_number="4000000000000002"
    )
    webhooks.deliver_test_mode_events(session, gateway)
    report = reconcile(session, gateway)
    assert report.ok and report.lines == []
    assert MATCHED not in _by_status(report)

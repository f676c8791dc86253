"""The scheduled work: withdrawals stuck because the gateway could not be reached are sent
again (once), and the test-mode gateway's unacknowledged events are delivered again."""

from __future__ import annotations

from datetime import timedelta

import pytest

from p2pbank import clock
from p2pbank.jobs import run_due_work
from p2pbank.ledger.queries import wallet_summary
from p2pbank.payments import payouts, services
from p2pbank.payments.due import run_due_payments
from p2pbank.payments.gateway import GatewayUnavailable
from p2pbank.payments.models import PaymentStatus, PayoutStatus


class Unreachable:
    name = "test"
    is_test_mode = True

    def transfer_to_account(self, *args, **kwargs):
        raise GatewayUnavailable("no answer")


def test_a_stuck_withdrawal_is_sent_again_once(session, make_user, testmode_gateway, frozen_now):
    lena = make_user(kyc="verified")
    started = services.start_deposit(
        session, testmode_gateway, lena.id, amount_minor=10_000, idempotency_key="d"
    )
    services.complete_test_card_payment(
        session, testmode_gateway, lena.id, started.payment.id, card_number="4242424242424242"
    )
    payouts.onboard_payouts(
        session, testmode_gateway, lena.id, refresh_url="http://x", return_url="http://x"
    )
    payouts.complete_test_onboarding(
        session, testmode_gateway, lena.id, iban="DE89370400440532013000"
    )
    # The deposit's events were never delivered: the job delivers them.
    done = run_due_payments(session, testmode_gateway, clock.now())
    assert done["payments.events_redelivered"] >= 3
    session.refresh(started.payment)
    assert started.payment.status == PaymentStatus.SUCCEEDED

    payout = payouts.request_withdrawal(session, lena.id, amount_minor=4_000, idempotency_key="w")
    with pytest.raises(GatewayUnavailable):
        payouts.send_payout(session, Unreachable(), payout.id)
    assert run_due_payments(session, testmode_gateway, clock.now())["payments.payouts_resent"] == 0
    clock.advance(timedelta(minutes=11))
    done = run_due_work(session, clock.now(), payment_gateway=testmode_gateway)
    assert done["payments.payouts_resent"] == 1
    session.refresh(payout)
    assert payout.status == PayoutStatus.PAID
    assert run_due_payments(session, testmode_gateway, clock.now())["payments.payouts_resent"] == 0
    assert len(testmode_gateway.list_transfers()) == 1
    assert wallet_summary(session, lena.id).available == 6_000


def test_a_gateway_still_unreachable_leaves_it_for_the_next_run(
    session, make_user, testmode_gateway, frozen_now
):
    lena = make_user(kyc="verified")
    started = services.start_deposit(
        session, testmode_gateway, lena.id, amount_minor=10_000, idempotency_key="d"
    )
    services.complete_test_card_payment(
        session, testmode_gateway, lena.id, started.payment.id, card_number="4242424242424242"
    )
    payouts.onboard_payouts(
        session, testmode_gateway, lena.id, refresh_url="http://x", return_url="http://x"
    )
    payouts.complete_test_onboarding(
        session, testmode_gateway, lena.id, iban="DE89370400440532013000"
    )
    run_due_payments(session, testmode_gateway, clock.now())
    payout = payouts.request_withdrawal(session, lena.id, amount_minor=1_000, idempotency_key="w")
    clock.advance(timedelta(hours=1))
    down = Unreachable()
    down.name = "test"
    assert run_due_payments(session, down, clock.now())["payments.payouts_resent"] == 0
    session.refresh(payout)
    assert payout.status == PayoutStatus.REQUESTED
    assert wallet_summary(session, lena.id).held == 1_000

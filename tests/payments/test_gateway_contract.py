"""One behavioural contract, run against both gateways: the embedded test-mode gateway and
the Stripe gateway (the official SDK against localstripe and the fake in front of it)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from p2pbank.money import Money
from p2pbank.payments import signature
from p2pbank.payments.gateway import (
    CardDeclined,
    GatewayError,
    GatewayRefundStatus,
    IdempotencyConflict,
    IntentStatus,
    PaymentGateway,
    WebhookRejected,
)
from p2pbank.payments.rules import eea_card_fee_minor
from tests.support.gateways import WEBHOOK_SECRET

EUR = "EUR"
VALID_IBAN = "DE89370400440532013000"
FAILING_IBAN = "DE62370400440532013001"


def _key(name: str) -> str:
    return f"contract:{name}:{time.time_ns()}"


def _payment(gw, amount=2500, key=None, capture=True):
    return gw.gateway.create_payment(
        amount=Money(amount, EUR),
        reference={"p2pbank_payment_id": "0", "purpose": "contract"},
        idempotency_key=key or _key("pay"),
        capture=capture,
    )


def test_both_gateways_satisfy_the_protocol(gateways):
    assert isinstance(gateways.gateway, PaymentGateway)
    assert gateways.gateway.is_test_mode is True  # sk_test_ keys and test mode: no real money


def test_a_new_payment_waits_for_a_card(gateways):
    gp = _payment(gateways, 2500)
    assert gp.status == IntentStatus.NEEDS_METHOD
    assert gp.amount == Money(2500, EUR)
    assert gp.amount_received == Money(0, EUR)
    assert gp.metadata["purpose"] == "contract"
    assert gp.client_secret and gp.client_secret.startswith(gp.id)
    assert gateways.gateway.get_payment(gp.id).id == gp.id


def test_same_idempotency_key_returns_the_same_payment(gateways):
    key = _key("same")
    first = _payment(gateways, 1500, key=key)
    again = _payment(gateways, 1500, key=key)
    assert again.id == first.id


def test_same_key_with_other_parameters_is_refused(gateways):
    key = _key("other")
    _payment(gateways, 1500, key=key)
    with pytest.raises(IdempotencyConflict):
        _payment(gateways, 1600, key=key)


def test_a_good_card_succeeds_and_the_fee_comes_from_the_balance_transaction(gateways):
    gp = _payment(gateways, 10_000)
    gateways.pay(gp.id, "ok")
    paid = gateways.gateway.get_payment(gp.id)
    assert paid.status == IntentStatus.SUCCEEDED
    assert paid.amount_received == Money(10_000, EUR)
    assert paid.charge_id and paid.balance_transaction_id
    assert paid.fee is not None
    # localstripe books no fees; the test-mode gateway charges Stripe's EEA card price.
    expected = eea_card_fee_minor(10_000) if gateways.kind == "test" else 0
    assert paid.fee == Money(expected, EUR)
    delivery = gateways.event("payment_intent.succeeded", gp.id)
    event = gateways.gateway.parse_webhook(delivery.payload, delivery.signature)
    assert event.type == "payment_intent.succeeded" and event.object_id == gp.id


def test_a_declined_card_leaves_the_payment_waiting_with_the_reason(gateways):
    gp = _payment(gateways, 2500)
    gateways.pay(gp.id, "declined")
    state = gateways.gateway.get_payment(gp.id)
    assert state.status == IntentStatus.NEEDS_METHOD
    assert state.failed and state.failure_code
    assert state.amount_received == Money(0, EUR)
    delivery = gateways.event("payment_intent.payment_failed", gp.id)
    assert gateways.gateway.parse_webhook(delivery.payload, delivery.signature).id


def test_insufficient_funds_is_a_decline_with_its_own_code(gateways):
    gp = _payment(gateways, 2500)
    gateways.pay(gp.id, "insufficient_funds")
    state = gateways.gateway.get_payment(gp.id)
    assert state.failed and state.failure_code == "insufficient_funds"


@pytest.mark.parametrize("succeed", [True, False])
def test_a_card_that_needs_authentication(gateways, succeed):
    gp = _payment(gateways, 2500)
    gateways.pay(gp.id, "authenticate")
    assert gateways.gateway.get_payment(gp.id).status == IntentStatus.NEEDS_AUTHENTICATION
    gateways.authenticate(gp.id, succeed=succeed)
    state = gateways.gateway.get_payment(gp.id)
    if succeed:
        assert state.status == IntentStatus.SUCCEEDED
    else:
        assert state.status == IntentStatus.NEEDS_METHOD and state.failed


def test_an_authorization_is_captured_in_part(gateways):
    gp = _payment(gateways, 5000, capture=False)
    gateways.pay(gp.id, "ok")
    assert gateways.gateway.get_payment(gp.id).status == IntentStatus.AUTHORIZED
    captured = gateways.gateway.capture_payment(
        gp.id, amount=Money(3000, EUR), idempotency_key=_key("capture")
    )
    assert captured.status == IntentStatus.SUCCEEDED
    assert captured.amount_received == Money(3000, EUR)


def test_an_authorization_is_canceled(gateways):
    gp = _payment(gateways, 5000, capture=False)
    gateways.pay(gp.id, "ok")
    canceled = gateways.gateway.cancel_payment(gp.id, idempotency_key=_key("cancel"))
    assert canceled.status == IntentStatus.CANCELED


def test_a_succeeded_payment_cannot_be_canceled(gateways):
    gp = _payment(gateways, 2500)
    gateways.pay(gp.id, "ok")
    with pytest.raises(GatewayError):
        gateways.gateway.cancel_payment(gp.id, idempotency_key=_key("cancel"))


def test_refunds_never_exceed_what_is_left(gateways):
    gp = _payment(gateways, 4000)
    gateways.pay(gp.id, "ok")
    first = gateways.gateway.refund_payment(
        gp.id, amount=Money(1500, EUR), reference={"r": "1"}, idempotency_key=_key("r1")
    )
    assert first.status == GatewayRefundStatus.SUCCEEDED
    assert first.amount == Money(1500, EUR) and first.payment_id == gp.id
    with pytest.raises(GatewayError) as too_much:
        gateways.gateway.refund_payment(
            gp.id, amount=Money(2600, EUR), reference={"r": "2"}, idempotency_key=_key("r2")
        )
    assert too_much.value.code == "amount_too_large"
    gateways.gateway.refund_payment(
        gp.id, amount=Money(2500, EUR), reference={"r": "3"}, idempotency_key=_key("r3")
    )
    with pytest.raises(GatewayError) as again:
        gateways.gateway.refund_payment(
            gp.id, amount=Money(1, EUR), reference={"r": "4"}, idempotency_key=_key("r4")
        )
    assert again.value.code == "charge_already_refunded"
    assert gateways.gateway.get_refund(first.id).amount == Money(1500, EUR)


def test_a_refund_replayed_with_its_key_is_not_made_twice(gateways):
    gp = _payment(gateways, 4000)
    gateways.pay(gp.id, "ok")
    key = _key("refund-once")
    first = gateways.gateway.refund_payment(
        gp.id, amount=Money(4000, EUR), reference={}, idempotency_key=key
    )
    again = gateways.gateway.refund_payment(
        gp.id, amount=Money(4000, EUR), reference={}, idempotency_key=key
    )
    assert again.id == first.id


def test_a_saved_card_is_charged_off_session(gateways):
    customer = gateways.gateway.create_customer(
        email="saver@example.test", reference={"u": "1"}, idempotency_key=_key("cus")
    )
    setup = gateways.gateway.save_card(customer_id=customer, idempotency_key=_key("seti"))
    assert setup.status == "needs_method" and setup.customer_id == customer
    card = gateways.save_card(setup.id, "ok")
    charged = gateways.gateway.charge_saved_card(
        customer_id=customer,
        card_id=card,
        amount=Money(1200, EUR),
        reference={"why": "pledge"},
        idempotency_key=_key("offsession"),
    )
    assert charged.status == IntentStatus.SUCCEEDED
    assert charged.amount_received == Money(1200, EUR)


def test_a_saved_card_that_fails_when_charged(gateways):
    customer = gateways.gateway.create_customer(
        email="fails@example.test", reference={}, idempotency_key=_key("cus")
    )
    setup = gateways.gateway.save_card(customer_id=customer, idempotency_key=_key("seti"))
    card = gateways.save_card(setup.id, "charge_fails")
    with pytest.raises(CardDeclined):
        gateways.gateway.charge_saved_card(
            customer_id=customer,
            card_id=card,
            amount=Money(1200, EUR),
            reference={},
            idempotency_key=_key("offsession"),
        )


def test_payout_accounts_and_transfers(gateways):
    account = gateways.gateway.create_payout_account(
        email="payee@example.test", country="NL", reference={"u": "9"}, idempotency_key=_key("acct")
    )
    assert not account.payouts_enabled
    link = gateways.gateway.payout_onboarding_link(
        account.id, refresh_url="http://localhost/refresh", return_url="http://localhost/return"
    )
    assert link.startswith("http")
    with pytest.raises(GatewayError) as not_ready:
        gateways.gateway.transfer_to_account(
            account.id, amount=Money(500, EUR), reference={}, idempotency_key=_key("tr0")
        )
    assert not_ready.value.code == "insufficient_capabilities_for_transfer"
    gateways.onboard(account.id, VALID_IBAN)
    ready = gateways.gateway.get_payout_account(account.id)
    assert ready.payouts_enabled and ready.bank_last4 == "3000"
    key = _key("tr1")
    transfer = gateways.gateway.transfer_to_account(
        account.id,
        amount=Money(700, EUR),
        reference={"p2pbank_payout_id": "1"},
        idempotency_key=key,
    )
    again = gateways.gateway.transfer_to_account(
        account.id,
        amount=Money(700, EUR),
        reference={"p2pbank_payout_id": "1"},
        idempotency_key=key,
    )
    assert again.id == transfer.id
    assert transfer.account_id == account.id and transfer.amount == Money(700, EUR)
    assert gateways.gateway.get_transfer(transfer.id).amount_reversed == Money(0, EUR)
    paid = gateways.event("payout.paid", account.id)
    event = gateways.gateway.parse_webhook(paid.payload, paid.signature)
    assert event.account_id == account.id
    assert transfer.id in {t.id for t in gateways.gateway.list_transfers()}


def test_a_bank_payout_to_a_failing_test_iban_fails(gateways):
    account = gateways.gateway.create_payout_account(
        email="nobank@example.test", country="DE", reference={}, idempotency_key=_key("acct")
    )
    gateways.onboard(account.id, FAILING_IBAN)
    gateways.gateway.transfer_to_account(
        account.id, amount=Money(300, EUR), reference={}, idempotency_key=_key("tr")
    )
    failed = gateways.event("payout.failed", account.id)
    assert failed.event["data"]["object"]["failure_code"] == "no_account"


def test_a_reversed_transfer_reads_as_reversed(gateways):
    account = gateways.gateway.create_payout_account(
        email="rev@example.test", country="NL", reference={}, idempotency_key=_key("acct")
    )
    gateways.onboard(account.id, VALID_IBAN)
    transfer = gateways.gateway.transfer_to_account(
        account.id, amount=Money(900, EUR), reference={}, idempotency_key=_key("tr")
    )
    gateways.reverse_transfer(transfer.id)
    assert gateways.gateway.get_transfer(transfer.id).reversed
    gateways.event("transfer.reversed", transfer.id)


def test_lists_find_what_was_made(gateways):
    gp = _payment(gateways, 2100)
    gateways.pay(gp.id, "ok")
    refund = gateways.gateway.refund_payment(
        gp.id, amount=Money(100, EUR), reference={}, idempotency_key=_key("r")
    )
    assert gp.id in {p.id for p in gateways.gateway.list_payments()}
    assert refund.id in {r.id for r in gateways.gateway.list_refunds()}
    future = datetime.now(UTC) + timedelta(days=1)
    assert gp.id not in {p.id for p in gateways.gateway.list_payments(since=future)}


def test_unknown_objects_are_gateway_errors(gateways):
    with pytest.raises(GatewayError) as missing:
        gateways.gateway.get_payment("pi_doesnotexist")
    assert missing.value.code == "resource_missing"


# --- webhook verification ----------------------------------------------------------------


def _signed(gateways, event_type="payment_intent.succeeded", *, secret=WEBHOOK_SECRET, ts=None):
    body = (
        b'{"id": "evt_contract_1", "object": "event", "type": "'
        + event_type.encode()
        + b'", "created": 1, "data": {"object": {"id": "pi_x", "object": "payment_intent"}}}'
    )
    ts = int(time.time()) if ts is None else ts
    return body, signature.sign(body, secret, ts)


def test_a_correctly_signed_event_is_accepted(gateways):
    body, header = _signed(gateways)
    event = gateways.gateway.parse_webhook(body, header)
    assert (event.id, event.type, event.object_id) == (
        "evt_contract_1",
        "payment_intent.succeeded",
        "pi_x",
    )


@pytest.mark.parametrize(
    "tamper",
    [
        "forged_signature",
        "wrong_secret",
        "stale_timestamp",
        "no_header",
        "malformed_header",
        "body_changed",
        "not_json",
        "not_an_event",
    ],
)
def test_forged_stale_or_malformed_webhooks_are_rejected(gateways, tamper):
    body, header = _signed(gateways)
    if tamper == "forged_signature":
        header = header.split(",v1=")[0] + ",v1=" + "0" * 64
    elif tamper == "wrong_secret":
        body, header = _signed(gateways, secret="whsec_somebody_else")
    elif tamper == "stale_timestamp":
        body, header = _signed(gateways, ts=int(time.time()) - 301)
    elif tamper == "no_header":
        header = None
    elif tamper == "malformed_header":
        header = "this is not a signature"
    elif tamper == "body_changed":
        body = body.replace(b"pi_x", b"pi_y")
    elif tamper == "not_json":
        body = b"not json"
        header = signature.sign(body, WEBHOOK_SECRET, int(time.time()))
    elif tamper == "not_an_event":
        body = b'{"hello": "world"}'
        header = signature.sign(body, WEBHOOK_SECRET, int(time.time()))
    with pytest.raises(WebhookRejected):
        gateways.gateway.parse_webhook(body, header)

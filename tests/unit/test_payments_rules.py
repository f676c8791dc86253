"""Pure payment rules: amounts typed by people, deposit limits, Stripe's EEA card fee,
IBAN check digits, the card check digit, and Stripe's webhook signature scheme."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from hypothesis import given
from hypothesis import strategies as st

from p2pbank import money_text
from p2pbank.payments import rules, signature
from p2pbank.payments.gateway import IntentStatus, WebhookRejected, event_from_dict
from p2pbank.payments.sandbox_cards import TEST_CARDS, luhn_ok
from p2pbank.payments.shapes import payment_from


@pytest.mark.parametrize(
    ("text", "minor"),
    [
        ("10", 1000),
        ("10.5", 1050),
        ("10.05", 1005),
        ("0.01", 1),
        ("1,250.50", 125_050),
        (" €25 ", 2500),
        ("25000.00", 2_500_000),
        ("1 000", 100_000),
    ],
)
def test_parse_amount(text, minor):
    assert money_text.parse_amount(text) == minor


@pytest.mark.parametrize(
    "text",
    ["", "abc", "-5", "+5", "1.234", "1e3", "12,34", "1,2345.00", "10.", ".5", "NaN", "1_000"],
)
def test_parse_amount_refuses(text):
    with pytest.raises(ValueError):
        money_text.parse_amount(text)


@given(st.integers(min_value=0, max_value=10**12))
def test_parse_amount_round_trips_the_formatted_amount(minor):
    text = money_text.format_minor(minor).replace("€", "")
    assert money_text.parse_amount(text) == minor


def test_zero_decimal_currencies():
    assert money_text.parse_amount("1500", "JPY") == 1500
    with pytest.raises(ValueError):
        money_text.parse_amount("15.5", "JPY")


@pytest.mark.parametrize(
    ("amount", "errors"),
    [
        (999, ["The smallest deposit is €10.00."]),
        (1000, []),
        (2_500_000, []),
        (2_500_001, ["The largest deposit is €25,000.00."]),
    ],
)
def test_deposit_limits(amount, errors):
    assert rules.deposit_limit_errors(amount, min_minor=1000, max_minor=2_500_000) == errors


def test_deposit_limits_refuse_floats():
    assert rules.deposit_limit_errors(10.0, min_minor=1, max_minor=100) != []  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("amount", "fee"),
    # 1.5% + €0.25, rounded half away from zero on whole cents.
    [(1000, 40), (10_000, 175), (2_500_000, 37_525), (1, 25), (33, 25), (34, 26), (100, 27)],
)
def test_eea_card_fee(amount, fee):
    assert rules.eea_card_fee_minor(amount) == fee


@given(st.integers(min_value=1, max_value=10**10))
def test_the_fee_is_never_more_than_the_payment_above_a_euro(amount):
    fee = rules.eea_card_fee_minor(amount)
    assert fee >= 25
    if amount >= 100:
        assert fee < amount


@pytest.mark.parametrize(
    ("iban", "ok"),
    [
        ("DE89 3704 0044 0532 0130 00", True),
        ("de89370400440532013000", True),
        ("NL91ABNA0417164300", True),
        ("DE62370400440532013001", True),
        ("DE89370400440532013001", False),
        ("NL91ABNA041716430", False),
        ("XX", False),
        ("1234567890123456", False),
    ],
)
def test_iban_check_digits(iban, ok):
    assert rules.iban_is_valid(iban) is ok


def test_stripe_test_cards_pass_the_luhn_check():
    assert all(luhn_ok(number) for number in TEST_CARDS)
    assert not luhn_ok("4242424242424241")
    assert not luhn_ok("42424242")


# --- the signature scheme ------------------------------------------------------------------


def test_signature_matches_the_published_construction():
    payload, secret, ts = b'{"id": "evt_1"}', "whsec_abc", 1_700_000_000
    expected = hmac.new(secret.encode(), b"1700000000." + payload, hashlib.sha256).hexdigest()
    assert signature.sign(payload, secret, ts) == f"t=1700000000,v1={expected}"
    assert signature.verify(payload, f"t={ts},v1={expected}", secret, now_ts=ts + 300) == ts


def test_any_matching_v1_signature_is_enough():
    payload, ts = b"{}", 1_700_000_000
    good = signature.compute(payload, "s", ts)
    header = f"t={ts},v1={'0' * 64},v0=ignored,v1={good}"
    assert signature.verify(payload, header, "s", now_ts=ts)


@pytest.mark.parametrize(
    "header",
    [None, "", "t=1700000000", "v1=abc", "t=abc,v1=abc", "nonsense", "t=1700000000,v1=" + "0" * 64],
)
def test_bad_headers_are_refused(header):
    with pytest.raises(signature.SignatureError):
        signature.verify(b"{}", header, "s", now_ts=1_700_000_000)


def test_old_timestamps_are_refused_and_the_edge_is_inclusive():
    ts = 1_700_000_000
    header = signature.sign(b"{}", "s", ts)
    assert signature.verify(b"{}", header, "s", now_ts=ts + 300)
    with pytest.raises(signature.SignatureError):
        signature.verify(b"{}", header, "s", now_ts=ts + 301)


def test_no_secret_means_no_verification():
    with pytest.raises(signature.SignatureError):
        signature.verify(b"{}", signature.sign(b"{}", "", 1), "", now_ts=1)


@given(st.binary(max_size=200), st.text(min_size=1, max_size=40), st.integers(0, 2**32))
def test_sign_then_verify(payload, secret, ts):
    assert signature.verify(payload, signature.sign(payload, secret, ts), secret, now_ts=ts) == ts


# --- Stripe-shaped objects -----------------------------------------------------------------


def test_event_bodies_are_checked():
    with pytest.raises(WebhookRejected):
        event_from_dict({"id": "evt_1", "object": "event"})
    with pytest.raises(WebhookRejected):
        event_from_dict(
            {
                "id": "evt_1",
                "object": "list",
                "type": "x",
                "created": 1,
                "data": {"object": {"id": "x"}},
            }
        )
    event = event_from_dict(
        {
            "id": "evt_1",
            "object": "event",
            "type": "payout.paid",
            "created": 5,
            "account": "acct_1",
            "data": {"object": {"id": "po_1", "object": "payout"}},
        }
    )
    assert (event.object_type, event.object_id, event.account_id) == ("payout", "po_1", "acct_1")


def test_payment_shape_reads_the_fee_from_the_expanded_balance_transaction():
    pi = {
        "id": "pi_1",
        "object": "payment_intent",
        "amount": 10_000,
        "amount_received": 10_000,
        "currency": "eur",
        "status": "succeeded",
        "created": 1,
        "metadata": {"a": "b"},
        "latest_charge": {
            "id": "ch_1",
            "balance_transaction": {"id": "txn_1", "fee": 175, "currency": "eur"},
        },
    }
    state = payment_from(pi)
    assert state.status == IntentStatus.SUCCEEDED
    assert (state.fee.minor, state.balance_transaction_id, state.charge_id) == (
        175,
        "txn_1",
        "ch_1",
    )
    pi["latest_charge"] = "ch_1"
    assert payment_from(pi).fee is None  # not expanded: unknown, never guessed


def test_payment_shape_reads_a_decline():
    state = payment_from(
        {
            "id": "pi_1",
            "amount": 500,
            "currency": "eur",
            "status": "requires_payment_method",
            "last_payment_error": {
                "code": "card_declined",
                "decline_code": "insufficient_funds",
                "message": "Your card has insufficient funds.",
            },
        }
    )
    assert state.failed and state.failure_code == "insufficient_funds"
    assert state.amount_received.minor == 0

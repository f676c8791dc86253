"""Deposits through the services, against the real database and the test-mode gateway:
the wallet shows money only after the gateway confirmed it, exactly once, with the
gateway's fee booked from the balance transaction."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from p2pbank.errors import Conflict, InvalidState, NotFound, ValidationFailed
from p2pbank.ledger.models import JournalEntry
from p2pbank.ledger.queries import balances, wallet_summary
from p2pbank.ledger.services import PLATFORM_GATEWAY_CLEARING
from p2pbank.payments import services, webhooks
from p2pbank.payments.models import GatewayEvent, Payment, PaymentStatus
from p2pbank.payments.rules import eea_card_fee_minor
from tests.support.payments import card_deposit

GOOD, DECLINED, INSUFFICIENT, AUTH = (
    "4242 4242 4242 4242",
    "4000000000000002",
    "4000000000009995",
    "4000002760003184",
)


def _available(session, user_id: int) -> int:
    return wallet_summary(session, user_id).available


def _entries(session) -> int:
    return session.scalar(select(func.count(JournalEntry.id)))


def test_a_good_card_credits_the_wallet_once_the_gateway_confirms(
    session, make_user, testmode_gateway
):
    lena = make_user(roles=["lender"])
    started = services.start_deposit(
        session, testmode_gateway, lena.id, amount_minor=10_000, idempotency_key="k1"
    )
    payment = started.payment
    assert payment.status == PaymentStatus.PENDING
    assert payment.gateway == "test" and payment.gateway_payment_id.startswith("pi_")
    assert started.client_secret
    services.complete_test_card_payment(
        session, testmode_gateway, lena.id, payment.id, card_number=GOOD
    )
    assert _available(session, lena.id) == 0  # confirmed only by the event, not the form
    results = webhooks.deliver_test_mode_events(session, testmode_gateway)
    assert "payment_intent.succeeded" in {r.type for r in results}
    session.refresh(payment)
    assert payment.status == PaymentStatus.SUCCEEDED
    assert _available(session, lena.id) == 10_000
    assert payment.fee_minor == eea_card_fee_minor(10_000) == 175
    assert balances(session, "platform:gateway_fees").posted == -175
    # Clearing holds what the gateway holds for us: the payment less its fee.
    assert balances(session, PLATFORM_GATEWAY_CLEARING).posted == -10_000 + 175
    entry = session.get(JournalEntry, payment.ledger_entry_id)
    assert entry.kind == "deposit" and entry.gateway_ref == payment.gateway_payment_id


def test_delivering_the_same_events_again_changes_nothing(session, make_user, testmode_gateway):
    lena = make_user()
    payment = card_deposit(session, testmode_gateway, lena.id, 10_000, key="k1")
    rows = session.scalars(select(GatewayEvent)).all()
    before = (_entries(session), _available(session, lena.id))
    for row in rows:
        result = webhooks.handle_event(
            session,
            testmode_gateway,
            row.payload.encode(),
            testmode_gateway.sign(row.payload.encode()),
        )
        assert result.duplicate
    # A re-sync from the gateway converges on the same state too.
    services.sync_payment(session, testmode_gateway, payment.id)
    assert (_entries(session), _available(session, lena.id)) == before


@pytest.mark.parametrize(
    ("card", "code"),
    [
        (DECLINED, "generic_decline"),
        (INSUFFICIENT, "insufficient_funds"),
        ("4111 1111 1111 1111", "test_mode_live_card"),
    ],
)
def test_a_declined_card_changes_no_balance(session, make_user, testmode_gateway, card, code):
    lena = make_user()
    entries = _entries(session)
    payment = card_deposit(session, testmode_gateway, lena.id, 10_000, key="k1", card=card)
    assert payment.status == PaymentStatus.FAILED
    assert payment.failure_code == code and payment.failure_message
    assert _available(session, lena.id) == 0
    assert _entries(session) == entries


def test_after_a_decline_another_card_may_be_tried(session, make_user, testmode_gateway):
    lena = make_user()
    payment = card_deposit(session, testmode_gateway, lena.id, 10_000, key="k1", card=DECLINED)
    services.complete_test_card_payment(
        session, testmode_gateway, lena.id, payment.id, card_number=GOOD
    )
    webhooks.deliver_test_mode_events(session, testmode_gateway)
    session.refresh(payment)
    assert payment.status == PaymentStatus.SUCCEEDED
    assert payment.failure_code is None
    assert _available(session, lena.id) == 10_000


def test_a_malformed_card_number_is_refused_without_an_event(session, make_user, testmode_gateway):
    lena = make_user()
    payment = card_deposit(session, testmode_gateway, lena.id, 10_000, key="k1", card=None)
    gp = services.complete_test_card_payment(
        session, testmode_gateway, lena.id, payment.id, card_number="4242 4242 4242 4241"
    )
    assert gp.failure_code == "incorrect_number"
    assert _available(session, lena.id) == 0


@pytest.mark.parametrize("succeed", [True, False])
def test_three_d_secure(session, make_user, testmode_gateway, succeed):
    lena = make_user()
    payment = card_deposit(session, testmode_gateway, lena.id, 10_000, key="k1", card=AUTH)
    assert payment.status == PaymentStatus.NEEDS_ACTION
    services.complete_test_authentication(
        session, testmode_gateway, lena.id, payment.id, succeed=succeed
    )
    webhooks.deliver_test_mode_events(session, testmode_gateway)
    session.refresh(payment)
    if succeed:
        assert payment.status == PaymentStatus.SUCCEEDED
        assert _available(session, lena.id) == 10_000
    else:
        assert payment.status == PaymentStatus.FAILED
        assert payment.failure_code == "payment_intent_authentication_failure"
        assert _available(session, lena.id) == 0


@pytest.mark.parametrize(
    ("amount", "ok"),
    [(999, False), (1000, True), (2_500_000, True), (2_500_001, False), (0, False), (-5, False)],
)
def test_deposit_limits(session, make_user, testmode_gateway, amount, ok):
    lena = make_user()
    if ok:
        started = services.start_deposit(
            session, testmode_gateway, lena.id, amount_minor=amount, idempotency_key="x"
        )
        assert started.payment.amount_minor == amount
    else:
        with pytest.raises(ValidationFailed) as refused:
            services.start_deposit(
                session, testmode_gateway, lena.id, amount_minor=amount, idempotency_key="x"
            )
        assert "amount_minor" in refused.value.field_errors
        assert session.scalar(select(func.count(Payment.id))) == 0


def test_limits_are_configurable(session, make_user, testmode_gateway):
    lena = make_user()
    with pytest.raises(ValidationFailed):
        services.start_deposit(
            session,
            testmode_gateway,
            lena.id,
            amount_minor=5_000,
            idempotency_key="x",
            min_minor=100,
            max_minor=4_999,
        )
    started = services.start_deposit(
        session,
        testmode_gateway,
        lena.id,
        amount_minor=200,
        idempotency_key="y",
        min_minor=100,
        max_minor=4_999,
    )
    assert started.payment.amount_minor == 200


def test_the_same_idempotency_key_is_one_deposit(session, make_user, testmode_gateway):
    lena = make_user()
    first = services.start_deposit(
        session, testmode_gateway, lena.id, amount_minor=5000, idempotency_key="same"
    )
    again = services.start_deposit(
        session, testmode_gateway, lena.id, amount_minor=5000, idempotency_key="same"
    )
    assert again.payment.id == first.payment.id
    assert again.payment.gateway_payment_id == first.payment.gateway_payment_id
    with pytest.raises(Conflict):
        services.start_deposit(
            session, testmode_gateway, lena.id, amount_minor=6000, idempotency_key="same"
        )
    # Keys are per person: someone else's "same" is their own deposit.
    bo = make_user()
    other = services.start_deposit(
        session, testmode_gateway, bo.id, amount_minor=5000, idempotency_key="same"
    )
    assert other.payment.id != first.payment.id


def test_a_crash_before_the_gateway_id_was_recorded_converges(session, make_user, testmode_gateway):
    """The payment row is committed, the gateway payment made, and then the process dies
    before recording the id: the retry with the same key finds the same gateway payment."""
    lena = make_user()
    payment = services.open_deposit(
        session, lena.id, amount_minor=3000, idempotency_key="crash", gateway_name="test"
    )
    testmode_gateway.create_payment(
        amount=payment_amount(payment),
        reference={
            services.META_PAYMENT: str(payment.id),
            services.META_USER: str(lena.id),
            "purpose": "deposit",
        },
        idempotency_key=f"deposit:{payment.id}",
    )
    retried = services.start_deposit(
        session, testmode_gateway, lena.id, amount_minor=3000, idempotency_key="crash"
    )
    assert retried.payment.id == payment.id
    pis = testmode_gateway.list_payments()
    assert [p.id for p in pis].count(retried.payment.gateway_payment_id) == 1
    assert len(pis) == 1


def payment_amount(payment):
    from p2pbank.money import Money

    return Money(payment.amount_minor, payment.currency)


def test_a_person_cannot_pay_or_cancel_someone_elses_deposit(session, make_user, testmode_gateway):
    lena, bo = make_user(), make_user()
    payment = card_deposit(session, testmode_gateway, lena.id, 10_000, key="k1", card=None)
    with pytest.raises(NotFound):
        services.complete_test_card_payment(
            session, testmode_gateway, bo.id, payment.id, card_number=GOOD
        )
    with pytest.raises(NotFound):
        services.cancel_deposit(session, testmode_gateway, bo.id, payment.id)


def test_cancel_an_abandoned_deposit(session, make_user, testmode_gateway):
    lena = make_user()
    payment = card_deposit(session, testmode_gateway, lena.id, 10_000, key="k1", card=None)
    services.cancel_deposit(session, testmode_gateway, lena.id, payment.id)
    assert payment.status == PaymentStatus.CANCELED
    assert testmode_gateway.get_payment(payment.gateway_payment_id).status == "canceled"
    with pytest.raises(InvalidState):
        services.complete_test_card_payment(
            session, testmode_gateway, lena.id, payment.id, card_number=GOOD
        )
    assert _available(session, lena.id) == 0


def test_a_succeeded_deposit_cannot_be_canceled(session, make_user, testmode_gateway):
    lena = make_user()
    payment = card_deposit(session, testmode_gateway, lena.id, 10_000, key="k1")
    with pytest.raises(InvalidState):
        services.cancel_deposit(session, testmode_gateway, lena.id, payment.id)
    assert _available(session, lena.id) == 10_000


def test_test_cards_need_the_test_mode_gateway(session, make_user, testmode_gateway):
    lena = make_user()
    payment = card_deposit(session, testmode_gateway, lena.id, 10_000, key="k1", card=None)

    class LiveGateway:
        name = "test"
        is_test_mode = False

    with pytest.raises(InvalidState):
        services.complete_test_card_payment(
            session, LiveGateway(), lena.id, payment.id, card_number=GOOD
        )


def test_events_arriving_out_of_order_converge(session, make_user, testmode_gateway):
    """A late `payment_failed` (from an earlier attempt) after `succeeded` changes nothing:
    the handler re-fetches the gateway's current state."""
    lena = make_user()
    payment = card_deposit(session, testmode_gateway, lena.id, 10_000, key="k1", card=None)
    services.complete_test_card_payment(
        session, testmode_gateway, lena.id, payment.id, card_number=DECLINED
    )
    services.complete_test_card_payment(
        session, testmode_gateway, lena.id, payment.id, card_number=GOOD
    )
    events = testmode_gateway.undelivered_events()
    for row in reversed(events):  # newest first
        payload = row.payload.encode()
        webhooks.handle_event(session, testmode_gateway, payload, testmode_gateway.sign(payload))
    session.refresh(payment)
    assert payment.status == PaymentStatus.SUCCEEDED
    assert _available(session, lena.id) == 10_000


def test_a_real_card_number_typed_in_test_mode_is_never_kept(session, make_user, testmode_gateway):
    from p2pbank.payments.models import TestModeObject

    lena = make_user()
    payment = card_deposit(
        session, testmode_gateway, lena.id, 10_000, key="k1", card="4111 1111 1111 1111"
    )
    assert payment.status == PaymentStatus.FAILED
    stored = " ".join(session.scalars(select(TestModeObject.data)).all())
    assert "4111111111111111" not in stored
    assert '"last4": "1111"' in stored


def test_recorded_events_keep_no_client_secret(session, make_user, testmode_gateway):
    lena = make_user()
    started = services.start_deposit(
        session, testmode_gateway, lena.id, amount_minor=1_000, idempotency_key="s"
    )
    services.complete_test_card_payment(
        session, testmode_gateway, lena.id, started.payment.id, card_number=GOOD
    )
    webhooks.deliver_test_mode_events(session, testmode_gateway)
    payloads = session.scalars(select(GatewayEvent.payload)).all()
    assert payloads and all(started.client_secret not in p for p in payloads)
    assert any('"client_secret": "(redacted)"' in p for p in payloads)

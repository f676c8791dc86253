"""POST /webhooks/stripe, for real, with either gateway behind it: forged, stale or
malformed deliveries are refused with 400 and change nothing; a replay is a 200 no-op; an
event about a payment we do not know, or with an amount that is not ours, changes nothing;
a handler error is a 500 that leaves the event unrecorded so the retry processes it."""

from __future__ import annotations

import json
import time
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select

from p2pbank.ledger.models import JournalEntry
from p2pbank.ledger.queries import wallet_summary
from p2pbank.money import Money
from p2pbank.payments import services, signature
from p2pbank.payments.models import EventOutcome, GatewayEvent, Payment, PaymentStatus
from p2pbank.payments.settings import PaymentSettings, make_gateway
from tests.support.gateways import Delivery, Gateways, app_webhook_secret


@dataclass
class Endpoint:
    kind: str
    app: object
    client: object
    session: object
    harness: Gateways

    @property
    def gateway(self):
        return self.harness.gateway

    def post(self, payload: bytes, header: str | None):
        headers = {"Content-Type": "application/json"}
        if header is not None:
            headers["Stripe-Signature"] = header
        return self.client.post("/webhooks/stripe", data=payload, headers=headers)

    def deposit(self, user, amount=5_000, card="ok") -> tuple[Payment, Delivery]:
        """A deposit paid by the payer, and the gateway's signed success event for it
        (not yet delivered to us)."""
        started = services.start_deposit(
            self.session,
            self.gateway,
            user.id,
            amount_minor=amount,
            idempotency_key=f"d{time.time_ns()}",
        )
        payment = started.payment
        self.harness.pay(payment.gateway_payment_id, card)
        wanted = "payment_intent.succeeded" if card == "ok" else "payment_intent.payment_failed"
        return payment, self.harness.event(wanted, payment.gateway_payment_id)


@pytest.fixture(params=["test", "stripe"])
def endpoint(request, session) -> Endpoint:
    if request.param == "test":
        app = request.getfixturevalue("app")
    else:
        app = request.getfixturevalue("stripe_app")
    servers = request.getfixturevalue("stripe_servers") if request.param == "stripe" else None
    gateway = make_gateway(session, PaymentSettings.from_mapping(app.config))
    return Endpoint(
        request.param, app, app.test_client(), session, Gateways(request.param, gateway, servers)
    )


def _counts(session):
    session.expire_all()
    return (
        session.scalar(select(func.count(GatewayEvent.id))),
        session.scalar(select(func.count(JournalEntry.id))),
    )


def _sign(app, payload: bytes, *, secret=None, ts=None) -> str:
    return signature.sign(
        payload, secret or app_webhook_secret(app), int(time.time()) if ts is None else ts
    )


def test_a_genuine_event_credits_the_wallet_once(endpoint, make_user):
    lena = make_user()
    payment, delivery = endpoint.deposit(lena)
    response = endpoint.post(delivery.payload, delivery.signature)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.json["outcome"] == "processed"
    endpoint.session.expire_all()
    assert endpoint.session.get(Payment, payment.id).status == PaymentStatus.SUCCEEDED
    assert wallet_summary(endpoint.session, lena.id).available == 5_000
    # The same delivery again (the gateway retries, or an attacker replays it): a no-op.
    before = _counts(endpoint.session)
    replay = endpoint.post(delivery.payload, delivery.signature)
    assert replay.status_code == 200 and replay.json["duplicate"] is True
    assert _counts(endpoint.session) == before
    assert wallet_summary(endpoint.session, lena.id).available == 5_000


@pytest.mark.parametrize(
    "tamper", ["forged", "wrong_secret", "stale", "no_header", "garbled_header", "not_json"]
)
def test_forged_stale_or_malformed_deliveries_are_refused(endpoint, make_user, tamper):
    lena = make_user()
    payment, delivery = endpoint.deposit(lena)
    payload, header = delivery.payload, delivery.signature
    if tamper == "forged":
        body = json.loads(payload)
        body["data"]["object"]["amount"] = 999_999
        payload = json.dumps(body).encode()  # the old signature no longer fits
    elif tamper == "wrong_secret":
        header = _sign(endpoint.app, payload, secret="whsec_not_ours")
    elif tamper == "stale":
        header = _sign(endpoint.app, payload, ts=int(time.time()) - 301)
    elif tamper == "no_header":
        header = None
    elif tamper == "garbled_header":
        header = "t=abc,v1="
    elif tamper == "not_json":
        payload = b"{not json"
        header = _sign(endpoint.app, payload)
    before = _counts(endpoint.session)
    response = endpoint.post(payload, header)
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    assert response.json["title"] == "Webhook refused"
    assert _counts(endpoint.session) == before
    endpoint.session.expire_all()
    assert endpoint.session.get(Payment, payment.id).status == PaymentStatus.PENDING
    assert wallet_summary(endpoint.session, lena.id).available == 0


def test_a_declined_payment_event_changes_no_balance(endpoint, make_user):
    lena = make_user()
    payment, delivery = endpoint.deposit(lena, card="declined")
    entries = _counts(endpoint.session)[1]
    response = endpoint.post(delivery.payload, delivery.signature)
    assert response.status_code == 200
    endpoint.session.expire_all()
    assert endpoint.session.get(Payment, payment.id).status == PaymentStatus.FAILED
    assert _counts(endpoint.session)[1] == entries
    assert wallet_summary(endpoint.session, lena.id).available == 0


def test_an_event_for_a_payment_we_do_not_know_is_acknowledged_and_ignored(endpoint, make_user):
    lena = make_user()
    payment, delivery = endpoint.deposit(lena)
    # Someone else's payment at the same gateway account: not ours to credit.
    stranger = endpoint.gateway.create_payment(
        amount=Money(5_000, "EUR"),
        reference={"shop": "elsewhere"},
        idempotency_key=f"stranger{time.time_ns()}",
    )
    endpoint.harness.pay(stranger.id, "ok")
    foreign = endpoint.harness.event("payment_intent.succeeded", stranger.id)
    entries = _counts(endpoint.session)[1]
    response = endpoint.post(foreign.payload, foreign.signature)
    assert response.status_code == 200
    assert response.json["outcome"] == EventOutcome.IGNORED
    assert _counts(endpoint.session)[1] == entries
    assert wallet_summary(endpoint.session, lena.id).available == 0


def test_an_amount_mismatch_is_refused_and_changes_nothing(endpoint, make_user):
    """A gateway payment that claims to be our deposit but is for another amount."""
    lena = make_user()
    payment = services.open_deposit(
        endpoint.session,
        lena.id,
        amount_minor=5_000,
        idempotency_key="mismatch",
        gateway_name=endpoint.gateway.name,
    )
    impostor = endpoint.gateway.create_payment(
        amount=Money(9_000, "EUR"),
        reference={services.META_PAYMENT: str(payment.id), "purpose": "deposit"},
        idempotency_key=f"impostor{time.time_ns()}",
    )
    endpoint.harness.pay(impostor.id, "ok")
    delivery = endpoint.harness.event("payment_intent.succeeded", impostor.id)
    entries = _counts(endpoint.session)[1]
    response = endpoint.post(delivery.payload, delivery.signature)
    assert response.status_code == 200
    assert response.json["outcome"] == EventOutcome.REFUSED
    endpoint.session.expire_all()
    row = endpoint.session.get(Payment, payment.id)
    assert (row.status, row.gateway_payment_id) == (PaymentStatus.PENDING, None)
    assert _counts(endpoint.session)[1] == entries
    assert wallet_summary(endpoint.session, lena.id).available == 0
    recorded = endpoint.session.scalar(
        select(GatewayEvent).where(GatewayEvent.object_id == impostor.id)
    )
    assert recorded.outcome == EventOutcome.REFUSED and "9000" in recorded.detail.replace(".", "")


def test_unknown_event_types_are_acknowledged(endpoint):
    body = {
        "id": f"evt_unknown_{time.time_ns()}",
        "object": "event",
        "type": "issuing_card.created",
        "created": int(time.time()),
        "data": {"object": {"id": "ic_1", "object": "issuing.card"}},
    }
    payload = json.dumps(body).encode()
    response = endpoint.post(payload, _sign(endpoint.app, payload))
    assert response.status_code == 200
    assert response.json["outcome"] == EventOutcome.UNKNOWN_TYPE


def test_a_handler_error_is_a_500_and_the_retry_processes_the_event(
    endpoint, make_user, config, connection
):
    lena = make_user()
    payment, delivery = endpoint.deposit(lena)
    before = _counts(endpoint.session)
    # The handler re-fetches the payment from the gateway; make that fail once.
    with _gateway_failing(endpoint, payment, config, connection) as client:
        response = client.post(
            "/webhooks/stripe",
            data=delivery.payload,
            headers={"Stripe-Signature": delivery.signature, "Content-Type": "application/json"},
        )
    assert response.status_code == 500
    assert response.mimetype == "application/problem+json"
    assert _counts(endpoint.session) == before  # not recorded: the retry will run it
    retry = endpoint.post(delivery.payload, delivery.signature)
    assert retry.status_code == 200 and retry.json["outcome"] == "processed"
    assert wallet_summary(endpoint.session, lena.id).available == 5_000


@contextmanager
def _gateway_failing(endpoint, payment, config, connection):
    """A client whose gateway cannot answer: Stripe unreachable, or (test mode) the
    gateway's record of the payment gone for the moment."""
    if endpoint.kind == "stripe":
        from p2pbank.app import create_app
        from tests.support.database import bound_sessionmaker

        config.STRIPE_API_BASE = "http://127.0.0.1:9"  # nothing listens there
        config.extra["STRIPE_MAX_NETWORK_RETRIES"] = 0
        app = create_app(config)
        app.extensions["p2pbank.sessionmaker"] = bound_sessionmaker(connection)
        yield app.test_client()
        return
    from p2pbank.payments.models import TestModeObject

    row = endpoint.session.get(TestModeObject, payment.gateway_payment_id)
    saved = TestModeObject(id=row.id, kind=row.kind, data=row.data, created_at=row.created_at)
    endpoint.session.delete(row)
    endpoint.session.commit()
    try:
        yield endpoint.client
    finally:
        endpoint.session.add(saved)
        endpoint.session.commit()

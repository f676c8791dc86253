"""The payment gateways for tests: the Stripe test servers' addresses and cards, a receiver
for their signed webhooks, and one `Gateways` harness that drives either gateway (our
test mode or Stripe's API) the same way, so one contract suite runs against both."""

from __future__ import annotations

import contextlib
import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler

import pytest

from p2pbank.payments.stripe_gateway import StripeGateway

WEBHOOK_SECRET = "whsec_p2pbank_tests_0123456789abcdef"
STRIPE_KEY = "sk_test_p2pbank_tests"
EVENT_TIMEOUT = 15.0  # seconds to wait for a server's webhook (localstripe waits 1 s first)

# Cards per gateway. localstripe declines at charge time only 4000000000000341 (Stripe's
# "attaches, but charges fail" card); 4000000000000002 and ...9995 it declines only when a
# card is saved, so those two are exercised against the test-mode gateway only.
CARDS = {
    "test": {
        "ok": "4242424242424242",
        "declined": "4000000000000002",
        "insufficient_funds": "4000000000009995",
        "authenticate": "4000002760003184",
        "charge_fails": "4000000000000341",
    },
    "stripe": {
        "ok": "4242424242424242",
        "declined": "4000000000000341",
        "authenticate": "4000002760003184",
        "charge_fails": "4000000000000341",
    },
}


# --- servers ---------------------------------------------------------------------------------


@dataclass
class StripeServers:
    localstripe_url: str
    fake_url: str
    receiver: WebhookReceiver

    def post(self, path: str, data: dict) -> dict:
        body = urllib.parse.urlencode(data).encode()
        request = urllib.request.Request(  # noqa: S310 - a local test server
            self.fake_url + path,
            data=body,
            headers={"Authorization": f"Bearer {STRIPE_KEY}"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            raw = response.read()
        return json.loads(raw) if raw.strip() else {}


@dataclass
class Delivery:
    payload: bytes
    signature: str

    @property
    def event(self) -> dict:
        return json.loads(self.payload)


@dataclass
class WebhookReceiver:
    """Collects what the servers POST to our 'endpoint' (signed events)."""

    url: str = ""
    deliveries: list[Delivery] = field(default_factory=list)
    changed: threading.Condition = field(default_factory=threading.Condition)

    def add(self, delivery: Delivery) -> None:
        with self.changed:
            self.deliveries.append(delivery)
            self.changed.notify_all()

    def wait_for(self, event_type: str, object_id: str, timeout: float = EVENT_TIMEOUT) -> Delivery:
        deadline = time.monotonic() + timeout
        with self.changed:
            while True:
                for delivery in self.deliveries:
                    event = delivery.event
                    if event.get("type") == event_type and (
                        event["data"]["object"].get("id") == object_id
                        or event.get("account") == object_id
                    ):
                        return delivery
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = [d.event["type"] for d in self.deliveries[-10:]]
                    raise AssertionError(f"no {event_type} for {object_id}; last seen {seen}")
                self.changed.wait(left)


def receiver_handler(receiver: WebhookReceiver):
    """An HTTP handler that keeps every POST (a webhook) in `receiver`."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - the stdlib's name
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            receiver.add(Delivery(body, self.headers.get("Stripe-Signature", "")))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *_args):
            pass

    return Handler


def make_stripe_gateway(servers: StripeServers, *, secret: str = WEBHOOK_SECRET) -> StripeGateway:
    """Our Stripe gateway, pointed at the test servers (a fresh key namespace per call)."""
    return StripeGateway(
        secret_key=STRIPE_KEY,
        webhook_secret=secret,
        api_base=servers.fake_url,
        max_network_retries=0,
        key_namespace=f"t{time.time_ns()}:",  # the servers outlive each test's database
    )


# --- one harness for both gateways ----------------------------------------------------------


class Gateways:
    """The gateway under test plus the payer's side of it: what Stripe's payment page (or
    our test-mode card form), hosted onboarding and dashboard would do."""

    def __init__(self, kind: str, gateway, servers: StripeServers | None):
        self.kind = kind
        self.gateway = gateway
        self.servers = servers
        self.cards = CARDS[kind]
        self._sdk = None
        if servers is not None:
            import stripe

            self._sdk = stripe.StripeClient(
                STRIPE_KEY, base_addresses={"api": servers.fake_url}, max_network_retries=0
            )

    def card(self, outcome: str) -> str:
        if outcome not in self.cards:
            pytest.skip(f"{outcome!r} cards are not simulated by the {self.kind} gateway's server")
        return self.cards[outcome]

    def pay(self, payment_id: str, outcome: str) -> None:
        number = self.card(outcome)
        if self.kind == "test":
            self.gateway.confirm_with_test_card(payment_id, number)
            return
        import stripe

        pm = self._sdk.v1.payment_methods.create(
            params={
                "type": "card",
                "card": {"number": number, "exp_month": 12, "exp_year": 2034, "cvc": "123"},
            }
        )
        self._sdk.v1.payment_intents.update(payment_id, params={"payment_method": pm.id})
        # The payment page shows a decline to the payer; the intent records it.
        with contextlib.suppress(stripe.CardError):
            self._sdk.v1.payment_intents.confirm(payment_id)

    def authenticate(self, payment_id: str, *, succeed: bool) -> None:
        if self.kind == "test":
            self.gateway.complete_authentication(payment_id, succeed=succeed)
            return
        pi = self._sdk.v1.payment_intents.retrieve(payment_id)
        try:
            self.servers.post(
                f"/v1/payment_intents/{payment_id}/_authenticate",
                {"client_secret": pi.client_secret, "success": "true" if succeed else "false"},
            )
        except urllib.error.HTTPError as exc:
            if exc.code != 402:  # a decline after authentication is the payer's news
                raise

    def save_card(self, setup_id: str, outcome: str) -> str:
        number = self.card(outcome)
        if self.kind == "test":
            return self.gateway.confirm_setup_with_test_card(setup_id, number).card_id
        pm = self._sdk.v1.payment_methods.create(
            params={
                "type": "card",
                "card": {"number": number, "exp_month": 12, "exp_year": 2034, "cvc": "123"},
            }
        )
        return self._sdk.v1.setup_intents.confirm(
            setup_id, params={"payment_method": pm.id}
        ).payment_method

    def onboard(self, account_id: str, iban: str) -> None:
        if self.kind == "test":
            self.gateway.complete_test_onboarding(account_id, iban=iban)
        else:
            self.servers.post(f"/_fake/accounts/{account_id}/onboard", {"iban": iban})

    def reverse_transfer(self, transfer_id: str) -> None:
        if self.kind == "test":
            self.gateway.reverse_transfer(transfer_id, idempotency_key=f"reverse:{transfer_id}")
        else:
            self.servers.post(f"/v1/transfers/{transfer_id}/reversals", {})

    def event(self, event_type: str, object_id: str) -> Delivery:
        """The signed delivery of `event_type` about `object_id` (or account `object_id`)."""
        if self.kind == "test":
            for row in self.gateway.undelivered_events(1000):
                body = json.loads(row.payload)
                if body["type"] == event_type and (
                    body["data"]["object"].get("id") == object_id
                    or body.get("account") == object_id
                ):
                    payload = row.payload.encode()
                    return Delivery(payload, self.gateway.sign(payload))
            raise AssertionError(f"no {event_type} for {object_id}")
        return self.servers.receiver.wait_for(event_type, object_id)


def app_webhook_secret(app) -> str:
    """The secret the app's gateway verifies webhooks with (test mode derives its own)."""
    from p2pbank.payments.settings import PaymentSettings

    settings = PaymentSettings.from_mapping(app.config)
    return settings.stripe_webhook_secret if settings.uses_stripe else settings.test_webhook_secret

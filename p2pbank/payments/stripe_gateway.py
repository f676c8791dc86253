"""The Stripe gateway: the official SDK's `StripeClient`, and the only module that imports
`stripe`.

Configured from STRIPE_SECRET_KEY, STRIPE_WEBHOOK_SECRET and optionally STRIPE_API_BASE
(tests point it at a local fake Stripe server). Every mutating call sends our own
deterministic Idempotency-Key, so a retried request can never charge twice; the SDK then
retries network failures with that same key.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any, TypeVar

import stripe

from p2pbank.money import Money
from p2pbank.payments import shapes
from p2pbank.payments.gateway import (
    CardDeclined,
    CardSetup,
    GatewayAccount,
    GatewayError,
    GatewayPayment,
    GatewayRefund,
    GatewayTransfer,
    GatewayUnavailable,
    IdempotencyConflict,
    WebhookEvent,
    WebhookRejected,
    event_from_dict,
)
from p2pbank.payments.signature import DEFAULT_TOLERANCE_SECONDS

log = logging.getLogger("p2pbank.payments.stripe")

T = TypeVar("T")

# Expand the charge and its balance transaction so the fee is read, never guessed.
PAYMENT_EXPAND = ["latest_charge.balance_transaction"]


def _plain(obj: Any) -> dict:
    return obj.to_dict() if hasattr(obj, "to_dict") else dict(obj)


def _metadata(reference: Mapping[str, str]) -> dict[str, str]:
    return {str(k): str(v) for k, v in reference.items()}


class StripeGateway:
    """PaymentGateway over Stripe's API (PaymentIntents, SetupIntents, Refunds, Connect
    Express accounts and Transfers)."""

    name = "stripe"

    def __init__(
        self,
        *,
        secret_key: str,
        webhook_secret: str,
        api_base: str = "",
        max_network_retries: int = 2,
        connect_country: str = "NL",
        key_namespace: str = "",
    ):
        if not secret_key:
            raise ValueError("a Stripe secret key is required")
        self._secret_key = secret_key
        self._webhook_secret = webhook_secret
        self.connect_country = connect_country
        # Prefixed to every idempotency key: our keys (`deposit:42`) are unique within one
        # database, and a Stripe account may outlive a database (a reset test installation).
        self._key_namespace = key_namespace
        self._client = stripe.StripeClient(
            secret_key,
            base_addresses={"api": api_base} if api_base else None,
            max_network_retries=max_network_retries,
        )

    @property
    def is_test_mode(self) -> bool:
        return self._secret_key.startswith(("sk_test_", "rk_test_"))

    # --- plumbing ---------------------------------------------------------------------------

    def _call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        try:
            return fn(*args, **kwargs)
        except stripe.CardError as exc:
            error = exc.error
            raise CardDeclined(
                exc.user_message or "The card was declined.",
                code=exc.code or "card_declined",
                decline_code=(getattr(error, "decline_code", None) or "") if error else "",
            ) from exc
        except stripe.IdempotencyError as exc:
            raise IdempotencyConflict(
                "This request was already made with different details.", code="idempotency_error"
            ) from exc
        except (stripe.APIConnectionError, stripe.RateLimitError) as exc:
            log.warning("Stripe unreachable or rate limited: %s", type(exc).__name__)
            raise GatewayUnavailable("The payment gateway did not answer; try again.") from exc
        except (stripe.AuthenticationError, stripe.PermissionError) as exc:
            log.error("Stripe refused our credentials: %s", type(exc).__name__)
            raise GatewayUnavailable("The payment gateway is not configured correctly.") from exc
        except stripe.InvalidRequestError as exc:
            log.warning("Stripe refused a request: code=%s status=%s", exc.code, exc.http_status)
            raise GatewayError(
                exc.user_message or "The payment gateway refused the request.",
                code=exc.code or ("resource_missing" if exc.http_status == 404 else None),
            ) from exc
        except stripe.APIError as exc:
            log.warning("Stripe server error: status=%s", exc.http_status)
            raise GatewayUnavailable("The payment gateway had an error; try again.") from exc
        except stripe.StripeError as exc:
            log.warning("Stripe error: %s", type(exc).__name__)
            raise GatewayError("The payment gateway refused the request.") from exc

    def _opts(self, idempotency_key: str) -> dict:
        if not idempotency_key:
            raise ValueError("every mutating gateway call needs an idempotency key")
        return {"idempotency_key": self._key_namespace + idempotency_key}

    def _expanded_payment(self, payment_id: str) -> GatewayPayment:
        pi = self._call(
            self._client.v1.payment_intents.retrieve,
            payment_id,
            params={"expand": PAYMENT_EXPAND},
        )
        return shapes.payment_from(_plain(pi))

    # --- money in ---------------------------------------------------------------------------

    def create_payment(
        self,
        *,
        amount: Money,
        reference: Mapping[str, str],
        idempotency_key: str,
        customer_id: str | None = None,
        capture: bool = True,
    ) -> GatewayPayment:
        params: dict[str, Any] = {
            "amount": amount.minor,
            "currency": amount.currency.lower(),
            "metadata": _metadata(reference),
            "payment_method_types": ["card"],
            "capture_method": "automatic" if capture else "manual",
        }
        if customer_id:
            params["customer"] = customer_id
        pi = self._call(
            self._client.v1.payment_intents.create,
            params=params,
            options=self._opts(idempotency_key),
        )
        return shapes.payment_from(_plain(pi))

    def create_customer(
        self, *, email: str, reference: Mapping[str, str], idempotency_key: str
    ) -> str:
        customer = self._call(
            self._client.v1.customers.create,
            params={"email": email, "metadata": _metadata(reference)},
            options=self._opts(idempotency_key),
        )
        return str(customer.id)

    def save_card(self, *, customer_id: str, idempotency_key: str) -> CardSetup:
        setup = self._call(
            self._client.v1.setup_intents.create,
            params={
                "customer": customer_id,
                "usage": "off_session",
                "payment_method_types": ["card"],
            },
            options=self._opts(idempotency_key),
        )
        return shapes.setup_from(_plain(setup))

    def charge_saved_card(
        self,
        *,
        customer_id: str,
        card_id: str,
        amount: Money,
        reference: Mapping[str, str],
        idempotency_key: str,
        capture: bool = True,
    ) -> GatewayPayment:
        pi = self._call(
            self._client.v1.payment_intents.create,
            params={
                "amount": amount.minor,
                "currency": amount.currency.lower(),
                "customer": customer_id,
                "payment_method": card_id,
                "metadata": _metadata(reference),
                "payment_method_types": ["card"],
                "capture_method": "automatic" if capture else "manual",
                "confirm": True,
                "off_session": True,
            },
            options=self._opts(idempotency_key),
        )
        return shapes.payment_from(_plain(pi))

    def capture_payment(
        self, payment_id: str, *, idempotency_key: str, amount: Money | None = None
    ) -> GatewayPayment:
        params = {"amount_to_capture": amount.minor} if amount is not None else {}
        self._call(
            self._client.v1.payment_intents.capture,
            payment_id,
            params=params,
            options=self._opts(idempotency_key),
        )
        return self._expanded_payment(payment_id)

    def cancel_payment(self, payment_id: str, *, idempotency_key: str) -> GatewayPayment:
        pi = self._call(
            self._client.v1.payment_intents.cancel,
            payment_id,
            options=self._opts(idempotency_key),
        )
        return shapes.payment_from(_plain(pi))

    def refund_payment(
        self,
        payment_id: str,
        *,
        amount: Money,
        reference: Mapping[str, str],
        idempotency_key: str,
    ) -> GatewayRefund:
        refund = self._call(
            self._client.v1.refunds.create,
            params={
                "payment_intent": payment_id,
                "amount": amount.minor,
                "metadata": _metadata(reference),
            },
            options=self._opts(idempotency_key),
        )
        data = _plain(refund)
        data.setdefault("payment_intent", payment_id)
        return shapes.refund_from(data)

    # --- money out --------------------------------------------------------------------------

    def create_payout_account(
        self, *, email: str, country: str, reference: Mapping[str, str], idempotency_key: str
    ) -> GatewayAccount:
        account = self._call(
            self._client.v1.accounts.create,
            params={
                "type": "express",
                "country": country,
                "email": email,
                "capabilities": {"transfers": {"requested": True}},
                "metadata": _metadata(reference),
            },
            options=self._opts(idempotency_key),
        )
        return shapes.account_from(_plain(account))

    def payout_onboarding_link(self, account_id: str, *, refresh_url: str, return_url: str) -> str:
        link = self._call(
            self._client.v1.account_links.create,
            params={
                "account": account_id,
                "refresh_url": refresh_url,
                "return_url": return_url,
                "type": "account_onboarding",
            },
        )
        return str(link.url)

    def transfer_to_account(
        self,
        account_id: str,
        *,
        amount: Money,
        reference: Mapping[str, str],
        idempotency_key: str,
    ) -> GatewayTransfer:
        transfer = self._call(
            self._client.v1.transfers.create,
            params={
                "amount": amount.minor,
                "currency": amount.currency.lower(),
                "destination": account_id,
                "metadata": _metadata(reference),
            },
            options=self._opts(idempotency_key),
        )
        return shapes.transfer_from(_plain(transfer))

    # --- current state ----------------------------------------------------------------------

    def get_payment(self, payment_id: str) -> GatewayPayment:
        return self._expanded_payment(payment_id)

    def get_refund(self, refund_id: str) -> GatewayRefund:
        return shapes.refund_from(_plain(self._call(self._client.v1.refunds.retrieve, refund_id)))

    def get_transfer(self, transfer_id: str) -> GatewayTransfer:
        return shapes.transfer_from(
            _plain(self._call(self._client.v1.transfers.retrieve, transfer_id))
        )

    def get_payout_account(self, account_id: str) -> GatewayAccount:
        return shapes.account_from(
            _plain(self._call(self._client.v1.accounts.retrieve, account_id))
        )

    def _all(self, service: Any, since: datetime | None) -> Iterator[dict]:
        # No `created` filter in the request: not every Stripe-compatible server supports
        # it; filter here instead (reconciliation is a batch job, not a hot path).
        page = self._call(service.list, params={"limit": 100})
        floor = int(since.timestamp()) if since else None
        for obj in page.auto_paging_iter():
            data = _plain(obj)
            if floor is None or int(data.get("created") or 0) >= floor:
                yield data

    def list_payments(self, *, since: datetime | None = None) -> Iterable[GatewayPayment]:
        for data in self._all(self._client.v1.payment_intents, since):
            charge = data.get("latest_charge")
            txn = charge.get("balance_transaction") if isinstance(charge, dict) else None
            settled = isinstance(txn, dict)
            if data.get("status") == "succeeded" and not settled:
                yield self._expanded_payment(str(data["id"]))  # fee needs the charge
            else:
                yield shapes.payment_from(data)

    def list_refunds(self, *, since: datetime | None = None) -> Iterable[GatewayRefund]:
        for data in self._all(self._client.v1.refunds, since):
            yield shapes.refund_from(data)

    def list_transfers(self, *, since: datetime | None = None) -> Iterable[GatewayTransfer]:
        for data in self._all(self._client.v1.transfers, since):
            yield shapes.transfer_from(data)

    # --- webhooks ---------------------------------------------------------------------------

    def parse_webhook(self, payload: bytes, signature_header: str | None) -> WebhookEvent:
        try:
            self._client.construct_event(
                payload,
                signature_header,
                self._webhook_secret,
                tolerance=DEFAULT_TOLERANCE_SECONDS,
            )
        except stripe.SignatureVerificationError as exc:
            raise WebhookRejected("The webhook signature does not check out.") from exc
        except (ValueError, UnicodeDecodeError) as exc:
            raise WebhookRejected("The webhook body is not an event.") from exc
        try:
            body = json.loads(payload)
        except ValueError as exc:
            raise WebhookRejected("The webhook body is not an event.") from exc
        if not isinstance(body, dict):
            raise WebhookRejected("The webhook body is not an event.")
        return event_from_dict(body)

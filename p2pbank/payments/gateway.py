"""The payment gateway boundary, in our own words.

Everything the platform asks of a card processor goes through `PaymentGateway`. Two
implementations exist: `StripeGateway` (the official SDK; the only module that imports
`stripe`) and `SandboxGateway` (embedded, offline, behaves like Stripe's test mode).
Amounts cross this boundary as `Money` (integer minor units); gateway objects come back as
the small frozen records below, never as SDK objects.

Every mutating call takes our own deterministic idempotency key (e.g. `deposit:42`), so a
retried job or a double click can never charge, refund or pay out twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol, runtime_checkable

from p2pbank.errors import Conflict, DomainError
from p2pbank.money import Money


class IntentStatus(StrEnum):
    """Where a payment stands at the gateway."""

    NEEDS_METHOD = "needs_method"  # no card yet, or the last card failed
    NEEDS_CONFIRMATION = "needs_confirmation"
    NEEDS_AUTHENTICATION = "needs_authentication"  # 3-D Secure challenge pending
    PROCESSING = "processing"
    AUTHORIZED = "authorized"  # held on the card, waiting for capture
    SUCCEEDED = "succeeded"
    CANCELED = "canceled"


class GatewayRefundStatus(StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"


@dataclass(frozen=True)
class GatewayPayment:
    """A payment (Stripe: PaymentIntent) as the gateway sees it now."""

    id: str
    status: IntentStatus
    amount: Money
    amount_received: Money
    metadata: Mapping[str, str]
    created_at: datetime
    client_secret: str | None = None
    customer_id: str | None = None
    card_id: str | None = None
    charge_id: str | None = None
    # From the charge's balance transaction, once the gateway has settled it.
    fee: Money | None = None
    balance_transaction_id: str | None = None
    failure_code: str | None = None
    failure_message: str | None = None

    @property
    def failed(self) -> bool:
        return self.status == IntentStatus.NEEDS_METHOD and self.failure_code is not None


@dataclass(frozen=True)
class GatewayRefund:
    id: str
    payment_id: str
    status: GatewayRefundStatus
    amount: Money
    metadata: Mapping[str, str]
    created_at: datetime
    failure_reason: str | None = None


@dataclass(frozen=True)
class CardSetup:
    """Saving a card for later (Stripe: SetupIntent)."""

    id: str
    status: str  # needs_method | needs_authentication | succeeded | canceled
    customer_id: str | None
    client_secret: str | None
    card_id: str | None = None


@dataclass(frozen=True)
class GatewayAccount:
    """A person's payout account at the gateway (Stripe: Connect Express account)."""

    id: str
    payouts_enabled: bool
    details_submitted: bool
    bank_last4: str | None = None
    metadata: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class GatewayTransfer:
    """Money moved from the platform's gateway balance to a payout account."""

    id: str
    account_id: str
    amount: Money
    amount_reversed: Money
    metadata: Mapping[str, str]
    created_at: datetime

    @property
    def reversed(self) -> bool:
        return self.amount_reversed.minor >= self.amount.minor


@dataclass(frozen=True)
class WebhookEvent:
    """A verified gateway event. `data` is the object as it was when the event happened;
    handlers that care about order re-fetch the current state instead."""

    id: str
    type: str
    created: int
    object_type: str
    object_id: str
    data: Mapping
    account_id: str | None = None  # set for events of a connected (payout) account


# --- errors ----------------------------------------------------------------------------------


class GatewayError(Conflict):
    """The gateway refused the request (our mistake or a business rule on its side)."""

    title = "Payment gateway refused"

    def __init__(self, detail: str, *, code: str | None = None):
        super().__init__(detail)
        self.code = code


class CardDeclined(GatewayError):
    """The card was declined; nothing was charged."""

    title = "Card declined"

    def __init__(self, detail: str, *, code: str = "card_declined", decline_code: str = ""):
        super().__init__(detail, code=code)
        self.decline_code = decline_code


class IdempotencyConflict(GatewayError):
    """An idempotency key was reused with different parameters."""

    title = "Idempotency key reused"


class GatewayUnavailable(DomainError):
    """The gateway could not be reached or answered with a server error; retry later
    with the same idempotency key."""

    status = 503
    title = "Payment gateway unavailable"


class WebhookRejected(DomainError):
    """A webhook whose signature, timestamp or body does not check out."""

    status = 400
    title = "Webhook refused"


# --- the boundary ----------------------------------------------------------------------------


@runtime_checkable
class PaymentGateway(Protocol):
    """What the platform needs from a card processor."""

    name: str  # "stripe" or "test"

    @property
    def is_test_mode(self) -> bool:
        """True when no real money moves (pages then say so)."""
        ...

    # Money in ------------------------------------------------------------------------------
    def create_payment(
        self,
        *,
        amount: Money,
        reference: Mapping[str, str],
        idempotency_key: str,
        customer_id: str | None = None,
        capture: bool = True,
    ) -> GatewayPayment:
        """Open a payment the payer completes with a card (capture=False: authorize only)."""
        ...

    def create_customer(
        self, *, email: str, reference: Mapping[str, str], idempotency_key: str
    ) -> str:
        """Register a payer so cards can be saved for later; returns the customer id."""
        ...

    def save_card(self, *, customer_id: str, idempotency_key: str) -> CardSetup:
        """Start saving a card for later, off-session use."""
        ...

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
        """Charge (or authorize) a saved card while the payer is not present.
        Raises CardDeclined when the card is refused."""
        ...

    def capture_payment(
        self, payment_id: str, *, idempotency_key: str, amount: Money | None = None
    ) -> GatewayPayment:
        """Capture an authorized payment, fully or in part (the rest is released)."""
        ...

    def cancel_payment(self, payment_id: str, *, idempotency_key: str) -> GatewayPayment:
        """Cancel a payment that has not succeeded (releases an authorization)."""
        ...

    def refund_payment(
        self,
        payment_id: str,
        *,
        amount: Money,
        reference: Mapping[str, str],
        idempotency_key: str,
    ) -> GatewayRefund:
        """Give money back to the card; refuses more than is left to refund."""
        ...

    # Money out -----------------------------------------------------------------------------
    def create_payout_account(
        self, *, email: str, country: str, reference: Mapping[str, str], idempotency_key: str
    ) -> GatewayAccount: ...

    def payout_onboarding_link(self, account_id: str, *, refresh_url: str, return_url: str) -> str:
        """Where the person finishes onboarding (identity, bank account) at the gateway."""
        ...

    def transfer_to_account(
        self,
        account_id: str,
        *,
        amount: Money,
        reference: Mapping[str, str],
        idempotency_key: str,
    ) -> GatewayTransfer:
        """Move money from the platform balance to a payout account; the gateway pays it
        out to the person's bank on the account's schedule."""
        ...

    # Current state -------------------------------------------------------------------------
    def get_payment(self, payment_id: str) -> GatewayPayment: ...

    def get_refund(self, refund_id: str) -> GatewayRefund: ...

    def get_transfer(self, transfer_id: str) -> GatewayTransfer: ...

    def get_payout_account(self, account_id: str) -> GatewayAccount: ...

    def list_payments(self, *, since: datetime | None = None) -> Iterable[GatewayPayment]: ...

    def list_refunds(self, *, since: datetime | None = None) -> Iterable[GatewayRefund]: ...

    def list_transfers(self, *, since: datetime | None = None) -> Iterable[GatewayTransfer]: ...

    # Webhooks ------------------------------------------------------------------------------
    def parse_webhook(self, payload: bytes, signature_header: str | None) -> WebhookEvent:
        """Verify the signature over the raw body (HMAC-SHA256, 300 s tolerance) and parse
        the event. Raises WebhookRejected for anything forged, stale or malformed."""
        ...


def event_from_dict(body: Mapping) -> WebhookEvent:
    """Our event record from a Stripe-shaped event body; WebhookRejected if it is not one."""
    try:
        obj = body["data"]["object"]
        event = WebhookEvent(
            id=str(body["id"]),
            type=str(body["type"]),
            created=int(body["created"]),
            object_type=str(obj.get("object", "")),
            object_id=str(obj.get("id", "")),
            data=obj,
            account_id=body.get("account") or None,
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise WebhookRejected("The webhook body is not an event.") from exc
    if body.get("object") != "event" or not event.id or not event.type:
        raise WebhookRejected("The webhook body is not an event.")
    return event

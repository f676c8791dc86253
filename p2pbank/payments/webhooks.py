"""Gateway events: verify, record once, converge our state on the gateway's.

`handle_event` is the one webhook handler, for Stripe's deliveries (POST /webhooks/stripe)
and the test-mode gateway's alike:

1. the signature over the raw body is verified (forged, stale, malformed -> WebhookRejected,
   HTTP 400, nothing changes);
2. the event id is inserted into `gateway_events` (UNIQUE): a second delivery is a no-op;
3. the handler for its type re-fetches the object's current state from the gateway (events
   may come late, twice or out of order) and applies it with idempotent transitions;
4. one commit records the event and its effects together. A handler error rolls both back
   (WebhookHandlerFailed, HTTP 500), so the gateway retries and nothing is half done.

Unknown event types are acknowledged and logged; an event about a payment we do not know,
or whose amount does not match ours, is acknowledged and recorded as ignored/refused with
nothing else changed.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from p2pbank.clock import now
from p2pbank.digits import is_ascii_digits
from p2pbank.errors import DomainError
from p2pbank.payments import payouts, refunds, services
from p2pbank.payments.gateway import PaymentGateway, WebhookEvent
from p2pbank.payments.models import (
    ConnectedAccount,
    EventOutcome,
    GatewayEvent,
    Payment,
    Payout,
    Refund,
)
from p2pbank.payments.shapes import moment
from p2pbank.uow import for_update

log = logging.getLogger("p2pbank.payments.webhooks")


class WebhookHandlerFailed(DomainError):
    """Our handler failed; the event is not recorded, so the gateway's retry runs it again."""

    status = 500
    title = "Webhook handler failed"


@dataclass(frozen=True)
class WebhookResult:
    event_id: str
    type: str
    outcome: str  # an EventOutcome, or "duplicate"
    detail: str = ""

    @property
    def duplicate(self) -> bool:
        return self.outcome == "duplicate"


Handled = tuple[EventOutcome, str]

# Handlers lock the row they change (PostgreSQL: SELECT ... FOR UPDATE; SQLite serializes
# writers anyway), and read it fresh, so two deliveries about one payment never both
# act on a stale status.
LOCK = {"with_for_update": True, "populate_existing": True}


def _locked(query):
    return for_update(query)


def handle_event(
    session: Session, gateway: PaymentGateway, payload: bytes, signature_header: str | None
) -> WebhookResult:
    """Verify and process one delivery; see the module docstring. Commits once."""
    event = gateway.parse_webhook(payload, signature_header)  # WebhookRejected -> 400
    known = session.scalar(select(GatewayEvent.id).where(GatewayEvent.event_id == event.id))
    if known is not None:
        return WebhookResult(event.id, event.type, "duplicate")
    record = GatewayEvent(
        event_id=event.id,
        gateway=gateway.name,
        type=event.type[:100],
        object_id=event.object_id[:255],
        account_id=event.account_id,
        outcome=EventOutcome.PROCESSED,
        payload=_stored_payload(payload),
        event_created_at=moment(event.created),
        processed_at=now(),
    )
    session.add(record)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()  # a concurrent delivery of the same event won
        return WebhookResult(event.id, event.type, "duplicate")
    try:
        outcome, detail = _dispatch(session, gateway, event)
    except services.AmountMismatch as exc:
        outcome, detail = EventOutcome.REFUSED, exc.detail
        log.warning("event %s refused: %s", event.id, exc.detail)
        session.rollback()
        session.add(record)
    except Exception as exc:
        session.rollback()
        log.exception("handler for event %s (%s) failed", event.id, event.type)
        raise WebhookHandlerFailed("The event could not be processed; retry later.") from exc
    record.outcome = outcome
    record.detail = detail[:500]
    session.commit()
    return WebhookResult(event.id, event.type, str(outcome), detail)


def _redact(value):
    if isinstance(value, dict):
        return {k: "(redacted)" if k in SECRET_FIELDS else _redact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact(v) for v in value]
    return value


# A PaymentIntent's client secret lets a browser confirm it: never kept in our records.
SECRET_FIELDS = frozenset({"client_secret"})


def _stored_payload(payload: bytes) -> str:
    """The event body as we keep it for auditors, without secrets."""
    return json.dumps(_redact(json.loads(payload)), sort_keys=True)


def _dispatch(session: Session, gateway: PaymentGateway, event: WebhookEvent) -> Handled:
    prefix = event.type.split(".", 1)[0]
    handler = HANDLERS.get(event.type) or PREFIX_HANDLERS.get(prefix)
    if handler is None:
        log.info("event %s of type %s acknowledged; we do not handle it", event.id, event.type)
        return EventOutcome.UNKNOWN_TYPE, f"no handler for {event.type}"
    return handler(session, gateway, event)


# --- payments ------------------------------------------------------------------------------


def _payment_for(session: Session, gateway_payment_id: str, metadata) -> Payment | None:
    payment = session.scalar(
        _locked(select(Payment).where(Payment.gateway_payment_id == gateway_payment_id))
    )
    if payment is not None:
        return payment
    claimed = str((metadata or {}).get(services.META_PAYMENT, ""))
    if is_ascii_digits(claimed):
        candidate = session.get(Payment, int(claimed), **LOCK)
        # Only a payment still waiting for its gateway id may be claimed this way (a crash
        # between creating the gateway payment and recording its id).
        if candidate is not None and candidate.gateway_payment_id is None:
            return candidate
    return None


def _on_payment_intent(session: Session, gateway: PaymentGateway, event: WebhookEvent) -> Handled:
    return _sync_payment(session, gateway, event.object_id, event.data.get("metadata"))


def _on_charge(session: Session, gateway: PaymentGateway, event: WebhookEvent) -> Handled:
    pi = event.data.get("payment_intent")
    pi_id = pi.get("id") if isinstance(pi, dict) else pi
    if not pi_id:
        return EventOutcome.IGNORED, "charge without a payment"
    return _sync_payment(session, gateway, str(pi_id), event.data.get("metadata"))


def _sync_payment(session: Session, gateway: PaymentGateway, pi_id: str, metadata) -> Handled:
    payment = _payment_for(session, pi_id, metadata)
    if payment is None:
        log.warning("event for unknown gateway payment %s ignored", pi_id)
        return EventOutcome.IGNORED, f"unknown payment {pi_id}"
    state = gateway.get_payment(pi_id)  # the current truth, whatever the event said
    changed = services.apply_payment_state(session, payment, state)
    return EventOutcome.PROCESSED, f"payment {payment.id} {payment.status}" + (
        "" if changed else " (no change)"
    )


# --- refunds -------------------------------------------------------------------------------


def _on_refund(session: Session, gateway: PaymentGateway, event: WebhookEvent) -> Handled:
    refund = session.scalar(
        _locked(select(Refund).where(Refund.gateway_refund_id == event.object_id))
    )
    if refund is None:
        claimed = str((event.data.get("metadata") or {}).get(services.META_REFUND, ""))
        candidate = session.get(Refund, int(claimed), **LOCK) if is_ascii_digits(claimed) else None
        if candidate is not None and candidate.gateway_refund_id is None:
            refund = candidate
    if refund is None:
        return EventOutcome.IGNORED, f"unknown refund {event.object_id}"
    changed = refunds.apply_refund_state(session, refund, gateway.get_refund(event.object_id))
    return EventOutcome.PROCESSED, f"refund {refund.id} {refund.status}" + (
        "" if changed else " (no change)"
    )


def _on_charge_refunded(session: Session, gateway: PaymentGateway, event: WebhookEvent) -> Handled:
    # Our refunds are settled by their own refund.* events; this one only confirms.
    return _on_charge(session, gateway, event)


# --- payouts -------------------------------------------------------------------------------


def _on_transfer(session: Session, gateway: PaymentGateway, event: WebhookEvent) -> Handled:
    payout = session.scalar(
        _locked(select(Payout).where(Payout.gateway_transfer_id == event.object_id))
    )
    if payout is None:
        claimed = str((event.data.get("metadata") or {}).get(services.META_PAYOUT, ""))
        candidate = session.get(Payout, int(claimed), **LOCK) if is_ascii_digits(claimed) else None
        if candidate is not None and candidate.gateway_transfer_id is None:
            payout = candidate
    if payout is None:
        return EventOutcome.IGNORED, f"unknown transfer {event.object_id}"
    changed = payouts.apply_transfer_state(session, payout, gateway.get_transfer(event.object_id))
    return EventOutcome.PROCESSED, f"payout {payout.id} {payout.status}" + (
        "" if changed else " (no change)"
    )


def _on_bank_payout(session: Session, gateway: PaymentGateway, event: WebhookEvent) -> Handled:
    """A payout from a person's payout account to their bank (Connect event): the money
    already left our books with the transfer; we keep the news to show the person."""
    if not event.account_id:
        return EventOutcome.IGNORED, "payout of the platform's own balance"
    account = session.scalar(
        select(ConnectedAccount).where(ConnectedAccount.gateway_account_id == event.account_id)
    )
    if account is None:
        return EventOutcome.IGNORED, f"unknown payout account {event.account_id}"
    status = str(event.data.get("status") or event.type.split(".", 1)[1])
    account.last_bank_payout_status = status[:32]
    account.last_bank_payout_message = (
        str(event.data.get("failure_message") or "")[:500] if status == "failed" else None
    )
    return EventOutcome.PROCESSED, f"payout account {account.id}: bank payout {status}"


def _on_account(session: Session, gateway: PaymentGateway, event: WebhookEvent) -> Handled:
    account = session.scalar(
        select(ConnectedAccount).where(ConnectedAccount.gateway_account_id == event.object_id)
    )
    if account is None:
        return EventOutcome.IGNORED, f"unknown payout account {event.object_id}"
    state = gateway.get_payout_account(event.object_id)
    account.payouts_enabled = state.payouts_enabled
    account.details_submitted = state.details_submitted
    account.bank_last4 = state.bank_last4
    return (
        EventOutcome.PROCESSED,
        f"payout account {account.id} payouts_enabled={state.payouts_enabled}",
    )


HANDLERS: dict[str, Callable[[Session, PaymentGateway, WebhookEvent], Handled]] = {
    "charge.succeeded": _on_charge,
    "charge.captured": _on_charge,
    "charge.updated": _on_charge,
    "charge.failed": _on_charge,
    "charge.refunded": _on_charge_refunded,
    "refund.created": _on_refund,
    "refund.updated": _on_refund,
    "refund.failed": _on_refund,
    "charge.refund.updated": _on_refund,
    "transfer.created": _on_transfer,
    "transfer.updated": _on_transfer,
    "transfer.reversed": _on_transfer,
    "payout.paid": _on_bank_payout,
    "payout.failed": _on_bank_payout,
    "account.updated": _on_account,
}
PREFIX_HANDLERS: dict[str, Callable[[Session, PaymentGateway, WebhookEvent], Handled]] = {
    "payment_intent": _on_payment_intent,
}


# --- the test-mode gateway's deliveries -------------------------------------------------------


def deliver_test_mode_events(session: Session, gateway: PaymentGateway, limit: int = 100) -> list:
    """Hand the test-mode gateway's pending events to `handle_event`, signed now, the way
    Stripe delivers to our endpoint. A delivery the handler acknowledges (including a
    duplicate) is marked delivered; a failed one stays pending for the next attempt."""
    pending = getattr(gateway, "undelivered_events", None)
    if pending is None:
        return []
    results = []
    for row in pending(limit):
        payload = row.payload.encode()
        event_id = row.event_id
        try:
            result = handle_event(session, gateway, payload, gateway.sign(payload))
        except WebhookHandlerFailed:
            row.attempts += 1
            session.commit()
            continue
        row.attempts += 1
        row.delivered_at = now()
        session.commit()
        results.append(result)
        log.debug("test-mode event %s delivered: %s", event_id, result.outcome)
    return results


def event_payload(row: GatewayEvent) -> dict:
    """The stored body of a processed event (for the auditor's view)."""
    return json.loads(row.payload)

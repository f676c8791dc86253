"""The sandbox gateway's storage and charge engine: Stripe-shaped objects in our own
tables (in the caller's transaction), idempotency keys replayed with their first answer,
signed events, and how a test card answers a charge.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from p2pbank.clock import now
from p2pbank.payments import shapes, signature
from p2pbank.payments.gateway import (
    CardDeclined,
    GatewayAccount,
    GatewayError,
    GatewayPayment,
    GatewayRefund,
    GatewayTransfer,
    IdempotencyConflict,
    WebhookEvent,
    WebhookRejected,
    event_from_dict,
)
from p2pbank.payments.models import TestModeEvent, TestModeObject, TestModeRequest
from p2pbank.payments.rules import eea_card_fee_minor
from p2pbank.payments.sandbox_cards import (
    DECLINE_MESSAGES,
    TEST_CARDS,
    TestCard,
    card_digits,
    luhn_ok,
)

API_VERSION = "2025-06-30.basil"


class SandboxStore:
    """Storage, events and the charge engine the sandbox gateway is built on."""

    __test__ = False  # not a pytest test class
    name = "test"

    """PaymentGateway with no network: Stripe's test mode kept in our own tables."""

    __test__ = False  # not a pytest test class
    name = "test"

    def __init__(self, session: Session, *, webhook_secret: str):
        if not webhook_secret:
            raise ValueError("the test-mode gateway signs its events and needs a secret")
        self._session = session
        self._webhook_secret = webhook_secret

    @property
    def is_test_mode(self) -> bool:
        return True

    # --- storage ----------------------------------------------------------------------------

    @staticmethod
    def _ts() -> int:
        return int(now().timestamp())

    @staticmethod
    def _new_id(prefix: str) -> str:
        return f"{prefix}_test_{secrets.token_hex(10)}"

    def _put(self, obj: dict) -> dict:
        row = self._session.get(TestModeObject, obj["id"])
        data = json.dumps(obj, sort_keys=True)
        if row is None:
            self._session.add(
                TestModeObject(id=obj["id"], kind=obj["object"], data=data, created_at=now())
            )
        else:
            row.data = data
        self._session.flush()
        return obj

    def _get(self, object_id: str, kind: str) -> dict:
        row = self._session.get(TestModeObject, object_id) if object_id else None
        if row is None or row.kind != kind:
            raise GatewayError(f"No such {kind}: '{object_id}'", code="resource_missing")
        return json.loads(row.data)

    def _all(self, kind: str, since: datetime | None) -> list[dict]:
        query = select(TestModeObject).where(TestModeObject.kind == kind)
        if since is not None:
            query = query.where(TestModeObject.created_at >= since)
        rows = self._session.scalars(query.order_by(TestModeObject.created_at.desc()))
        return [json.loads(row.data) for row in rows]

    def _emit(self, event_type: str, obj: Mapping, *, account: str | None = None) -> None:
        body: dict[str, Any] = {
            "id": self._new_id("evt"),
            "object": "event",
            "api_version": API_VERSION,
            "created": self._ts(),
            "data": {"object": dict(obj)},
            "livemode": False,
            "pending_webhooks": 1,
            "type": event_type,
        }
        if account:
            body["account"] = account
        self._session.add(
            TestModeEvent(
                event_id=body["id"], type=event_type, payload=json.dumps(body, sort_keys=True)
            )
        )
        self._session.flush()

    def _once(self, key: str, endpoint: str, params: Mapping, op: Callable[[], dict]) -> dict:
        """Run `op` once per idempotency key; replay the saved answer afterwards."""
        if not key:
            raise ValueError("every mutating gateway call needs an idempotency key")
        request_hash = hashlib.sha256(
            json.dumps({"endpoint": endpoint, **params}, sort_keys=True, default=str).encode()
        ).hexdigest()
        seen = self._session.get(TestModeRequest, key)
        if seen is not None:
            if seen.request_hash != request_hash:
                raise IdempotencyConflict(
                    "Keys for idempotent requests can only be used with the same parameters "
                    "they were first used with.",
                    code="idempotency_error",
                )
            saved = json.loads(seen.response)
            if "error" in saved:
                raise _error_from(saved["error"])
            return saved["object"]
        try:
            obj = op()
        except GatewayError as exc:
            self._session.add(
                TestModeRequest(
                    idempotency_key=key,
                    request_hash=request_hash,
                    response=json.dumps({"error": _error_to(exc)}),
                )
            )
            self._session.flush()
            raise
        self._session.add(
            TestModeRequest(
                idempotency_key=key, request_hash=request_hash, response=json.dumps({"object": obj})
            )
        )
        self._session.flush()
        return obj

    def _expanded(self, pi: dict) -> dict:
        out = {k: v for k, v in pi.items() if not k.startswith("_")}
        if pi.get("latest_charge"):
            charge = self._get(pi["latest_charge"], "charge")
            if charge.get("balance_transaction"):
                charge["balance_transaction"] = self._get(
                    charge["balance_transaction"], "balance_transaction"
                )
            out["latest_charge"] = charge
        return out

    def _payment(self, pi: dict) -> GatewayPayment:
        return shapes.payment_from(self._expanded(pi))

    # --- current state ----------------------------------------------------------------------

    def get_payment(self, payment_id: str) -> GatewayPayment:
        return self._payment(self._get(payment_id, "payment_intent"))

    def get_refund(self, refund_id: str) -> GatewayRefund:
        return shapes.refund_from(self._get(refund_id, "refund"))

    def get_transfer(self, transfer_id: str) -> GatewayTransfer:
        return shapes.transfer_from(self._get(transfer_id, "transfer"))

    def get_payout_account(self, account_id: str) -> GatewayAccount:
        return shapes.account_from(self._get(account_id, "account"))

    def list_payments(self, *, since: datetime | None = None) -> Iterable[GatewayPayment]:
        return [self._payment(pi) for pi in self._all("payment_intent", since)]

    def list_refunds(self, *, since: datetime | None = None) -> Iterable[GatewayRefund]:
        return [shapes.refund_from(r) for r in self._all("refund", since)]

    def list_transfers(self, *, since: datetime | None = None) -> Iterable[GatewayTransfer]:
        return [shapes.transfer_from(t) for t in self._all("transfer", since)]

    # --- webhooks ---------------------------------------------------------------------------

    def sign(self, payload: bytes) -> str:
        """A Stripe-Signature header for `payload`, signed now."""
        return signature.sign(payload, self._webhook_secret, self._ts())

    def parse_webhook(self, payload: bytes, signature_header: str | None) -> WebhookEvent:
        try:
            signature.verify(payload, signature_header, self._webhook_secret, now_ts=self._ts())
        except signature.SignatureError as exc:
            raise WebhookRejected("The webhook signature does not check out.") from exc
        try:
            body = json.loads(payload)
        except (ValueError, UnicodeDecodeError) as exc:
            raise WebhookRejected("The webhook body is not an event.") from exc
        if not isinstance(body, dict):
            raise WebhookRejected("The webhook body is not an event.")
        return event_from_dict(body)

    def undelivered_events(self, limit: int = 100) -> list[TestModeEvent]:
        """Events not yet acknowledged by the webhook handler, oldest first."""
        return list(
            self._session.scalars(
                select(TestModeEvent)
                .where(TestModeEvent.delivered_at.is_(None))
                .order_by(TestModeEvent.seq)
                .limit(limit)
            )
        )

    # --- charges ----------------------------------------------------------------------------

    def _card(self, pm_id: str) -> tuple[dict, TestCard | None]:
        pm = self._get(pm_id, "payment_method")
        return pm, TEST_CARDS.get(pm["_number"] or "")

    def _make_payment_method(self, card_number: str) -> dict:
        number = card_digits(card_number)
        if not luhn_ok(number):
            raise CardDeclined(
                "Your card number is incorrect.", code="incorrect_number", decline_code=""
            )
        card = TEST_CARDS.get(number)
        pm = {
            "id": self._new_id("pm"),
            "object": "payment_method",
            "type": "card",
            "created": self._ts(),
            "customer": None,
            "card": {"brand": card.brand if card else "visa", "last4": number[-4:]},
            # Which test card it was, to decide outcomes; never returned. Any other number
            # (a real card typed into test mode) is not kept: only its last four digits.
            "_number": number if card else None,
        }
        return self._put(pm)

    def _settle_charge(self, pi: dict, amount_minor: int, *, capture_later: bool = False) -> dict:
        """A captured charge with its balance transaction (fee per Stripe's EEA price)."""
        charge = self._get(pi["latest_charge"], "charge")
        fee = eea_card_fee_minor(amount_minor)
        txn = self._put(
            {
                "id": self._new_id("txn"),
                "object": "balance_transaction",
                "amount": amount_minor,
                "currency": pi["currency"],
                "fee": fee,
                "fee_details": [{"type": "stripe_fee", "amount": fee, "currency": pi["currency"]}],
                "net": amount_minor - fee,
                "type": "charge",
                "source": charge["id"],
                "created": self._ts(),
                "status": "available",
            }
        )
        charge.update(
            captured=True,
            amount_captured=amount_minor,
            balance_transaction=txn["id"],
            status="succeeded",
            paid=True,
        )
        self._put(charge)
        pi.update(status="succeeded", amount_received=amount_minor, amount_capturable=0)
        self._put(pi)
        self._emit("charge.captured" if capture_later else "charge.succeeded", charge)
        self._emit("payment_intent.succeeded", pi)
        return pi

    def _attempt(self, pi: dict, pm: dict, card: TestCard | None, *, off_session: bool) -> dict:
        """Confirm `pi` with the card; returns the PaymentIntent after the attempt."""
        pi.update(payment_method=pm["id"], last_payment_error=None, next_action=None)
        if card is not None and card.always_authenticate and not off_session:
            pi.update(
                status="requires_action",
                next_action={"type": "redirect_to_url", "redirect_to_url": {"url": ""}},
            )
            self._put(pi)
            self._emit("payment_intent.requires_action", pi)
            return pi
        decline = None
        if card is None:
            decline = "test_mode_live_card"
        elif card.decline_code:
            decline = card.decline_code
        elif card.always_authenticate and off_session:
            decline = "authentication_required"
        charge = self._put(
            {
                "id": self._new_id("ch"),
                "object": "charge",
                "amount": pi["amount"],
                "amount_captured": 0,
                "currency": pi["currency"],
                "payment_intent": pi["id"],
                "payment_method": pm["id"],
                "customer": pi.get("customer"),
                "created": self._ts(),
                "captured": False,
                "paid": decline is None,
                "status": "failed" if decline else "succeeded",
                "failure_code": "card_declined" if decline else None,
                "failure_message": DECLINE_MESSAGES.get(decline or ""),
                "balance_transaction": None,
                "metadata": pi.get("metadata", {}),
            }
        )
        pi["latest_charge"] = charge["id"]
        if decline:
            pi.update(
                status="requires_payment_method",
                last_payment_error={
                    "type": "card_error",
                    "code": "authentication_required"
                    if decline == "authentication_required"
                    else "card_declined",
                    "decline_code": decline,
                    "message": DECLINE_MESSAGES[decline],
                    "charge": charge["id"],
                },
            )
            self._put(pi)
            self._emit("charge.failed", charge)
            self._emit("payment_intent.payment_failed", pi)
            return pi
        if pi.get("capture_method") == "manual":
            pi.update(status="requires_capture", amount_capturable=pi["amount"])
            self._put(pi)
            self._emit("payment_intent.amount_capturable_updated", pi)
            return pi
        return self._settle_charge(pi, pi["amount"])


def public_view(obj: Mapping) -> dict:
    """Drop the fields the test gateway keeps for itself (card numbers, IBANs)."""
    out: dict = {}
    for key, value in obj.items():
        if key.startswith("_"):
            continue
        if isinstance(value, Mapping):
            out[key] = public_view(value)
        elif isinstance(value, list):
            out[key] = [public_view(v) if isinstance(v, Mapping) else v for v in value]
        else:
            out[key] = value
    return out


def _error_to(exc: GatewayError) -> dict:
    return {
        "class": type(exc).__name__,
        "message": exc.detail,
        "code": exc.code,
        "decline_code": getattr(exc, "decline_code", ""),
    }


def _error_from(saved: Mapping) -> GatewayError:
    if saved.get("class") == "CardDeclined":
        return CardDeclined(
            saved["message"],
            code=saved.get("code") or "card_declined",
            decline_code=saved.get("decline_code") or "",
        )
    return GatewayError(saved["message"], code=saved.get("code"))

"""The embedded test-mode gateway: Stripe's test mode, offline, inside our own database.

Used whenever no STRIPE_SECRET_KEY is configured, so `make run` works without a network.
It keeps Stripe-shaped objects (payment intents, charges, balance transactions, refunds,
customers, setup intents, Connect accounts, transfers, payouts) in its own tables, in the
caller's transaction, and answers with the same records as the Stripe gateway.

What it reproduces of Stripe's documented test mode:
- test cards (docs.stripe.com/testing): 4242 4242 4242 4242 succeeds, 4000 0000 0000 0002
  is declined (generic_decline), 4000 0000 0000 9995 is declined (insufficient_funds),
  4000 0027 6000 3184 always asks for 3-D Secure authentication, 4000 0000 0000 0341 can
  be saved but every charge is declined; a well-formed real card number is declined
  (test_mode_live_card) and a malformed one is refused (incorrect_number);
- Connect test bank accounts (docs.stripe.com/connect/testing): IBAN
  DE89370400440532013000 is paid out, DE62370400440532013001 fails with no_account;
- idempotency keys: the first answer (object or error) is saved and replayed for the
  same parameters; other parameters under the same key are refused;
- refunds never exceed what is left of the payment;
- fees: Stripe's published standard EEA card price (see p2pbank.payments.rules), in the
  charge's balance transaction;
- events with Stripe's shapes and names, signed with Stripe's scheme at each delivery
  attempt and handed to the same webhook handler as Stripe's.

What it leaves out: the platform's own gateway balance is not tracked (transfers are never
refused for lack of balance), payouts are immediate rather than on a schedule, and keys do
not expire after 24 hours.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from p2pbank.clock import now
from p2pbank.digits import is_ascii_digits
from p2pbank.money import Money
from p2pbank.payments import shapes, signature
from p2pbank.payments.gateway import (
    CardDeclined,
    CardSetup,
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
from p2pbank.payments.rules import eea_card_fee_minor, iban_is_valid, normalize_iban

API_VERSION = "2025-06-30.basil"


@dataclass(frozen=True)
class TestCard:
    """How one of Stripe's documented test cards behaves."""

    __test__ = False  # not a pytest test class

    brand: str
    decline_code: str | None = None  # declined on every charge with this code
    declined_when_saved: bool = False  # saving it (SetupIntent) fails too
    always_authenticate: bool = False  # 3-D Secure on every payment


TEST_CARDS: dict[str, TestCard] = {
    "4242424242424242": TestCard("visa"),
    "5555555555554444": TestCard("mastercard"),
    "4000000000000002": TestCard("visa", "generic_decline", declined_when_saved=True),
    "4000000000009995": TestCard("visa", "insufficient_funds", declined_when_saved=True),
    "4000002760003184": TestCard("visa", always_authenticate=True),
    "4000000000000341": TestCard("visa", "generic_decline"),
}

DECLINE_MESSAGES = {
    "generic_decline": "Your card was declined.",
    "insufficient_funds": "Your card has insufficient funds.",
    "test_mode_live_card": (
        "Your card was declined. Your request was in test mode, but used a non test card."
    ),
    "authentication_required": "Your card was declined. This transaction requires authentication.",
}

TEST_IBAN_PAYOUT_FAILS = {"DE62370400440532013001": "no_account"}


def luhn_ok(number: str) -> bool:
    """The card number check digit (ISO/IEC 7812-1, the Luhn formula)."""
    if not is_ascii_digits(number) or not 12 <= len(number) <= 19:
        return False
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _digits(card_number: str) -> str:
    return "".join(ch for ch in card_number if ch not in " -")


class TestModeGateway:
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

    # --- charges ----------------------------------------------------------------------------

    def _card(self, pm_id: str) -> tuple[dict, TestCard | None]:
        pm = self._get(pm_id, "payment_method")
        return pm, TEST_CARDS.get(pm["_number"] or "")

    def _make_payment_method(self, card_number: str) -> dict:
        number = _digits(card_number)
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
        if amount.minor <= 0:
            raise GatewayError("Amount must be at least 1 minor unit.", code="amount_too_small")
        params = {
            "amount": amount.minor,
            "currency": amount.currency.lower(),
            "metadata": dict(reference),
            "customer": customer_id,
            "capture": capture,
        }

        def op() -> dict:
            if customer_id:
                self._get(customer_id, "customer")
            pi_id = self._new_id("pi")
            pi = self._put(
                {
                    "id": pi_id,
                    "object": "payment_intent",
                    "amount": amount.minor,
                    "amount_received": 0,
                    "amount_capturable": 0,
                    "currency": amount.currency.lower(),
                    "status": "requires_payment_method",
                    "capture_method": "automatic" if capture else "manual",
                    "client_secret": f"{pi_id}_secret_{secrets.token_hex(12)}",
                    "created": self._ts(),
                    "customer": customer_id,
                    "latest_charge": None,
                    "last_payment_error": None,
                    "metadata": {str(k): str(v) for k, v in reference.items()},
                    "next_action": None,
                    "payment_method": None,
                }
            )
            self._emit("payment_intent.created", pi)
            return pi

        return self._payment(self._once(idempotency_key, "payment_intents", params, op))

    def confirm_with_test_card(self, payment_id: str, card_number: str) -> GatewayPayment:
        """What Stripe's payment page does when the payer submits a card (test mode only;
        our own card form stands in for it). Returns the payment after the attempt."""
        pi = self._get(payment_id, "payment_intent")
        if pi["status"] not in ("requires_payment_method", "requires_confirmation"):
            raise GatewayError(
                "This payment cannot be confirmed in its current state.",
                code="payment_intent_unexpected_state",
            )
        try:
            pm = self._make_payment_method(card_number)
        except CardDeclined as exc:
            pi["last_payment_error"] = {
                "type": "card_error",
                "code": exc.code,
                "message": exc.detail,
            }
            self._put(pi)
            return self._payment(pi)
        card = TEST_CARDS.get(pm["_number"] or "")
        return self._payment(self._attempt(pi, pm, card, off_session=False))

    def complete_authentication(self, payment_id: str, *, succeed: bool) -> GatewayPayment:
        """Stripe's test 3-D Secure page: the payer completes or fails the challenge."""
        pi = self._get(payment_id, "payment_intent")
        if pi["status"] != "requires_action":
            raise GatewayError(
                "This payment is not waiting for authentication.",
                code="payment_intent_unexpected_state",
            )
        if not succeed:
            pi.update(
                status="requires_payment_method",
                next_action=None,
                last_payment_error={
                    "type": "card_error",
                    "code": "payment_intent_authentication_failure",
                    "message": "The provided PaymentMethod has failed authentication.",
                },
            )
            self._put(pi)
            self._emit("payment_intent.payment_failed", pi)
            return self._payment(pi)
        pm = self._get(pi["payment_method"], "payment_method")
        authenticated = TestCard("visa")  # the challenge passed: charge like a plain card
        return self._payment(self._attempt(pi, pm, authenticated, off_session=False))

    def create_customer(
        self, *, email: str, reference: Mapping[str, str], idempotency_key: str
    ) -> str:
        def op() -> dict:
            return self._put(
                {
                    "id": self._new_id("cus"),
                    "object": "customer",
                    "email": email,
                    "created": self._ts(),
                    "metadata": {str(k): str(v) for k, v in reference.items()},
                }
            )

        params = {"email": email, "metadata": dict(reference)}
        return str(self._once(idempotency_key, "customers", params, op)["id"])

    def save_card(self, *, customer_id: str, idempotency_key: str) -> CardSetup:
        def op() -> dict:
            self._get(customer_id, "customer")
            seti_id = self._new_id("seti")
            return self._put(
                {
                    "id": seti_id,
                    "object": "setup_intent",
                    "customer": customer_id,
                    "usage": "off_session",
                    "status": "requires_payment_method",
                    "client_secret": f"{seti_id}_secret_{secrets.token_hex(12)}",
                    "payment_method": None,
                    "created": self._ts(),
                }
            )

        return shapes.setup_from(
            self._once(idempotency_key, "setup_intents", {"customer": customer_id}, op)
        )

    def confirm_setup_with_test_card(self, setup_id: str, card_number: str) -> CardSetup:
        """What Stripe's card form does when the payer saves a card (test mode only)."""
        setup = self._get(setup_id, "setup_intent")
        if setup["status"] != "requires_payment_method":
            raise GatewayError(
                "This setup cannot be confirmed in its current state.",
                code="setup_intent_unexpected_state",
            )
        pm = self._make_payment_method(card_number)
        card = TEST_CARDS.get(pm["_number"] or "")
        if card is None or card.declined_when_saved:
            code = "test_mode_live_card" if card is None else card.decline_code or ""
            raise CardDeclined(
                DECLINE_MESSAGES.get(code, "Your card was declined."), decline_code=code
            )
        if card.always_authenticate:
            setup.update(status="requires_action", payment_method=pm["id"])
            return shapes.setup_from(self._put(setup))
        pm["customer"] = setup["customer"]
        self._put(pm)
        setup.update(status="succeeded", payment_method=pm["id"])
        self._put(setup)
        self._emit("setup_intent.succeeded", setup)
        return shapes.setup_from(setup)

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
        params = {
            "amount": amount.minor,
            "currency": amount.currency.lower(),
            "customer": customer_id,
            "card": card_id,
            "metadata": dict(reference),
            "capture": capture,
        }

        def op() -> dict:
            pm, card = self._card(card_id)
            if pm.get("customer") != customer_id:
                raise GatewayError(
                    "The card does not belong to this customer.", code="resource_missing"
                )
            pi_id = self._new_id("pi")
            pi = {
                "id": pi_id,
                "object": "payment_intent",
                "amount": amount.minor,
                "amount_received": 0,
                "amount_capturable": 0,
                "currency": amount.currency.lower(),
                "status": "requires_confirmation",
                "capture_method": "automatic" if capture else "manual",
                "client_secret": f"{pi_id}_secret_{secrets.token_hex(12)}",
                "created": self._ts(),
                "customer": customer_id,
                "latest_charge": None,
                "last_payment_error": None,
                "metadata": {str(k): str(v) for k, v in reference.items()},
                "next_action": None,
                "payment_method": card_id,
            }
            self._emit("payment_intent.created", self._put(pi))
            pi = self._attempt(pi, pm, card, off_session=True)
            error = pi.get("last_payment_error")
            if error:
                raise CardDeclined(
                    error["message"], code=error["code"], decline_code=error["decline_code"]
                )
            return pi

        return self._payment(self._once(idempotency_key, "payment_intents", params, op))

    def capture_payment(
        self, payment_id: str, *, idempotency_key: str, amount: Money | None = None
    ) -> GatewayPayment:
        params = {"payment": payment_id, "amount": None if amount is None else amount.minor}

        def op() -> dict:
            pi = self._get(payment_id, "payment_intent")
            if pi["status"] != "requires_capture":
                raise GatewayError(
                    "This PaymentIntent could not be captured because it has a status of "
                    f"{pi['status']}.",
                    code="payment_intent_unexpected_state",
                )
            take = pi["amount_capturable"] if amount is None else amount.minor
            if not 0 < take <= pi["amount_capturable"]:
                raise GatewayError(
                    "The amount to capture is more than the amount authorized.",
                    code="amount_too_large",
                )
            return self._settle_charge(pi, take, capture_later=True)

        self._once(idempotency_key, "payment_intents.capture", params, op)
        return self.get_payment(payment_id)

    def cancel_payment(self, payment_id: str, *, idempotency_key: str) -> GatewayPayment:
        def op() -> dict:
            pi = self._get(payment_id, "payment_intent")
            if pi["status"] not in (
                "requires_payment_method",
                "requires_capture",
                "requires_confirmation",
                "requires_action",
            ):
                raise GatewayError(
                    "You cannot cancel this PaymentIntent because it has a status of "
                    f"{pi['status']}.",
                    code="payment_intent_unexpected_state",
                )
            pi.update(status="canceled", amount_capturable=0, next_action=None)
            self._put(pi)
            self._emit("payment_intent.canceled", pi)
            return pi

        return self._payment(
            self._once(idempotency_key, "payment_intents.cancel", {"payment": payment_id}, op)
        )

    def refund_payment(
        self,
        payment_id: str,
        *,
        amount: Money,
        reference: Mapping[str, str],
        idempotency_key: str,
    ) -> GatewayRefund:
        params = {"payment": payment_id, "amount": amount.minor, "metadata": dict(reference)}

        def op() -> dict:
            pi = self._get(payment_id, "payment_intent")
            if pi["status"] != "succeeded":
                raise GatewayError(
                    "This payment has not succeeded; there is nothing to refund.",
                    code="charge_not_refundable",
                )
            charge = self._get(pi["latest_charge"], "charge")
            refunded = int(charge.get("amount_refunded") or 0)
            left = int(pi["amount_received"]) - refunded
            if left <= 0:
                raise GatewayError(
                    f"Charge {charge['id']} has already been refunded.",
                    code="charge_already_refunded",
                )
            if amount.minor > left:
                raise GatewayError(
                    f"Refund amount ({amount.minor}) is greater than unrefunded amount on "
                    f"charge ({left}).",
                    code="amount_too_large",
                )
            refund_id = self._new_id("re")
            self._put(
                {
                    "id": self._new_id("txn"),
                    "object": "balance_transaction",
                    "amount": -amount.minor,
                    "currency": pi["currency"],
                    "fee": 0,
                    "fee_details": [],
                    "net": -amount.minor,
                    "type": "refund",
                    "source": refund_id,
                    "created": self._ts(),
                    "status": "available",
                }
            )
            refund = self._put(
                {
                    "id": refund_id,
                    "object": "refund",
                    "amount": amount.minor,
                    "currency": pi["currency"],
                    "charge": charge["id"],
                    "payment_intent": pi["id"],
                    "status": "succeeded",
                    "created": self._ts(),
                    "metadata": {str(k): str(v) for k, v in reference.items()},
                    "failure_reason": None,
                }
            )
            charge.update(
                amount_refunded=refunded + amount.minor,
                refunded=refunded + amount.minor >= int(pi["amount_received"]),
            )
            self._put(charge)
            self._emit("refund.created", refund)
            self._emit("charge.refunded", charge)
            return refund

        return shapes.refund_from(self._once(idempotency_key, "refunds", params, op))

    # --- money out --------------------------------------------------------------------------

    def create_payout_account(
        self, *, email: str, country: str, reference: Mapping[str, str], idempotency_key: str
    ) -> GatewayAccount:
        params = {"email": email, "country": country, "metadata": dict(reference)}

        def op() -> dict:
            return self._put(
                {
                    "id": self._new_id("acct"),
                    "object": "account",
                    "type": "express",
                    "country": country,
                    "email": email,
                    "created": self._ts(),
                    "capabilities": {"transfers": "inactive"},
                    "details_submitted": False,
                    "payouts_enabled": False,
                    "external_accounts": {"object": "list", "data": []},
                    "metadata": {str(k): str(v) for k, v in reference.items()},
                }
            )

        return shapes.account_from(self._once(idempotency_key, "accounts", params, op))

    def payout_onboarding_link(self, account_id: str, *, refresh_url: str, return_url: str) -> str:
        # Stripe would host the onboarding; in test mode the person comes straight back to
        # our payout-account page, which asks for test bank details itself.
        self._get(account_id, "account")
        return return_url

    def complete_test_onboarding(self, account_id: str, *, iban: str) -> GatewayAccount:
        """What Stripe's hosted onboarding does once the person has entered their details
        (test mode only): attach the bank account and enable payouts."""
        account = self._get(account_id, "account")
        number = normalize_iban(iban)
        if not iban_is_valid(number):
            raise GatewayError("The IBAN you provided is invalid.", code="invalid_iban")
        account["external_accounts"] = {
            "object": "list",
            "data": [
                {
                    "id": self._new_id("ba"),
                    "object": "bank_account",
                    "country": number[:2],
                    "last4": number[-4:],
                    "_iban": number,
                }
            ],
        }
        account.update(
            details_submitted=True, payouts_enabled=True, capabilities={"transfers": "active"}
        )
        self._put(account)
        self._emit("account.updated", _public(account), account=account_id)
        return shapes.account_from(account)

    def transfer_to_account(
        self,
        account_id: str,
        *,
        amount: Money,
        reference: Mapping[str, str],
        idempotency_key: str,
    ) -> GatewayTransfer:
        params = {
            "destination": account_id,
            "amount": amount.minor,
            "currency": amount.currency.lower(),
            "metadata": dict(reference),
        }

        def op() -> dict:
            account = self._get(account_id, "account")
            if account.get("capabilities", {}).get("transfers") != "active":
                raise GatewayError(
                    "Your destination account needs to have at least one of the following "
                    "capabilities enabled: transfers.",
                    code="insufficient_capabilities_for_transfer",
                )
            transfer = self._put(
                {
                    "id": self._new_id("tr"),
                    "object": "transfer",
                    "amount": amount.minor,
                    "amount_reversed": 0,
                    "currency": amount.currency.lower(),
                    "destination": account_id,
                    "created": self._ts(),
                    "reversed": False,
                    "metadata": {str(k): str(v) for k, v in reference.items()},
                }
            )
            self._emit("transfer.created", transfer)
            self._pay_out(account, transfer)
            return transfer

        return shapes.transfer_from(self._once(idempotency_key, "transfers", params, op))

    def _pay_out(self, account: dict, transfer: dict) -> None:
        """The connected account's automatic payout of the transfer to its bank."""
        bank = (account.get("external_accounts", {}).get("data") or [{}])[0]
        failure = TEST_IBAN_PAYOUT_FAILS.get(bank.get("_iban", ""))
        payout = self._put(
            {
                "id": self._new_id("po"),
                "object": "payout",
                "amount": transfer["amount"],
                "currency": transfer["currency"],
                "created": self._ts(),
                "arrival_date": self._ts(),
                "destination": bank.get("id"),
                "status": "failed" if failure else "paid",
                "failure_code": failure,
                "failure_message": "The bank account could not be found." if failure else None,
                "metadata": {"transfer": transfer["id"]},
            }
        )
        self._emit("payout.failed" if failure else "payout.paid", payout, account=account["id"])

    def reverse_transfer(self, transfer_id: str, *, idempotency_key: str) -> GatewayTransfer:
        """Take a transfer back from the payout account (Stripe: transfer reversal)."""

        def op() -> dict:
            transfer = self._get(transfer_id, "transfer")
            if transfer["amount_reversed"] >= transfer["amount"]:
                raise GatewayError("This transfer is already reversed.", code="transfer_reversed")
            transfer.update(amount_reversed=transfer["amount"], reversed=True)
            self._put(transfer)
            self._emit("transfer.reversed", transfer)
            return transfer

        return shapes.transfer_from(
            self._once(idempotency_key, "transfers.reversals", {"transfer": transfer_id}, op)
        )

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


def _public(obj: Mapping) -> dict:
    """Drop the fields the test gateway keeps for itself (card numbers, IBANs)."""
    out: dict = {}
    for key, value in obj.items():
        if key.startswith("_"):
            continue
        if isinstance(value, Mapping):
            out[key] = _public(value)
        elif isinstance(value, list):
            out[key] = [_public(v) if isinstance(v, Mapping) else v for v in value]
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

"""Money in through the sandbox gateway: payment intents confirmed with a test card,
3-D Secure, customers and saved cards charged off-session, capture, cancel, refunds.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping

from p2pbank.money import Money
from p2pbank.payments import shapes
from p2pbank.payments.gateway import (
    CardDeclined,
    CardSetup,
    GatewayError,
    GatewayPayment,
    GatewayRefund,
)
from p2pbank.payments.sandbox_cards import (
    DECLINE_MESSAGES,
    TEST_CARDS,
    TestCard,
)
from p2pbank.payments.sandbox_store import SandboxStore


class MoneyIn(SandboxStore):
    """Card payments, saved cards and refunds, as Stripe's test mode answers them."""

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
            pi, charge = self._refundable(payment_id, amount)
            refund = self._put_refund(pi, charge, amount, reference)
            refunded = int(charge.get("amount_refunded") or 0) + amount.minor
            charge.update(
                amount_refunded=refunded,
                refunded=refunded >= int(pi["amount_received"]),
            )
            self._put(charge)
            self._emit("refund.created", refund)
            self._emit("charge.refunded", charge)
            return refund

        return shapes.refund_from(self._once(idempotency_key, "refunds", params, op))

    def _refundable(self, payment_id: str, amount: Money) -> tuple[dict, dict]:
        """The succeeded payment and its charge, when `amount` is still unrefunded on it;
        else the error the gateway gives."""
        pi = self._get(payment_id, "payment_intent")
        if pi["status"] != "succeeded":
            raise GatewayError(
                "This payment has not succeeded; there is nothing to refund.",
                code="charge_not_refundable",
            )
        charge = self._get(pi["latest_charge"], "charge")
        left = int(pi["amount_received"]) - int(charge.get("amount_refunded") or 0)
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
        return pi, charge

    def _put_refund(
        self, pi: dict, charge: dict, amount: Money, reference: Mapping[str, str]
    ) -> dict:
        """Store the refund and its balance transaction (money back out of the balance)."""
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
        return self._put(
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

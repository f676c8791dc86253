"""Stripe-shaped JSON objects read into our gateway records (no SDK, no I/O).

Both gateways speak Stripe's object shapes: the Stripe gateway gets them from the API,
the test-mode gateway stores them. Reading them in one place keeps the two in step.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from p2pbank.money import Money
from p2pbank.payments.gateway import (
    CardSetup,
    GatewayAccount,
    GatewayPayment,
    GatewayRefund,
    GatewayRefundStatus,
    GatewayTransfer,
    IntentStatus,
)

INTENT_STATUS = {
    "requires_payment_method": IntentStatus.NEEDS_METHOD,
    "requires_source": IntentStatus.NEEDS_METHOD,
    "requires_confirmation": IntentStatus.NEEDS_CONFIRMATION,
    "requires_action": IntentStatus.NEEDS_AUTHENTICATION,
    "requires_source_action": IntentStatus.NEEDS_AUTHENTICATION,
    "processing": IntentStatus.PROCESSING,
    "requires_capture": IntentStatus.AUTHORIZED,
    "succeeded": IntentStatus.SUCCEEDED,
    "canceled": IntentStatus.CANCELED,
}

SETUP_STATUS = {
    "requires_payment_method": "needs_method",
    "requires_confirmation": "needs_method",
    "requires_action": "needs_authentication",
    "processing": "processing",
    "succeeded": "succeeded",
    "canceled": "canceled",
}


def currency_of(obj: Mapping) -> str:
    return str(obj.get("currency") or "eur").upper()


def moment(ts: object) -> datetime:
    return datetime.fromtimestamp(int(ts or 0), UTC)


def _id(value: object) -> str | None:
    """An expandable field: an id string, an expanded object, or nothing."""
    if value is None or value == "":
        return None
    if isinstance(value, Mapping):
        return str(value.get("id")) if value.get("id") else None
    return str(value)


def payment_from(pi: Mapping) -> GatewayPayment:
    currency = currency_of(pi)
    status = INTENT_STATUS.get(str(pi.get("status")), IntentStatus.PROCESSING)
    amount = int(pi["amount"])
    if "amount_received" in pi and pi["amount_received"] is not None:
        received = int(pi["amount_received"])
    else:  # servers that leave the field out (localstripe) mean "all of it" once succeeded
        received = amount if status == IntentStatus.SUCCEEDED else 0
    charge = pi.get("latest_charge")
    fee = balance_txn = None
    if isinstance(charge, Mapping):
        txn = charge.get("balance_transaction")
        if isinstance(txn, Mapping):
            fee = Money(int(txn.get("fee") or 0), currency_of(txn))
            balance_txn = _id(txn)
        else:
            balance_txn = _id(txn)
    error = pi.get("last_payment_error") or {}
    return GatewayPayment(
        id=str(pi["id"]),
        status=status,
        amount=Money(amount, currency),
        amount_received=Money(received, currency),
        metadata=dict(pi.get("metadata") or {}),
        created_at=moment(pi.get("created")),
        client_secret=pi.get("client_secret"),
        customer_id=_id(pi.get("customer")),
        card_id=_id(pi.get("payment_method")),
        charge_id=_id(charge),
        fee=fee,
        balance_transaction_id=balance_txn,
        failure_code=(error.get("decline_code") or error.get("code")) if error else None,
        failure_message=error.get("message") if error else None,
    )


def refund_from(refund: Mapping) -> GatewayRefund:
    status = str(refund.get("status") or "pending")
    mapped = {
        "succeeded": GatewayRefundStatus.SUCCEEDED,
        "failed": GatewayRefundStatus.FAILED,
        "canceled": GatewayRefundStatus.CANCELED,
    }.get(status, GatewayRefundStatus.PENDING)
    return GatewayRefund(
        id=str(refund["id"]),
        payment_id=_id(refund.get("payment_intent")) or "",
        status=mapped,
        amount=Money(int(refund["amount"]), currency_of(refund)),
        metadata=dict(refund.get("metadata") or {}),
        created_at=moment(refund.get("created")),
        failure_reason=refund.get("failure_reason"),
    )


def transfer_from(transfer: Mapping) -> GatewayTransfer:
    currency = currency_of(transfer)
    return GatewayTransfer(
        id=str(transfer["id"]),
        account_id=_id(transfer.get("destination")) or "",
        amount=Money(int(transfer["amount"]), currency),
        amount_reversed=Money(int(transfer.get("amount_reversed") or 0), currency),
        metadata=dict(transfer.get("metadata") or {}),
        created_at=moment(transfer.get("created")),
    )


def account_from(account: Mapping) -> GatewayAccount:
    externals = (account.get("external_accounts") or {}).get("data") or []
    last4 = str(externals[0].get("last4")) if externals and externals[0].get("last4") else None
    return GatewayAccount(
        id=str(account["id"]),
        payouts_enabled=bool(account.get("payouts_enabled")),
        details_submitted=bool(account.get("details_submitted")),
        bank_last4=last4,
        metadata=dict(account.get("metadata") or {}),
    )


def setup_from(setup: Mapping) -> CardSetup:
    return CardSetup(
        id=str(setup["id"]),
        status=SETUP_STATUS.get(str(setup.get("status")), "needs_method"),
        customer_id=_id(setup.get("customer")),
        client_secret=setup.get("client_secret"),
        card_id=_id(setup.get("payment_method")),
    )

"""Payment use cases: deposits here; payout accounts and withdrawals in payouts.py, refunds in
refunds.py.

Each public command takes the session first and commits once. Where the gateway is called,
the rule is: commit our intent first, call the gateway with our deterministic idempotency
key, then record its answer in a second command. So `start_deposit` is `open_deposit`
(commit) + gateway call + `attach_gateway_payment` (commit), and a retry at any point
converges on the same gateway object instead of creating a second one.

Money moves only here and in the webhook handlers, always through p2pbank.ledger:
- a deposit the gateway confirmed: platform:gateway_clearing -> the user's wallet;
- the gateway's fee, read from the charge's balance transaction:
  platform:gateway_fees (expense) -> platform:gateway_clearing;
- a withdrawal: a hold on the wallet, captured into platform:gateway_clearing when the
  transfer to the person's payout account succeeded, released when it failed;
- a refund: a hold on the wallet, captured into platform:gateway_clearing."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from p2pbank.clock import now
from p2pbank.digits import is_ascii_digits
from p2pbank.errors import (
    Conflict,
    InvalidState,
    NotFound,
    ValidationFailed,
)
from p2pbank.identity.services import get_user
from p2pbank.ledger import services as ledger
from p2pbank.ledger.models import AccountType
from p2pbank.money import Money
from p2pbank.payments import rules
from p2pbank.payments.gateway import (
    GatewayError,
    GatewayPayment,
    IntentStatus,
    PaymentGateway,
)
from p2pbank.payments.models import (
    Payment,
    PaymentStatus,
)

log = logging.getLogger("p2pbank.payments")

CLEARING = ledger.PLATFORM_GATEWAY_CLEARING
GATEWAY_FEES = "platform:gateway_fees"
META_PAYMENT = "p2pbank_payment_id"
META_PAYOUT = "p2pbank_payout_id"
META_REFUND = "p2pbank_refund_id"
META_USER = "p2pbank_user_id"


# Field messages repeat their error's text (extracted for translation from the error).
ENTER_CODE = "Enter the code from your authenticator app to confirm the withdrawal."
TOO_LITTLE = "You have less than that available in your wallet."
SPENT = "The person's wallet no longer holds that much."


class AmountMismatch(Conflict):
    """The gateway's object does not carry the amount we asked for."""

    title = "Amount mismatch"


def scoped_key(user_id: int, key: str) -> str:
    key = (key or "").strip()
    if not key or len(key) > 200:
        raise ValidationFailed(
            "An idempotency key (1-200 characters) is required.",
            field_errors={"idempotency_key": ["Required, 1-200 characters."]},
        )
    return f"{user_id}:{key}"


def open_platform_accounts(session: Session, currency: str) -> None:
    ledger.ensure_platform_account(session, CLEARING, currency)
    ledger.ensure_account(session, GATEWAY_FEES, type=AccountType.EXPENSE, currency=currency)


def own_row(session: Session, model, row_id: int, user_id: int):
    row = session.get(model, row_id)
    if row is None or row.user_id != user_id:
        raise NotFound("No such payment.")  # another person's row is indistinguishable
    return row


# --- deposits ------------------------------------------------------------------------------


@dataclass(frozen=True)
class DepositStarted:
    payment: Payment
    client_secret: str | None  # for the payer's browser (Stripe.js); never stored


def open_deposit(
    session: Session,
    user_id: int,
    *,
    amount_minor: int,
    idempotency_key: str,
    gateway_name: str,
    currency: str = "EUR",
    min_minor: int = rules.DEFAULT_MIN_DEPOSIT_MINOR,
    max_minor: int = rules.DEFAULT_MAX_DEPOSIT_MINOR,
) -> Payment:
    """Record the intent to deposit (status pending) and commit, before any gateway call.
    The same idempotency key returns the same payment."""
    user = get_user(session, user_id)
    problems = rules.deposit_limit_errors(amount_minor, min_minor=min_minor, max_minor=max_minor)
    if problems:
        raise ValidationFailed(problems[0], field_errors={"amount_minor": problems})
    key = scoped_key(user.id, idempotency_key)
    existing = session.scalar(select(Payment).where(Payment.idempotency_key == key))
    if existing is not None:
        if (existing.amount_minor, existing.currency) != (amount_minor, currency):
            raise Conflict("This idempotency key was used for a different deposit.")
        return existing
    ledger.ensure_wallet(session, user.id, currency)
    open_platform_accounts(session, currency)
    payment = Payment(
        user_id=user.id,
        purpose="deposit",
        amount_minor=amount_minor,
        currency=currency,
        status=PaymentStatus.PENDING,
        gateway=gateway_name,
        idempotency_key=key,
    )
    session.add(payment)
    session.commit()
    return payment


def attach_gateway_payment(session: Session, payment_id: int, gateway_payment_id: str) -> Payment:
    """Remember which gateway payment belongs to our payment (idempotent)."""
    payment = session.get(Payment, payment_id)
    if payment is None:
        raise NotFound("No such payment.")
    if payment.gateway_payment_id not in (None, gateway_payment_id):
        raise Conflict("This payment already has another gateway payment.")
    payment.gateway_payment_id = gateway_payment_id
    session.commit()
    return payment


def start_deposit(
    session: Session,
    gateway: PaymentGateway,
    user_id: int,
    *,
    amount_minor: int,
    idempotency_key: str,
    currency: str = "EUR",
    min_minor: int = rules.DEFAULT_MIN_DEPOSIT_MINOR,
    max_minor: int = rules.DEFAULT_MAX_DEPOSIT_MINOR,
) -> DepositStarted:
    """A deposit: our pending payment (committed), then the gateway payment created with
    our key `deposit:<payment id>`, then its id recorded. The wallet is credited only when
    the gateway confirms the payment (webhook or sync_payment)."""
    payment = open_deposit(
        session,
        user_id,
        amount_minor=amount_minor,
        idempotency_key=idempotency_key,
        gateway_name=gateway.name,
        currency=currency,
        min_minor=min_minor,
        max_minor=max_minor,
    )
    if payment.gateway != gateway.name:
        raise InvalidState("This deposit was started with another payment gateway.")
    gp = gateway.create_payment(
        amount=Money(payment.amount_minor, payment.currency),
        reference={
            META_PAYMENT: str(payment.id),
            META_USER: str(payment.user_id),
            "purpose": "deposit",
        },
        idempotency_key=f"deposit:{payment.id}",
    )
    payment = attach_gateway_payment(session, payment.id, gp.id)
    return DepositStarted(payment=payment, client_secret=gp.client_secret)


def complete_test_card_payment(
    session: Session, gateway: PaymentGateway, user_id: int, payment_id: int, *, card_number: str
) -> GatewayPayment:
    """Test mode only: the payer submits one of Stripe's test cards on our card form.
    Returns the gateway's answer; our payment follows when the events are delivered."""
    confirm = getattr(gateway, "confirm_with_test_card", None)
    if not gateway.is_test_mode or confirm is None:
        raise InvalidState("Test cards are accepted only by the test-mode gateway.")
    payment = own_row(session, Payment, payment_id, user_id)
    if payment.status not in (PaymentStatus.PENDING, PaymentStatus.FAILED):
        raise InvalidState("This deposit is not waiting for a card.")
    if payment.gateway_payment_id is None:
        raise InvalidState("This deposit was not registered with the gateway; start again.")
    digits = "".join(ch for ch in card_number if is_ascii_digits(ch))
    if not 12 <= len(digits) <= 19:
        raise ValidationFailed(
            "Enter a card number.", field_errors={"card_number": ["Enter a card number."]}
        )
    gp = confirm(payment.gateway_payment_id, digits)
    session.commit()
    return gp


def complete_test_authentication(
    session: Session, gateway: PaymentGateway, user_id: int, payment_id: int, *, succeed: bool
) -> GatewayPayment:
    """Test mode only: the payer completes (or fails) the 3-D Secure challenge."""
    authenticate = getattr(gateway, "complete_authentication", None)
    if not gateway.is_test_mode or authenticate is None:
        raise InvalidState("Test authentication exists only in test mode.")
    payment = own_row(session, Payment, payment_id, user_id)
    if payment.gateway_payment_id is None:
        raise InvalidState("This deposit was not registered with the gateway.")
    gp = authenticate(payment.gateway_payment_id, succeed=succeed)
    session.commit()
    return gp


def cancel_deposit(
    session: Session, gateway: PaymentGateway, user_id: int, payment_id: int
) -> Payment:
    """The payer abandons a deposit that has not succeeded; nothing was credited."""
    payment = own_row(session, Payment, payment_id, user_id)
    if payment.status == PaymentStatus.CANCELED:
        return payment
    if payment.status == PaymentStatus.SUCCEEDED:
        raise InvalidState("This deposit has succeeded; it cannot be canceled.")
    if payment.gateway_payment_id is not None:
        try:
            gp = gateway.cancel_payment(
                payment.gateway_payment_id, idempotency_key=f"deposit-cancel:{payment.id}"
            )
        except GatewayError:
            # It may have succeeded meanwhile: take the gateway's word for it.
            gp = gateway.get_payment(payment.gateway_payment_id)
        apply_payment_state(session, payment, gp)
    else:
        payment.move_to(PaymentStatus.CANCELED)
    session.commit()
    return payment


def sync_payment(session: Session, gateway: PaymentGateway, payment_id: int) -> Payment:
    """Re-read the gateway's payment and converge ours on it (the return page after the
    payer left Stripe's page; reconciliation fixes). Idempotent."""
    payment = session.get(Payment, payment_id, with_for_update=True, populate_existing=True)
    if payment is None:
        raise NotFound("No such payment.")
    if payment.gateway_payment_id is not None:
        apply_payment_state(session, payment, gateway.get_payment(payment.gateway_payment_id))
    session.commit()
    return payment


def apply_payment_state(session: Session, payment: Payment, gp: GatewayPayment) -> bool:
    """Make our payment agree with the gateway's; credits the wallet exactly once when the
    gateway says the money arrived. Returns whether anything changed. Flushes only.
    Raises AmountMismatch (changing nothing) when the gateway's object is not the payment
    we asked for."""
    claimed = gp.metadata.get(META_PAYMENT)
    if claimed is not None and claimed != str(payment.id):
        raise AmountMismatch(f"gateway payment {gp.id} belongs to payment {claimed}")
    if payment.gateway_payment_id not in (None, gp.id):
        raise AmountMismatch(f"payment {payment.id} is not gateway payment {gp.id}")
    if (gp.amount.minor, gp.amount.currency) != (payment.amount_minor, payment.currency):
        raise AmountMismatch(
            f"gateway payment {gp.id} is for {gp.amount}, "
            f"payment {payment.id} for {Money(payment.amount_minor, payment.currency)}"
        )
    before = (payment.status, payment.fee_minor, payment.failure_code)
    payment.gateway_payment_id = gp.id
    current = PaymentStatus(payment.status)
    if gp.status == IntentStatus.SUCCEEDED:
        if gp.amount_received.minor != payment.amount_minor:
            raise AmountMismatch(
                f"gateway payment {gp.id} received {gp.amount_received}, "
                f"expected {Money(payment.amount_minor, payment.currency)}"
            )
        if current != PaymentStatus.SUCCEEDED:
            if current == PaymentStatus.CANCELED:
                log.error("gateway payment %s succeeded after we canceled it", gp.id)
                raise InvalidState(f"payment {payment.id} was canceled but the money arrived")
            _credit_deposit(session, payment, gp)
        _book_fee(session, payment, gp)
    elif current == PaymentStatus.SUCCEEDED:
        pass  # success is final; a later, older event changes nothing
    elif gp.status == IntentStatus.CANCELED:
        payment.move_to(PaymentStatus.CANCELED)
    elif gp.failed:
        if current != PaymentStatus.FAILED:
            payment.move_to(PaymentStatus.FAILED)
        payment.failure_code = (gp.failure_code or "")[:80]
        payment.failure_message = (gp.failure_message or "")[:500]
    elif gp.status == IntentStatus.NEEDS_AUTHENTICATION and current != PaymentStatus.NEEDS_ACTION:
        payment.move_to(PaymentStatus.NEEDS_ACTION)
    session.flush()
    return before != (payment.status, payment.fee_minor, payment.failure_code)


def _credit_deposit(session: Session, payment: Payment, gp: GatewayPayment) -> None:
    ledger.ensure_wallet(session, payment.user_id, payment.currency)
    open_platform_accounts(session, payment.currency)
    entry = ledger.post_entry(
        session,
        postings=[
            (CLEARING, -payment.amount_minor),
            (ledger.wallet_code(payment.user_id, payment.currency), payment.amount_minor),
        ],
        currency=payment.currency,
        kind="deposit",
        idempotency_key=f"deposit:{payment.id}",
        ref_type="payment",
        ref_id=payment.id,
        gateway_ref=gp.id,
        memo="Card deposit",
    )
    payment.move_to(PaymentStatus.SUCCEEDED)
    payment.ledger_entry_id = entry.id
    payment.succeeded_at = now()
    payment.failure_code = None
    payment.failure_message = None


def _book_fee(session: Session, payment: Payment, gp: GatewayPayment) -> None:
    """The gateway's fee from the charge's balance transaction, booked once as an expense."""
    if payment.fee_minor is not None or gp.fee is None:
        return
    if gp.fee.currency != payment.currency:
        log.error("fee of %s is in %s, not %s", gp.id, gp.fee.currency, payment.currency)
        return
    payment.fee_minor = gp.fee.minor
    if gp.fee.minor > 0:
        entry = ledger.post_entry(
            session,
            postings=[(GATEWAY_FEES, -gp.fee.minor), (CLEARING, gp.fee.minor)],
            currency=payment.currency,
            kind="gateway_fee",
            idempotency_key=f"gateway-fee:payment:{payment.id}",
            ref_type="payment",
            ref_id=payment.id,
            gateway_ref=gp.balance_transaction_id or gp.id,
            memo="Card processing fee (gateway balance transaction)",
        )
        payment.fee_entry_id = entry.id

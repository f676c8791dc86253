"""Payment use cases: deposits, withdrawals, payout accounts, refunds.

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
- a refund: a hold on the wallet, captured into platform:gateway_clearing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from p2pbank.clock import now
from p2pbank.digits import is_ascii_digits
from p2pbank.errors import (
    Conflict,
    Forbidden,
    InsufficientFunds,
    InvalidState,
    NotFound,
    Unauthorized,
    ValidationFailed,
)
from p2pbank.identity.services import get_user
from p2pbank.identity.twofactor_services import verify_second_factor
from p2pbank.ledger import services as ledger
from p2pbank.ledger.models import AccountType
from p2pbank.money import Money
from p2pbank.payments import rules
from p2pbank.payments.gateway import (
    GatewayError,
    GatewayPayment,
    GatewayRefund,
    GatewayRefundStatus,
    GatewayTransfer,
    IntentStatus,
    PaymentGateway,
)
from p2pbank.payments.models import (
    ConnectedAccount,
    Payment,
    PaymentStatus,
    Payout,
    PayoutStatus,
    Refund,
    RefundStatus,
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


def _scoped_key(user_id: int, key: str) -> str:
    key = (key or "").strip()
    if not key or len(key) > 200:
        raise ValidationFailed(
            "An idempotency key (1-200 characters) is required.",
            field_errors={"idempotency_key": ["Required, 1-200 characters."]},
        )
    return f"{user_id}:{key}"


def _open_platform_accounts(session: Session, currency: str) -> None:
    ledger.ensure_platform_account(session, CLEARING, currency)
    ledger.ensure_account(session, GATEWAY_FEES, type=AccountType.EXPENSE, currency=currency)


def _own(session: Session, model, row_id: int, user_id: int):
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
    key = _scoped_key(user.id, idempotency_key)
    existing = session.scalar(select(Payment).where(Payment.idempotency_key == key))
    if existing is not None:
        if (existing.amount_minor, existing.currency) != (amount_minor, currency):
            raise Conflict("This idempotency key was used for a different deposit.")
        return existing
    ledger.ensure_wallet(session, user.id, currency)
    _open_platform_accounts(session, currency)
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
    payment = _own(session, Payment, payment_id, user_id)
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
    payment = _own(session, Payment, payment_id, user_id)
    if payment.gateway_payment_id is None:
        raise InvalidState("This deposit was not registered with the gateway.")
    gp = authenticate(payment.gateway_payment_id, succeed=succeed)
    session.commit()
    return gp


def cancel_deposit(
    session: Session, gateway: PaymentGateway, user_id: int, payment_id: int
) -> Payment:
    """The payer abandons a deposit that has not succeeded; nothing was credited."""
    payment = _own(session, Payment, payment_id, user_id)
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
    _open_platform_accounts(session, payment.currency)
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


# --- payout accounts -------------------------------------------------------------------------


def _require_verified(user) -> None:
    if not user.kyc_verified:
        raise Forbidden("Your identity check (KYC) must be verified before money can leave.")


def _payout_account(session: Session, user_id: int) -> ConnectedAccount | None:
    return session.scalar(select(ConnectedAccount).where(ConnectedAccount.user_id == user_id))


def onboard_payouts(
    session: Session,
    gateway: PaymentGateway,
    user_id: int,
    *,
    refresh_url: str,
    return_url: str,
    country: str = "NL",
) -> str:
    """Open the person's payout account at the gateway (once) and return where they finish
    onboarding. Requires a verified identity check."""
    user = get_user(session, user_id)
    _require_verified(user)
    account = _payout_account(session, user.id)
    if account is None:
        state = gateway.create_payout_account(
            email=user.email,
            country=country,
            reference={META_USER: str(user.id)},
            idempotency_key=f"payout-account:{user.id}",
        )
        account = ConnectedAccount(
            user_id=user.id,
            gateway=gateway.name,
            gateway_account_id=state.id,
            country=country,
            payouts_enabled=state.payouts_enabled,
            details_submitted=state.details_submitted,
            bank_last4=state.bank_last4,
        )
        session.add(account)
        session.commit()
    elif account.gateway != gateway.name:
        raise InvalidState("Your payout account is with another payment gateway.")
    return gateway.payout_onboarding_link(
        account.gateway_account_id, refresh_url=refresh_url, return_url=return_url
    )


def complete_test_onboarding(
    session: Session, gateway: PaymentGateway, user_id: int, *, iban: str
) -> ConnectedAccount:
    """Test mode only: the bank details the gateway's hosted onboarding would collect."""
    finish = getattr(gateway, "complete_test_onboarding", None)
    if not gateway.is_test_mode or finish is None:
        raise InvalidState("Test bank details are accepted only in test mode.")
    account = _payout_account(session, user_id)
    if account is None:
        raise InvalidState("Set up your payout account first.")
    if not rules.iban_is_valid(iban):
        raise ValidationFailed(
            "This IBAN is not valid.", field_errors={"iban": ["This IBAN is not valid."]}
        )
    state = finish(account.gateway_account_id, iban=iban)
    account.payouts_enabled = state.payouts_enabled
    account.details_submitted = state.details_submitted
    account.bank_last4 = state.bank_last4
    session.commit()
    return account


def refresh_payout_account(
    session: Session, gateway: PaymentGateway, user_id: int
) -> ConnectedAccount | None:
    """Re-read the payout account from the gateway (the person came back from onboarding)."""
    account = _payout_account(session, user_id)
    if account is None:
        return None
    state = gateway.get_payout_account(account.gateway_account_id)
    account.payouts_enabled = state.payouts_enabled
    account.details_submitted = state.details_submitted
    account.bank_last4 = state.bank_last4
    session.commit()
    return account


# --- withdrawals ---------------------------------------------------------------------------


def request_withdrawal(
    session: Session,
    user_id: int,
    *,
    amount_minor: int,
    idempotency_key: str,
    currency: str = "EUR",
    totp_code: str | None = None,
) -> Payout:
    """Hold the amount on the wallet for a payout (committed before the gateway is asked).
    Requires a verified identity check, a payout account ready for payouts and, when the
    person has two-factor sign-in on, a current code from their app."""
    user = get_user(session, user_id)
    _require_verified(user)
    if type(amount_minor) is not int or amount_minor <= 0:
        raise ValidationFailed(
            "Enter a positive amount.", field_errors={"amount_minor": ["Must be positive."]}
        )
    key = _scoped_key(user.id, idempotency_key)
    existing = session.scalar(select(Payout).where(Payout.idempotency_key == key))
    if existing is not None:
        if (existing.amount_minor, existing.currency) != (amount_minor, currency):
            raise Conflict("This idempotency key was used for a different withdrawal.")
        return existing
    account = _payout_account(session, user.id)
    if account is None or not account.payouts_enabled:
        raise InvalidState("Set up your payout account before you withdraw.")
    if user.totp_enabled:
        if not (totp_code or "").strip():
            raise ValidationFailed(
                "Enter the code from your authenticator app to confirm the withdrawal.",
                field_errors={"totp_code": [ENTER_CODE]},
            )
        try:
            verify_second_factor(session, user.id, totp_code.strip())  # type: ignore[union-attr]
        except Unauthorized as exc:
            raise ValidationFailed(exc.detail, field_errors={"totp_code": [exc.detail]}) from exc
    payout = Payout(
        user_id=user.id,
        payout_account_id=account.id,
        amount_minor=amount_minor,
        currency=currency,
        status=PayoutStatus.REQUESTED,
        gateway=account.gateway,
        idempotency_key=key,
    )
    try:
        session.add(payout)
        session.flush()
        held = ledger.hold(
            session,
            account_code=ledger.wallet_code(user.id, currency),
            amount=Money(amount_minor, currency),
            idempotency_key=f"payout-hold:{payout.id}",
            ref_type="payout",
            ref_id=payout.id,
            memo="Withdrawal to your payout account",
        )
    except InsufficientFunds as exc:
        session.rollback()  # nothing of this command stays
        raise InsufficientFunds(
            "You have less than that available in your wallet.",
            field_errors={"amount_minor": [TOO_LITTLE]},
        ) from exc
    except Exception:
        session.rollback()
        raise
    payout.hold_id = held.id
    session.commit()
    return payout


def send_payout(session: Session, gateway: PaymentGateway, payout_id: int) -> Payout:
    """Ask the gateway to transfer a requested payout (our key `payout:<id>`, so a retry
    never pays twice) and settle the hold from its answer: captured on success, released
    when the gateway refuses. A gateway that cannot be reached leaves it requested."""
    payout = session.get(Payout, payout_id, with_for_update=True, populate_existing=True)
    if payout is None:
        raise NotFound("No such withdrawal.")
    if payout.status != PayoutStatus.REQUESTED:
        return payout
    account = session.get(ConnectedAccount, payout.payout_account_id)
    assert account is not None
    try:
        transfer = gateway.transfer_to_account(
            account.gateway_account_id,
            amount=Money(payout.amount_minor, payout.currency),
            reference={META_PAYOUT: str(payout.id), META_USER: str(payout.user_id)},
            idempotency_key=f"payout:{payout.id}",
        )
    except GatewayError as exc:
        fail_payout(session, payout, exc.detail)
    else:
        apply_transfer_state(session, payout, transfer)
    session.commit()
    return payout


def withdraw(
    session: Session,
    gateway: PaymentGateway,
    user_id: int,
    *,
    amount_minor: int,
    idempotency_key: str,
    currency: str = "EUR",
    totp_code: str | None = None,
) -> Payout:
    """request_withdrawal, then send_payout: what the pages and the API call."""
    payout = request_withdrawal(
        session,
        user_id,
        amount_minor=amount_minor,
        idempotency_key=idempotency_key,
        currency=currency,
        totp_code=totp_code,
    )
    return send_payout(session, gateway, payout.id)


def fail_payout(session: Session, payout: Payout, reason: str) -> None:
    """The gateway refused: release the hold and keep the reason to tell the person."""
    if payout.status != PayoutStatus.REQUESTED:
        return
    if payout.hold_id is not None:
        ledger.release_hold(session, payout.hold_id, idempotency_key=f"payout-release:{payout.id}")
    payout.move_to(PayoutStatus.FAILED)
    payout.failure_message = (reason or "The payment gateway refused the payout.")[:500]
    session.flush()


def apply_transfer_state(session: Session, payout: Payout, transfer: GatewayTransfer) -> bool:
    """Make our payout agree with the gateway's transfer: captured once it exists, and
    put back on the wallet with a reversing entry when the gateway reversed it."""
    claimed = transfer.metadata.get(META_PAYOUT)
    if claimed is not None and claimed != str(payout.id):
        raise AmountMismatch(f"transfer {transfer.id} belongs to payout {claimed}")
    if (transfer.amount.minor, transfer.amount.currency) != (payout.amount_minor, payout.currency):
        raise AmountMismatch(f"transfer {transfer.id} is for {transfer.amount}")
    changed = False
    if payout.gateway_transfer_id is None:
        payout.gateway_transfer_id = transfer.id
        changed = True
    elif payout.gateway_transfer_id != transfer.id:
        raise AmountMismatch(f"payout {payout.id} is not transfer {transfer.id}")
    if payout.status == PayoutStatus.REQUESTED:
        assert payout.hold_id is not None
        entry = ledger.capture_hold(
            session,
            payout.hold_id,
            to_code=CLEARING,
            idempotency_key=f"payout:{payout.id}",
            kind="withdrawal",
            memo="Withdrawal to your payout account",
        )
        payout.ledger_entry_id = entry.id
        payout.move_to(PayoutStatus.PAID)
        payout.paid_at = now()
        changed = True
    if transfer.reversed and payout.status == PayoutStatus.PAID:
        assert payout.ledger_entry_id is not None
        entry = ledger.reverse_entry(
            session,
            payout.ledger_entry_id,
            reason="The payment gateway reversed the transfer; the money is back in the wallet",
            idempotency_key=f"payout-reversal:{payout.id}",
        )
        payout.reversal_entry_id = entry.id
        payout.move_to(PayoutStatus.REVERSED)
        payout.failure_message = "The payment gateway reversed this payout."
        changed = True
    session.flush()
    return changed


# --- refunds -------------------------------------------------------------------------------


def refund_deposit(
    session: Session,
    gateway: PaymentGateway,
    actor_id: int,
    payment_id: int,
    *,
    amount_minor: int,
    reason: str,
    idempotency_key: str,
) -> Refund:
    """An admin gives (part of) a deposit back to the card. The amount is held on the
    person's wallet first (so it must still be there), then captured when the gateway
    confirms the refund, or released when it refuses."""
    actor = get_user(session, actor_id)
    if not actor.has_role("admin"):
        raise Forbidden("Only an admin can refund a deposit.")
    # Locked: two refunds of one payment are decided one after the other.
    payment = session.get(Payment, payment_id, with_for_update=True, populate_existing=True)
    if payment is None:
        raise NotFound("No such payment.")
    if not reason.strip():
        raise ValidationFailed("Give a reason.", field_errors={"reason": ["Give a reason."]})
    key = _scoped_key(actor.id, idempotency_key)
    existing = session.scalar(select(Refund).where(Refund.idempotency_key == key))
    if existing is None:
        if payment.status != PaymentStatus.SUCCEEDED or payment.gateway_payment_id is None:
            raise InvalidState("Only a succeeded deposit can be refunded.")
        if type(amount_minor) is not int or amount_minor <= 0:
            raise ValidationFailed(
                "Enter a positive amount.", field_errors={"amount_minor": ["Must be positive."]}
            )
        taken = session.scalar(
            select(func.coalesce(func.sum(Refund.amount_minor), 0)).where(
                Refund.payment_id == payment.id, Refund.status != RefundStatus.FAILED
            )
        )
        if amount_minor > payment.amount_minor - int(taken or 0):
            raise ValidationFailed(
                "That is more than is left to refund.",
                field_errors={"amount_minor": ["More than is left to refund."]},
            )
        refund = Refund(
            payment_id=payment.id,
            amount_minor=amount_minor,
            currency=payment.currency,
            idempotency_key=key,
            requested_by_id=actor.id,
            reason=reason.strip()[:500],
        )
        try:
            session.add(refund)
            session.flush()
            held = ledger.hold(
                session,
                account_code=ledger.wallet_code(payment.user_id, payment.currency),
                amount=Money(amount_minor, payment.currency),
                idempotency_key=f"refund-hold:{refund.id}",
                ref_type="refund",
                ref_id=refund.id,
                memo="Refund to your card",
            )
        except InsufficientFunds as exc:
            session.rollback()  # the money was spent meanwhile: nothing of this stays
            raise InsufficientFunds(
                "The person's wallet no longer holds that much.",
                field_errors={"amount_minor": [SPENT]},
            ) from exc
        except Exception:
            session.rollback()
            raise
        refund.hold_id = held.id
        session.commit()
    else:
        refund = existing
        if refund.amount_minor != amount_minor or refund.payment_id != payment.id:
            raise Conflict("This idempotency key was used for a different refund.")
    if refund.status != RefundStatus.REQUESTED:
        return refund
    try:
        state = gateway.refund_payment(
            payment.gateway_payment_id or "",
            amount=Money(refund.amount_minor, refund.currency),
            reference={META_REFUND: str(refund.id), META_PAYMENT: str(payment.id)},
            idempotency_key=f"refund:{refund.id}",
        )
    except GatewayError as exc:
        _fail_refund(session, refund, exc.detail)
    else:
        apply_refund_state(session, refund, state)
    session.commit()
    return refund


def _fail_refund(session: Session, refund: Refund, reason: str) -> None:
    if refund.status != RefundStatus.REQUESTED:
        return
    if refund.hold_id is not None:
        ledger.release_hold(session, refund.hold_id, idempotency_key=f"refund-release:{refund.id}")
    refund.move_to(RefundStatus.FAILED)
    refund.failure_reason = (reason or "The gateway refused the refund.")[:500]
    session.flush()


def apply_refund_state(session: Session, refund: Refund, state: GatewayRefund) -> bool:
    """Settle the refund's hold from the gateway's refund: captured when it succeeded,
    released when it failed or was canceled; pending waits for the next event."""
    claimed = state.metadata.get(META_REFUND)
    if claimed is not None and claimed != str(refund.id):
        raise AmountMismatch(f"gateway refund {state.id} belongs to refund {claimed}")
    if (state.amount.minor, state.amount.currency) != (refund.amount_minor, refund.currency):
        raise AmountMismatch(f"gateway refund {state.id} is for {state.amount}")
    before = (refund.status, refund.gateway_refund_id)
    refund.gateway_refund_id = state.id
    if refund.status == RefundStatus.REQUESTED:
        if state.status == GatewayRefundStatus.SUCCEEDED:
            assert refund.hold_id is not None
            entry = ledger.capture_hold(
                session,
                refund.hold_id,
                to_code=CLEARING,
                idempotency_key=f"refund:{refund.id}",
                kind="refund",
                memo="Refund to your card",
            )
            refund.ledger_entry_id = entry.id
            refund.move_to(RefundStatus.SUCCEEDED)
        elif state.status in (GatewayRefundStatus.FAILED, GatewayRefundStatus.CANCELED):
            _fail_refund(session, refund, state.failure_reason or "The refund failed.")
    session.flush()
    return before != (refund.status, refund.gateway_refund_id)

"""Money out: a member's payout account (onboarding with the gateway, verified members
only), withdrawals (second factor, hold, transfer, payout) and the transfer states the
gateway reports back. Intent, gateway call and result are separate commands, so a crash
between them is finished by reconciliation.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from p2pbank.clock import now
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
from p2pbank.ledger import holds
from p2pbank.ledger import services as ledger
from p2pbank.money import Money
from p2pbank.notifications.services import notify
from p2pbank.payments import rules
from p2pbank.payments.gateway import (
    GatewayError,
    GatewayTransfer,
    PaymentGateway,
)
from p2pbank.payments.models import (
    ConnectedAccount,
    Payout,
    PayoutStatus,
)
from p2pbank.payments.services import (
    CLEARING,
    ENTER_CODE,
    META_PAYOUT,
    META_USER,
    TOO_LITTLE,
    AmountMismatch,
    scoped_key,
)

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
    key = scoped_key(user.id, idempotency_key)
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
            verify_second_factor(session, user.id, totp_code.strip())
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
        held = holds.hold(
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


def _tell(session: Session, payout: Payout, kind: str) -> None:
    params = {"amount_minor": payout.amount_minor, "currency": payout.currency}
    notify(session, payout.user_id, kind, params, "/wallet")


def fail_payout(session: Session, payout: Payout, reason: str) -> None:
    """The gateway refused: release the hold and keep the reason to tell the person."""
    if payout.status != PayoutStatus.REQUESTED:
        return
    if payout.hold_id is not None:
        holds.release_hold(session, payout.hold_id, idempotency_key=f"payout-release:{payout.id}")
    payout.move_to(PayoutStatus.FAILED)
    payout.failure_message = (reason or "The payment gateway refused the payout.")[:500]
    _tell(session, payout, "withdrawal_failed")
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
        entry = holds.capture_hold(
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
        _tell(session, payout, "withdrawal_paid")
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
        _tell(session, payout, "withdrawal_failed")
        changed = True
    session.flush()
    return changed

"""Refunding a deposit to the card it came from: intent (the wallet is debited into
clearing), the gateway call, then the state the gateway reports; a failed refund puts
the money back.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from p2pbank.errors import (
    Conflict,
    InsufficientFunds,
    InvalidState,
    NotFound,
    ValidationFailed,
)
from p2pbank.identity.services import get_user
from p2pbank.ledger import holds
from p2pbank.ledger import services as ledger
from p2pbank.money import Money
from p2pbank.payments.gateway import (
    GatewayError,
    GatewayRefund,
    GatewayRefundStatus,
    PaymentGateway,
)
from p2pbank.payments.models import (
    Payment,
    PaymentStatus,
    Refund,
    RefundStatus,
)
from p2pbank.payments.services import (
    CLEARING,
    META_PAYMENT,
    META_REFUND,
    SPENT,
    AmountMismatch,
    scoped_key,
)
from p2pbank.permissions import Permission, require

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
    confirms the refund, or released when it refuses.

    One piece: it commits twice (the hold before asking the gateway, the outcome after),
    and the order of lock, hold, commit and gateway call is the refund protocol."""
    actor = get_user(session, actor_id)
    require(actor.role_names, Permission.REFUND_DEPOSITS, "Only an admin can refund a deposit.")
    # Locked: two refunds of one payment are decided one after the other.
    payment = session.get(Payment, payment_id, with_for_update=True, populate_existing=True)
    if payment is None:
        raise NotFound("No such payment.")
    if not reason.strip():
        raise ValidationFailed("Give a reason.", field_errors={"reason": ["Give a reason."]})
    key = scoped_key(actor.id, idempotency_key)
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
            held = holds.hold(
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
        holds.release_hold(session, refund.hold_id, idempotency_key=f"refund-release:{refund.id}")
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
            entry = holds.capture_hold(
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

"""Read models for the payment pages and API. A person sees only their own rows; the
auditor views check the role themselves."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from p2pbank.errors import NotFound
from p2pbank.identity.services import get_user
from p2pbank.ledger.queries import WalletSummary, wallet_summary
from p2pbank.payments.models import (
    ConnectedAccount,
    GatewayEvent,
    Payment,
    Payout,
    PayoutStatus,
    Refund,
)
from p2pbank.permissions import Permission, require


def wallet(session: Session, user_id: int, currency: str = "EUR") -> WalletSummary:
    return wallet_summary(session, user_id, currency)


def deposits(session: Session, user_id: int, *, limit: int = 50) -> list[Payment]:
    return list(
        session.scalars(
            select(Payment)
            .where(Payment.user_id == user_id)
            .order_by(Payment.id.desc())
            .limit(limit)
        )
    )


def deposit(session: Session, user_id: int, payment_id: int) -> Payment:
    row = session.get(Payment, payment_id)
    if row is None or row.user_id != user_id:
        raise NotFound("No such deposit.")
    return row


def withdrawals(session: Session, user_id: int, *, limit: int = 50) -> list[Payout]:
    return list(
        session.scalars(
            select(Payout).where(Payout.user_id == user_id).order_by(Payout.id.desc()).limit(limit)
        )
    )


def withdrawal(session: Session, user_id: int, payout_id: int) -> Payout:
    row = session.get(Payout, payout_id)
    if row is None or row.user_id != user_id:
        raise NotFound("No such withdrawal.")
    return row


def payout_account(session: Session, user_id: int) -> ConnectedAccount | None:
    return session.scalar(select(ConnectedAccount).where(ConnectedAccount.user_id == user_id))


@dataclass(frozen=True)
class PayoutNotice:
    payout_id: int
    amount_minor: int
    currency: str
    status: str
    message: str


def payout_notices(session: Session, user_id: int, *, limit: int = 5) -> list[PayoutNotice]:
    """Withdrawals that did not reach the person's payout account: what they must be told."""
    rows = session.scalars(
        select(Payout)
        .where(
            Payout.user_id == user_id,
            Payout.status.in_([PayoutStatus.FAILED, PayoutStatus.REVERSED]),
        )
        .order_by(Payout.id.desc())
        .limit(limit)
    )
    return [
        PayoutNotice(p.id, p.amount_minor, p.currency, p.status, p.failure_message or "")
        for p in rows
    ]


def refunds_of(session: Session, payment_id: int) -> list[Refund]:
    return list(
        session.scalars(select(Refund).where(Refund.payment_id == payment_id).order_by(Refund.id))
    )


def require_books(session: Session, viewer_id: int) -> None:
    """Gateway events and reconciliation are for who may read the books."""
    viewer = get_user(session, viewer_id)
    require(viewer.role_names, Permission.READ_BOOKS, "Only auditors and admins can see this.")


def recent_events(session: Session, viewer_id: int, *, limit: int = 50) -> list[GatewayEvent]:
    require_books(session, viewer_id)
    return list(session.scalars(select(GatewayEvent).order_by(GatewayEvent.id.desc()).limit(limit)))

"""The payments' part of the scheduled work (`p2pbank.jobs.run_due_work`).

- Withdrawals whose transfer was never confirmed (the gateway could not be reached when
  they were made) are sent again, with the same idempotency key, so none is paid twice.
- The test-mode gateway's events that no handler has acknowledged are delivered again,
  as Stripe retries its webhooks.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from p2pbank.errors import DomainError
from p2pbank.payments import payouts, webhooks
from p2pbank.payments.gateway import PaymentGateway
from p2pbank.payments.models import Payout, PayoutStatus

log = logging.getLogger("p2pbank.payments")

RESEND_AFTER = timedelta(minutes=10)


def payouts_to_resend(
    session: Session, gateway: PaymentGateway, now: datetime, *, older_than=RESEND_AFTER
) -> list[int]:
    """Withdrawals still `requested` after `older_than` (one unit each: `resend_payout`)."""
    return list(
        session.scalars(
            select(Payout.id)
            .where(
                Payout.status == PayoutStatus.REQUESTED,
                Payout.gateway == gateway.name,
                Payout.created_at <= now - older_than,
            )
            .order_by(Payout.id)
        )
    )


def resend_payout(session: Session, gateway: PaymentGateway, payout_id: int) -> int:
    """Send one requested withdrawal again (same idempotency key `payout:<id>`); 1 when it
    is settled now, 0 when it was already settled or the gateway is still unreachable."""
    try:
        payout = payouts.send_payout(session, gateway, payout_id)
    except DomainError as exc:  # still unreachable: the next run tries again
        session.rollback()
        log.warning("payout %s not sent yet: %s", payout_id, exc.detail)
        return 0
    return int(payout.status != PayoutStatus.REQUESTED)


def resend_requested_payouts(
    session: Session, gateway: PaymentGateway, now: datetime, *, older_than=RESEND_AFTER
) -> int:
    """Send every withdrawal still `requested` after `older_than`; returns how many were
    settled (paid, or failed with the hold released). Each send commits on its own."""
    due = payouts_to_resend(session, gateway, now, older_than=older_than)
    return sum(resend_payout(session, gateway, payout_id) for payout_id in due)


def run_due_payments(session: Session, gateway: PaymentGateway, now: datetime) -> dict[str, int]:
    return {
        "payments.payouts_resent": resend_requested_payouts(session, gateway, now),
        "payments.events_redelivered": len(webhooks.deliver_test_mode_events(session, gateway)),
    }

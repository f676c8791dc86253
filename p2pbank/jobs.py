"""Scheduled work: one entry point that runs everything due at `now`, in this process.

`flask tick` calls `run_due_work` (once, or day by day up to a date) so tests, demos and
cron move the platform forward the same way the Celery workers do: both run the kinds of
`p2pbank.scheduling.KINDS` and their unit functions, each unit in its own transaction.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from p2pbank.audit.note import Signer
from p2pbank.payments.gateway import PaymentGateway
from p2pbank.scheduling import Context, run_in_process


def run_due_work(
    session: Session,
    now: datetime,
    audit_signer: Signer | None = None,
    payment_gateway: PaymentGateway | None = None,
) -> dict[str, int]:
    """Run every domain's due work at `now`; returns counts by what was done. With
    `audit_signer`, a checkpoint of the trust log is signed last, covering the day."""
    return run_in_process(
        session, now, Context(payment_gateway=payment_gateway, audit_signer=audit_signer)
    )

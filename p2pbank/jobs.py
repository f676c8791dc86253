"""Scheduled work: one entry point that runs everything due at `now`.

`flask tick` calls `run_due_work` (once, or day by day up to a date) so tests, demos and
cron move the platform forward the same way. Each domain adds its call here; every call
commits its own work.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from p2pbank.audit import queries as audit_queries
from p2pbank.audit import sequencer
from p2pbank.audit import services as audit
from p2pbank.audit.note import Signer
from p2pbank.crowdfunding import due as crowdfunding_due
from p2pbank.ledger import holds
from p2pbank.lending import due as lending_due
from p2pbank.lending import reminders as lending_reminders
from p2pbank.mail import due as mail_due
from p2pbank.payments.due import run_due_payments
from p2pbank.payments.gateway import PaymentGateway
from p2pbank.resale import services as resale
from p2pbank.trust import refresh


def run_due_work(
    session: Session,
    now: datetime,
    audit_signer: Signer | None = None,
    payment_gateway: PaymentGateway | None = None,
) -> dict[str, int]:
    """Run every domain's due work at `now`; returns counts by what was done. With
    `audit_signer`, a checkpoint of the trust log is signed last, covering the day."""
    done: dict[str, int] = {}
    for name, count in lending_due.run_due_lending(session, now).items():
        done[f"lending.{name}"] = count
    for name, count in resale.run_due_resale(session, now).items():
        done[f"resale.{name}"] = count
    done.update(crowdfunding_due.run_due_work(session, now))
    try:
        done["ledger.holds_expired"] = holds.expire_holds(session, now)
        session.commit()
    except BaseException:
        session.rollback()
        raise
    if payment_gateway is not None:  # withdrawals to resend, test-mode events to redeliver
        done.update(run_due_payments(session, payment_gateway, now))
    done.update(lending_reminders.run_due(session, now))  # "instalment due in 3 days"
    done.update(mail_due.run_due(session, now))  # the outbox: mail written by all of the above
    done.update(refresh.recompute_trust(session, now))  # last: scores see the day's events
    done["audit.leaves_integrated"] = sequencer.integrate_queued(session, now)
    if audit_signer is not None:  # keep last: the checkpoint covers everything above
        before = audit_queries.latest_checkpoint(session, key_id=audit_signer.key_id.hex())
        signed = audit.sign_checkpoint(session, audit_signer, audit_signer.name)
        done["audit.checkpoints_signed"] = int(before is None or before.id != signed.id)
    return done

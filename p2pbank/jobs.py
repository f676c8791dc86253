"""Scheduled work: one entry point that runs everything due at `now`.

`flask tick` calls `run_due_work` (once, or day by day up to a date) so tests, demos and
cron move the platform forward the same way. Each domain adds its call here; every call
commits its own work.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from p2pbank.crowdfunding import settlement as crowdfunding
from p2pbank.ledger import services as ledger
from p2pbank.lending import services as lending


def run_due_work(session: Session, now: datetime) -> dict[str, int]:
    """Run every domain's due work at `now`; returns counts by what was done."""
    done: dict[str, int] = {}
    for name, count in lending.run_due_lending(session, now).items():
        done[f"lending.{name}"] = count
    done.update(crowdfunding.run_due_work(session, now))
    try:
        done["ledger.holds_expired"] = ledger.expire_holds(session, now)
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return done

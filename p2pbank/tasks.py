"""Celery tasks: `celery -A p2pbank.tasks worker` and `celery -A p2pbank.tasks beat`.

Beat sends `p2pbank.scan` for each kind of `p2pbank.scheduling.KINDS` on the kind's own
period. A scan of a unit kind enqueues one `p2pbank.unit` per id due; a batch kind is done
inside its scan. Every task runs in a fresh database session of the Flask app's own
engine, claims its row (FOR UPDATE SKIP LOCKED on PostgreSQL) and is idempotent, so any
number of workers may take them and a message delivered twice does nothing twice.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from celery.signals import beat_embedded_init, beat_init, worker_process_init
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from p2pbank import clock, scheduling
from p2pbank.app import create_app
from p2pbank.broker import make_celery
from p2pbank.runtime import marks

log = logging.getLogger("p2pbank.tasks")

flask_app = create_app()
celery = make_celery(flask_app.config)


@worker_process_init.connect
def _fresh_pool(**_kwargs) -> None:
    """A forked pool process never reuses its parent's database connections."""
    flask_app.extensions["p2pbank.engine"].dispose(close=False)


@beat_init.connect
@beat_embedded_init.connect
def _one_beat(**_kwargs) -> None:
    """A beat sends nothing until it holds the beat lock (see p2pbank.beat_lock)."""
    from p2pbank import beat_lock

    beat_lock.hold(flask_app.extensions["p2pbank.engine"], flask_app.config["INSTANCE_PATH"])


TASK_OPTIONS = {"acks_late": True, "reject_on_worker_lost": True, "ignore_result": True}


@contextmanager
def _session() -> Iterator[Session]:
    session = flask_app.extensions["p2pbank.sessionmaker"]()
    try:
        yield session
    finally:
        session.close()


def context(session: Session) -> scheduling.Context:
    """The gateway and signer, as `flask tick` makes them: no payments gateway in
    production without Stripe (the payments kinds then do not run)."""
    from p2pbank.audit.keys import signer_for
    from p2pbank.payments.settings import PaymentSettings, make_gateway

    payments = PaymentSettings.from_mapping(flask_app.config)
    gateway = (
        None
        if payments.production and not payments.uses_stripe
        else make_gateway(session, payments)
    )
    return scheduling.Context(payment_gateway=gateway, audit_signer=signer_for(flask_app.config))


@celery.task(name="p2pbank.scan", **TASK_OPTIONS)
def scan(kind_name: str) -> int:
    """Find the units of one kind due now and enqueue a task for each (a batch kind is
    done here). Marks the scan finished. Returns the number of units (or counts done)."""
    kind = scheduling.by_name(kind_name)
    now = clock.now()
    with _session() as session:
        ctx = context(session)
        if not kind.available(ctx):
            return 0
        if kind.is_batch:
            counts = scheduling.run_batch(kind, session, now, ctx)
            done = sum(counts.values())
            detail = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()) if v)
        else:
            ids = scheduling.scan(kind, session, now, ctx)
            for unit_id in ids:
                unit.apply_async((kind.name, unit_id, now.isoformat()))
            done, detail = len(ids), f"{len(ids)} unit(s) enqueued"
        if kind.name != "audit.sequencer" or done:  # every 2 s: mark only when it did work
            marks.set_mark(session, f"{marks.SCAN_PREFIX}{kind.name}", now, detail)
    return done


# PostgreSQL's "try again" answers: deadlock, serialization failure, lock not available.
RETRY_SQLSTATES = {"40P01", "40001", "55P03"}
MAX_RETRIES = 10


@celery.task(name="p2pbank.unit", bind=True, max_retries=MAX_RETRIES, **TASK_OPTIONS)
def unit(self, kind_name: str, unit_id: int, now_iso: str) -> dict[str, int]:
    """Do one unit at the moment its scan saw it due (delivered twice, the second finds the
    work done, or the row claimed by the worker doing it). A unit the database chose as a
    deadlock victim (two campaigns settling at once both append to the trust log) was
    rolled back whole: it is tried again shortly."""
    kind = scheduling.by_name(kind_name)
    now = datetime.fromisoformat(now_iso)
    try:
        with _session() as session:
            counts = scheduling.run_unit(
                kind, session, unit_id, now, context(session), count_problems=False
            )
    except OperationalError as exc:
        if getattr(exc.orig, "sqlstate", None) not in RETRY_SQLSTATES:
            raise
        log.info("%s %s: %s, tried again", kind_name, unit_id, type(exc.orig).__name__)
        raise self.retry(countdown=random.uniform(0.1, 1.0) * (self.request.retries + 1)) from exc
    if any(counts.values()):
        log.info("%s %s: %s", kind_name, unit_id, counts)
    return counts


@celery.task(name="p2pbank.heartbeat", **TASK_OPTIONS)
def heartbeat() -> None:
    """Beat sends it, a worker runs it: the mark proves beat, broker, worker and database
    all work (what /readyz and `flask status` read)."""
    with _session() as session:
        marks.set_mark(session, marks.HEARTBEAT, clock.now(), "worker alive")

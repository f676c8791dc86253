"""Readiness that tells the truth about the scheduled work: the broker answers, a worker
beat recently (else 503), and, for the record, when the last scan of due work finished
and when the last checkpoint of the trust log was signed. Registered for apps that expect
a worker (RUNTIME_EXPECTS_WORKER, on everywhere but test suites)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from p2pbank import clock
from p2pbank.db import set_reads_only
from p2pbank.readiness import CheckResult, register
from p2pbank.runtime import marks


def expects_worker(app: Any) -> bool:
    return bool(app.config.get("RUNTIME_EXPECTS_WORKER"))


def _ago(moment: datetime | None) -> str:
    if moment is None:
        return "never"
    return f"{max(0, int((clock.now() - moment).total_seconds()))} s ago"


def _session(app: Any) -> Session:
    """A session of its own on the app's engine (each check runs in its own thread)."""
    set_reads_only(True)  # a reading transaction: never queue for SQLite's write lock
    return Session(bind=app.extensions["p2pbank.engine"])


def broker(app: Any) -> CheckResult:
    from p2pbank.broker import broker_url, check_broker

    timeout = max(0.5, float(app.config.get("READINESS_TIMEOUT") or 2) - 0.5)
    check_broker(app.config, timeout=timeout)
    return CheckResult(True, f"{broker_url(app.config).split(':', 1)[0]} up")


def worker(app: Any) -> CheckResult:
    """A worker ran the heartbeat beat sends every 15 s within WORKER_SILENT_AFTER."""
    with _session(app) as session:
        row = marks.mark(session, marks.HEARTBEAT)
    limit = int(app.config.get("WORKER_SILENT_AFTER") or 120)
    if row is None:
        return CheckResult(False, "no worker heartbeat yet")
    silent = (clock.now() - row.at).total_seconds()
    return CheckResult(silent <= limit, f"last heartbeat {_ago(row.at)} (limit {limit} s)")


def due_work(app: Any) -> CheckResult:
    """When the last scan of due work finished (informative: a scan may find nothing)."""
    with _session(app) as session:
        row = marks.latest_scan(session)
    if row is None:
        return CheckResult(True, "no scan finished yet")
    name = row.name.removeprefix(marks.SCAN_PREFIX)
    return CheckResult(True, f"last scan {name} {_ago(row.at)}: {row.detail}")


def checkpoint(app: Any) -> CheckResult:
    """When the trust log's latest checkpoint was signed (informative)."""
    from p2pbank.audit.models import SignedCheckpoint

    with _session(app) as session:
        row = session.scalar(
            select(SignedCheckpoint).order_by(SignedCheckpoint.signed_at.desc()).limit(1)
        )
    if row is None:
        return CheckResult(True, "no checkpoint signed yet")
    return CheckResult(True, f"size {row.tree_size}, signed {_ago(row.signed_at)}")


CHECKS = {"broker": broker, "worker": worker, "due_work": due_work, "checkpoint": checkpoint}

for _name, _check in CHECKS.items():
    register(_name, _check, when=expects_worker)

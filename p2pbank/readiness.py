"""Readiness: a small registry of named checks that `/readyz` runs, each bounded in time.

A check is a function of the application object returning a `CheckResult` (ok and a short
detail). Other parts of the platform add theirs with `register` (a broker, a worker's
heartbeat, ...). `run_checks` runs every check in its own thread and waits at most the
given time: a dependency that accepts connections but never answers makes its check fail
with "no answer" instead of holding the probe, so a load balancer hears 503 in time.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text

from p2pbank.db import set_reads_only


@dataclass(frozen=True)
class CheckResult:
    ok: bool
    detail: str = ""


Check = Callable[[Any], CheckResult]
Condition = Callable[[Any], bool]

_CHECKS: dict[str, Check] = {}
_CONDITIONS: dict[str, Condition] = {}


def register(name: str, check: Check, *, when: Condition | None = None) -> Check:
    """Add (or replace) the check called `name`; returns it, so it can decorate. With
    `when(app)`, the check runs only for apps where that holds (e.g. a worker is expected)."""
    _CHECKS[name] = check
    _CONDITIONS.pop(name, None)
    if when is not None:
        _CONDITIONS[name] = when
    return check


def unregister(name: str) -> None:
    _CHECKS.pop(name, None)
    _CONDITIONS.pop(name, None)


def registered(app: Any = None) -> dict[str, Check]:
    """The checks (for `app`: those whose condition holds for it)."""
    return {
        name: check
        for name, check in _CHECKS.items()
        if app is None or name not in _CONDITIONS or _CONDITIONS[name](app)
    }


def run_checks(app: Any, timeout: float) -> dict[str, CheckResult]:
    """Every registered check's result, within about `timeout` seconds in all. A check that
    raises fails with the exception's class name (details go to the log, not the probe)."""
    results: dict[str, CheckResult] = {}
    threads = []
    for name, check in registered(app).items():
        thread = threading.Thread(
            target=_run_one, args=(app, name, check, results), name=f"readiness-{name}",
            daemon=True,
        )
        thread.start()
        threads.append((name, thread))
    deadline = time.monotonic() + timeout
    for _name, thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    answered = dict(results)  # a late thread may still write; read once
    return {
        name: answered.get(name) or CheckResult(False, f"no answer within {timeout:g} s")
        for name, _thread in threads
    }


def _run_one(app: Any, name: str, check: Check, results: dict[str, CheckResult]) -> None:
    try:
        result = check(app)
    except Exception as exc:  # any failure of a dependency means not ready
        app.logger.warning("readiness check %s failed: %r", name, exc)
        result = CheckResult(False, type(exc).__name__)
    results[name] = result


def database(app: Any) -> CheckResult:
    """The application's database answers a trivial query (a reading transaction: on
    SQLite it must not queue for the write lock)."""
    set_reads_only(True)  # this thread's own context
    with app.extensions["p2pbank.engine"].connect() as conn:
        conn.execute(text("SELECT 1"))
    return CheckResult(True, "up")


register("database", database)

"""Commands that run the whole platform: `flask run-all` (web, worker and beat under one
supervisor), `flask status` (what /readyz reports, for a terminal) and `flask demo-refresh`
(due work that falls due while the demo runs)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import click
from flask import current_app
from flask.cli import with_appcontext

from p2pbank.db import db_session

STOP_GRACE_SECONDS = 20


@click.command("status")
@with_appcontext
def status() -> None:
    """Database, broker, the worker's last heartbeat, the last scan of due work and the
    last signed checkpoint. Exits 1 when /readyz would answer 503 with a worker expected."""
    from p2pbank import readiness
    from p2pbank.runtime import checks

    app = current_app._get_current_object()
    all_checks = {"database": readiness.database, **checks.CHECKS}
    ok = True
    for name, check in all_checks.items():
        try:
            result = check(app)
        except Exception as exc:  # a dependency that is down: say which and how
            result = readiness.CheckResult(False, f"{type(exc).__name__}: {exc}")
        ok &= result.ok
        click.echo(f"{name:11} {'ok  ' if result.ok else 'FAIL'} {result.detail}")
    if not ok:
        raise SystemExit(1)


@click.command("demo-refresh")
@with_appcontext
def demo_refresh() -> None:
    """Add a loan whose first instalment is due today and a campaign ending in a few
    minutes, for the worker to collect and settle while the demo runs."""
    from p2pbank.demo import demo_password
    from p2pbank.demo.live import refresh

    for line in refresh(db_session(), demo_password):
        click.echo(line)


@click.command("run-all")
@click.option("--bind", default="127.0.0.1:5000", show_default=True)
@click.option("--web/--no-web", default=True, help="Start the web server too.")
@click.option("--concurrency", default=2, show_default=True, help="Worker processes.")
@with_appcontext
def run_all(bind: str, web: bool, concurrency: int) -> None:
    """The whole platform in one command: gunicorn (p2pbank/gunicorn_conf.py), a Celery
    worker and beat (the scheduler), on the configured broker or, without one, the
    filesystem broker in the instance folder. Ctrl-C (or SIGTERM) stops them all."""
    from p2pbank.broker import beat_argv, broker_url, worker_argv

    config = current_app.config
    python = sys.executable
    commands = {
        "worker": [python, "-m", "celery", *worker_argv(config, concurrency=concurrency)],
        "beat": [python, "-m", "celery", *beat_argv(config)],
    }
    if web:
        commands["web"] = [
            python, "-m", "gunicorn", "-c", "python:p2pbank.gunicorn_conf",
            "--bind", bind, "--access-logfile", "-", "wsgi:app",
        ]  # fmt: skip
    click.echo(f"broker: {broker_url(config).split('@')[-1]}; starting {', '.join(commands)}")
    raise SystemExit(supervise(commands))


def supervise(commands: dict[str, list[str]]) -> int:
    """Start every command in its own session (so a terminal's Ctrl-C reaches only this
    supervisor), forward SIGINT/SIGTERM to each leader as SIGTERM (gunicorn and Celery then
    stop gracefully: a running task finishes first), kill what is left after
    STOP_GRACE_SECONDS, and
    stop all when one exits on its own. Returns 0 after a requested stop, else 1."""
    children = {
        name: subprocess.Popen(argv, start_new_session=True)  # noqa: S603 - our own argv
        for name, argv in commands.items()
    }
    stopping: list[int] = []

    def request_stop(signum, _frame) -> None:
        stopping.append(signum)

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    failed = None
    try:
        while not stopping and failed is None:
            for name, child in children.items():
                if child.poll() is not None:
                    failed = name
            time.sleep(0.2)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        _stop_all(children)
    if failed is not None and not stopping:
        click.echo(f"{failed} exited with {children[failed].returncode}; stopped the rest")
        return 1
    return 0


def _stop_all(children: dict[str, subprocess.Popen]) -> None:
    for child in children.values():
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)  # the leader stops its own children in order
    deadline = time.monotonic() + STOP_GRACE_SECONDS
    for name, child in children.items():
        try:
            child.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            click.echo(f"{name} did not stop in {STOP_GRACE_SECONDS} s; killed")
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()

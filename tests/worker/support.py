"""Real workers for the tests: a committed database of its own (a worker in another
process cannot see a test's rolled-back transaction), a worker started with
`celery -A p2pbank.tasks worker`, and due work made through the services."""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, make_url, select, text
from sqlalchemy.orm import Session, sessionmaker

from p2pbank import clock
from p2pbank.audit import sequencer
from p2pbank.audit.keys import derive_pseudonym_key, session_info
from p2pbank.broker import worker_argv
from p2pbank.db import Base, make_engine, normalize_url
from p2pbank.models import load_all

ROOT = Path(__file__).resolve().parents[2]
SECRET = "test-secret-key-not-for-production-use-0123456789"

# A queue of this test process's own: parallel test processes sharing a broker never take
# each other's messages (which name rows of another database).
QUEUE = f"p2pbank-test-{os.getpid()}"

BROKERS = {
    "redis": os.environ.get("CELERY_TEST_REDIS_URL", "redis://127.0.0.1:6379/13"),
    "rabbitmq": os.environ.get("CELERY_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672//"),
}


def fresh_database(base_url: str, folder: Path) -> tuple[str, Callable[[], None]]:
    """A new empty database with every table: a SQLite file in `folder`, or a PostgreSQL
    database of its own next to `base_url`'s. Returns its URL and how to drop it."""
    load_all()
    if not base_url.startswith("postgres"):
        url = f"sqlite:///{folder / 'worker.sqlite3'}"
        drop: Callable[[], None] = lambda: None  # noqa: E731 - the folder goes with tmp_path
    else:
        base = make_url(normalize_url(base_url))
        name = f"{base.database}_w{os.getpid()}_{secrets.token_hex(3)}"
        admin_url = base.set(database="postgres").render_as_string(hide_password=False)

        def admin(sql: str) -> None:
            engine = make_engine(admin_url, isolation_level="AUTOCOMMIT")
            with engine.connect() as conn:
                conn.execute(text(sql))
            engine.dispose()

        admin(f'CREATE DATABASE "{name}"')
        url = base.set(database=name).render_as_string(hide_password=False)
        drop = lambda: admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')  # noqa: E731
    engine = make_engine(url)
    Base.metadata.create_all(engine)
    engine.dispose()
    return url, drop


def session_factory(url: str) -> tuple[sessionmaker[Session], Callable[[], None]]:
    engine = make_engine(url)
    maker = sessionmaker(
        bind=engine, expire_on_commit=False, info=session_info(derive_pseudonym_key(SECRET))
    )
    return maker, engine.dispose


def worker_env(database_url: str, broker_url: str, instance: Path, **extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TEST_", "PYTEST"))}
    env.update(
        P2PBANK_ENV="development",
        DATABASE_URL=database_url,
        SECRET_KEY=SECRET,
        INSTANCE_PATH=str(instance),
        CELERY_BROKER_URL=broker_url,
        CELERY_QUEUE=QUEUE,
        ARGON2_COST="test",
        PYTHONPATH=str(ROOT),
        **extra,
    )
    return env


def start_worker(env: dict, *, concurrency: int = 1, beat: bool = False, log: Path):
    """A worker process (its own process group, so the test can kill all of it)."""
    argv = [sys.executable, "-m", "celery", *worker_argv(env, concurrency=concurrency)]
    if beat:
        argv += ["--beat", "--schedule", str(Path(env["INSTANCE_PATH"]) / "beat-schedule")]
    with log.open("ab") as out:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(
            argv, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


def stop(process, sig: int = signal.SIGTERM, wait: float = 30.0) -> None:
    if process.poll() is None:
        os.killpg(process.pid, sig)
        try:
            process.wait(wait)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)


def purge(broker_url: str) -> None:
    """Empty the tests' queue, so a message left by an earlier run does not leak in."""
    from kombu import Connection

    # (the queue may not exist yet: nothing to purge then)
    with Connection(broker_url, connect_timeout=3) as conn, contextlib.suppress(Exception):
        conn.channel().queue_purge(QUEUE)


def send(broker_url: str, task: str, *args) -> None:
    """Send a task by name, as beat does (no result is awaited)."""
    from celery import Celery

    app = Celery("p2pbank-test", broker=broker_url)
    app.conf.task_default_queue = QUEUE
    app.send_task(task, args=args, queue=QUEUE)
    app.close()


def wait_for(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.25)
    raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")


# --- due work made through the services ------------------------------------------------


def make_person(session: Session, n: int, roles: list[str], prefix: str = "p"):
    from tests.support.people import member

    return member(session, f"Person {n}", roles, email=f"{prefix}{n}@example.test")


def due_loans(session: Session, count: int, *, start: int = 0) -> list[int]:
    """`count` loans, each with its first instalment due today (issued 35 days ago) and
    the borrower's wallet holding enough for it. Returns the loan ids."""
    from p2pbank.lending import ordering, services
    from p2pbank.lending.models import Loan
    from tests.support.money import deposit

    real_now = clock.now()
    lenders = [  # one lender per 20 loans: no single wallet every repayment waits for
        make_person(session, start + i, ["lender"], prefix="lender")
        for i in range(max(1, count // 20))
    ]
    for lender in lenders:
        deposit(session, lender.id, 60_000 * 21)
    ids = []
    with clock.frozen_at(real_now - timedelta(days=35)):
        for n in range(start, start + count):
            lena = lenders[(n - start) % len(lenders)]
            bo = make_person(session, n, ["borrower"], prefix="borrower")
            deposit(session, bo.id, 20_000)
            request = services.request_loan(
                session, bo.id, amount_minor=60_000, term_months=12, max_rate_bps=1_200,
                purpose_category="car", purpose_text="A used car to get to work",
            )  # fmt: skip
            ordering.commit_to_listing(session, lena.id, request.id, amount_minor=60_000,
                                       rate_bps=900)  # fmt: skip
            ids.append(session.scalar(select(Loan.id).where(Loan.request_id == request.id)))
        sequencer.integrate_queued(session, clock.now())  # at the time the leaves were queued
    return ids


def due_campaigns(session: Session, count: int, *, start: int = 0) -> list[int]:
    """`count` campaigns whose deadline passed yesterday, each fully pledged from a wallet."""
    from p2pbank.crowdfunding import pledging
    from tests.support.crowdfunding import live
    from tests.support.money import deposit

    real_now = clock.now()
    ids = []
    with clock.frozen_at(real_now - timedelta(days=31)):
        for n in range(start, start + count):
            ian = make_person(session, n, ["initiator"], prefix="initiator")
            backer = make_person(session, n, ["backer"], prefix="backer")
            deposit(session, backer.id, 100_000)
            campaign = live(session, ian, duration_days=30)
            pledging.pledge(session, backer.id, campaign.id, amount_minor=100_000,
                            idempotency_key=f"due-campaign-{n:06d}")  # fmt: skip
            ids.append(campaign.id)
        sequencer.integrate_queued(session, clock.now())
    return ids


def repayments(session: Session) -> int:
    from p2pbank.lending.models import Repayment

    return session.scalar(select(func.count(Repayment.id))) or 0


def paid_instalments(session: Session) -> int:
    from p2pbank.lending.models import Instalment, InstalmentStatus

    return (
        session.scalar(
            select(func.count(Instalment.id)).where(Instalment.status == InstalmentStatus.PAID)
        )
        or 0
    )


def postings_of_repayments(session: Session) -> dict[str, int]:
    """Journal entries by kind: each collected instalment is exactly one entry."""
    from p2pbank.ledger.models import JournalEntry

    rows = session.execute(
        select(JournalEntry.kind, func.count(JournalEntry.id)).group_by(JournalEntry.kind)
    ).all()
    return dict(rows)


def audit_report(session: Session, instance: Path) -> list[str]:
    """What `flask audit-verify` says after the sequencer and a checkpoint ran, as the
    worker would: [] when the trust log and every journal entry verify."""
    from p2pbank.audit.keys import max_merge_delay, signer_for
    from p2pbank.audit.queries import verify_database
    from p2pbank.audit.services import sign_checkpoint
    from p2pbank.ledger.log_check import compare_with_log

    config = {"INSTANCE_PATH": str(instance)}
    signer = signer_for(config)
    sequencer.integrate_queued(session, clock.now())
    sign_checkpoint(session, signer, signer.name)
    report = verify_database(
        session, signer.verifier, proofs=16, max_merge_delay=max_merge_delay(config)
    )
    signed = report.checkpoint.size if report.checkpoint is not None else 0
    report.journal = compare_with_log(session, proven_below=signed)
    return [] if report.ok else report.summary()

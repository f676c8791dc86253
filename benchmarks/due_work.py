"""Due work per second on PostgreSQL: N loans with an instalment due today and M campaigns
at their deadline, done in process (the baseline, what `flask tick` does), then by 1 and by
3 Celery worker processes over Redis (each with one pool process, one message at a time).

The data is made once through the services, in a template database; every run works on a
fresh copy (CREATE DATABASE ... TEMPLATE), so all runs do the same work. A run starts when
the scans are sent and ends when every instalment is paid and every campaign decided.
After each run: every instalment was collected exactly once (one repayment and one
`repayment` journal entry per loan) and `check_ledger` finds the books sound.

    python benchmarks/due_work.py [--loans 1000] [--campaigns 50] [--large] [--workers 1 3]

--large is 10,000 loans and 500 campaigns. BENCH_POSTGRES_URL (default
postgresql://postgres@127.0.0.1:5432/postgres) and BENCH_REDIS_URL (default
redis://127.0.0.1:6379/12) name the servers.
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, make_url, select, text  # noqa: E402

from p2pbank import clock, scheduling  # noqa: E402
from p2pbank.crowdfunding.models import Campaign, CampaignStatus  # noqa: E402
from p2pbank.db import make_engine, normalize_url  # noqa: E402
from p2pbank.ledger.checks import check_ledger  # noqa: E402
from tests.worker import support  # noqa: E402

DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/postgres"
DEFAULT_REDIS = "redis://127.0.0.1:6379/12"
KINDS = ("lending.instalments", "crowdfunding.deadlines")


def _admin(base: str, sql: str) -> None:
    engine = make_engine(base, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(sql))
    engine.dispose()


def _url(base: str, name: str) -> str:
    return make_url(normalize_url(base)).set(database=name).render_as_string(hide_password=False)


def make_template(base: str, loans: int, campaigns: int) -> str:
    """A database holding the due work, made through the services; returns its name."""
    name = f"p2pbank_bench_due_{secrets.token_hex(3)}"
    _admin(base, f'CREATE DATABASE "{name}"')
    url, _drop = _create_tables(_url(base, name))
    maker, dispose = support.session_factory(url)
    started = time.perf_counter()
    with maker() as session:
        support.due_loans(session, loans)
        support.due_campaigns(session, campaigns)
    dispose()
    print(f"made {loans} loans and {campaigns} campaigns in {time.perf_counter() - started:.0f} s")
    return name


def _create_tables(url: str):
    from p2pbank.db import Base
    from p2pbank.models import load_all

    load_all()
    engine = make_engine(url)
    Base.metadata.create_all(engine)
    engine.dispose()
    return url, None


def copy_of(base: str, template: str) -> str:
    name = f"{template}_run_{secrets.token_hex(3)}"
    _admin(base, f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    return name


def finished(maker, loans: int, campaigns: int) -> bool:
    with maker() as session:
        live = session.scalar(
            select(func.count(Campaign.id)).where(Campaign.status == CampaignStatus.LIVE)
        )
        return support.paid_instalments(session) >= loans and live == 0


def in_process(url: str) -> float:
    """The baseline: the same scans and unit functions, one after the other, here."""
    maker, dispose = support.session_factory(url)
    ctx = scheduling.Context()
    started = time.perf_counter()
    with maker() as session:
        for name in KINDS:
            kind = scheduling.by_name(name)
            now = clock.now()
            for unit_id in scheduling.scan(kind, session, now, ctx):
                scheduling.run_unit(kind, session, unit_id, now, ctx, count_problems=False)
    elapsed = time.perf_counter() - started
    dispose()
    return elapsed


def with_workers(url: str, broker: str, workers: int, loans: int, campaigns: int) -> float:
    units = loans + campaigns
    support.purge(broker)
    folder = Path(tempfile.mkdtemp(prefix="p2pbank-bench-due-"))
    env = support.worker_env(url, broker, folder / "instance")
    procs = [support.start_worker(env, log=folder / f"worker{i}.log") for i in range(workers)]
    maker, dispose = support.session_factory(url)
    try:
        time.sleep(4)  # the workers connect and wait for messages
        started = time.perf_counter()
        for name in KINDS:
            support.send(broker, "p2pbank.scan", name)
        support.wait_for(lambda: finished(maker, loans, campaigns), 60 + units, "the due work")
        return time.perf_counter() - started
    finally:
        for proc in procs:
            support.stop(proc, signal.SIGTERM)
        dispose()


def verify(url: str, loans: int) -> str:
    maker, dispose = support.session_factory(url)
    with maker() as session:
        repayments = support.repayments(session)
        entries = support.postings_of_repayments(session).get("repayment", 0)
        ledger = check_ledger(session)
    dispose()
    ok = repayments == loans and entries == loans and ledger.ok
    return (
        f"{'OK' if ok else 'WRONG'}: {repayments} repayments, {entries} repayment entries "
        f"for {loans} loans; ledger {'sound' if ledger.ok else ledger.violations[:3]}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--loans", type=int, default=1_000)
    parser.add_argument("--campaigns", type=int, default=50)
    parser.add_argument("--large", action="store_true", help="10,000 loans, 500 campaigns")
    parser.add_argument("--workers", type=int, nargs="*", default=[1, 3])
    args = parser.parse_args()
    loans, campaigns = (10_000, 500) if args.large else (args.loans, args.campaigns)
    base = os.environ.get("BENCH_POSTGRES_URL", DEFAULT_PG)
    broker = os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS)
    units = loans + campaigns
    template = make_template(base, loans, campaigns)
    made: list[str] = [template]
    try:
        runs = [
            ("in process (flask tick)", None),
            *((f"{n} worker(s), Redis", n) for n in args.workers),
        ]
        for label, workers in runs:
            name = copy_of(base, template)
            made.append(name)
            url = _url(base, name)
            if workers is None:
                seconds = in_process(url)
            else:
                seconds = with_workers(url, broker, workers, loans, campaigns)
            print(f"{label:26} {units} units in {seconds:6.1f} s: {units / seconds:7.1f} units/s")
            print(f"{'':26} {verify(url, loans)}")
    finally:
        for name in reversed(made):
            _admin(base, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    main()

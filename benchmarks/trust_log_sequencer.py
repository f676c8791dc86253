"""Trust-log leaves per second through the queue and the sequencer, on PostgreSQL.

Queues --leaves ledger-like leaves (committed every 1000, as postings would), then times
`p2pbank.audit.sequencer.integrate_queued` integrating them in batches of --batch, with and
without a signed checkpoint after each batch. Beside it, the same number of direct appends
(`audit.services.append`, the head row locked per leaf) in the same run. Goal: >= 10,000
leaves/s in sequencer batches. A fresh database on BENCH_POSTGRES_URL, dropped after.

    python benchmarks/trust_log_sequencer.py [--leaves 50000] [--batch 5000]
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psycopg  # noqa: E402
from sqlalchemy import make_url  # noqa: E402
from sqlalchemy.orm import sessionmaker  # noqa: E402

from p2pbank import clock  # noqa: E402
from p2pbank.audit import note, queries, queue, sequencer, services  # noqa: E402
from p2pbank.audit.keys import derive_pseudonym_key, session_info  # noqa: E402
from p2pbank.db import Base, make_engine  # noqa: E402
from p2pbank.models import load_all  # noqa: E402

DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/postgres"
SIGNER = note.generate_signer("bench.p2pbank.example/trust-log")
GOAL = 10_000


def _payload(n: int) -> dict:
    return {"entry_id": n, "kind": "transfer", "hash": f"{n:064x}"}


def _fill(sessions, leaves: int) -> None:
    with sessions() as s:
        for n in range(leaves):
            queue.enqueue(s, type="ledger.entry", subject_user_id=None, payload=_payload(n))
            if n % 1000 == 999:
                s.commit()
        s.commit()


def run(url: str, leaves: int, batch: int) -> None:
    load_all()
    engine = make_engine(url)
    Base.metadata.create_all(engine)
    sessions = sessionmaker(
        bind=engine, expire_on_commit=False, info=session_info(derive_pseudonym_key("bench"))
    )
    for label, signer in (("sequencer, no checkpoint", None), ("sequencer + checkpoint", SIGNER)):
        if signer is not None:  # the leaves of the run before are signed already, as they
            with sessions() as s:  # would be by the checkpoints signed since
                services.sign_checkpoint(s, signer, signer.name, integrate=False)
                s.commit()
        _fill(sessions, leaves)
        with sessions() as s:
            started = time.perf_counter()
            done = sequencer.integrate_queued(s, clock.now(), batch, signer=signer)
            elapsed = time.perf_counter() - started
            assert done == leaves, done
            rate = done / elapsed
            print(f"{label:<28}{rate:>10,.0f} leaves/s  (batch {batch}; goal >= {GOAL:,})")
    with sessions() as s:
        started = time.perf_counter()
        for n in range(leaves):
            services.append(s, type="ledger.entry", subject_user_id=None, payload=_payload(n))
            if n % 1000 == 999:
                s.commit()
                s.expunge_all()
        s.commit()
        rate = leaves / (time.perf_counter() - started)
        print(f"{'direct append (before)':<28}{rate:>10,.0f} leaves/s  (head row locked per leaf)")
        assert queries.check_storage(s) == []
    engine.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leaves", type=int, default=50_000)
    parser.add_argument("--batch", type=int, default=sequencer.DEFAULT_BATCH)
    args = parser.parse_args()
    base = os.environ.get("BENCH_POSTGRES_URL", DEFAULT_PG)
    try:
        admin = psycopg.connect(base, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError:
        print("PostgreSQL not reachable; skipping")
        return 0
    name = f"p2pbank_bench_{os.getpid()}_{secrets.token_hex(3)}"
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        run(
            make_url(base).set(database=name).render_as_string(hide_password=False),
            args.leaves,
            args.batch,
        )
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

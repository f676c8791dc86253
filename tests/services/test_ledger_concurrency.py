"""Real concurrency on PostgreSQL: real threads, real connections, real commits.

16 workers each make 100 random transfers among 10 wallets while 16 more race to
withdraw from one wallet. Afterwards the money in the wallets is unchanged, no wallet is
negative, no deadlock escaped (accounts are locked in ascending id order), the ledger
check passes, and exactly as many withdrawals succeeded as the balance allowed.

The test commits for real, so it works in a schema of its own (created here, dropped at
the end) and never touches the rolled-back fixture or other tests' tables.
"""

from __future__ import annotations

import random
import secrets
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select, text

from p2pbank.db import Base, make_engine, make_sessionmaker
from p2pbank.errors import InsufficientFunds
from p2pbank.ledger import services
from p2pbank.ledger.checks import check_ledger
from p2pbank.ledger.models import Account, JournalEntry
from p2pbank.models import load_all
from p2pbank.money import Money

pytestmark = [pytest.mark.postgres_only, pytest.mark.slow]

WORKERS = 16
TRANSFERS_PER_WORKER = 100
WALLETS = [f"race:wallet:{i}" for i in range(10)]
START_BALANCE = 5_000
CONTESTED = "race:contested"
CONTESTED_BALANCE = 10_000
WITHDRAWAL = 700
WITHDRAWALS_PER_WORKER = 5
CLEARING = "race:clearing"


@pytest.fixture
def own_engine(database_url):
    """An engine whose search_path is a fresh schema with the full model and triggers."""
    load_all()
    schema = f"ledger_race_{secrets.token_hex(4)}"
    admin = make_engine(database_url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in database_url else "?"
    engine = make_engine(
        f"{database_url}{sep}options=-csearch_path%3D{schema}",
        pool_size=2 * WORKERS + 2,
        max_overflow=0,
    )
    try:
        Base.metadata.create_all(engine)
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _fund(sessions) -> None:
    with sessions() as session:
        services.ensure_account(session, CLEARING, type="asset")
        for code in [*WALLETS, CONTESTED]:
            services.ensure_account(session, code, type="liability", no_negative=True)
        for code in WALLETS:
            services.post_entry(
                session,
                postings=[(CLEARING, -START_BALANCE), (code, START_BALANCE)],
                kind="deposit",
                idempotency_key=f"fund:{code}",
            )
        services.post_entry(
            session,
            postings=[(CLEARING, -CONTESTED_BALANCE), (CONTESTED, CONTESTED_BALANCE)],
            kind="deposit",
            idempotency_key="fund:contested",
        )
        session.commit()


def test_concurrent_transfers_and_racing_withdrawals(own_engine):
    sessions = make_sessionmaker(own_engine)
    _fund(sessions)
    start = threading.Barrier(2 * WORKERS)

    def transfers(worker: int) -> tuple[int, int]:
        rng = random.Random(worker)
        done = refused = 0
        start.wait()
        for i in range(TRANSFERS_PER_WORKER):
            source, target = rng.sample(WALLETS, 2)
            with sessions() as session:
                try:
                    services.transfer(
                        session,
                        from_code=source,
                        to_code=target,
                        amount=Money(rng.randint(1, 4_000)),
                        kind="transfer",
                        idempotency_key=f"race:{worker}:{i}",
                    )
                    session.commit()
                    done += 1
                except InsufficientFunds:
                    session.rollback()
                    refused += 1
        return done, refused

    def withdrawals(worker: int) -> int:
        done = 0
        start.wait()
        for i in range(WITHDRAWALS_PER_WORKER):
            with sessions() as session:
                try:
                    services.transfer(
                        session,
                        from_code=CONTESTED,
                        to_code=CLEARING,
                        amount=Money(WITHDRAWAL),
                        kind="withdrawal",
                        idempotency_key=f"withdraw:{worker}:{i}",
                    )
                    session.commit()
                    done += 1
                except InsufficientFunds:
                    session.rollback()
        return done

    with ThreadPoolExecutor(max_workers=2 * WORKERS) as pool:
        transfer_jobs = [pool.submit(transfers, w) for w in range(WORKERS)]
        withdrawal_jobs = [pool.submit(withdrawals, w) for w in range(WORKERS)]
        # .result() re-raises anything a worker hit: a deadlock or lock error fails here.
        transfer_results = [job.result() for job in transfer_jobs]
        withdrawn = sum(job.result() for job in withdrawal_jobs)

    done = sum(d for d, _ in transfer_results)
    refused = sum(r for _, r in transfer_results)
    assert done + refused == WORKERS * TRANSFERS_PER_WORKER
    assert done > 0 and refused > 0  # both paths were really exercised

    with sessions() as session:
        balances = dict(
            session.execute(
                select(Account.code, Account.posted_minor).where(Account.code.in_(WALLETS))
            ).all()
        )
        assert sum(balances.values()) == len(WALLETS) * START_BALANCE
        assert min(balances.values()) >= 0
        assert withdrawn == CONTESTED_BALANCE // WITHDRAWAL
        contested = session.scalar(select(Account).where(Account.code == CONTESTED))
        assert contested.posted_minor == CONTESTED_BALANCE - withdrawn * WITHDRAWAL
        transfers_posted = session.scalar(
            select(func.count(JournalEntry.id)).where(JournalEntry.kind == "transfer")
        )
        assert transfers_posted == done
        report = check_ledger(session)
        assert report.ok, report.violations

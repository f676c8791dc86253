"""The sequencer under real concurrency on PostgreSQL: real threads, connections, commits.

Two sequencers race while postings commit, some of them late (a transaction that queued
its leaf early commits after later ones were integrated): every queued leaf ends up in the
tree exactly once and the stored tree checks out. Committed data lives in a schema of its
own, dropped at the end.
"""

from __future__ import annotations

import secrets
import threading
import time

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import sessionmaker

from p2pbank import clock
from p2pbank.audit import queries, queue, sequencer
from p2pbank.audit.keys import derive_pseudonym_key, session_info
from p2pbank.audit.models import LogLeaf, QueuedLeaf
from p2pbank.db import Base, make_engine
from p2pbank.models import load_all

pytestmark = [pytest.mark.postgres_only]


@pytest.fixture
def sessions(database_url):
    load_all()
    schema = f"seq_race_{secrets.token_hex(4)}"
    admin = make_engine(database_url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in database_url else "?"
    engine = make_engine(
        f"{database_url}{sep}options=-csearch_path%3D{schema}", pool_size=12, max_overflow=0
    )
    try:
        Base.metadata.create_all(engine)
        yield sessionmaker(
            bind=engine,
            expire_on_commit=False,
            info=session_info(derive_pseudonym_key("race-secret")),
        )
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _enqueue(session, n: int) -> None:
    queue.enqueue(session, type="test.raced", subject_user_id=n % 7, payload={"n": n}, ref_id=n)


def test_a_leaf_that_commits_late_is_integrated_not_skipped(sessions):
    with sessions() as late, sessions() as early, sessions() as seq:
        _enqueue(late, 1)  # queued first, commits last
        late.flush()
        _enqueue(early, 2)
        early.commit()
        # The late transaction is still running: nothing after it may be integrated yet,
        # or its leaf would have to go behind a cursor that has already passed it.
        assert sequencer.integrate_queued(seq, clock.now()) == 0
        late.commit()
        assert sequencer.integrate_queued(seq, clock.now()) == 2
        refs = seq.scalars(
            select(QueuedLeaf.ref_id)
            .join(LogLeaf, LogLeaf.queue_id == QueuedLeaf.id)
            .order_by(LogLeaf.sequence)
        ).all()
        assert refs == [1, 2]  # queue order: the transaction that queued first comes first
        assert sequencer.integrate_queued(seq, clock.now()) == 0
        assert queries.check_storage(seq) == []


def test_two_sequencers_racing_integrate_every_leaf_exactly_once(sessions):
    producers, per_producer = 6, 40
    done = threading.Event()
    errors: list[BaseException] = []
    integrated = [0, 0]

    def produce(p: int) -> None:
        try:
            with sessions() as s:
                for i in range(per_producer):
                    _enqueue(s, p * 1000 + i)
                    if i % 10 == 3:  # now and then a transaction that commits late
                        s.flush()
                        time.sleep(0.02)
                    s.commit()
        except BaseException as exc:
            errors.append(exc)

    def sequence(k: int) -> None:
        try:
            with sessions() as s:
                while True:
                    finished = done.is_set()
                    integrated[k] += sequencer.integrate_queued(s, clock.now(), 7)
                    if finished:
                        return
                    time.sleep(0.001)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=sequence, args=(k,)) for k in range(2)]
    workers = [threading.Thread(target=produce, args=(p,)) for p in range(producers)]
    for thread in threads + workers:
        thread.start()
    for thread in workers:
        thread.join()
    done.set()
    for thread in threads:
        thread.join()
    assert not errors, errors
    with sessions() as s:
        deadline = time.monotonic() + 60  # other transactions on the server can hold xmin
        while queue.queue_state(s).waiting and time.monotonic() < deadline:
            integrated[0] += sequencer.integrate_queued(s, clock.now())
            time.sleep(0.05)
        total = producers * per_producer
        assert sum(integrated) == total
        assert s.scalar(select(func.count(QueuedLeaf.id))) == total
        leaves = s.scalars(select(LogLeaf.queue_id)).all()
        assert len(leaves) == total and len(set(leaves)) == total
        assert queries.check_storage(s) == []

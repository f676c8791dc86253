"""Rate-limit counters in a SQLite file: every process adds to the same count."""

from __future__ import annotations

import multiprocessing
import time

from limits import parse
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter

from p2pbank.ratelimit_storage import SQLiteStorage, storage_uri


def _hit(uri: str, times: int) -> None:
    storage = storage_from_string(uri)
    for _ in range(times):
        storage.incr("login:ann", 60)


def test_processes_share_one_count(tmp_path):
    uri = storage_uri(str(tmp_path / "limits.sqlite3"))
    context = multiprocessing.get_context("fork")
    workers = [context.Process(target=_hit, args=(uri, 25)) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    storage = storage_from_string(uri)
    assert isinstance(storage, SQLiteStorage)
    assert storage.get("login:ann") == 100


def test_a_window_ends_and_counting_starts_again(tmp_path):
    storage = SQLiteStorage(storage_uri(str(tmp_path / "limits.sqlite3")))
    assert storage.incr("k", 1) == 1
    assert storage.incr("k", 1) == 2
    assert time.time() < storage.get_expiry("k") <= time.time() + 1
    time.sleep(1.05)
    assert storage.get("k") == 0
    assert storage.incr("k", 1) == 1
    storage.clear("k")
    assert storage.get("k") == 0
    assert storage.check()


def test_the_fixed_window_strategy_limits(tmp_path):
    limiter = FixedWindowRateLimiter(SQLiteStorage(storage_uri(str(tmp_path / "l.sqlite3"))))
    five = parse("5 per minute")
    assert [limiter.hit(five, "ann") for _ in range(6)] == [True] * 5 + [False]
    assert limiter.hit(five, "bob")
    assert limiter.get_window_stats(five, "ann").remaining == 0

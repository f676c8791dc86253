"""One beat at a time: while one holds the beat lock, another cannot take it; once the
first lets go (or its process dies), the next one can."""

from __future__ import annotations

from p2pbank import beat_lock
from p2pbank.db import make_engine


def test_a_second_beat_waits_until_the_first_lets_go(worker_db, tmp_path):
    url, _maker = worker_db
    engine = make_engine(url)
    try:
        assert beat_lock._try(engine, str(tmp_path))
        first = list(beat_lock._held)
        beat_lock._held.clear()
        assert not beat_lock._try(engine, str(tmp_path))  # another beat: refused
        for held in first:
            beat_lock.let_go(held)  # the first beat is gone
        assert beat_lock._try(engine, str(tmp_path))
    finally:
        beat_lock.release()
        engine.dispose()

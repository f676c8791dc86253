"""The cost of knowing who is signed in, paid on every page: the server-side sign-in lookup
(`sign_ins.user_for`: one indexed join on the key hash, then the roles query) beside, as the
baseline in the same run, loading the user by primary key (what the loader did before
sign-ins were kept on the server).

Run: python benchmarks/user_loader.py [rounds] over a freshly migrated SQLite database, or
with DATABASE_URL=postgresql://... against that database (its tables must exist: run
`flask db-upgrade` first). Prints microseconds per lookup, median and 95th percentile.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy.orm import Session  # noqa: E402

from p2pbank.db import make_engine, make_sessionmaker  # noqa: E402
from p2pbank.identity import passwords, services, sign_ins  # noqa: E402
from p2pbank.identity.models import User  # noqa: E402
from p2pbank.migrate import upgrade  # noqa: E402

PASSWORD = "quiet-lantern-orbit-7731"  # noqa: S105 -- a throwaway benchmark account


def timed(rounds: int, session: Session, lookup) -> list[float]:
    """One connection throughout (as a pooled web worker has); the identity map is emptied
    before each lookup so every one reaches the database, as on a new request."""
    timings = []
    for _ in range(rounds):
        session.expunge_all()
        t0 = time.perf_counter()
        user = lookup(session)
        _ = user.role_names
        timings.append((time.perf_counter() - t0) * 1e6)
    return timings


def report(name: str, timings: list[float]) -> None:
    cut = statistics.quantiles(timings, n=20)
    print(f"{name:34s} median {statistics.median(timings):7.1f} us   p95 {cut[18]:7.1f} us")


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 3000
    passwords.set_cost(passwords.TEST_COST)
    with tempfile.TemporaryDirectory() as folder:
        url = os.environ.get("DATABASE_URL") or f"sqlite:///{folder}/bench.sqlite3"
        if url.startswith("sqlite"):
            upgrade(url)
        make = make_sessionmaker(make_engine(url))
        with make() as session:
            user = services.sign_up(
                session,
                email=f"loader-{uuid.uuid4().hex[:8]}@example.test",
                display_name="Loader",
                password=PASSWORD,
            )
            for _ in range(2000):  # other people's sign-ins in the table
                sign_ins.start(session, user.id)
            key = sign_ins.start(session, user.id)
            user_id = user.id
        print(f"who is signed in, {rounds} lookups each, {url.split(':')[0]}")
        with make_engine(url).connect() as connection, Session(bind=connection) as session:
            baseline = timed(rounds, session, lambda s: s.get(User, user_id))
            server_side = timed(rounds, session, lambda s: sign_ins.user_for(s, key))
        report("baseline: user by id", baseline)
        report("sign-in key -> user (server-side)", server_side)

if __name__ == "__main__":
    main()

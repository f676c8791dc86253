"""Reputation hot paths; prints numbers, asserts nothing.

Run: python benchmarks/trust.py [--members N] [--network-members N] [--network-ratings N]
     [--database URL]

1. The scores job (`trust.services.recompute_trust`) for 10,000 members whose ratings,
   completed transactions and repayment facts are read from the database: the first run
   publishes every member (a log entry and a snapshot each), the second finds nothing
   changed. Then one profile, the Wilson ranking, and the log replay an auditor runs.
2. EigenTrust on 100,000 members and 1,000,000 ratings: `scores.eigentrust` on integer
   ids, and the job's own call (`replay.network_trust`: pseudonym keys, canonical order).

The database is a fresh SQLite file unless --database names another (a PostgreSQL
database there is emptied first). The rows of step 1 are bulk-inserted as the services
would leave them (passwords are not hashed: sign-up speed is not what is measured here).
Seeded, so runs are comparable.
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from p2pbank import clock  # noqa: E402
from p2pbank.audit import replay as log_rules  # noqa: E402
from p2pbank.audit.keys import derive_pseudonym_key, session_info  # noqa: E402
from p2pbank.audit.queries import entries, head_size  # noqa: E402
from p2pbank.audit.verify import parse_entry  # noqa: E402
from p2pbank.db import Base, make_engine, make_sessionmaker  # noqa: E402
from p2pbank.identity.models import User  # noqa: E402
from p2pbank.models import load_all  # noqa: E402
from p2pbank.trust import queries, scores, services  # noqa: E402
from p2pbank.trust.models import (  # noqa: E402
    RatedTransaction,
    Rating,
    RepaymentRecord,
)

SEED = 20261125
NOW = datetime(2026, 11, 25, 6, 0, tzinfo=UTC)
VERIFIED_SHARE = 0.3


def timed(label: str, function, *args, **kwargs):
    started = time.perf_counter()
    result = function(*args, **kwargs)
    elapsed = time.perf_counter() - started
    print(f"  {label}: {elapsed:.2f} s")
    return result, elapsed


def _session(url: str) -> Session:
    load_all()
    engine = make_engine(url)
    if engine.dialect.name == "postgresql":
        Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)
    maker = make_sessionmaker(engine)
    maker.configure(info=session_info(derive_pseudonym_key("benchmark-only-secret")))
    return maker()


def seed_members(session: Session, members: int, rng: random.Random) -> dict[str, int]:
    """Members, completed transactions (3 per member), both sides' ratings on 80 % of them
    (mostly positive), and monthly repayment facts for a third of the members."""
    session.execute(
        insert(User),
        [
            {
                "id": n,
                "email": f"member{n}@bench.example",
                "display_name": f"Member {n}",
                "password_hash": "not-a-hash",
                "kyc_status": "verified" if rng.random() < VERIFIED_SHARE else "unverified",
                "created_at": NOW - timedelta(days=400),
            }
            for n in range(1, members + 1)
        ],
    )
    transactions, ratings, repayments = [], [], []
    for t in range(1, members * 3 + 1):
        principal = rng.randint(1, members)
        counterparty = rng.randint(1, members - 1)
        counterparty += counterparty >= principal
        done = NOW - timedelta(days=rng.randint(1, 360), minutes=rng.randint(0, 1440))
        transactions.append(
            {
                "id": t,
                "ref_type": "loan",
                "ref_id": t,
                "principal_id": principal,
                "counterparty_id": counterparty,
                "completed_at": done,
                "window_closes_at": done + timedelta(days=60),
                "created_at": done,
            }
        )
        if rng.random() < 0.8:
            for rater, ratee, side in (
                (counterparty, principal, "borrower"),
                (principal, counterparty, "lender"),
            ):
                value = rng.choices((1, 0, -1), weights=(88, 7, 5))[0]
                given = done + timedelta(days=rng.randint(0, 10))
                ratings.append(
                    {
                        "transaction_id": t,
                        "rater_id": rater,
                        "ratee_id": ratee,
                        "ratee_side": side,
                        "value": value,
                        "comment": "",
                        "status": "revealed",
                        "salt": f"{rng.getrandbits(64):016x}",
                        "submitted_at": given,
                        "revealed_at": given,
                        "hidden_note": "",
                    }
                )
    for member in range(1, members + 1, 3):
        for month in range(rng.randint(1, 12)):
            late = rng.random() < 0.05
            repayments.append(
                {
                    "user_id": member,
                    "kind": "late" if late else "on_time",
                    "days_late": rng.randint(16, 45) if late else 0,
                    "occurred_at": NOW - timedelta(days=30 * month + 1),
                    "loan_id": member,
                    "instalment_number": month + 1,
                    "event_key": f"bench:{member}:{month}",
                    "created_at": NOW,
                }
            )
    session.execute(insert(RatedTransaction), transactions)
    session.execute(insert(Rating), ratings)
    session.execute(insert(RepaymentRecord), repayments)
    session.commit()
    return {
        "members": members,
        "transactions": len(transactions),
        "ratings": len(ratings),
        "repayment facts": len(repayments),
    }


def job_benchmark(url: str, members: int, rng: random.Random) -> None:
    print(f"== scores job for {members:,} members from the database ({url.split(':')[0]})")
    session = _session(url)
    counts, elapsed = timed("seeding (bulk insert)", seed_members, session, members, rng)
    print("  data: " + ", ".join(f"{v:,} {k}" for k, v in counts.items()))
    clock.set_now(NOW)
    inputs, _ = timed("reading the job's inputs", queries.score_inputs, session)
    session.rollback()
    first, elapsed = timed(
        "recompute_trust, first run (publishes everyone)", services.recompute_trust, session
    )
    print(
        f"    {first['trust.members_scored']:,} scored, {first['trust.snapshots_written']:,} "
        f"published: {first['trust.members_scored'] / elapsed:,.0f} members/s"
    )
    clock.set_now(NOW + timedelta(hours=1))
    second, elapsed = timed(
        "recompute_trust, again (nothing changed)", services.recompute_trust, session
    )
    print(f"    {second['trust.snapshots_written']:,} published")
    busiest = max(inputs.members, key=lambda uid: uid % 97)  # any member with history
    timed("one member profile", queries.member_profile, session, busiest)
    ranking, _ = timed("the Wilson ranking (all rated members)", queries.ranking, session)
    print(f"    {ranking.total:,} ranked")
    size = head_size(session)

    def replay_all():
        events = []
        for start in range(0, size, 1000):
            for leaf in entries(session, start, start + 1000):
                events.append(parse_entry(leaf.sequence, bytes(leaf.data))[0])
        return log_rules.replay(events)

    result, elapsed = timed(f"auditor's replay of the whole log ({size:,} entries)", replay_all)
    # The rows above were bulk-inserted without their log events, so the replayed values
    # are timed here, not compared (tests/services/test_trust.py checks that they agree).
    print(f"    {size / elapsed:,.0f} entries/s, {result.checked:,} published values recomputed")
    session.close()
    clock.set_now(None)


def network_benchmark(members: int, count: int, rng: random.Random) -> None:
    print(f"== EigenTrust on {members:,} members and {count:,} ratings")
    when = datetime(2026, 11, 1, tzinfo=UTC)
    values = rng.choices((1, 0, -1), weights=(90, 5, 5), k=count)
    ratings = []
    for value in values:
        rater = rng.randrange(members)
        ratee = int(members * rng.random() ** 2)  # a few popular members get many ratings
        if ratee == rater:
            ratee = (ratee + 1) % members
        ratings.append(scores.Rating(rater, ratee, value, when))
    verified = rng.sample(range(members), int(members * 0.05))
    result, elapsed = timed(
        "scores.eigentrust (integer ids)",
        scores.eigentrust,
        ratings,
        pretrusted=verified,
        members=range(members),
    )
    print(
        f"    {result.iterations} iterations, converged={result.converged}, "
        f"last L1 change {result.residual:.2e}"
    )
    names = [f"{rng.getrandbits(128):032x}" for _ in range(members)]
    by_id = {
        n: scores.Rating(names[r.rater_id], names[r.ratee_id], r.value, r.time)
        for n, r in enumerate(ratings)
    }
    (network, percentiles), _ = timed(
        "replay.network_trust (pseudonyms, canonical order, percentiles)",
        log_rules.network_trust,
        by_id,
        [names[m] for m in verified],
    )
    print(f"    {len(percentiles):,} percentiles, {network.iterations} iterations")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"  peak memory (whole process): {peak_mb:.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--network-members", type=int, default=100_000)
    parser.add_argument("--network-ratings", type=int, default=1_000_000)
    parser.add_argument("--database", default="")
    args = parser.parse_args()
    rng = random.Random(SEED)
    with tempfile.TemporaryDirectory(prefix="p2pbank-bench-") as folder:
        url = args.database or f"sqlite:///{folder}/trust.sqlite3"
        job_benchmark(url, args.members, rng)
    network_benchmark(args.network_members, args.network_ratings, rng)


if __name__ == "__main__":
    main()

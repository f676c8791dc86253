"""EigenTrust on 100,000 members and 1,000,000 ratings, pure Python; prints numbers.

Run: python benchmarks/eigentrust.py [members] [ratings]. Seeded, so runs are comparable.
Ratees are skewed (a few popular members get many ratings), 5 % of members are verified.
"""

from __future__ import annotations

import random
import resource
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from p2pbank.trust.scores import Rating, eigentrust, trust_percentiles  # noqa: E402

SEED = 20261101
VERIFIED_SHARE = 0.05


def make_ratings(members: int, count: int, rng: random.Random) -> list[Rating]:
    """Mostly positive ratings between random pairs, popular ratees favoured."""
    when = datetime(2026, 11, 1, tzinfo=UTC)
    values = rng.choices((1, 0, -1), weights=(90, 5, 5), k=count)
    ratings = []
    for value in values:
        rater = rng.randrange(members)
        ratee = int(members * rng.random() ** 2)
        if ratee == rater:
            ratee = (ratee + 1) % members
        ratings.append(Rating(rater, ratee, value, when))
    return ratings


def main() -> None:
    members = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000
    rng = random.Random(SEED)
    started = time.perf_counter()
    ratings = make_ratings(members, count, rng)
    verified = rng.sample(range(members), int(members * VERIFIED_SHARE))
    print(
        f"data: {members:,} members, {len(ratings):,} ratings, {len(verified):,} verified "
        f"(generated in {time.perf_counter() - started:.2f} s, seed {SEED})"
    )

    started = time.perf_counter()
    result = eigentrust(ratings, pretrusted=verified, members=range(members))
    elapsed = time.perf_counter() - started
    print(
        f"eigentrust: {elapsed:.2f} s, {result.iterations} iterations, "
        f"converged={result.converged}, last L1 change {result.residual:.2e}, "
        f"sum {sum(result.trust.values()):.12f}"
    )

    started = time.perf_counter()
    trust_percentiles(result.trust)
    print(f"percentiles: {time.perf_counter() - started:.2f} s")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory (whole process): {peak_mb:.0f} MB")


if __name__ == "__main__":
    main()

"""Matching speed: a whole book in one batch, then listings arriving one by one.

Run: python benchmarks/matching.py [--seed N]. Prints numbers, asserts nothing.
The data is seeded random but shaped like the product: orders of EUR 100-20,000 in
slices of EUR 25-100 with the default cap (1% of the order, at least one slice), each
accepting a few grades and a range of terms; listings of EUR 500-10,000.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from p2pbank.lending.matching import OrderBook, match_book, match_listing
from p2pbank.lending.offers import Listing, Offer

GRADES = "ABCDE"
BASE_RATE_BPS = {"A": 400, "B": 650, "C": 900, "D": 1200, "E": 1600}
TERMS = (6, 12, 18, 24, 36, 48, 60)
EPOCH = datetime(2025, 1, 1)


def make_offers(rng: random.Random, count: int, lenders: int) -> list[Offer]:
    offers = []
    for offer_id in range(1, count + 1):
        amount = rng.randrange(100, 20_001, 25) * 100
        slice_minor = rng.choice((2_500, 5_000, 10_000))
        grades = rng.sample(GRADES, rng.randint(1, 5))
        low = rng.choice((6, 12, 24))
        offers.append(
            Offer(
                id=offer_id,
                lender_id=rng.randint(1, lenders),
                placed_at=EPOCH + timedelta(seconds=rng.randrange(90 * 86_400)),
                remaining_minor=amount,
                slice_minor=slice_minor,
                max_per_borrower_minor=max(slice_minor, amount // 100),
                min_rate_bps={g: BASE_RATE_BPS[g] + rng.randrange(-100, 301, 25) for g in grades},
                min_term_months=low,
                max_term_months=rng.choice([t for t in (24, 36, 60) if t >= low]),
            )
        )
    return offers


def make_listings(rng: random.Random, count: int, borrowers: int, first_id: int) -> list[Listing]:
    listings = []
    for listing_id in range(first_id, first_id + count):
        grade = rng.choice(GRADES)
        listings.append(
            Listing(
                id=listing_id,
                borrower_id=rng.randint(1, borrowers),
                grade=grade,
                term_months=rng.choice(TERMS),
                amount_minor=rng.randrange(500, 10_001, 50) * 100,
                max_rate_bps=BASE_RATE_BPS[grade] + rng.randrange(100, 801, 50),
            )
        )
    return listings


def batch(offers: list[Offer], listings: list[Listing]) -> None:
    """One match_book call, index building included: the full re-run of a book."""
    started, cpu_started = time.perf_counter(), time.process_time()
    results = match_book(listings, offers)
    seconds = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    fills = sum(len(r.fills) for r in results)
    full = sum(r.is_fully_funded for r in results)
    print(f"batch: {len(offers):,} offers x {len(listings):,} listings (index build included)")
    print(f"  {seconds:.3f} s wall ({cpu:.3f} s CPU), {fills:,} fills")
    print(f"  {fills / seconds:,.0f} matches/s, {len(listings) / seconds:,.0f} listings/s")
    print(f"  {full:,} listings fully funded, {fills / len(listings):.1f} fills per listing")


def one_by_one(offers: list[Offer], listings: list[Listing]) -> None:
    started = time.perf_counter()
    book = OrderBook(offers)
    built = time.perf_counter() - started
    times = []
    fills = 0
    for listing in listings:
        t0 = time.perf_counter()
        fills += len(book.match(listing).fills)
        times.append(time.perf_counter() - t0)
    times.sort()
    mean_ms = 1000 * sum(times) / len(times)
    print(f"incremental: {len(listings):,} listings one by one into {len(offers):,} offers")
    print(f"  book built in {built:.3f} s (once, when the service starts)")
    print(
        f"  per listing: mean {mean_ms:.3f} ms, median {1000 * times[len(times) // 2]:.3f} ms, "
        f"p99 {1000 * times[int(len(times) * 0.99)]:.3f} ms, max {1000 * times[-1]:.3f} ms"
    )
    print(f"  ({fills:,} fills; the first listing of each grade and term builds its index)")


def from_scratch(offers: list[Offer], listings: list[Listing]) -> None:
    """match_listing per listing, rebuilding the index each time: what not to do at scale."""
    started = time.perf_counter()
    for listing in listings:
        match_listing(listing, offers, explain=False)
    per_listing = (time.perf_counter() - started) / len(listings)
    print(f"match_listing from scratch over {len(offers):,} offers: {per_listing:.3f} s a listing")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    offers = make_offers(rng, 100_000, lenders=20_000)
    batch(offers, make_listings(rng, 10_000, borrowers=8_000, first_id=1))
    one_by_one(offers, make_listings(rng, 1_000, borrowers=8_000, first_id=10_001))
    from_scratch(offers, make_listings(rng, 5, borrowers=8_000, first_id=20_001))
    print(f"(load average while running: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs)")


if __name__ == "__main__":
    main()

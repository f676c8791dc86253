"""Pay-as-bid matching of lender offers to borrower listings; pure, no I/O.

The matching rules:

* An offer may fund a listing when it accepts the listing's grade and term, its minimum
  rate for that grade is at most the listing's maximum rate, the lender is not the
  borrower, it has money left, and the lender's per-borrower cap has room for it.
* Eligible offers fill the listing in the order (rate ascending, time placed ascending,
  offer id). Every part keeps its own offer's rate (pay-as-bid); the borrower's rate is
  the amount-weighted average of the parts.
* A fill is a whole number of the offer's slices, except the fill that completes the
  listing or uses up the offer. A listing is never funded past its amount.
* The cap is per (lender, borrower) and counts money lent on earlier listings too (the
  `exposure` map), so spreading holds across a borrower's listings.

`OrderBook` does the work: offers are indexed per (grade, term) in matching order, so a
listing only walks the offers that could fund it and stops at the first rate above its
maximum. `match_listing` and `match_book` are both "build a book, match listings in
order", which is why matching a whole book at once equals matching listings one by one
as they arrive (with the offers and exposure updated by `apply_fills` in between).

Explaining every offer costs a pass over the whole book per listing, so it is on for
`match_listing` (one listing, a page to show) and off by default for `match_book` (the
batch), where `skipped` lists only the offers the walk actually passed over."""

from __future__ import annotations

import gc
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace
from itertools import chain
from operator import attrgetter
from typing import Any

from p2pbank.lending.offers import Fill, Listing, MatchResult, Offer, Skip, SkipReason, fill_amount

Exposure = Mapping[tuple[int, int], int]
"""(lender_id, borrower_id) -> minor units that lender already has lent to that borrower."""

# Dead entries met in one walk before the walked stretch of a bucket is compacted.
_COMPACT_AFTER = 16


class _Bucket:
    """Offers accepting one (grade, term) as sorted keys rate * n + position.

    One int per entry keeps the index small and lets the C sort build it. `head` skips the
    used-up offers at the front (pay-as-bid drains the cheap end first); used-up offers
    further in are dropped when a walk has met enough of them.
    """

    __slots__ = ("keys", "head")

    def __init__(self, keys: list[int]) -> None:
        self.keys = keys
        self.head = 0


class OrderBook:
    """Offers indexed for matching, with their remaining amounts and lenders' exposure.

    Offers are numbered by position in (placed_at, id) order, so the key
    rate * n + position sorts in matching order. Per grade, offers are grouped by their
    term range; the (grade, term) bucket is built from the groups accepting that term the
    first time a listing needs it. Inputs are not mutated: the book keeps its own
    remaining amounts and exposure, and `match` updates them as listings are funded.
    """

    def __init__(self, offers: Iterable[Offer], exposure: Exposure | None = None) -> None:
        ordered = sorted(offers, key=attrgetter("placed_at", "id"))
        self._offers = ordered
        self._n = len(ordered)
        # Parallel lists by position: the walk reads plain lists, not 100,000 objects.
        self._ids = _column(ordered, "id")
        self._position = dict(zip(self._ids, range(self._n), strict=True))
        if len(self._position) != self._n:
            raise ValueError("offer ids must be unique")
        self._remaining: list[int] = _column(ordered, "remaining_minor")
        self._lender = _column(ordered, "lender_id")
        self._slice = _column(ordered, "slice_minor")
        self._cap = _column(ordered, "max_per_borrower_minor")
        # borrower -> lender -> minor lent: the walk reads one inner dict per listing.
        self._lent: dict[int, dict[int, int]] = defaultdict(dict)
        for (lender, borrower), amount in (exposure or {}).items():
            self._lent[borrower][lender] = amount
        self._groups = self._group_by_grade_and_terms(ordered)
        self._buckets: dict[tuple[str, int], _Bucket] = {}

    @staticmethod
    def _group_by_grade_and_terms(
        ordered: Sequence[Offer],
    ) -> dict[str, dict[tuple[int, int], list[int]]]:
        """grade -> (min_term, max_term) -> keys of the live offers with that term range."""
        n = len(ordered)
        groups: dict[str, dict[tuple[int, int], list[int]]] = defaultdict(dict)
        for position, offer in enumerate(ordered):
            if not offer.remaining_minor:
                continue
            terms = (offer.min_term_months, offer.max_term_months)
            for grade, rate in offer.min_rate_bps.items():
                by_terms = groups[grade]
                keys = by_terms.get(terms)
                if keys is None:
                    keys = by_terms[terms] = []
                keys.append(rate * n + position)
        return groups

    def _bucket(self, grade: str, term: int) -> _Bucket:
        """The (grade, term) bucket, built the first time a listing needs it."""
        bucket = self._buckets.get((grade, term))
        if bucket is None:
            groups = self._groups.get(grade, {})
            keys = sorted(
                chain.from_iterable(
                    group for (low, high), group in groups.items() if low <= term <= high
                )
            )
            bucket = self._buckets[(grade, term)] = _Bucket(keys)
        return bucket

    def remaining_minor(self, offer_id: int) -> int:
        """What the offer has left after the listings matched so far."""
        return self._remaining[self._position[offer_id]]

    def exposure(self) -> dict[tuple[int, int], int]:
        """(lender_id, borrower_id) -> minor lent, including this book's fills."""
        return {
            (lender, borrower): amount
            for borrower, by_lender in self._lent.items()
            for lender, amount in by_lender.items()
        }

    def match(self, listing: Listing, *, explain: bool = False) -> MatchResult:
        """Fund `listing` from the book and record the fills in the book.

        `skipped` always holds the offers the walk passed over (own listing, cap
        reached). With `explain=True` it also holds every other offer in the book that
        could not have funded this listing and why; that costs a pass over all offers,
        so batch runs leave it off.
        """
        fills: list[Fill] = []
        skips: dict[int, Skip] = {}
        filled = self._walk(listing, fills, skips) if listing.open_minor else 0
        if explain:
            self._explain_rest(listing, {f.offer_id for f in fills}, skips)
        return MatchResult(
            listing_id=listing.id,
            borrower_id=listing.borrower_id,
            amount_minor=listing.amount_minor,
            funded_minor=listing.funded_minor + filled,
            fills=tuple(fills),
            skipped=tuple(skips[k] for k in sorted(skips)),
        )

    def _walk(self, listing: Listing, fills: list[Fill], skips: dict[int, Skip]) -> int:
        """Take offers in matching order until the listing is full or rates pass its max.

        Returns the amount filled. The hot loop of the batch: everything it touches is a
        local list or int.
        """
        bucket = self._bucket(listing.grade, listing.term_months)
        keys = bucket.keys
        n, remaining, lenders = self._n, self._remaining, self._lender
        caps, slices, ids = self._cap, self._slice, self._ids
        borrower, open_minor = listing.borrower_id, listing.open_minor
        lent_to_borrower = self._lent[borrower]
        limit = (listing.max_rate_bps + 1) * n  # key < limit  <=>  rate <= max_rate_bps
        new_tuple = tuple.__new__  # Fill(...) without the named tuple's argument parsing
        head, end = bucket.head, len(keys)
        while head < end and not remaining[keys[head] % n]:
            head += 1
        bucket.head = pos = head
        dead = 0
        for pos in range(head, end):
            key = keys[pos]
            if key >= limit:
                break
            i = key % n
            left = remaining[i]
            if not left:
                dead += 1
                continue
            lender = lenders[i]
            if lender == borrower:
                skips[ids[i]] = _skip(self._offers[i], SkipReason.OWN_LISTING, listing)
                continue
            lent = lent_to_borrower.get(lender, 0)
            amount = left if left < open_minor else open_minor
            if caps[i] - lent < amount:  # the cap binds: whole slices only (see fill_amount)
                amount = fill_amount(left, open_minor, caps[i] - lent, slices[i])
                if not amount:
                    skips[ids[i]] = _skip(self._offers[i], SkipReason.BORROWER_CAP_REACHED, listing)
                    continue
            remaining[i] = left - amount
            lent_to_borrower[lender] = lent + amount
            fills.append(new_tuple(Fill, (ids[i], lender, amount, key // n)))
            open_minor -= amount
            if not open_minor:
                break
        if dead > _COMPACT_AFTER:
            keys[head:pos] = [k for k in keys[head:pos] if remaining[k % n]]
        return listing.open_minor - open_minor

    def _explain_rest(self, listing: Listing, filled: set[int], skips: dict[int, Skip]) -> None:
        """Give every offer that neither filled nor was walked past its reason, if any."""
        for i, offer in enumerate(self._offers):
            if offer.id in filled or offer.id in skips:
                continue
            reason = self._ineligibility(i, offer, listing)
            if reason is not None:
                skips[offer.id] = _skip(offer, reason, listing)

    def _ineligibility(self, i: int, offer: Offer, listing: Listing) -> SkipReason | None:
        """The first rule that keeps this offer off this listing, checked in a fixed order."""
        if not self._remaining[i]:
            return SkipReason.OFFER_EXHAUSTED
        if offer.lender_id == listing.borrower_id:
            return SkipReason.OWN_LISTING
        rate = offer.min_rate_bps.get(listing.grade)
        if rate is None:
            return SkipReason.GRADE_NOT_ACCEPTED
        if not offer.accepts_term(listing.term_months):
            return SkipReason.TERM_NOT_ACCEPTED
        if rate > listing.max_rate_bps:
            return SkipReason.RATE_ABOVE_MAX
        lent = self._lent[listing.borrower_id].get(offer.lender_id, 0)
        room = offer.max_per_borrower_minor - lent
        if not fill_amount(self._remaining[i], listing.amount_minor, room, offer.slice_minor):
            return SkipReason.BORROWER_CAP_REACHED
        return None


def _column(offers: Sequence[Offer], field: str) -> list[Any]:
    return list(map(attrgetter(field), offers))


def _skip(offer: Offer, reason: SkipReason, listing: Listing) -> Skip:
    return Skip(offer.id, offer.lender_id, reason, _skip_text(offer, reason, listing))


def _skip_text(offer: Offer, reason: SkipReason, listing: Listing) -> str:
    """A sentence a lender or borrower can read on the listing page."""
    match reason:
        case SkipReason.OFFER_EXHAUSTED:
            return "The order has no money left."
        case SkipReason.OWN_LISTING:
            return "Lenders cannot fund their own listing."
        case SkipReason.GRADE_NOT_ACCEPTED:
            return f"The order does not accept grade {listing.grade}."
        case SkipReason.TERM_NOT_ACCEPTED:
            return (
                f"The order accepts {offer.min_term_months}-{offer.max_term_months} months, "
                f"not {listing.term_months}."
            )
        case SkipReason.RATE_ABOVE_MAX:
            rate = offer.min_rate_bps[listing.grade]
            return (
                f"The order's minimum rate of {rate} bps is above the listing's maximum "
                f"of {listing.max_rate_bps} bps."
            )
        case SkipReason.BORROWER_CAP_REACHED:
            cap = _major_units(offer.max_per_borrower_minor)
            return f"The lender has reached the order's cap of {cap} for this borrower."
    raise AssertionError(reason)  # pragma: no cover - the match above is exhaustive


def _major_units(minor: int) -> str:
    whole, cents = divmod(minor, 100)
    return f"{whole}.{cents:02d}"


def match_listing(
    listing: Listing,
    offers: Iterable[Offer],
    exposure: Exposure | None = None,
    *,
    explain: bool = True,
) -> MatchResult:
    """Match one listing against the offers as they stand; inputs are not changed.

    Explains every skipped offer by default, since one listing is cheap to explain.
    """
    return OrderBook(offers, exposure).match(listing, explain=explain)


def match_book(
    listings: Iterable[Listing],
    offers: Iterable[Offer],
    exposure: Exposure | None = None,
    *,
    explain: bool = False,
) -> list[MatchResult]:
    """Match listings in the given order against one book; later listings see earlier fills.

    The same as calling `match_listing` for each listing with the offers and exposure
    updated by `apply_fills` in between, only without rebuilding the index each time.
    """
    with _cyclic_gc_paused():
        book = OrderBook(offers, exposure)
        return [book.match(listing, explain=explain) for listing in listings]


@contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """Pause the cycle collector for a batch, restoring its previous state afterwards.

    A batch allocates about one object per fill and keeps them all, so the collector keeps
    re-scanning a growing heap: measured, more than half of the batch time. Matching makes
    no reference cycles, so reference counting alone frees everything it drops.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def apply_fills(
    offers: Iterable[Offer],
    exposure: Exposure | None,
    results: Iterable[MatchResult],
) -> tuple[list[Offer], dict[tuple[int, int], int]]:
    """Offers and exposure after the fills in `results`; the inputs are not changed.

    Offers keep their order; used-up offers stay in the list with nothing remaining.
    """
    used: dict[int, int] = {}
    new_exposure = dict(exposure or {})
    for result in results:
        for fill in result.fills:
            used[fill.offer_id] = used.get(fill.offer_id, 0) + fill.amount_minor
            key = (fill.lender_id, result.borrower_id)
            new_exposure[key] = new_exposure.get(key, 0) + fill.amount_minor
    new_offers = [
        replace(o, remaining_minor=o.remaining_minor - used[o.id]) if o.id in used else o
        for o in offers
    ]
    return new_offers, new_exposure

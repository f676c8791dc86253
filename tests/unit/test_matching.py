"""Matching: tables of hand-made cases, then properties over random books.

The properties check the indexed `OrderBook` against `reference_match`, a deliberately
naive matcher written from the rules in issue 5 (sort the eligible offers for every
listing, fill them in order), plus invariants that hold whatever the implementation.
"""

from __future__ import annotations

import gc
import random
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from p2pbank.lending import matching
from p2pbank.lending.matching import OrderBook, apply_fills, match_book, match_listing
from p2pbank.lending.offers import Fill, Listing, MatchResult, Offer, SkipReason, fill_amount

BORROWER = 900


def offer(
    offer_id: int,
    *,
    lender: int | None = None,
    at: int = 0,
    remaining: int = 100_000,
    slice_minor: int = 2_500,
    cap: int = 100_000,
    rates: dict[str, int] | None = None,
    terms: tuple[int, int] = (6, 60),
) -> Offer:
    return Offer(
        id=offer_id,
        lender_id=offer_id if lender is None else lender,
        placed_at=at,
        remaining_minor=remaining,
        slice_minor=slice_minor,
        max_per_borrower_minor=cap,
        min_rate_bps={"C": 900} if rates is None else rates,
        min_term_months=terms[0],
        max_term_months=terms[1],
    )


def listing(
    listing_id: int = 1,
    *,
    borrower: int = BORROWER,
    grade: str = "C",
    term: int = 36,
    amount: int = 10_000,
    max_rate: int = 1_500,
    funded: int = 0,
) -> Listing:
    return Listing(listing_id, borrower, grade, term, amount, max_rate, funded)


def taken(result: MatchResult) -> list[tuple[int, int, int]]:
    """(offer id, amount, rate) of each fill, in fill order."""
    return [(f.offer_id, f.amount_minor, f.rate_bps) for f in result.fills]


def reasons(result: MatchResult) -> dict[int, SkipReason]:
    return {s.offer_id: s.reason for s in result.skipped}


# --- order of filling -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("offers", "expected"),
    [
        pytest.param(
            [offer(1, rates={"C": 1100}), offer(2, rates={"C": 700}), offer(3, rates={"C": 900})],
            [(2, 10_000, 700)],
            id="lowest rate first",
        ),
        pytest.param(
            [offer(1, at=5), offer(2, at=3), offer(3, at=4)],
            [(2, 10_000, 900)],
            id="equal rates: earliest placed first",
        ),
        pytest.param(
            [offer(7, at=1), offer(4, at=1), offer(5, at=1)],
            [(4, 10_000, 900)],
            id="equal rate and time: lowest id first",
        ),
        pytest.param(
            [
                offer(1, rates={"C": 1000}, cap=5_000),
                offer(2, rates={"C": 800}, cap=2_500),
                offer(3, rates={"C": 1200}, cap=5_000),
            ],
            [(2, 2_500, 800), (1, 5_000, 1000), (3, 2_500, 1200)],
            id="pay-as-bid: every part keeps its own rate",
        ),
    ],
)
def test_fill_order(offers: list[Offer], expected: list[tuple[int, int, int]]) -> None:
    assert taken(match_listing(listing(), offers)) == expected


def test_rate_at_the_listing_max_is_taken_one_bps_above_is_not() -> None:
    # Offer 1 is placed first, so its index key sits exactly on the walk's rate limit.
    offers = [
        offer(1, at=0, rates={"C": 1501}),
        offer(2, at=1, rates={"C": 1500}, remaining=4_000),
    ]
    result = match_listing(listing(max_rate=1500), offers)
    assert taken(result) == [(2, 4_000, 1500)]
    assert reasons(result) == {1: SkipReason.RATE_ABOVE_MAX}


def test_weighted_apr_is_amount_weighted_and_rounds_half_up() -> None:
    offers = [offer(1, rates={"C": 800}, cap=2_500), offer(2, rates={"C": 1200}, cap=7_500)]
    # 2,500 at 8 % and 7,500 at 12 %: (2500*800 + 7500*1200) / 10000 = 1100 bps.
    assert match_listing(listing(), offers).weighted_apr_bps == 1100
    halves = [offer(1, rates={"C": 500}, cap=2_500), offer(2, rates={"C": 501}, cap=2_500)]
    # (2500*500 + 2500*501) / 5000 = 500.5 -> 501.
    assert match_listing(listing(amount=5_000), halves).weighted_apr_bps == 501
    assert match_listing(listing(), []).weighted_apr_bps is None


# --- slices, caps and never overfilling ---------------------------------------------------


@pytest.mark.parametrize(
    ("remaining", "open_minor", "cap_room", "slice_minor", "expected"),
    [
        (10_000, 3_000, 10_000, 2_500, 3_000),  # completes the listing: part slice allowed
        (1_234, 10_000, 10_000, 2_500, 1_234),  # uses up the offer: part slice allowed
        (10_000, 10_000, 6_000, 2_500, 5_000),  # cap binds: whole slices only
        (10_000, 10_000, 2_499, 2_500, 0),  # cap leaves less than a slice
        (10_000, 10_000, 0, 2_500, 0),  # cap reached
        (10_000, 10_000, -100, 2_500, 0),  # exposure above the cap already
        (2_000, 10_000, 2_100, 2_500, 2_000),  # cap above what is left: offer used up
        (10_000, 1_000, 1_500, 2_500, 1_000),  # cap above what the listing needs
    ],
)
def test_fill_amount(
    remaining: int, open_minor: int, cap_room: int, slice_minor: int, expected: int
) -> None:
    assert fill_amount(remaining, open_minor, cap_room, slice_minor) == expected


def test_cap_limited_fills_are_whole_slices() -> None:
    result = match_listing(listing(amount=20_000), [offer(1, cap=6_000), offer(2, at=1)])
    assert taken(result) == [(1, 5_000, 900), (2, 15_000, 900)]


def test_never_overfills_a_partly_funded_listing() -> None:
    result = match_listing(listing(amount=10_000, funded=7_000), [offer(1), offer(2)])
    assert taken(result) == [(1, 3_000, 900)]
    assert result.funded_minor == 10_000 and result.is_fully_funded


def test_a_fully_funded_listing_takes_nothing() -> None:
    result = match_listing(listing(funded=10_000), [offer(1)])
    assert result.fills == () and result.funded_minor == 10_000


def test_partly_funded_when_offers_run_out() -> None:
    result = match_listing(listing(amount=10_000), [offer(1, remaining=4_000)])
    assert taken(result) == [(1, 4_000, 900)]
    assert result.funded_minor == 4_000 and not result.is_fully_funded


def test_existing_exposure_counts_against_the_cap() -> None:
    offers = [offer(1, lender=10, cap=5_000), offer(2, lender=11, at=1)]
    result = match_listing(listing(), offers, {(10, BORROWER): 3_000})
    # 2,000 of room is less than a 2,500 slice: lender 10 is skipped.
    assert taken(result) == [(2, 10_000, 900)]
    assert reasons(result) == {1: SkipReason.BORROWER_CAP_REACHED}


def test_one_lenders_offers_share_the_cap_for_a_borrower() -> None:
    offers = [offer(1, lender=10, cap=5_000), offer(2, lender=10, at=1, cap=5_000)]
    result = match_listing(listing(), offers)
    assert taken(result) == [(1, 5_000, 900)]
    assert reasons(result) == {2: SkipReason.BORROWER_CAP_REACHED}


def test_cap_holds_across_listings_of_the_same_borrower() -> None:
    offers = [offer(1, lender=10, cap=5_000)]
    first, second = match_book([listing(1, amount=3_000), listing(2, amount=5_000)], offers)
    assert taken(first) == [(1, 3_000, 900)]
    assert taken(second) == []  # 2,000 of room left: less than a slice
    assert reasons(second) == {1: SkipReason.BORROWER_CAP_REACHED}
    other = match_book([listing(1, amount=3_000), listing(2, borrower=901)], offers)[1]
    assert taken(other) == [(1, 5_000, 900)]


# --- skipped offers explain themselves ---------------------------------------------------


def test_every_skip_reason_with_its_text() -> None:
    offers = [
        offer(1, remaining=0, at=5),  # placed last of the skipped: still listed first
        offer(2, lender=BORROWER),
        offer(3, rates={"A": 500}),
        offer(4, terms=(6, 24)),
        offer(5, rates={"C": 1600}),
        offer(6, lender=20, cap=2_500),
        offer(7, at=9),  # funds the listing
    ]
    result = match_listing(listing(amount=10_000), offers, {(20, BORROWER): 2_500})
    assert taken(result) == [(7, 10_000, 900)]
    assert reasons(result) == {
        1: SkipReason.OFFER_EXHAUSTED,
        2: SkipReason.OWN_LISTING,
        3: SkipReason.GRADE_NOT_ACCEPTED,
        4: SkipReason.TERM_NOT_ACCEPTED,
        5: SkipReason.RATE_ABOVE_MAX,
        6: SkipReason.BORROWER_CAP_REACHED,
    }
    texts = {s.offer_id: s.text for s in result.skipped}
    assert texts[3] == "The order does not accept grade C."
    assert texts[4] == "The order accepts 6-24 months, not 36."
    assert "1600 bps" in texts[5] and "1500 bps" in texts[5]
    assert "25.00" in texts[6]
    assert [s.offer_id for s in result.skipped] == sorted(texts)
    assert {s.reason.value for s in result.skipped} == {r.value for r in SkipReason}


def test_unreached_eligible_offers_are_not_reported_as_skipped() -> None:
    result = match_listing(listing(), [offer(1), offer(2, at=1)])
    assert taken(result) == [(1, 10_000, 900)] and result.skipped == ()


def test_without_explain_only_offers_walked_past_are_listed() -> None:
    offers = [offer(1, lender=BORROWER), offer(2, rates={"A": 500}), offer(3, at=1)]
    quick = match_listing(listing(), offers, explain=False)
    assert reasons(quick) == {1: SkipReason.OWN_LISTING}
    full = match_listing(listing(), offers)
    assert reasons(full) == {1: SkipReason.OWN_LISTING, 2: SkipReason.GRADE_NOT_ACCEPTED}


# --- the book and its inputs -----------------------------------------------------------


def test_inputs_are_not_changed() -> None:
    offers = [offer(1, cap=5_000), offer(2, at=1)]
    exposure = {(1, BORROWER): 0}
    snapshot = (list(offers), dict(exposure))
    match_book([listing(1), listing(2, borrower=901)], offers, exposure)
    assert (offers, exposure) == snapshot


def test_book_tracks_remaining_and_exposure() -> None:
    book = OrderBook([offer(1, remaining=6_000, cap=5_000)], {(1, 77): 100})
    book.match(listing(1, amount=3_000))
    book.match(listing(2, borrower=901, amount=10_000))
    assert book.remaining_minor(1) == 0
    assert book.exposure() == {(1, 77): 100, (1, BORROWER): 3_000, (1, 901): 3_000}


def test_apply_fills_updates_offers_and_exposure() -> None:
    offers = [offer(1, cap=5_000), offer(2, at=1)]
    results = match_book([listing(1)], offers)
    new_offers, exposure = apply_fills(offers, {(1, 5): 7}, results)
    assert [o.remaining_minor for o in new_offers] == [95_000, 95_000]
    assert exposure == {(1, 5): 7, (1, BORROWER): 5_000, (2, BORROWER): 5_000}


def test_duplicate_offer_ids_are_refused() -> None:
    with pytest.raises(ValueError, match="unique"):
        OrderBook([offer(1), offer(1, at=1)])


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"remaining_minor": 10.0}, TypeError),
        ({"remaining_minor": -1}, ValueError),
        ({"slice_minor": 0}, ValueError),
        ({"max_per_borrower_minor": 2_000}, ValueError),  # less than one slice
        ({"min_term_months": 61}, ValueError),
        ({"min_rate_bps": {"C": True}}, TypeError),
    ],
)
def test_invalid_offers_are_refused(changes: dict[str, object], error: type[Exception]) -> None:
    with pytest.raises(error):
        replace(offer(1), **changes)


@pytest.mark.parametrize(
    "changes", [{"amount_minor": 0}, {"funded_minor": 10_001}, {"max_rate_bps": -1}]
)
def test_invalid_listings_are_refused(changes: dict[str, int]) -> None:
    with pytest.raises(ValueError):
        replace(listing(), **changes)


@pytest.mark.parametrize("enabled", [True, False])
def test_batch_restores_the_garbage_collector_state(enabled: bool) -> None:
    was = gc.isenabled()
    try:
        (gc.enable if enabled else gc.disable)()
        match_book([listing()], [offer(1)])
        assert gc.isenabled() is enabled
    finally:
        (gc.enable if was else gc.disable)()


# --- properties -------------------------------------------------------------------------


def reference_match(
    listings: list[Listing], offers: list[Offer], exposure: dict[tuple[int, int], int]
) -> list[list[tuple[int, int, int]]]:
    """The rules of issue 5 written as plainly as possible, for comparison."""
    remaining = {o.id: o.remaining_minor for o in offers}
    lent = dict(exposure)
    out = []
    for ls in listings:
        eligible = [
            o
            for o in offers
            if ls.grade in o.min_rate_bps
            and o.min_term_months <= ls.term_months <= o.max_term_months
            and o.min_rate_bps[ls.grade] <= ls.max_rate_bps
            and o.lender_id != ls.borrower_id
        ]
        eligible.sort(key=lambda o: (o.min_rate_bps[ls.grade], o.placed_at, o.id))
        need = ls.amount_minor - ls.funded_minor
        fills = []
        for o in eligible:
            key = (o.lender_id, ls.borrower_id)
            room = o.max_per_borrower_minor - lent.get(key, 0)
            amount = min(remaining[o.id], need)
            if amount > room:
                amount = max(room, 0) // o.slice_minor * o.slice_minor
            if need == 0 or amount == 0:
                continue
            remaining[o.id] -= amount
            lent[key] = lent.get(key, 0) + amount
            need -= amount
            fills.append((o.id, amount, o.min_rate_bps[ls.grade]))
        out.append(fills)
    return out


GRADES = ("A", "B")


@st.composite
def books(draw: st.DrawFn) -> tuple[list[Listing], list[Offer], dict[tuple[int, int], int]]:
    """Small books with many collisions: few people, rates, times, grades and terms."""
    people = st.integers(1, 5)  # lenders and borrowers share ids: own listings happen
    n_offers = draw(st.integers(0, 14))
    offers = []
    for offer_id in draw(st.permutations(range(1, 40)))[:n_offers]:
        slice_minor = draw(st.sampled_from((100, 250)))
        low = draw(st.sampled_from((6, 12, 24)))
        grades = draw(st.lists(st.sampled_from(GRADES), min_size=1, max_size=2, unique=True))
        offers.append(
            Offer(
                id=offer_id,
                lender_id=draw(people),
                placed_at=draw(st.integers(0, 3)),
                remaining_minor=draw(st.integers(0, 3_000)),
                slice_minor=slice_minor,
                max_per_borrower_minor=slice_minor * draw(st.integers(1, 6))
                + draw(st.sampled_from((0, 0, 30))),
                min_rate_bps={g: draw(st.sampled_from((500, 600, 700))) for g in grades},
                min_term_months=low,
                max_term_months=draw(st.sampled_from([t for t in (12, 24, 36) if t >= low])),
            )
        )
    listings = []
    for listing_id in range(1, draw(st.integers(0, 8)) + 1):
        amount = draw(st.integers(1, 4_000))
        listings.append(
            Listing(
                id=listing_id,
                borrower_id=draw(people),
                grade=draw(st.sampled_from(GRADES)),
                term_months=draw(st.sampled_from((6, 12, 24, 36))),
                amount_minor=amount,
                max_rate_bps=draw(st.sampled_from((450, 500, 600, 700))),
                funded_minor=draw(st.integers(0, amount)),
            )
        )
    exposure = draw(st.dictionaries(st.tuples(people, people), st.integers(0, 1_000), max_size=4))
    return listings, offers, exposure


@pytest.mark.parametrize("compact_after", [0, matching._COMPACT_AFTER])
@settings(max_examples=200, deadline=None)
@given(book=books())
def test_book_matches_the_plain_reading_of_the_rules(
    book: tuple[list[Listing], list[Offer], dict[tuple[int, int], int]],
    compact_after: int,
) -> None:
    listings, offers, exposure = book
    # Compacting after every dead entry drives the index's clean-up path on small books.
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(matching, "_COMPACT_AFTER", compact_after)
        results = match_book(listings, offers, exposure)
    assert [taken(r) for r in results] == reference_match(listings, offers, exposure)


@settings(max_examples=200, deadline=None)
@given(book=books())
def test_never_overfills_respects_caps_and_remaining(
    book: tuple[list[Listing], list[Offer], dict[tuple[int, int], int]],
) -> None:
    listings, offers, exposure = book
    results = match_book(listings, offers, exposure)
    by_id = {o.id: o for o in offers}
    used: dict[int, int] = {}
    lent = dict(exposure)
    for ls, result in zip(listings, results, strict=True):
        assert result.funded_minor == ls.funded_minor + result.filled_minor <= ls.amount_minor
        open_before = ls.amount_minor - ls.funded_minor
        for f in result.fills:
            o = by_id[f.offer_id]
            key = (o.lender_id, ls.borrower_id)
            lent_before = lent.get(key, 0)
            left_before = o.remaining_minor - used.get(o.id, 0)
            used[o.id] = used.get(o.id, 0) + f.amount_minor
            lent[key] = lent_before + f.amount_minor
            assert f.amount_minor > 0 and f.lender_id == o.lender_id != ls.borrower_id
            assert f.rate_bps == o.min_rate_bps[ls.grade] <= ls.max_rate_bps
            assert used[o.id] <= o.remaining_minor
            assert lent[key] <= max(o.max_per_borrower_minor, lent_before)
            assert (
                f.amount_minor % o.slice_minor == 0
                or f.amount_minor == open_before
                or f.amount_minor == left_before
            )
            open_before -= f.amount_minor
        rates = [(f.rate_bps, by_id[f.offer_id].placed_at, f.offer_id) for f in result.fills]
        assert rates == sorted(rates)


@pytest.mark.parametrize("explain", [False, True])
@settings(max_examples=150, deadline=None)
@given(book=books())
def test_incremental_equals_batch(
    book: tuple[list[Listing], list[Offer], dict[tuple[int, int], int]], explain: bool
) -> None:
    listings, offers, exposure = book
    incremental = []
    current_offers, current_exposure = offers, exposure
    for ls in listings:
        result = match_listing(ls, current_offers, current_exposure, explain=explain)
        incremental.append(result)
        current_offers, current_exposure = apply_fills(current_offers, current_exposure, [result])
    assert incremental == match_book(listings, offers, exposure, explain=explain)


@settings(max_examples=150, deadline=None)
@given(book=books(), seed=st.integers(0, 2**32))
def test_deterministic_whatever_the_offer_order(
    book: tuple[list[Listing], list[Offer], dict[tuple[int, int], int]], seed: int
) -> None:
    listings, offers, exposure = book
    shuffled = list(offers)
    random.Random(seed).shuffle(shuffled)
    first = match_book(listings, offers, exposure, explain=True)
    assert first == match_book(listings, offers, exposure, explain=True)
    assert first == match_book(listings, shuffled, exposure, explain=True)


def test_a_larger_seeded_book_matches_the_reference() -> None:
    """Enough offers that used-up ones pile up mid-bucket and the index compacts."""
    rng = random.Random(5)
    offers = [
        offer(
            i,
            lender=rng.randint(1, 60),
            at=rng.randint(0, 50),
            remaining=rng.randrange(100, 3_000, 100),
            slice_minor=100,
            cap=rng.choice((100, 300, 1_000)),
            rates={g: rng.choice((500, 600, 700, 800)) for g in rng.sample(GRADES, 2)},
            terms=rng.choice(((6, 12), (6, 36), (12, 36), (24, 36))),
        )
        for i in range(1, 1_500)
    ]
    listings = [
        listing(
            j,
            borrower=rng.randint(1, 80),
            grade=rng.choice(GRADES),
            term=rng.choice((6, 12, 24, 36)),
            amount=rng.randrange(500, 5_000, 50),
            max_rate=rng.choice((550, 650, 750, 850)),
        )
        for j in range(1, 400)
    ]
    results = match_book(listings, offers)
    assert sum(len(r.fills) for r in results) > 1_000  # the book is really exercised
    assert [taken(r) for r in results] == reference_match(listings, offers, {})


def test_fill_is_an_immutable_record() -> None:
    fill = Fill(1, 2, 300, 400)
    assert fill.amount_minor == 300
    with pytest.raises(AttributeError):
        fill.amount_minor = 5  # type: ignore[misc]

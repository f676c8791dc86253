"""EigenTrust as a sparse power iteration: it converges to 1e-10 in L1 on every graph before
its derived cap (periodic graphs included), and what it publishes (parts per billion and
the percentiles compared on them) does not depend on the order sums are taken in."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from p2pbank.reputation import (
    TRUST_SCALE,
    Rating,
    eigentrust,
    iteration_bound,
    trust_percentiles,
)

NOW = datetime(2026, 12, 1, tzinfo=UTC)
ALPHA = 0.15


def pos(rater: object, ratee: object) -> Rating:
    return Rating(rater, ratee, 1, NOW)


def exact_trust(ratings: list[Rating], members: list, pretrusted: list) -> dict:
    """The fixed point t = (1 - a)(C^T + p d^T) t + a p by a dense linear solve."""
    index = {m: k for k, m in enumerate(members)}
    n = len(members)
    net = np.zeros((n, n))
    for r in ratings:
        if r.rater_id != r.ratee_id:
            net[index[r.rater_id], index[r.ratee_id]] += r.value
    net = np.maximum(net, 0)
    p = np.zeros(n)
    seeds = [index[m] for m in pretrusted] or list(range(n))
    p[seeds] = 1 / len(seeds)
    totals = net.sum(axis=1)
    c = np.array([net[i] / totals[i] if totals[i] > 0 else p for i in range(n)])
    t = np.linalg.solve(np.eye(n) - (1 - ALPHA) * c.T, ALPHA * p)
    return dict(zip(members, t, strict=True))


def l1_error(result, exact: dict) -> float:
    return math.fsum(abs(result.trust[m] - exact[m]) for m in exact)


def test_two_members_who_rate_only_each_other_converge_within_the_bound():
    # Periodic: C^T swaps a and b. t_a = 0.85 t_b + 0.15, t_b = 0.85 t_a: 20/37 and 17/37.
    result = eigentrust([pos("a", "b"), pos("b", "a")], pretrusted=["a"])
    assert result.converged
    assert result.iterations <= iteration_bound()
    error = abs(result.trust["a"] - 20 / 37) + abs(result.trust["b"] - 17 / 37)
    assert error < 1e-10
    assert result.trust_ppb == {
        "a": round(20 / 37 * TRUST_SCALE),
        "b": round(17 / 37 * TRUST_SCALE),
    }


def test_the_cap_is_the_derived_bound_and_the_two_cycle_nearly_reaches_it():
    # ceil(ln(0.15e-10 / 2) / ln(0.85)) = 158; the swap is the slowest graph there is.
    assert iteration_bound(0.15, 1e-10) == 158
    result = eigentrust([pos("a", "b"), pos("b", "a")], pretrusted=["a"])
    assert 150 <= result.iterations <= 158


@pytest.mark.parametrize("length", [2, 3, 4, 7])
def test_directed_cycles_converge_to_the_exact_fixed_point(length: int):
    ring = [f"m{k}" for k in range(length)]
    ratings = [pos(ring[k], ring[(k + 1) % length]) for k in range(length)]
    result = eigentrust(ratings, pretrusted=[ring[0]], members=ring)
    assert result.converged
    assert l1_error(result, exact_trust(ratings, ring, [ring[0]])) < 1e-10


def test_iteration_bound_refuses_meaningless_parameters():
    assert iteration_bound(1.0, 1e-10) == 1
    for alpha, epsilon in ((0.0, 1e-10), (1.5, 1e-10), (0.15, 0.0)):
        with pytest.raises(ValueError):
            iteration_bound(alpha, epsilon)


members = st.sampled_from([f"m{k}" for k in range(8)])
edges = st.lists(
    st.tuples(members, members, st.sampled_from([1, 1, 1, 0, -1])), min_size=1, max_size=40
)


@settings(max_examples=150, deadline=None)
@given(edges, st.sets(members, max_size=3))
def test_every_graph_converges_to_1e_10_in_l1_before_the_cap(edges: list, verified: set):
    ratings = [Rating(a, b, v, NOW) for a, b, v in edges]
    everyone = sorted({*verified, *(a for a, _, _ in edges), *(b for _, b, _ in edges)})
    result = eigentrust(ratings, pretrusted=sorted(verified), members=everyone)
    assert result.converged and result.iterations <= iteration_bound()
    assert l1_error(result, exact_trust(ratings, everyone, sorted(verified))) < 1e-10


def fsum_iteration(ratings: list[Rating], members: list, pretrusted: list, steps: int) -> dict:
    """The same iteration in plain Python with exactly rounded sums (math.fsum), in the
    opposite member order: another summation order entirely."""
    members = list(reversed(members))
    net: dict = {}
    for r in ratings:
        if r.rater_id != r.ratee_id and r.value:
            net[(r.rater_id, r.ratee_id)] = net.get((r.rater_id, r.ratee_id), 0) + r.value
    positive = {pair: v for pair, v in net.items() if v > 0}
    totals = {m: sum(v for (i, _), v in positive.items() if i == m) for m in members}
    seeds = pretrusted or members
    p = {m: (1 / len(seeds) if m in seeds else 0.0) for m in members}
    t = dict(p)
    for _ in range(steps):
        leaked = math.fsum(t[m] for m in members if totals[m] == 0)
        boost = (1 - ALPHA) * leaked + ALPHA
        t = {
            j: (1 - ALPHA)
            * math.fsum(v / totals[i] * t[i] for (i, k), v in positive.items() if k == j)
            + boost * p[j]
            for j in members
        }
    return t


@settings(max_examples=100, deadline=None)
@given(edges, st.sets(members, max_size=3))
def test_published_values_do_not_depend_on_the_summation_order(edges: list, verified: set):
    ratings = [Rating(a, b, v, NOW) for a, b, v in edges]
    everyone = sorted({*verified, *(a for a, _, _ in edges), *(b for _, b, _ in edges)})
    result = eigentrust(ratings, pretrusted=sorted(verified), members=everyone)
    other = fsum_iteration(ratings, everyone, sorted(verified), result.iterations)
    assert {m: round(v * TRUST_SCALE) for m, v in other.items()} == result.trust_ppb
    assert trust_percentiles(result.trust_ppb) == trust_percentiles(
        {m: round(v * TRUST_SCALE) for m, v in other.items()}
    )


def test_equal_trust_reached_by_different_sums_is_a_tie():
    # b and c are symmetric, so their exact trust is equal; they are ranked as a tie.
    ratings = [pos("a", "b"), pos("a", "c"), pos("b", "d"), pos("c", "d"), pos("d", "a")]
    result = eigentrust(ratings, pretrusted=["a"])
    assert result.trust_ppb["b"] == result.trust_ppb["c"]
    percentiles = trust_percentiles(result.trust_ppb)
    assert percentiles["b"] == percentiles["c"]


def test_rating_order_does_not_change_the_floats_either():
    rng = random.Random(7)
    people = [f"p{k}" for k in range(60)]
    ratings = [
        Rating(a, b, rng.choice((1, 1, 0, -1)), NOW)
        for a, b in ((rng.choice(people), rng.choice(people)) for _ in range(400))
    ]
    reference = eigentrust(ratings, pretrusted=people[:5], members=people)
    rng.shuffle(ratings)
    again = eigentrust(ratings, pretrusted=people[:5], members=people)
    assert again.trust == reference.trust and again.trust_ppb == reference.trust_ppb

"""Network trust: EigenTrust with pre-trusted peers as a sparse power iteration, published
at a fixed precision, and members' trust percentiles.

Convergence. With teleport weight `alpha` towards the pre-trust vector p, one step is
t' = (1 - alpha) M t + alpha p, where M = C^T + p d^T (d marks the members who trust nobody:
their row of C is p). M is column-stochastic, so its L1 operator norm is 1 and the step is
a contraction by (1 - alpha) in L1 on every graph, periodic ones included (two members who
rate only each other make C^T a swap, eigenvalue -1: without teleport it never settles,
with it the change shrinks by exactly 1 - alpha per step). From t_0 = p:

    r_k = |t_k - t_(k-1)|_1 <= (1 - alpha)^(k-1) r_1 <= 2 (1 - alpha)^k
    |t_k - t*|_1 <= (1 - alpha) / alpha * r_k      (t* the exact fixed point)

The iteration stops as soon as that bound is below `epsilon`, so the trust returned is
within `epsilon` of the exact answer in L1; by the first line this happens by step
ceil(ln(alpha epsilon / 2) / ln(1 - alpha)) at the latest (158 for alpha 0.15 and 1e-10),
which is the default cap: the cap can never be what ends the iteration.

Fixed precision. Published trust is integer parts per billion of the total (TRUST_SCALE),
and percentiles compare those integers. The quantum (1e-9) is ten times the error bound, so
the digits published are meaningful. A change of summation order (another SciPy, another
machine) moves a float by about 1e-16 of its value; only a value that close to a rounding
midpoint could publish differently. Within one library the result does not even depend on
the order ratings arrive in: the matrix is built in index order with integer sums.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import chain

import numpy as np
from scipy import sparse

from p2pbank.reputation.basis import SCORE_VERSION, MemberId
from p2pbank.reputation.feedback import Rating

TRUST_SCALE = 1_000_000_000  # published trust: parts per billion of all trust
ALPHA = 0.15
EPSILON = 1e-10


@dataclass(frozen=True, slots=True)
class EigenTrust:
    """Global trust per member (sums to 1), its published form, and how the iteration ended."""

    trust: dict[MemberId, float]
    trust_ppb: dict[MemberId, int]  # the published values: round(trust x 1e9)
    iterations: int
    converged: bool  # the L1 distance to the exact fixed point is below epsilon
    residual: float  # L1 change of the last iteration
    version: str = SCORE_VERSION


@dataclass(frozen=True, slots=True)
class TrustVector:
    """EigenTrust over members 0..n-1, as arrays (what the benchmark and callers with
    integer ids use)."""

    trust: np.ndarray  # float64, sums to 1
    ppb: np.ndarray  # int64, the published values
    iterations: int
    converged: bool
    residual: float


def iteration_bound(alpha: float = ALPHA, epsilon: float = EPSILON) -> int:
    """The step by which the L1 error bound is below epsilon on any graph (module doc)."""
    if not 0 < alpha <= 1 or epsilon <= 0:
        raise ValueError("need 0 < alpha <= 1 and epsilon > 0")
    if alpha == 1 or alpha * epsilon >= 2:
        return 1
    return max(1, math.ceil(math.log(alpha * epsilon / 2) / math.log(1 - alpha)))


def eigentrust(
    ratings: Iterable[Rating],
    pretrusted: Iterable[MemberId],
    members: Iterable[MemberId] = (),
    alpha: float = ALPHA,
    epsilon: float = EPSILON,
    max_iterations: int | None = None,
) -> EigenTrust:
    """EigenTrust with pre-trusted peers (Kamvar, Schlosser, Garcia-Molina, WWW 2003, Alg. 3).

    s_ij = positives - negatives from i to j; c_ij = max(s_ij, 0) / sum_j max(s_ij, 0),
    and a row with no positive trust is replaced by p. p is uniform over the pre-trusted
    peers (KYC-verified members), or over everyone if there are none. Starting from
    t = p, iterate t <- (1 - alpha) C^T t + alpha p until |t - t*|_1 < epsilon (module
    doc). Trust only enters through p, so accounts no chain of trust from a pre-trusted
    peer reaches get exactly zero. Members are indexed in the order given (`members`,
    then `pretrusted`, then as met in `ratings`).
    """
    verified = list(pretrusted)  # read once: it may be a one-shot iterator
    index: dict[MemberId, int] = {}
    for member in chain(members, verified):
        index.setdefault(member, len(index))
    raters, ratees, values = [], [], []
    for rating in ratings:
        raters.append(index.setdefault(rating.rater_id, len(index)))
        ratees.append(index.setdefault(rating.ratee_id, len(index)))
        values.append(rating.value)
    n = len(index)
    if n == 0:
        return EigenTrust(trust={}, trust_ppb={}, iterations=0, converged=True, residual=0.0)
    seeds = sorted({index[m] for m in verified})
    result = eigentrust_arrays(
        np.array(raters, dtype=np.int64),
        np.array(ratees, dtype=np.int64),
        np.array(values, dtype=np.int64),
        n,
        seeds,
        alpha=alpha,
        epsilon=epsilon,
        max_iterations=max_iterations,
    )
    order = list(index)
    return EigenTrust(
        trust=dict(zip(order, result.trust.tolist(), strict=True)),
        trust_ppb=dict(zip(order, result.ppb.tolist(), strict=True)),
        iterations=result.iterations,
        converged=result.converged,
        residual=result.residual,
    )


def local_trust(
    raters: np.ndarray, ratees: np.ndarray, values: np.ndarray, n: int
) -> tuple[sparse.csr_array, np.ndarray]:
    """C^T as a CSR matrix (row j: who trusts j, by how much) and the mask of members who
    trust nobody. Integer sums per pair, so the order of ratings cannot matter."""
    keep = (raters != ratees) & (values != 0)  # self-ratings earn nothing
    net = sparse.coo_array(
        (values[keep], (raters[keep], ratees[keep])), shape=(n, n), dtype=np.int64
    ).tocsr()  # sums the ratings of each pair
    net.sum_duplicates()
    np.maximum(net.data, 0, out=net.data)
    net.eliminate_zeros()
    totals = np.asarray(net.sum(axis=1)).ravel()
    rows = np.repeat(np.arange(n), np.diff(net.indptr))
    weights = sparse.csr_array((net.data / totals[rows], net.indices, net.indptr), shape=(n, n))
    incoming = weights.T.tocsr()
    incoming.sort_indices()
    return incoming, totals == 0


def eigentrust_arrays(
    raters: np.ndarray,
    ratees: np.ndarray,
    values: np.ndarray,
    n: int,
    seeds: Sequence[int],
    alpha: float = ALPHA,
    epsilon: float = EPSILON,
    max_iterations: int | None = None,
) -> TrustVector:
    """EigenTrust over members 0..n-1 from parallel arrays of rater, ratee and value."""
    cap = iteration_bound(alpha, epsilon) if max_iterations is None else max_iterations
    if n == 0:
        return TrustVector(np.zeros(0), np.zeros(0, dtype=np.int64), 0, True, 0.0)
    incoming, dangling = local_trust(raters, ratees, values, n)
    p = np.zeros(n)
    chosen = np.asarray(seeds, dtype=np.int64) if len(seeds) else np.arange(n)
    p[chosen] = 1.0 / len(chosen)
    keep, bound_factor = 1.0 - alpha, (1.0 - alpha) / alpha
    t, residual, iterations = p, math.inf, 0
    while iterations < cap:
        iterations += 1
        leaked = float(t[dangling].sum())  # the trust of members who trust nobody goes to p
        new = incoming @ t
        new *= keep
        new += (keep * leaked + alpha) * p
        residual = float(np.abs(new - t).sum())
        t = new
        if bound_factor * residual < epsilon:
            break
    ppb = np.rint(t * TRUST_SCALE).astype(np.int64)
    return TrustVector(t, ppb, iterations, bound_factor * residual < epsilon, residual)


def percentile_ranks(values: np.ndarray) -> np.ndarray:
    """Share (0..1) of the other entries strictly below each entry; ties share a value."""
    others = len(values) - 1
    if others <= 0:
        return np.zeros(len(values))
    below = np.searchsorted(np.sort(values), values, side="left")
    return below / others


def trust_percentiles(trust: Mapping[MemberId, int | float]) -> dict[MemberId, float]:
    """Each member's percentile among the members (pass the published `trust_ppb`, so that
    equal published values are ties, whatever the floats behind them)."""
    ranks = percentile_ranks(np.fromiter(trust.values(), dtype=np.float64, count=len(trust)))
    return dict(zip(trust, ranks.tolist(), strict=True))

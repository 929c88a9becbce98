"""The F1 metric of the Instacart task and the expected-F1-optimal prediction.

Per order, F1 compares the predicted set with the true set of reordered products; an order
without reordered products has the true set {None}, and `None` may be predicted alongside
products. The score is the mean over orders.

Given independent probabilities p_i that each candidate is in the order, the prediction with
the highest expected F1 is the k most probable products, with or without `None` (Ye, Chai, Lee
and Chieu, ICML 2012; for a fixed size, the top-k maximize the integrand below pointwise).
For the top-k, with c = 1 when `None` is added,

    E[F1] = 2 * integral_0^1 x^(k+c) G(x) sum_{i<=k} p_i / (1 - p_i + p_i x) dx
            + c * P(no positive) * 2 / (k + 2),

where G(x) = prod_j (1 - p_j + p_j x), from 1/m = integral_0^1 x^(m-1) dx and independence.
The integrand is a polynomial of degree at most 2n, so Gauss-Legendre quadrature with at
least n + 1 nodes gives it exactly: O(n^2) per order.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Collection, Hashable, Mapping, Sequence

import numpy as np

NONE = "None"
"""The token predicted (and true) for an order without reordered products."""

_CELLS_PER_BATCH = 1_000_000
"""optimal_predictions_for_runs solves orders in batches of about this many numbers."""


def order_f1(predicted: Collection[Hashable], actual: Collection[Hashable]) -> float:
    """F1 of one order. An empty `actual` means the truth is {None}; an empty prediction scores 0."""
    truth = set(actual) or {NONE}
    guess = set(predicted)
    hits = len(truth & guess)
    return 2 * hits / (len(truth) + len(guess)) if hits else 0.0


def mean_f1(predicted: Mapping[Hashable, Collection[Hashable]],
            actual: Mapping[Hashable, Collection[Hashable]]) -> float:
    """Mean F1 over the orders of `actual`; an order missing from `predicted` scores 0."""
    if not actual:
        raise ValueError("mean_f1 needs at least one order")
    scores = [order_f1(predicted.get(order, ()), truth) for order, truth in actual.items()]
    return sum(scores) / len(scores)


@dataclass(frozen=True)
class OptimalPrediction:
    """Predict the `count` most probable products, plus `None` when `include_none`."""

    count: int
    include_none: bool
    expected_f1: float


def expected_f1_table(probabilities: Sequence[float] | np.ndarray) -> np.ndarray:
    """Expected F1 of predicting the top k products (k = 0..n) without (row 0) and with (row 1)
    `None`, for independent probabilities sorted in decreasing order."""
    return expected_f1_tables(np.asarray(probabilities, dtype=np.float64)[None, :])[0]


def expected_f1_tables(probabilities: np.ndarray) -> np.ndarray:
    """`expected_f1_table` of many orders at once: one order per row, each sorted in decreasing
    order and padded with zeros (a product of probability 0 never improves a prediction).
    Returns an array (orders, 2, n + 1)."""
    p = np.asarray(probabilities, dtype=np.float64)
    if p.ndim != 2 or np.any(p < 0) or np.any(p > 1):
        raise ValueError("probabilities must be values in [0, 1], one order per row")
    if np.any(np.diff(p, axis=1) > 0):
        raise ValueError("probabilities must be sorted in decreasing order")
    orders, n = p.shape
    nodes, weights = _unit_gauss_legendre(_node_count(n))
    factor = 1 + (nodes - 1)[None, :, None] * p[:, None, :]
    # G underflowing to 0 where x^k G is below 1e-308 anyway is harmless.
    weighted_g = weights[None, :] * np.prod(factor, axis=2)
    partial = np.zeros((orders, len(nodes), n + 1))
    np.cumsum(p[:, None, :] / factor, axis=2, out=partial[:, :, 1:])
    powers = nodes[:, None] ** np.arange(n + 2)[None, :]
    table = np.empty((orders, 2, n + 1))
    for c in (0, 1):
        table[:, c] = 2 * np.einsum("om,mk,omk->ok", weighted_g, powers[:, c:c + n + 1], partial)
    table[:, 1] += np.prod(1 - p, axis=1)[:, None] * 2 / (np.arange(n + 1) + 2)
    return table


def optimal_prediction(probabilities: Sequence[float] | np.ndarray) -> OptimalPrediction:
    """The prediction of highest expected F1 for independent probabilities (any order)."""
    p = np.sort(np.asarray(probabilities, dtype=np.float64))[::-1]
    counts, with_none, expected = optimal_predictions(p[None, :])
    return OptimalPrediction(count=int(counts[0]), include_none=bool(with_none[0]),
                             expected_f1=float(expected[0]))


def optimal_predictions(probabilities: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For many orders (rows sorted in decreasing order, zero-padded): how many top products
    to predict, whether to add `None`, and the expected F1 of that prediction."""
    table = expected_f1_tables(probabilities)
    flat = table.reshape(len(table), -1).argmax(axis=1)
    with_none, counts = np.divmod(flat, table.shape[2])
    return counts, with_none.astype(bool), table.reshape(len(table), -1)[np.arange(len(table)), flat]


def run_bounds(sorted_keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where each run of equal consecutive keys starts, and its length."""
    keys = np.asarray(sorted_keys)
    if len(keys) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    return starts, np.diff(np.r_[starts, len(keys)])


def optimal_predictions_for_runs(probability: np.ndarray, starts: np.ndarray,
                                 sizes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`optimal_predictions` of many orders laid out as runs of one flat array: order i is
    probability[starts[i]:starts[i] + sizes[i]], sorted in decreasing order, of size >= 1.

    Orders are solved in batches of equal padded width, of about _CELLS_PER_BATCH numbers
    each, so long orders cost O(n^2) without padding every order to the longest. An order is
    padded to one less than its quadrature node count (the most the same nodes can solve).
    Returns (counts, with_none, expected_f1), one entry per order."""
    p = np.asarray(probability, dtype=np.float64)
    starts = np.asarray(starts, dtype=np.int64)
    sizes = np.asarray(sizes, dtype=np.int64)
    if starts.shape != sizes.shape or starts.ndim != 1:
        raise ValueError("starts and sizes must be 1-d arrays of the same length")
    if np.any(sizes < 1) or np.any(starts < 0) or np.any(starts + sizes > len(p)):
        raise ValueError("every run must hold at least one probability and lie within the array")
    if not np.all((p >= 0) & (p <= 1)):
        raise ValueError("probabilities must be values in [0, 1]")
    counts = np.empty(len(starts), dtype=np.int64)
    with_none = np.empty(len(starts), dtype=bool)
    expected = np.empty(len(starts))
    unique_sizes, size_index = np.unique(sizes, return_inverse=True)
    widths = np.array([_node_count(size) - 1 for size in unique_sizes.tolist()], dtype=np.int64)[size_index]
    for width in np.unique(widths).tolist():
        orders = np.flatnonzero(widths == width)
        batch = max(1, _CELLS_PER_BATCH // (width * (width + 1)))
        for chunk in np.array_split(orders, -(-len(orders) // batch)):
            chunk_sizes = sizes[chunk]
            row = np.repeat(np.arange(len(chunk)), chunk_sizes)
            column = np.arange(len(row)) - np.repeat(np.cumsum(chunk_sizes) - chunk_sizes, chunk_sizes)
            padded = np.zeros((len(chunk), width))
            padded[row, column] = p[np.repeat(starts[chunk], chunk_sizes) + column]
            counts[chunk], with_none[chunk], expected[chunk] = optimal_predictions(padded)
    return counts, with_none, expected


def f1_from_counts(product_hits: np.ndarray, predicted_products: np.ndarray, predicts_none: np.ndarray,
                   true_products: np.ndarray) -> np.ndarray:
    """`order_f1` of many orders from counts: how many predicted products are true, how many
    products are predicted, whether `None` is predicted, and how many products are true (0:
    the truth is {None})."""
    hits = np.asarray(product_hits) + (np.asarray(predicts_none, dtype=bool) & (np.asarray(true_products) == 0))
    sizes = (np.asarray(predicted_products) + np.asarray(predicts_none, dtype=np.int64)
             + np.maximum(np.asarray(true_products), 1))
    return np.where(hits > 0, 2 * hits / sizes, 0.0)


def optimal_set(products: Sequence[Hashable], probabilities: Sequence[float] | np.ndarray) -> set:
    """The expected-F1-optimal set of `products`, with `None` when it pays."""
    p = np.asarray(probabilities, dtype=np.float64)
    if len(products) != len(p):
        raise ValueError("one probability per product is needed")
    best = optimal_prediction(p)
    ranked = np.argsort(-p, kind="stable")[:best.count]
    chosen = {products[i] for i in ranked}
    return chosen | {NONE} if best.include_none else chosen


def _node_count(n: int) -> int:
    """At least n + 1 nodes (exact for the integrand), rounded up so that few rules are computed."""
    step = 16 if n < 256 else 64
    return -(-(n + 1) // step) * step


@lru_cache(maxsize=256)
def _unit_gauss_legendre(count: int) -> tuple[np.ndarray, np.ndarray]:
    """Gauss-Legendre nodes and weights on [0, 1]."""
    nodes, weights = np.polynomial.legendre.leggauss(count)
    return (nodes + 1) / 2, weights / 2

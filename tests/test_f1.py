"""The F1 metric with the None rule, and the expected-F1-optimal prediction checked against
brute force over every outcome and every possible prediction."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from instacart_lake.metrics import (
    NONE,
    expected_f1_table,
    mean_f1,
    optimal_prediction,
    optimal_predictions,
    optimal_set,
    order_f1,
)
from instacart_lake.metrics.f1 import f1_from_counts, optimal_predictions_for_runs, run_bounds


def test_order_f1_with_products():
    assert order_f1({1, 2, 3}, {1, 2, 3}) == 1.0
    assert order_f1({1, 2}, {2, 3, 4}) == pytest.approx(2 * 1 / (2 + 3))
    assert order_f1({5}, {1}) == 0.0
    assert order_f1(set(), {1}) == 0.0


def test_order_f1_none_rule():
    assert order_f1({NONE}, set()) == 1.0
    assert order_f1({7}, set()) == 0.0
    assert order_f1({7, NONE}, set()) == pytest.approx(2 / 3)
    assert order_f1({7, NONE}, {7}) == pytest.approx(2 / 3)
    assert order_f1({NONE}, {7}) == 0.0


def test_mean_f1_over_orders_and_missing_predictions():
    actual = {10: {1, 2}, 11: set(), 12: {3}}
    predicted = {10: {1}, 11: {NONE}}
    assert mean_f1(predicted, actual) == pytest.approx((2 / 3 + 1.0 + 0.0) / 3)


def _brute_force_expected_f1(p: list[float], predicted: set) -> float:
    """Expected F1 of a prediction, summing over all 2^n outcomes."""
    total = 0.0
    for outcome in itertools.product((0, 1), repeat=len(p)):
        chance = float(np.prod([pi if y else 1 - pi for pi, y in zip(p, outcome)]))
        total += chance * order_f1(predicted, {i for i, y in enumerate(outcome) if y})
    return total


@pytest.mark.parametrize("p", [
    [0.9, 0.5, 0.2],
    [0.3, 0.3, 0.3, 0.3],
    [1.0, 0.6, 0.1, 0.0],
    [0.05, 0.04, 0.02, 0.01, 0.01],
    [0.8, 0.75, 0.7, 0.4, 0.35, 0.2, 0.1],
])
def test_expected_f1_table_matches_brute_force(p):
    table = expected_f1_table(p)
    for k in range(len(p) + 1):
        top_k = set(range(k))
        assert table[0, k] == pytest.approx(_brute_force_expected_f1(p, top_k), abs=1e-12)
        assert table[1, k] == pytest.approx(_brute_force_expected_f1(p, top_k | {NONE}), abs=1e-12)


def test_optimal_prediction_beats_every_possible_prediction():
    rng = np.random.default_rng(3)
    for _ in range(20):
        p = rng.random(6) ** rng.uniform(0.5, 4)
        best = max(
            _brute_force_expected_f1(list(p), set(chosen) | extra)
            for size in range(len(p) + 1)
            for chosen in itertools.combinations(range(len(p)), size)
            for extra in (set(), {NONE})
        )
        assert optimal_prediction(p).expected_f1 == pytest.approx(best, abs=1e-12)


def _count_distribution(p: np.ndarray) -> np.ndarray:
    """P(number of positives = j) for independent probabilities (Poisson binomial)."""
    distribution = np.array([1.0])
    for pi in p:
        distribution = np.convolve(distribution, [1 - pi, pi])
    return distribution


@pytest.mark.parametrize("n", [40, 300])
def test_expected_f1_table_matches_the_count_distributions_for_long_orders(n):
    """An independent computation: E[2A / (k + c + A + B)] from the distributions of A (hits in
    the top k) and B (positives outside it), plus the None term."""
    p = np.sort(np.random.default_rng(n).random(n) ** 4)[::-1]
    table = expected_f1_table(p)
    for k in (1, 3, 10, n // 2, n):
        hits = _count_distribution(p[:k])
        others = _count_distribution(p[k:])
        a = np.arange(len(hits))[:, None]
        b = np.arange(len(others))[None, :]
        joint = hits[:, None] * others[None, :]
        for c in (0, 1):
            expected = (joint * 2 * a / np.maximum(k + c + a + b, 1)).sum()
            expected += c * np.prod(1 - p) * 2 / (k + 2)
            assert table[c, k] == pytest.approx(expected, rel=1e-9, abs=1e-12)


def test_padded_batches_give_the_same_predictions_as_single_orders():
    rng = np.random.default_rng(5)
    orders = [np.sort(rng.random(size) ** 3)[::-1] for size in (1, 4, 9, 17)]
    padded = np.zeros((len(orders), 20))
    for row, p in enumerate(orders):
        padded[row, :len(p)] = p
    counts, with_none, expected = optimal_predictions(padded)
    for row, p in enumerate(orders):
        single = optimal_prediction(p)
        assert (counts[row], with_none[row]) == (single.count, single.include_none)
        assert expected[row] == pytest.approx(single.expected_f1)


def test_optimal_set_picks_products_and_none():
    assert optimal_set(["a", "b", "c"], [0.9, 0.85, 0.01]) == {"a", "b"}
    assert optimal_set(["a", "b"], [0.02, 0.01]) == {NONE}
    assert optimal_set(["a", "b", "c"], [0.35, 0.3, 0.01]) == {"a", "b", NONE}


def test_unsorted_or_invalid_probabilities_are_refused():
    with pytest.raises(ValueError):
        expected_f1_table([0.1, 0.5])
    with pytest.raises(ValueError):
        expected_f1_table([1.5])
    with pytest.raises(ValueError):
        optimal_set(["a"], [0.1, 0.2])


def test_run_bounds_of_sorted_keys():
    starts, sizes = run_bounds(np.array([4, 4, 4, 7, 9, 9]))
    assert starts.tolist() == [0, 3, 4]
    assert sizes.tolist() == [3, 1, 2]
    empty_starts, empty_sizes = run_bounds(np.array([], dtype=np.int32))
    assert (len(empty_starts), len(empty_sizes)) == (0, 0)


def test_runs_give_the_same_predictions_as_single_orders():
    rng = np.random.default_rng(11)
    sizes = np.array([1, 2, 16, 17, 40, 1, 70, 5, 300, 3, 1, 33])
    orders = [np.sort(rng.random(size) ** rng.uniform(1, 6))[::-1] for size in sizes]
    starts = np.r_[0, np.cumsum(sizes)[:-1]]
    counts, with_none, expected = optimal_predictions_for_runs(np.concatenate(orders), starts, sizes)
    for order, p in enumerate(orders):
        single = optimal_prediction(p)
        assert (counts[order], with_none[order]) == (single.count, single.include_none)
        assert expected[order] == pytest.approx(single.expected_f1, rel=1e-9)


def test_runs_of_invalid_layout_or_probabilities_are_refused():
    p = np.array([0.9, 0.2, 0.5])
    with pytest.raises(ValueError, match="at least one probability"):
        optimal_predictions_for_runs(p, np.array([0, 2, 3]), np.array([2, 1, 0]))
    with pytest.raises(ValueError, match="at least one probability"):
        optimal_predictions_for_runs(p, np.array([0, 2]), np.array([2, 2]))
    with pytest.raises(ValueError, match=r"in \[0, 1\]"):
        optimal_predictions_for_runs(np.array([0.5, np.nan]), np.array([0]), np.array([2]))
    with pytest.raises(ValueError, match="sorted in decreasing order"):
        optimal_predictions_for_runs(p, np.array([0, 1]), np.array([1, 2]))


def test_f1_from_counts_matches_order_f1():
    rng = np.random.default_rng(2)
    cases = []
    for _ in range(300):
        truth = set(rng.choice(8, size=rng.integers(0, 4), replace=False).tolist())
        guess = set(rng.choice(8, size=rng.integers(0, 4), replace=False).tolist())
        cases.append((guess | ({NONE} if rng.random() < 0.4 else set()), truth))
    scores = f1_from_counts(
        np.array([len((guess - {NONE}) & truth) for guess, truth in cases]),
        np.array([len(guess - {NONE}) for guess, _ in cases]),
        np.array([NONE in guess for guess, _ in cases]),
        np.array([len(truth) for _, truth in cases]),
    )
    assert scores.tolist() == pytest.approx([order_f1(guess, truth) for guess, truth in cases])
    assert f1_from_counts(np.array([0]), np.array([0]), np.array([False]), np.array([0])).tolist() == [0.0]

"""The oracle: the mean F1 reached by predicting, for every train order, the expected-F1-optimal
set from the true probabilities of ground_truth.csv, scored against the true set (in_order).
No model trained on the six files can expect to do better."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np

from instacart_lake.metrics.f1 import NONE, optimal_predictions, order_f1

_WIDTH_STEP = 16
_CELLS_PER_BATCH = 1_000_000
"""Orders are scored in batches of equal padded width, about this many numbers each."""


@dataclass(frozen=True)
class OracleScore:
    orders: int
    mean_f1: float
    """Mean F1 of the optimal predictions against the true sets."""
    mean_expected_f1: float
    """Mean of the expected F1 the optimal predictions promised."""


def oracle_score(ground_truth_csv: Path, eval_set: str = "train") -> OracleScore:
    """Score the optimal predictions over the orders of `eval_set` in ground_truth.csv."""
    with duckdb.connect() as connection:
        connection.execute("SET enable_progress_bar = false")
        columns = connection.execute(
            "SELECT order_id, product_id, probability, in_order "
            "FROM read_csv(?, header = true, auto_detect = false, columns = {"
            "'order_id': 'INTEGER', 'user_id': 'INTEGER', 'eval_set': 'VARCHAR', "
            "'product_id': 'INTEGER', 'probability': 'DOUBLE', 'in_order': 'INTEGER'}) "
            "WHERE eval_set = ? ORDER BY order_id, probability DESC, product_id",
            [str(ground_truth_csv), eval_set],
        ).fetchnumpy()
    order_id, product_id = columns["order_id"], columns["product_id"]
    probability, in_order = columns["probability"], columns["in_order"]
    if len(order_id) == 0:
        raise ValueError(f"{ground_truth_csv}: no {eval_set} orders")
    starts = np.flatnonzero(np.r_[True, order_id[1:] != order_id[:-1]])
    sizes = np.diff(np.r_[starts, len(order_id)])
    counts, with_none, expected = _optimal_predictions_by_width(probability, starts, sizes)
    scores = [
        order_f1(set(product_id[start:start + count].tolist()) | ({NONE} if none else set()),
                 set(product_id[start:start + size][in_order[start:start + size] == 1].tolist()))
        for start, size, count, none in zip(starts.tolist(), sizes.tolist(), counts.tolist(),
                                             with_none.tolist())
    ]
    return OracleScore(orders=len(starts), mean_f1=float(np.mean(scores)),
                       mean_expected_f1=float(expected.mean()))


def _optimal_predictions_by_width(probability: np.ndarray, starts: np.ndarray, sizes: np.ndarray):
    """optimal_predictions for every order (runs of `probability`, each sorted decreasing),
    computed in batches of orders padded to the same width."""
    counts = np.empty(len(starts), dtype=np.int64)
    with_none = np.empty(len(starts), dtype=bool)
    expected = np.empty(len(starts))
    widths = -(-sizes // _WIDTH_STEP) * _WIDTH_STEP
    for width in np.unique(widths):
        orders = np.flatnonzero(widths == width)
        batch = max(1, _CELLS_PER_BATCH // (int(width) * (int(width) + _WIDTH_STEP)))
        for chunk in np.array_split(orders, -(-len(orders) // batch)):
            padded = np.zeros((len(chunk), int(width)))
            row = np.repeat(np.arange(len(chunk)), sizes[chunk])
            column = np.arange(len(row)) - np.repeat(np.cumsum(sizes[chunk]) - sizes[chunk],
                                                     sizes[chunk])
            padded[row, column] = probability[np.repeat(starts[chunk], sizes[chunk]) + column]
            counts[chunk], with_none[chunk], expected[chunk] = optimal_predictions(padded)
    return counts, with_none, expected

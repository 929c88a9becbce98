"""The oracle: the mean F1 reached by predicting, for every order, the expected-F1-optimal set
from the true probabilities of ground_truth.csv, scored against the true set (in_order).
No model trained on the six files can expect to do better."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from instacart_lake.metrics.f1 import f1_from_counts, optimal_predictions_for_runs, run_bounds

TRUTH_COLUMNS = ("order_id", "product_id", "probability", "in_order")


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
    if len(columns["order_id"]) == 0:
        raise ValueError(f"{ground_truth_csv}: no {eval_set} orders")
    return _score_ranked(columns["order_id"], columns["probability"], columns["in_order"])


def score_oracle(truth: pd.DataFrame) -> OracleScore:
    """Score the optimal predictions over the orders of `truth`: ground-truth rows with the
    columns order_id, product_id, probability and in_order (0/1), in any row order."""
    missing = [column for column in TRUTH_COLUMNS if column not in truth.columns]
    if missing:
        raise ValueError(f"ground truth lacks the columns {missing}")
    if truth.empty:
        raise ValueError("ground truth has no rows")
    order_id = truth["order_id"].to_numpy()
    probability = truth["probability"].to_numpy(dtype=np.float64)
    ranked = np.lexsort((truth["product_id"].to_numpy(), -probability, order_id))
    return _score_ranked(order_id[ranked], probability[ranked], truth["in_order"].to_numpy()[ranked])


def _score_ranked(order_id: np.ndarray, probability: np.ndarray, in_order: np.ndarray) -> OracleScore:
    """The oracle's score of rows sorted by order_id, probability (decreasing), product_id."""
    starts, sizes = run_bounds(order_id)
    counts, with_none, expected = optimal_predictions_for_runs(probability, starts, sizes)
    order_index = np.repeat(np.arange(len(starts)), sizes)
    position = np.arange(len(order_id)) - starts[order_index]
    is_true = in_order == 1
    hits = np.bincount(order_index, weights=is_true & (position < counts[order_index]), minlength=len(starts))
    true_products = np.bincount(order_index, weights=is_true, minlength=len(starts))
    scores = f1_from_counts(hits, counts, with_none, true_products)
    return OracleScore(orders=len(starts), mean_f1=float(scores.mean()), mean_expected_f1=float(expected.mean()))

"""How good a model's probabilities are on the validation set: the mean F1 (the task's metric,
instacart_lake.metrics.f1) of four ways to predict each order's basket, and ROC AUC and log
loss of the probabilities.

The four baskets of an order:
- threshold: the products of probability above a global threshold, `None` alone when there is
  none (0.21 is the published reference point);
- expected_f1: the expected-F1-optimal basket of instacart_lake.ml.baskets;
- oracle: the expected-F1-optimal basket from the true probabilities, scored against the true
  order (instacart_lake.generate.oracle): the best a model can expect, known only for
  generated data;
- last_order_reorders: the products reordered in the user's last prior order, `None` when
  there is none (a baseline without a model; see instacart_lake.transforms.baselines).

Pure pandas and numpy, vectorized over orders: no Spark, no IO.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from sklearn.metrics import log_loss, roc_auc_score

from instacart_lake.generate.oracle import TRUTH_COLUMNS, score_oracle
from instacart_lake.metrics.f1 import f1_from_counts
from instacart_lake.ml.baskets import RankedBaskets, rank_baskets

DEFAULT_THRESHOLD = 0.21
VALIDATION_COLUMNS = ("order_id", "product_id", "label", "probability")
REORDER_COLUMNS = ("order_id", "product_id")


@dataclass(frozen=True)
class Evaluation:
    """Scores over the validation orders; every order counts once in each mean F1."""

    orders: int
    candidates: int
    threshold: float
    f1_threshold: float
    """Mean F1 of the products of probability above `threshold` (`None` alone when none)."""
    f1_expected_f1: float
    """Mean F1 of the expected-F1-optimal baskets."""
    f1_oracle: float | None
    """Mean F1 of the oracle's baskets; None without ground truth."""
    f1_last_order_reorders: float
    """Mean F1 of the products reordered in the user's last prior order (`None` when none)."""
    expected_f1_to_oracle: float | None
    """f1_expected_f1 / f1_oracle; None without ground truth (or an oracle F1 of 0)."""
    roc_auc: float | None
    """ROC AUC of probability against label; None when every label is the same."""
    log_loss: float
    """Log loss of probability against label."""

    def to_dict(self) -> dict[str, int | float | None]:
        return asdict(self)



def evaluate_validation(
    validation: pd.DataFrame,
    last_order_reorders: pd.DataFrame,
    oracle_truth: pd.DataFrame | None,
    threshold: float = DEFAULT_THRESHOLD,
    baskets: RankedBaskets | None = None,
) -> Evaluation:
    """Score the validation set.

    validation: one row per candidate, columns order_id, product_id, label (1 when the product
    is in the order, else 0) and probability; an order's true set is its products of label 1,
    {None} when there is none.
    last_order_reorders: columns order_id, product_id; orders missing from it predict `None`.
    oracle_truth: ground-truth rows (columns order_id, product_id, probability, in_order) of at
    least the validation orders, or None when there is no ground truth.
    baskets: rank_validation(validation), when the caller already has it.
    """
    _check_validation(validation, threshold)
    _require_columns(last_order_reorders, REORDER_COLUMNS, "last_order_reorders")
    if baskets is None:
        baskets = rank_validation(validation)
    order_index = baskets.order_index
    order_count = len(baskets.starts)
    is_true = baskets.ranked["label"].to_numpy() == 1
    true_products = np.bincount(order_index, weights=is_true, minlength=order_count)

    def mean_f1_of_rows(in_basket: np.ndarray, predicts_none: np.ndarray) -> float:
        """Mean F1 of baskets given as the ranked rows they hold, plus `None` where predicts_none."""
        predicted = np.bincount(order_index, weights=in_basket, minlength=order_count)
        hits = np.bincount(order_index, weights=in_basket & is_true, minlength=order_count)
        return float(f1_from_counts(hits, predicted, predicts_none, true_products).mean())

    probability = baskets.ranked["probability"].to_numpy()
    above_threshold = probability > threshold
    none_above_threshold = np.bincount(order_index, weights=above_threshold, minlength=order_count) == 0
    order_ids = baskets.ranked["order_id"].to_numpy()[baskets.starts]
    f1_expected = mean_f1_of_rows(baskets.in_basket, baskets.with_none)
    f1_oracle = _oracle_f1(oracle_truth, order_ids)
    labels = baskets.ranked["label"].to_numpy(dtype=np.int64)
    return Evaluation(
        orders=order_count,
        candidates=len(baskets.ranked),
        threshold=float(threshold),
        f1_threshold=mean_f1_of_rows(above_threshold, none_above_threshold),
        f1_expected_f1=f1_expected,
        f1_oracle=f1_oracle,
        f1_last_order_reorders=_last_order_reorders_f1(last_order_reorders, baskets.ranked, order_ids,
                                                       true_products),
        expected_f1_to_oracle=f1_expected / f1_oracle if f1_oracle else None,
        roc_auc=float(roc_auc_score(labels, probability)) if len(np.unique(labels)) == 2 else None,
        log_loss=float(log_loss(labels, probability, labels=[0, 1])),
    )


def rank_validation(validation: pd.DataFrame) -> RankedBaskets:
    """The expected-F1 baskets of the validation orders, their ranked rows keeping the label:
    what evaluate_validation and evaluation_curves both read (ranking is most of their time)."""
    return rank_baskets(validation[list(VALIDATION_COLUMNS)])


def _last_order_reorders_f1(reorders: pd.DataFrame, ranked: pd.DataFrame, order_ids: np.ndarray,
                            true_products: np.ndarray) -> float:
    """Mean F1 of predicting each order's last-order reorders (`None` when there is none).
    A predicted product that is not a candidate of the order is not in the truth."""
    predicted_rows = reorders[list(REORDER_COLUMNS)].drop_duplicates()
    predicted_rows = predicted_rows[predicted_rows["order_id"].isin(order_ids)]
    labelled = predicted_rows.merge(ranked[["order_id", "product_id", "label"]], on=["order_id", "product_id"],
                                    how="left")
    order_index = np.searchsorted(order_ids, labelled["order_id"].to_numpy())
    predicted = np.bincount(order_index, minlength=len(order_ids))
    hits = np.bincount(order_index, weights=labelled["label"].to_numpy(dtype=np.float64, na_value=0.0) == 1,
                       minlength=len(order_ids))
    return float(f1_from_counts(hits, predicted, predicted == 0, true_products).mean())


def _oracle_f1(oracle_truth: pd.DataFrame | None, order_ids: np.ndarray) -> float | None:
    """The oracle's mean F1 over the validation orders, or None without ground truth."""
    if oracle_truth is None:
        return None
    _require_columns(oracle_truth, TRUTH_COLUMNS, "oracle_truth")
    truth = oracle_truth[oracle_truth["order_id"].isin(order_ids)]
    missing = len(order_ids) - truth["order_id"].nunique()
    if missing:
        raise ValueError(f"oracle_truth lacks {missing} of the {len(order_ids)} validation orders")
    return score_oracle(truth).mean_f1


def _check_validation(validation: pd.DataFrame, threshold: float) -> None:
    if not 0.0 <= threshold <= 1.0:
        raise ValueError(f"threshold must be between 0 and 1, got {threshold}")
    _require_columns(validation, VALIDATION_COLUMNS, "validation")
    if validation.empty:
        raise ValueError("validation has no rows")
    bad_labels = int((~validation["label"].isin([0, 1])).sum())
    if bad_labels:
        raise ValueError(f"validation labels must be 0 or 1; {bad_labels} rows are not (null for test users?)")
    probability = validation["probability"].to_numpy(dtype=np.float64)
    bad_probabilities = int((~((probability >= 0) & (probability <= 1))).sum())
    if bad_probabilities:
        raise ValueError(f"validation probabilities must be in [0, 1]; {bad_probabilities} rows are not")
    duplicates = int(validation.duplicated(["order_id", "product_id"]).sum())
    if duplicates:
        raise ValueError(f"validation has {duplicates} repeated (order_id, product_id) rows")


def _require_columns(frame: pd.DataFrame, columns: tuple[str, ...], name: str) -> None:
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise ValueError(f"{name} lacks the columns {missing} (has {list(frame.columns)})")

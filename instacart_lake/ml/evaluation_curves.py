"""The curves of a model version's evaluation on the validation set, small enough for the run
record (the run report draws them): the calibration of the probabilities, their
precision-recall curve, and the mean F1 of the expected-F1 baskets by the size of the true
basket. Pure pandas, numpy and scikit-learn: no Spark, no IO."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, precision_recall_curve

from instacart_lake.metrics.f1 import f1_from_counts
from instacart_lake.ml.baskets import RankedBaskets, rank_baskets

CALIBRATION_BINS = 10
PRECISION_RECALL_POINTS = 50
LARGEST_BASKET_SIZE = 10
"""True baskets of this size or more share one group."""


def evaluation_curves(validation: pd.DataFrame, baskets: RankedBaskets | None = None) -> dict:
    """The curves of `validation` (columns order_id, product_id, label, probability; one row
    per candidate, as instacart_lake.ml.evaluation takes it):

    - calibration: per probability bin of width 1/10 that holds candidates, the mean
      probability, the share of label 1 and the number of candidates;
    - precision_recall: at most 50 points (recall, precision) of the curve, and the average
      precision;
    - f1_by_basket_size: per true basket size (0: the order has no reordered candidate, the
      largest group is LARGEST_BASKET_SIZE or more), the orders and their mean F1.

    `baskets`: instacart_lake.ml.evaluation.rank_validation(validation), when the caller
    already has it."""
    labels = validation["label"].to_numpy(dtype=np.int64)
    probability = validation["probability"].to_numpy(dtype=np.float64)
    return {"calibration": _calibration(labels, probability),
            "precision_recall": _precision_recall(labels, probability),
            "f1_by_basket_size": _f1_by_basket_size(validation, baskets)}


def _calibration(labels: np.ndarray, probability: np.ndarray) -> dict:
    bins = np.minimum((probability * CALIBRATION_BINS).astype(np.int64), CALIBRATION_BINS - 1)
    counts = np.bincount(bins, minlength=CALIBRATION_BINS)
    held = counts > 0
    probability_sums = np.bincount(bins, weights=probability, minlength=CALIBRATION_BINS)
    positives = np.bincount(bins, weights=labels, minlength=CALIBRATION_BINS)
    return {"mean_probability": (probability_sums[held] / counts[held]).tolist(),
            "share_positive": (positives[held] / counts[held]).tolist(),
            "candidates": counts[held].tolist()}


def _precision_recall(labels: np.ndarray, probability: np.ndarray) -> dict:
    if labels.min() == labels.max():
        return {"recall": [], "precision": [], "average_precision": None}
    precision, recall, _ = precision_recall_curve(labels, probability)
    keep = np.unique(np.linspace(0, len(recall) - 1, min(len(recall), PRECISION_RECALL_POINTS)).round().astype(int))
    return {"recall": recall[keep].tolist(), "precision": precision[keep].tolist(),
            "average_precision": float(average_precision_score(labels, probability))}


def _f1_by_basket_size(validation: pd.DataFrame, baskets: RankedBaskets | None) -> dict:
    if baskets is None:
        baskets = rank_baskets(validation[["order_id", "product_id", "probability", "label"]])
    order_index = baskets.order_index
    order_count = len(baskets.starts)
    is_true = baskets.ranked["label"].to_numpy() == 1
    in_basket = baskets.in_basket
    true_products = np.bincount(order_index, weights=is_true, minlength=order_count)
    f1 = f1_from_counts(np.bincount(order_index, weights=in_basket & is_true, minlength=order_count),
                        np.bincount(order_index, weights=in_basket, minlength=order_count),
                        baskets.with_none, true_products)
    sizes = np.minimum(true_products.astype(np.int64), LARGEST_BASKET_SIZE)
    groups = pd.DataFrame({"size": sizes, "f1": f1}).groupby("size")["f1"].agg(["count", "mean"])
    return {"true_basket_size": groups.index.tolist(), "orders": groups["count"].tolist(),
            "mean_f1": groups["mean"].tolist(), "largest_size_or_more": LARGEST_BASKET_SIZE}

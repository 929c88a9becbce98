"""The validation scores of a model: mean F1 of four baskets per order, ROC AUC and log loss,
on small orders whose F1 values are worked out by hand."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from instacart_lake.ml.evaluation import evaluate_validation, rank_validation
from instacart_lake.ml.evaluation_curves import evaluation_curves


def frame(rows: list[tuple], columns: str) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=columns.split())


# The expected-F1-optimal baskets of these probabilities (instacart_lake.metrics.f1):
#   order 1: [0.9, 0.6, 0.3, 0.1] -> {10, 20};  order 2: [0.15, 0.05] -> {None};
#   order 3: [0.4, 0.25] -> {80, None};         order 4: [0.5, 0.35] -> {90, 91, None}.
VALIDATION = frame([
    (1, 10, 1, 0.9), (1, 20, 1, 0.6), (1, 30, 0, 0.3), (1, 40, 0, 0.1),   # truth {10, 20}
    (2, 50, 0, 0.15), (2, 60, 0, 0.05),                                   # truth {None}
    (3, 70, 1, 0.25), (3, 80, 0, 0.4),                                    # truth {70}
    (4, 91, 0, 0.35), (4, 90, 1, 0.5),                                    # truth {90}
], "order_id product_id label probability")

LAST_ORDER_REORDERS = frame([
    (1, 10), (1, 99),   # 99 is not a candidate: a miss
    (3, 80),
    (4, 90), (4, 91), (4, 90),
    (8, 12),            # not a validation order: ignored
], "order_id product_id")            # order 2 has no row: it predicts None

# Oracle baskets: order 1 {10, 20}, order 2 {None}, order 3 {70}, order 4 {None}; order 100
# is not a validation order (its basket {1} would score 0).
ORACLE_TRUTH = frame([
    (1, 10, 0.8, 1), (1, 20, 0.7, 1), (1, 30, 0.1, 0), (1, 40, 0.0, 0),
    (2, 50, 0.1, 0), (2, 60, 0.05, 0),
    (3, 70, 0.9, 1), (3, 80, 0.05, 0),
    (4, 90, 0.1, 1), (4, 91, 0.05, 0),
    (100, 1, 0.9, 0),
], "order_id product_id probability in_order")


def test_baskets_ranked_once_serve_the_evaluation_and_its_curves():
    baskets = rank_validation(VALIDATION.sample(frac=1, random_state=3))

    assert baskets.ranked["order_id"].tolist() == [1, 1, 1, 1, 2, 2, 3, 3, 4, 4]
    assert baskets.ranked["product_id"].tolist() == [10, 20, 30, 40, 50, 60, 80, 70, 90, 91]
    assert baskets.ranked["label"].tolist() == [1, 1, 0, 0, 0, 0, 0, 1, 1, 0]
    assert (baskets.counts.tolist(), baskets.with_none.tolist()) == ([2, 0, 1, 2], [False, True, True, True])
    assert evaluate_validation(VALIDATION, LAST_ORDER_REORDERS, ORACLE_TRUTH, baskets=baskets) == \
        evaluate_validation(VALIDATION, LAST_ORDER_REORDERS, ORACLE_TRUTH)
    assert evaluation_curves(VALIDATION, baskets) == evaluation_curves(VALIDATION)


def test_each_way_of_predicting_baskets_is_scored_per_order():
    evaluation = evaluate_validation(VALIDATION, LAST_ORDER_REORDERS, ORACLE_TRUTH)

    assert (evaluation.orders, evaluation.candidates, evaluation.threshold) == (4, 10, 0.21)
    # Above 0.21: {10, 20, 30} vs {10, 20}; {None}; {70, 80} vs {70}; {90, 91} vs {90}.
    assert evaluation.f1_threshold == pytest.approx((4 / 5 + 1 + 2 / 3 + 2 / 3) / 4)
    # {10, 20}; {None}; {80, None} vs {70} scores 0; {90, 91, None} vs {90}.
    assert evaluation.f1_expected_f1 == pytest.approx((1 + 1 + 0 + 2 / 4) / 4)
    # {10, 20}; {None}; {70}; {None} vs {90} scores 0.
    assert evaluation.f1_oracle == pytest.approx(3 / 4)
    assert evaluation.expected_f1_to_oracle == pytest.approx(0.625 / 0.75)
    # {10, 99} vs {10, 20}; {None}; {80} vs {70}; {90, 91} vs {90}.
    assert evaluation.f1_last_order_reorders == pytest.approx((2 / 4 + 1 + 0 + 2 / 3) / 4)


def test_roc_auc_and_log_loss_of_the_probabilities():
    evaluation = evaluate_validation(VALIDATION, LAST_ORDER_REORDERS, ORACLE_TRUTH)

    # Positives 0.9, 0.6, 0.5, 0.25 against six negatives: 0.25 is above only 0.15, 0.1, 0.05.
    assert evaluation.roc_auc == pytest.approx((6 + 6 + 6 + 3) / 24)
    positives = [0.9, 0.6, 0.5, 0.25]
    negatives = [0.3, 0.1, 0.15, 0.05, 0.4, 0.35]
    expected_log_loss = -(sum(math.log(p) for p in positives) + sum(math.log(1 - p) for p in negatives)) / 10
    assert evaluation.log_loss == pytest.approx(expected_log_loss)


def test_the_threshold_is_a_parameter():
    evaluation = evaluate_validation(VALIDATION, LAST_ORDER_REORDERS, ORACLE_TRUTH, threshold=0.5)

    # Above 0.5: {10, 20}; {None}; {None} vs {70}; {None} vs {90} (0.5 is not above 0.5).
    assert evaluation.f1_threshold == pytest.approx((1 + 1 + 0 + 0) / 4)
    assert evaluation.threshold == 0.5


def test_without_ground_truth_there_is_no_oracle():
    evaluation = evaluate_validation(VALIDATION, LAST_ORDER_REORDERS.iloc[0:0], None)

    assert evaluation.f1_oracle is None
    assert evaluation.expected_f1_to_oracle is None
    # No last-order reorders at all: None everywhere, right only for order 2.
    assert evaluation.f1_last_order_reorders == pytest.approx(1 / 4)
    assert evaluation.to_dict() == {
        "orders": 4, "candidates": 10, "threshold": 0.21,
        "f1_threshold": evaluation.f1_threshold, "f1_expected_f1": evaluation.f1_expected_f1,
        "f1_oracle": None, "f1_last_order_reorders": evaluation.f1_last_order_reorders,
        "expected_f1_to_oracle": None, "roc_auc": evaluation.roc_auc, "log_loss": evaluation.log_loss,
    }


def test_labels_of_one_class_have_no_roc_auc():
    nothing_reordered = frame([(2, 50, 0, 0.15), (2, 60, 0, 0.05)], "order_id product_id label probability")

    evaluation = evaluate_validation(nothing_reordered, LAST_ORDER_REORDERS, None)

    assert evaluation.roc_auc is None
    assert evaluation.f1_expected_f1 == 1.0
    assert evaluation.log_loss == pytest.approx(-(math.log(0.85) + math.log(0.95)) / 2)


@pytest.mark.parametrize(("validation", "message"), [
    (VALIDATION.drop(columns="label"), r"validation lacks the columns \['label'\]"),
    (VALIDATION.iloc[0:0], "validation has no rows"),
    (VALIDATION.assign(label=VALIDATION["label"].where(VALIDATION["order_id"] != 2)),
     "validation labels must be 0 or 1; 2 rows are not"),
    (VALIDATION.assign(probability=VALIDATION["probability"] * 2), r"probabilities must be in \[0, 1\]; 2 rows"),
    (pd.concat([VALIDATION, VALIDATION.iloc[:1]]), r"1 repeated \(order_id, product_id\) rows"),
])
def test_a_bad_validation_set_is_refused(validation, message):
    with pytest.raises(ValueError, match=message):
        evaluate_validation(validation, LAST_ORDER_REORDERS, ORACLE_TRUTH)


def test_bad_baselines_ground_truth_or_threshold_are_refused():
    with pytest.raises(ValueError, match=r"last_order_reorders lacks the columns \['product_id'\]"):
        evaluate_validation(VALIDATION, LAST_ORDER_REORDERS[["order_id"]], ORACLE_TRUTH)
    with pytest.raises(ValueError, match=r"oracle_truth lacks the columns \['in_order'\]"):
        evaluate_validation(VALIDATION, LAST_ORDER_REORDERS, ORACLE_TRUTH.drop(columns="in_order"))
    with pytest.raises(ValueError, match="oracle_truth lacks 1 of the 4 validation orders"):
        evaluate_validation(VALIDATION, LAST_ORDER_REORDERS, ORACLE_TRUTH[ORACLE_TRUTH["order_id"] != 3])
    with pytest.raises(ValueError, match="threshold must be between 0 and 1"):
        evaluate_validation(VALIDATION, LAST_ORDER_REORDERS, ORACLE_TRUTH, threshold=1.5)

"""Order baskets from the scoring output (the per-order decision of instacart_lake.metrics.f1)."""

from __future__ import annotations

import pandas as pd
import pytest

from instacart_lake.ml.baskets import BASKET_COLUMNS, BASKET_SCHEMA_DDL, choose_baskets, choose_order_basket


def scores(rows: list[tuple[int, int, float]], model_version: str = "reorder-v1") -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["order_id", "product_id", "probability"])
    frame["model_version"] = model_version
    return frame


def test_each_order_gets_its_expected_f1_optimal_basket():
    candidates = scores([
        (7, 30, 0.05), (7, 10, 0.95), (7, 20, 0.90),   # two likely products
        (5, 11, 0.02), (5, 12, 0.01),                  # nothing likely: None alone
        (9, 44, 0.40), (9, 43, 0.40),                  # a tie, listed by product_id
    ])

    baskets = choose_baskets(candidates)

    assert list(baskets.columns) == list(BASKET_COLUMNS)
    assert baskets[["order_id", "product_ids", "include_none", "model_version"]].to_dict("records") == [
        {"order_id": 5, "product_ids": [], "include_none": True, "model_version": "reorder-v1"},
        {"order_id": 7, "product_ids": [10, 20], "include_none": False, "model_version": "reorder-v1"},
        {"order_id": 9, "product_ids": [43, 44], "include_none": True, "model_version": "reorder-v1"},
    ]
    none_only = baskets.set_index("order_id").loc[5, "expected_f1"]
    assert none_only == pytest.approx((1 - 0.02) * (1 - 0.01))


def test_the_basket_does_not_depend_on_row_order():
    rows = [(3, 1, 0.7), (3, 2, 0.6), (3, 3, 0.6), (3, 4, 0.1)]

    forward = choose_order_basket(scores(rows))
    backward = choose_order_basket(scores(rows[::-1]))

    pd.testing.assert_frame_equal(forward, backward)
    assert forward.loc[0, "product_ids"] == [1, 2, 3]


def test_an_order_basket_needs_a_single_order_and_model_version():
    mixed = pd.concat([scores([(1, 1, 0.5)], "v1"), scores([(1, 2, 0.5)], "v2")])

    with pytest.raises(ValueError, match="one order and one model version expected"):
        choose_order_basket(mixed)


def test_spark_chooses_the_baskets_per_order_with_apply_in_pandas(spark):
    candidates = scores([(7, 10, 0.95), (7, 20, 0.90), (7, 30, 0.05), (5, 11, 0.02), (5, 12, 0.01)])
    frame = spark.createDataFrame(candidates, "order_id int, product_id int, probability double, model_version string")

    baskets = frame.groupBy("order_id").applyInPandas(choose_order_basket, BASKET_SCHEMA_DDL)

    assert sorted((row.order_id, row.product_ids, row.include_none, row.model_version)
                  for row in baskets.collect()) == [
        (5, [], True, "reorder-v1"),
        (7, [10, 20], False, "reorder-v1"),
    ]

"""Order baskets from the scoring output (the per-order decision of instacart_lake.metrics.f1),
chosen for all orders at once."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from instacart_lake.metrics.f1 import optimal_prediction
from instacart_lake.ml.baskets import BASKET_COLUMNS, BASKET_SCHEMA_DDL, baskets_in_partition, choose_baskets


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
    assert baskets[["order_id", "products", "includes_none", "model_version"]].to_dict("records") == [
        {"order_id": 5, "products": [], "includes_none": True, "model_version": "reorder-v1"},
        {"order_id": 7, "products": [10, 20], "includes_none": False, "model_version": "reorder-v1"},
        {"order_id": 9, "products": [43, 44], "includes_none": True, "model_version": "reorder-v1"},
    ]
    none_only = baskets.set_index("order_id").loc[5, "expected_f1"]
    assert none_only == pytest.approx((1 - 0.02) * (1 - 0.01))


def test_the_baskets_do_not_depend_on_row_order():
    rows = [(3, 1, 0.7), (3, 2, 0.6), (3, 3, 0.6), (3, 4, 0.1), (1, 5, 0.3), (1, 6, 0.8)]

    forward = choose_baskets(scores(rows))
    backward = choose_baskets(scores(rows[::-1]))

    pd.testing.assert_frame_equal(forward, backward)
    assert forward["products"].tolist() == [[6], [1, 2, 3]]


def test_vectorized_baskets_equal_the_per_order_optimum():
    rng = np.random.default_rng(17)
    sizes = [1, 1, 2, 3, 5, 8, 15, 16, 17, 30, 64, 65, 80, 130, 1, 4, 300] + rng.integers(1, 40, 60).tolist()
    rows = []
    for order_id, size in zip(rng.permutation(np.arange(1, 5 * len(sizes), 5)).tolist(), sizes):
        products = rng.choice(np.arange(1, 1000), size=size, replace=False)
        # Rounded probabilities make ties, which go to the smaller product_id.
        probabilities = np.round(rng.random(size) ** rng.uniform(1, 6), 2)
        rows += [(order_id, int(product), float(p)) for product, p in zip(products, probabilities)]
    candidates = scores(rows).sample(frac=1.0, random_state=4)

    baskets = choose_baskets(candidates)

    assert baskets["order_id"].tolist() == sorted(candidates["order_id"].unique().tolist())
    for basket in baskets.itertuples():
        order = candidates[candidates["order_id"] == basket.order_id]
        ranked = order.sort_values(["probability", "product_id"], ascending=[False, True])
        best = optimal_prediction(order["probability"].to_numpy())
        assert basket.products == ranked["product_id"].iloc[:best.count].tolist()
        assert basket.includes_none == best.include_none
        assert basket.expected_f1 == pytest.approx(best.expected_f1, rel=1e-9)


def test_no_scores_give_no_baskets():
    baskets = choose_baskets(scores([]))

    assert list(baskets.columns) == list(BASKET_COLUMNS)
    assert baskets.empty
    assert list(baskets_in_partition(iter([scores([]), scores([])]))) == []
    assert list(baskets_in_partition(iter([]))) == []


def test_an_order_needs_a_single_model_version():
    mixed = pd.concat([scores([(1, 1, 0.5)], "v1"), scores([(1, 2, 0.5), (2, 3, 0.4)], "v2")])

    with pytest.raises(ValueError, match=r"one model version per order expected; orders \[1\]"):
        choose_baskets(mixed)


def test_scores_without_a_probability_are_refused():
    with pytest.raises(ValueError, match=r"scores lack the columns \['probability'\]"):
        choose_baskets(scores([(1, 1, 0.5)]).drop(columns="probability"))


def test_a_partition_of_several_batches_gives_the_baskets_of_its_orders():
    batches = [scores([(7, 10, 0.95), (5, 11, 0.02)]), scores([(7, 20, 0.90), (5, 12, 0.01), (7, 30, 0.05)])]

    (baskets,) = baskets_in_partition(iter(batches))

    assert baskets[["order_id", "products", "includes_none"]].to_dict("records") == [
        {"order_id": 5, "products": [], "includes_none": True},
        {"order_id": 7, "products": [10, 20], "includes_none": False},
    ]


def test_spark_chooses_the_baskets_per_partition_with_map_in_pandas(spark):
    candidates = scores([(7, 10, 0.95), (7, 20, 0.90), (7, 30, 0.05), (5, 11, 0.02), (5, 12, 0.01),
                         (9, 44, 0.40), (9, 43, 0.40)])
    frame = spark.createDataFrame(candidates, "order_id int, product_id int, probability double, model_version string")

    baskets = frame.repartition(3, "order_id").mapInPandas(baskets_in_partition, BASKET_SCHEMA_DDL)

    assert baskets.columns == list(BASKET_COLUMNS)
    assert sorted((row.order_id, row.products, row.includes_none, row.model_version)
                  for row in baskets.collect()) == [
        (5, [], True, "reorder-v1"),
        (7, [10, 20], False, "reorder-v1"),
        (9, [43, 44], True, "reorder-v1"),
    ]

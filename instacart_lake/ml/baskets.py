"""Each order's predicted basket from the scoring output: the expected-F1-optimal top-k
products, with `None` when it raises the expected F1 (instacart_lake.metrics.f1).

This runs where the gold table is written (Spark, after scoring), not in the scoring
script: the scoring output keeps every candidate's probability, and the basket is a
per-order aggregate of it. In Spark:
`scores.groupBy("order_id").applyInPandas(choose_order_basket, BASKET_SCHEMA_DDL)`.
"""

from __future__ import annotations

import pandas as pd

from instacart_lake.metrics.f1 import optimal_prediction

BASKET_COLUMNS = ("order_id", "product_ids", "include_none", "expected_f1", "model_version")
BASKET_SCHEMA_DDL = (
    "order_id int, product_ids array<int>, include_none boolean, expected_f1 double, model_version string"
)


def choose_order_basket(order_scores: pd.DataFrame) -> pd.DataFrame:
    """One row: the basket of the single order in `order_scores` (columns order_id,
    product_id, probability, model_version). Products are listed most probable first;
    ties go to the smaller product_id, so the choice does not depend on row order."""
    order_ids = order_scores["order_id"].unique()
    versions = order_scores["model_version"].unique()
    if len(order_ids) != 1 or len(versions) != 1:
        raise ValueError(f"one order and one model version expected, got orders {list(order_ids)} "
                         f"and versions {list(versions)}")
    ranked = order_scores.sort_values(["probability", "product_id"], ascending=[False, True])
    best = optimal_prediction(ranked["probability"].to_numpy())
    return pd.DataFrame({
        "order_id": [int(order_ids[0])],
        "product_ids": [[int(product) for product in ranked["product_id"].iloc[: best.count]]],
        "include_none": [best.include_none],
        "expected_f1": [best.expected_f1],
        "model_version": [versions[0]],
    }, columns=list(BASKET_COLUMNS))


def choose_baskets(scores: pd.DataFrame) -> pd.DataFrame:
    """One row per order of `scores`, in order_id order (see choose_order_basket)."""
    baskets = [choose_order_basket(order_scores) for _, order_scores in scores.groupby("order_id", sort=True)]
    if not baskets:
        return pd.DataFrame(columns=list(BASKET_COLUMNS))
    return pd.concat(baskets, ignore_index=True)

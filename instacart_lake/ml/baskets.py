"""Each order's predicted basket from the scoring output: the expected-F1-optimal top-k
products, with `None` when it raises the expected F1 (instacart_lake.metrics.f1).

This runs where the gold table is written (Spark, after scoring), not in the scoring
script: the scoring output keeps every candidate's probability, and the basket is a
per-order aggregate of it, computed for all the orders of a partition at once. In Spark:
`scores.repartition(n, "order_id").mapInPandas(baskets_in_partition, BASKET_SCHEMA_DDL)`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import numpy as np
import pandas as pd

from instacart_lake.metrics.f1 import optimal_predictions_for_runs, run_bounds

SCORE_COLUMNS = ("order_id", "product_id", "probability", "model_version")
BASKET_COLUMNS = ("order_id", "products", "includes_none", "expected_f1", "model_version")
BASKET_SCHEMA_DDL = (
    "order_id int, products array<int>, includes_none boolean, expected_f1 double, model_version string"
)
"""The Spark schema of baskets_in_partition's output (the gold table's columns)."""


@dataclass(frozen=True)
class RankedBaskets:
    """The basket of every order, over its candidates ranked by order_id, probability
    (decreasing) and product_id: order i is rows starts[i] to starts[i] + sizes[i] of `ranked`,
    and its basket is its first counts[i] rows, plus `None` when with_none[i]."""

    ranked: pd.DataFrame
    starts: np.ndarray
    sizes: np.ndarray
    counts: np.ndarray
    with_none: np.ndarray
    expected_f1: np.ndarray

    @property
    def order_index(self) -> np.ndarray:
        """The position of each ranked row's order in `starts`."""
        return np.repeat(np.arange(len(self.starts)), self.sizes)

    @property
    def in_basket(self) -> np.ndarray:
        """Whether each ranked row is in its order's basket."""
        order_index = self.order_index
        position = np.arange(len(self.ranked)) - self.starts[order_index]
        return position < self.counts[order_index]


def rank_baskets(scores: pd.DataFrame) -> RankedBaskets:
    """The expected-F1-optimal basket of every order of `scores` (columns order_id,
    product_id, probability; one row per candidate). Ties in probability go to the smaller
    product_id, so the choice does not depend on row order."""
    _require_columns(scores, SCORE_COLUMNS[:3])
    ranked = scores.sort_values(["order_id", "probability", "product_id"], ascending=[True, False, True],
                                kind="stable", ignore_index=True)
    starts, sizes = run_bounds(ranked["order_id"].to_numpy())
    counts, with_none, expected = optimal_predictions_for_runs(
        ranked["probability"].to_numpy(dtype=np.float64), starts, sizes)
    return RankedBaskets(ranked=ranked, starts=starts, sizes=sizes, counts=counts, with_none=with_none,
                         expected_f1=expected)


def choose_baskets(scores: pd.DataFrame) -> pd.DataFrame:
    """One row per order of `scores` (columns order_id, product_id, probability,
    model_version; one model version per order), in order_id order: the basket's products,
    most probable first, whether it includes `None`, its expected F1 and the model version."""
    _require_columns(scores, SCORE_COLUMNS)
    if scores.empty:
        return pd.DataFrame({
            "order_id": pd.Series(dtype=scores["order_id"].dtype),
            "products": pd.Series(dtype=object),
            "includes_none": pd.Series(dtype=bool),
            "expected_f1": pd.Series(dtype=np.float64),
            "model_version": pd.Series(dtype=object),
        })
    baskets = rank_baskets(scores)
    versions = baskets.ranked["model_version"].to_numpy()
    first_versions = versions[baskets.starts]
    mixed = np.flatnonzero(np.repeat(first_versions, baskets.sizes) != versions)
    if len(mixed):
        orders = sorted(set(baskets.ranked["order_id"].iloc[mixed].tolist()))
        raise ValueError(f"one model version per order expected; orders {orders[:5]} have several")
    product_ids = baskets.ranked["product_id"].to_numpy()
    products = [product_ids[start:start + count].tolist()
                for start, count in zip(baskets.starts.tolist(), baskets.counts.tolist())]
    return pd.DataFrame({
        "order_id": baskets.ranked["order_id"].to_numpy()[baskets.starts],
        "products": products,
        "includes_none": baskets.with_none,
        "expected_f1": baskets.expected_f1,
        "model_version": first_versions,
    }, columns=list(BASKET_COLUMNS))


def baskets_in_partition(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
    """The baskets of one Spark partition for `mapInPandas` (schema BASKET_SCHEMA_DDL): the
    scores must be partitioned by order_id, so that every order is whole in one partition."""
    scores = [batch for batch in batches if not batch.empty]
    if scores:
        yield choose_baskets(pd.concat(scores, ignore_index=True))


def _require_columns(frame: pd.DataFrame, columns: tuple[str, ...]) -> None:
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise ValueError(f"scores lack the columns {missing}")

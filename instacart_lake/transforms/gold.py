"""The gold tables of the curated zone, from the scores of one model version.

- reorder_scores: one row per inference candidate (a test user and a product of the user's
  prior orders) with the model's probability that the product is in the user's next order.
- next_basket: one row per test order with the basket that maximizes the expected F1
  (instacart_lake.ml.baskets), `None` included when it pays. A test order without any
  candidate (its user's prior lines were all quarantined) gets the basket `None` alone, whose
  expected F1 is 1: with no candidate, no product can be reordered.

Both carry the model version, so that the tables keep one partition per model version. A
model version is published once next_basket (PUBLISHED_BY) holds it: publish_predictions
commits that table last, so reorder_scores then holds the version too, and readers take their
model versions from it.
"""

from __future__ import annotations

import datetime as dt

from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from instacart_lake.ml.baskets import BASKET_SCHEMA_DDL, baskets_in_partition
from instacart_lake.transforms.features import select_schema

SCORES_SCHEMA = T.StructType([
    T.StructField("order_id", T.IntegerType()),
    T.StructField("product_id", T.IntegerType()),
    T.StructField("probability", T.DoubleType()),
    T.StructField("model_version", T.StringType()),
])
"""The scoring job's CSV files (ml/score.py with the id columns order_id, product_id)."""

REORDER_SCORES_SCHEMA = T.StructType([
    T.StructField("user_id", T.IntegerType()),
    T.StructField("product_id", T.IntegerType()),
    T.StructField("probability", T.DoubleType()),
    T.StructField("model_version", T.StringType()),
    T.StructField("scored_at", T.TimestampType()),
])
NEXT_BASKET_SCHEMA = T.StructType([
    T.StructField("order_id", T.IntegerType()),
    T.StructField("user_id", T.IntegerType()),
    T.StructField("products", T.ArrayType(T.IntegerType())),
    T.StructField("includes_none", T.BooleanType()),
    T.StructField("expected_f1", T.DoubleType()),
    T.StructField("model_version", T.StringType()),
])
GOLD_SCHEMAS: dict[str, T.StructType] = {"reorder_scores": REORDER_SCORES_SCHEMA, "next_basket": NEXT_BASKET_SCHEMA}
GOLD_GRAINS: dict[str, str] = {
    "reorder_scores": "one row per model version, test user and product of the user's prior orders",
    "next_basket": "one row per model version and test order: the expected-F1-optimal basket",
}
PARTITION_COLUMN = "model_version"
PUBLISHED_BY = "next_basket"
"""The gold table committed last: the model versions it holds are the published ones."""


def select_test_orders(orders: DataFrame) -> DataFrame:
    """order_id and user_id of every test order (the orders the gold tables predict)."""
    return orders.where(F.col("eval_set") == "test").select("order_id", "user_id")


def reorder_scores(scores: DataFrame, orders: DataFrame, scored_at: dt.datetime) -> DataFrame:
    """The scores keyed by user and product instead of order; scored_at is the same for all."""
    return (
        scores.join(F.broadcast(select_test_orders(orders)), on="order_id", how="inner")
        .withColumn("scored_at", F.lit(scored_at).cast("timestamp"))
        .transform(select_schema, REORDER_SCORES_SCHEMA)
    )


def next_baskets(scores: DataFrame, orders: DataFrame, model_version: str, partitions: int) -> DataFrame:
    """Each test order's basket. Orders are gathered in `partitions` partitions, and every
    partition's orders are solved at once (baskets_in_partition)."""
    baskets = (
        scores.select("order_id", "product_id", "probability", "model_version")
        .repartition(partitions, "order_id")
        .mapInPandas(baskets_in_partition, BASKET_SCHEMA_DDL)
    )
    return (
        select_test_orders(orders)
        .join(baskets.drop("model_version"), on="order_id", how="left")
        .select(
            "order_id", "user_id",
            F.coalesce("products", F.array().cast("array<int>")).alias("products"),
            F.coalesce("includes_none", F.lit(True)).alias("includes_none"),
            F.coalesce("expected_f1", F.lit(1.0)).alias("expected_f1"),
            F.lit(model_version).alias("model_version"),
        )
        .transform(select_schema, NEXT_BASKET_SCHEMA)
    )

"""The model's candidates and the sets the ML stage writes for SageMaker XGBoost.

A candidate is a (user, product) pair from the user's prior orders, for a user whose last
order is train or test, with the features of the user, the product and the pair, plus
time_since_last_order (days_since_prior_order of the last order), aisle_id and
department_id. Its label is 1 when the product is in the user's train order, 0 when not,
and null for test users, whose candidates are the inference set.

Train users are split into training and validation by a seeded hash of user_id, so all of
a user's rows fall in one set and the split depends neither on partitioning nor on row
order.

CSV layout for SageMaker XGBoost (no header): training and validation rows are the label
then `feature_columns()`; inference rows are order_id, product_id then the same features
(a batch transform drops the two keys with InputFilter "$[2:]" and keeps them beside the
prediction with JoinSource "Input"). Features are written as doubles, and a missing one
(a null ratio, see instacart_lake.transforms.features) as NaN, which XGBoost reads as
missing.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from instacart_lake.transforms.features import FEATURE_KEYS, FEATURE_SCHEMAS, select_schema

DEFAULT_SPLIT_SEED = 2017
TRAIN, VALIDATION, INFERENCE = "train", "validation", "inference"
ML_SETS = (TRAIN, VALIDATION, INFERENCE)
"""The sets a candidate can be in (`ml_set`)."""
_HASH_BUCKETS = 1_000_000

_CONTEXT_FEATURES = (
    T.StructField("time_since_last_order", T.IntegerType()),
    T.StructField("aisle_id", T.IntegerType()),
    T.StructField("department_id", T.IntegerType()),
)


def _feature_fields() -> list[T.StructField]:
    fields = [
        field
        for table, schema in FEATURE_SCHEMAS.items()
        for field in schema.fields
        if field.name not in FEATURE_KEYS[table]
    ]
    return fields + list(_CONTEXT_FEATURES)


def feature_columns() -> list[str]:
    """The model's feature columns, in the fixed order of the CSV files: user_features_1,
    user_features_2, prd_features, up_features (each without its keys), then
    time_since_last_order, aisle_id, department_id."""
    return [field.name for field in _feature_fields()]


CANDIDATES_SCHEMA = T.StructType([
    T.StructField("order_id", T.IntegerType()),
    T.StructField("user_id", T.IntegerType()),
    T.StructField("product_id", T.IntegerType()),
    T.StructField("eval_set", T.StringType()),
    T.StructField("label", T.IntegerType()),
    *_feature_fields(),
])


def select_last_orders(orders: DataFrame) -> DataFrame:
    """One row per user whose last order is train or test: that order's id and eval_set,
    and its days_since_prior_order as time_since_last_order."""
    is_last_order = F.col("eval_set").isin("train", "test")
    return orders.where(is_last_order).select(
        "order_id", "user_id", "eval_set",
        F.col("days_since_prior_order").alias("time_since_last_order"))


def build_candidates(
    orders: DataFrame,
    train_lines: DataFrame,
    products: DataFrame,
    user_features_1: DataFrame,
    user_features_2: DataFrame,
    prd_features: DataFrame,
    up_features: DataFrame,
) -> DataFrame:
    """One row per candidate: a user whose last order is train or test, and a product of the
    user's prior orders (see CANDIDATES_SCHEMA). The feature tables are those of
    `build_feature_tables`, whose dictionary can be passed as keyword arguments.

    Every table but up_features is small (one row per user, product or train line) and is
    broadcast, so the candidates are built without a shuffle.
    """
    is_train_user = F.col("eval_set") == "train"
    train_products = (
        train_lines.select("order_id", "product_id")
        .withColumn("is_in_train_order", F.lit(1))
    )
    product_places = products.select("product_id", "aisle_id", "department_id")
    return (
        up_features
        .join(F.broadcast(select_last_orders(orders)), on="user_id", how="inner")
        .join(F.broadcast(user_features_1), on="user_id", how="inner")
        .join(F.broadcast(user_features_2), on="user_id", how="inner")
        .join(F.broadcast(prd_features), on="product_id", how="inner")
        .join(F.broadcast(product_places), on="product_id", how="left")
        .join(F.broadcast(train_products), on=["order_id", "product_id"], how="left")
        .withColumn("label", F.when(is_train_user, F.coalesce(F.col("is_in_train_order"), F.lit(0))))
        .transform(select_schema, CANDIDATES_SCHEMA)
    )


def validation_bucket(user_id: Column, seed: int) -> Column:
    """A number in [0, 1) fixed by the user id and the seed alone."""
    user_hash = F.xxhash64(F.lit(seed).cast("long"), user_id.cast("int"))
    return F.pmod(user_hash, F.lit(_HASH_BUCKETS)) / _HASH_BUCKETS


def ml_set(validation_share: float = 0.2, seed: int = DEFAULT_SPLIT_SEED) -> Column:
    """The set of a candidate: "inference" for a test user's; for a train user's, "validation"
    for about `validation_share` of the train users (with all their rows), "train" for the
    others."""
    if not 0.0 < validation_share < 1.0:
        raise ValueError(f"validation_share must be between 0 and 1 (exclusive), got {validation_share}")
    is_validation = validation_bucket(F.col("user_id"), seed) < validation_share
    return (F.when(F.col("eval_set") == "test", F.lit(INFERENCE))
            .when(F.col("eval_set") == "train", F.when(is_validation, F.lit(VALIDATION)).otherwise(F.lit(TRAIN))))


def _feature_as_double(name: str) -> Column:
    return F.coalesce(F.col(name).cast("double"), F.lit(float("nan"))).alias(name)


def select_training_layout(candidates: DataFrame) -> DataFrame:
    """label (int), then the features of feature_columns() as doubles, nulls as NaN."""
    return candidates.select(
        F.col("label").cast("int").alias("label"),
        *[_feature_as_double(name) for name in feature_columns()])


def select_inference_layout(candidates: DataFrame) -> DataFrame:
    """order_id, product_id, then the features of feature_columns() as doubles, nulls as NaN."""
    return candidates.select(
        "order_id", "product_id",
        *[_feature_as_double(name) for name in feature_columns()])

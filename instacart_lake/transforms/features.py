"""The four Silver feature tables of the curated zone, from prior orders only.

Inputs are the CLEAN tables `orders` and `order_products__prior` (columns and types of
`instacart_lake.schemas`). Only orders with eval_set = 'prior' are read, so a user's
train or test order never reaches a feature.

The work is shared. Prior lines are joined to prior orders once (the orders side is
broadcast, so the 32 M lines are not shuffled for the join), shuffled once by user_id,
and aggregated once per (user, product). Shuffling the lines themselves by user_id,
rather than letting the aggregate shuffle by (user, product), skips a map-side partial
aggregation that cannot reduce anything (a user's lines are spread over all input
splits, as order ids are) and leaves the aggregate partitioned by user, so
user_features_2 needs no second shuffle. prd_features, user_features_2 and up_features
all derive from that aggregate; none needs a window over the lines:

- a pair's lines are its orders, because (order_id, product_id) is the key of
  order_products__prior, so up_orders is the pair's line count;
- every pair has exactly one order with product_time = 1 (its first), so
  prod_first_orders is the number of pairs of the product;
- a pair has an order with product_time = 2 exactly when up_orders >= 2, so
  prod_second_orders is the number of such pairs;
- a user's line counts (all lines, lines with reordered = 1, lines of orders with
  order_number > 1) are sums of the pair-level counts.

Zero denominators. Every ratio goes through `ratio`, which gives null (not 0, not
infinity) when the denominator is 0: the quantity is undefined, and XGBoost treats a
missing value as missing rather than as a measurement. Which ratios can meet one:

- user_reorder_ratio: a user whose prior lines all belong to their first order has no
  line in an order with order_number > 1, so the ratio is null.
- user_average_basket, up_order_rate: user_orders >= 1 for any user with a line.
- up_order_rate_since_first_order: up_first_order <= user_orders, so the denominator
  is >= 1.
- prod_reorder_probability, prod_reorder_times, prod_reorder_ratio: a product row
  exists only if it has a line, so prod_first_orders >= 1 and prod_orders >= 1.

Nulls in inputs: days_since_prior_order is null for a user's first order; sum and mean
skip nulls, so user_period and user_mean_days_since_prior are over the user's other
prior orders.

Types: order numbers int, counts bigint, ratios and means double (see the schemas below).
"""

from __future__ import annotations

from pyspark import StorageLevel
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

USER_FEATURES_1_SCHEMA = T.StructType([
    T.StructField("user_id", T.IntegerType()),
    T.StructField("user_orders", T.IntegerType()),
    T.StructField("user_period", T.LongType()),
    T.StructField("user_mean_days_since_prior", T.DoubleType()),
])
USER_FEATURES_2_SCHEMA = T.StructType([
    T.StructField("user_id", T.IntegerType()),
    T.StructField("user_total_products", T.LongType()),
    T.StructField("user_distinct_products", T.LongType()),
    T.StructField("user_reorder_ratio", T.DoubleType()),
    T.StructField("user_average_basket", T.DoubleType()),
])
PRD_FEATURES_SCHEMA = T.StructType([
    T.StructField("product_id", T.IntegerType()),
    T.StructField("prod_orders", T.LongType()),
    T.StructField("prod_reorders", T.LongType()),
    T.StructField("prod_first_orders", T.LongType()),
    T.StructField("prod_second_orders", T.LongType()),
    T.StructField("prod_reorder_probability", T.DoubleType()),
    T.StructField("prod_reorder_times", T.DoubleType()),
    T.StructField("prod_reorder_ratio", T.DoubleType()),
])
UP_FEATURES_SCHEMA = T.StructType([
    T.StructField("user_id", T.IntegerType()),
    T.StructField("product_id", T.IntegerType()),
    T.StructField("up_orders", T.LongType()),
    T.StructField("up_first_order", T.IntegerType()),
    T.StructField("up_last_order", T.IntegerType()),
    T.StructField("up_average_cart_position", T.DoubleType()),
    T.StructField("up_order_rate", T.DoubleType()),
    T.StructField("up_orders_since_last_order", T.IntegerType()),
    T.StructField("up_order_rate_since_first_order", T.DoubleType()),
])

FEATURE_SCHEMAS: dict[str, T.StructType] = {
    "user_features_1": USER_FEATURES_1_SCHEMA,
    "user_features_2": USER_FEATURES_2_SCHEMA,
    "prd_features": PRD_FEATURES_SCHEMA,
    "up_features": UP_FEATURES_SCHEMA,
}
FEATURE_KEYS: dict[str, tuple[str, ...]] = {
    "user_features_1": ("user_id",),
    "user_features_2": ("user_id",),
    "prd_features": ("product_id",),
    "up_features": ("user_id", "product_id"),
}
FEATURE_GRAINS: dict[str, str] = {
    "user_features_1": "one row per user with prior orders",
    "user_features_2": "one row per user with prior lines",
    "prd_features": "one row per product with prior lines",
    "up_features": "one row per user and product of the user's prior orders",
}


def ratio(numerator: Column, denominator: Column) -> Column:
    """numerator / denominator as a double; null when the denominator is 0 or null."""
    return F.when(denominator != 0, numerator.cast("double") / denominator)


def select_schema(df: DataFrame, schema: T.StructType) -> DataFrame:
    """The columns of `schema`, in its order, cast to its types: a transform's output contract."""
    return df.select([F.col(field.name).cast(field.dataType) for field in schema.fields])


def select_prior_orders(orders: DataFrame) -> DataFrame:
    """One row per prior order: the only orders that features may see."""
    is_prior = F.col("eval_set") == "prior"
    return orders.where(is_prior).select(
        "order_id", "user_id", "order_number", "days_since_prior_order")


def user_features_1(orders: DataFrame) -> DataFrame:
    """One row per user: user_orders, user_period, user_mean_days_since_prior (prior orders)."""
    return (
        select_prior_orders(orders)
        .groupBy("user_id")
        .agg(
            F.max("order_number").alias("user_orders"),
            F.sum("days_since_prior_order").alias("user_period"),
            F.avg("days_since_prior_order").alias("user_mean_days_since_prior"),
        )
        .transform(select_schema, USER_FEATURES_1_SCHEMA)
    )


def aggregate_user_products(orders: DataFrame, prior_lines: DataFrame) -> DataFrame:
    """One row per user and product bought in a prior order: the shared intermediate.

    Columns: user_id, product_id, up_orders, up_first_order, up_last_order,
    up_average_cart_position, up_reorders (lines with reordered = 1),
    up_lines_after_first_order (lines of orders with order_number > 1).
    """
    prior_orders = select_prior_orders(orders).select("order_id", "user_id", "order_number")
    is_reordered = F.col("reordered") == 1
    is_after_first_order = F.col("order_number") > 1
    return (
        prior_lines
        .select("order_id", "product_id", "add_to_cart_order", "reordered")
        .join(F.broadcast(prior_orders), on="order_id", how="inner")
        .repartition("user_id")
        .groupBy("user_id", "product_id")
        .agg(
            F.count(F.lit(1)).alias("up_orders"),
            F.min("order_number").alias("up_first_order"),
            F.max("order_number").alias("up_last_order"),
            F.avg("add_to_cart_order").alias("up_average_cart_position"),
            F.count(F.when(is_reordered, 1)).alias("up_reorders"),
            F.count(F.when(is_after_first_order, 1)).alias("up_lines_after_first_order"),
        )
    )


def user_features_2(user_products: DataFrame, user_features_1: DataFrame) -> DataFrame:
    """One row per user with a prior line: user_total_products, user_distinct_products,
    user_reorder_ratio, user_average_basket. Takes the output of aggregate_user_products."""
    user_orders = user_features_1.select("user_id", "user_orders")
    return (
        user_products
        .groupBy("user_id")
        .agg(
            F.sum("up_orders").alias("user_total_products"),
            F.count(F.lit(1)).alias("user_distinct_products"),
            F.sum("up_reorders").alias("user_reorders"),
            F.sum("up_lines_after_first_order").alias("user_lines_after_first_order"),
        )
        .join(F.broadcast(user_orders), on="user_id", how="inner")
        .withColumn("user_reorder_ratio",
                    ratio(F.col("user_reorders"), F.col("user_lines_after_first_order")))
        .withColumn("user_average_basket",
                    ratio(F.col("user_total_products"), F.col("user_orders")))
        .transform(select_schema, USER_FEATURES_2_SCHEMA)
    )


def prd_features(user_products: DataFrame) -> DataFrame:
    """One row per product with a prior line: prod_orders, prod_reorders, prod_first_orders,
    prod_second_orders and their ratios. Takes the output of aggregate_user_products."""
    has_second_order = F.col("up_orders") >= 2
    return (
        user_products
        .groupBy("product_id")
        .agg(
            F.sum("up_orders").alias("prod_orders"),
            F.sum("up_reorders").alias("prod_reorders"),
            F.count(F.lit(1)).alias("prod_first_orders"),
            F.count(F.when(has_second_order, 1)).alias("prod_second_orders"),
        )
        .withColumn("prod_reorder_probability",
                    ratio(F.col("prod_second_orders"), F.col("prod_first_orders")))
        .withColumn("prod_reorder_times",
                    1 + ratio(F.col("prod_reorders"), F.col("prod_first_orders")))
        .withColumn("prod_reorder_ratio",
                    ratio(F.col("prod_reorders"), F.col("prod_orders")))
        .transform(select_schema, PRD_FEATURES_SCHEMA)
    )


def up_features(user_products: DataFrame, user_features_1: DataFrame) -> DataFrame:
    """One row per user and product bought in a prior order. Takes the output of
    aggregate_user_products; up_order_rate_since_first_order has up_orders (not
    user_orders) as its numerator."""
    user_orders = user_features_1.select("user_id", "user_orders")
    orders_since_first_order = F.col("user_orders") - F.col("up_first_order") + 1
    return (
        user_products
        .join(F.broadcast(user_orders), on="user_id", how="inner")
        .withColumn("up_order_rate", ratio(F.col("up_orders"), F.col("user_orders")))
        .withColumn("up_orders_since_last_order", F.col("user_orders") - F.col("up_last_order"))
        .withColumn("up_order_rate_since_first_order",
                    ratio(F.col("up_orders"), orders_since_first_order))
        .transform(select_schema, UP_FEATURES_SCHEMA)
    )


def build_feature_tables(orders: DataFrame, prior_lines: DataFrame) -> dict[str, DataFrame]:
    """The four feature tables by name (user_features_1, user_features_2, prd_features,
    up_features), sharing one (user, product) aggregate.

    The aggregate and user_features_1 are persisted (memory and disk) so that writing the
    tables one after another computes them once; they stay cached until the session ends
    or `spark.catalog.clearCache()`. Persisting, unlike a local checkpoint, survives the
    loss of an executor (lost partitions are recomputed).
    """
    users = user_features_1(orders).persist(StorageLevel.MEMORY_AND_DISK)
    user_products = aggregate_user_products(orders, prior_lines).persist(StorageLevel.MEMORY_AND_DISK)
    return {
        "user_features_1": users,
        "user_features_2": user_features_2(user_products, users),
        "prd_features": prd_features(user_products),
        "up_features": up_features(user_products, users),
    }

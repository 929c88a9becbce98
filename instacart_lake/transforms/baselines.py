"""Predictions without a model, to compare the model with (instacart_lake.ml.evaluation)."""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from instacart_lake.transforms.ml_sets import select_last_orders


def last_prior_order_reorders(orders: DataFrame, prior_lines: DataFrame) -> DataFrame:
    """One row per product reordered (reordered = 1) in a user's last prior order (the prior
    order of highest order_number), for every user whose last order is train or test: the
    order_id of that last order and the product_id. A user whose last prior order has no
    reordered product has no row.

    Each user's last prior order is found from `orders` alone (one row per order), and that
    small mapping is broadcast into the lines, so the lines are not shuffled.
    """
    is_prior_order = F.col("eval_set") == "prior"
    last_prior_orders = (
        orders.where(is_prior_order)
        .groupBy("user_id")
        .agg(F.max_by("order_id", "order_number").alias("prior_order_id"))
    )
    prior_order_of_last_order = (
        select_last_orders(orders)
        .join(last_prior_orders, on="user_id", how="inner")
        .select("order_id", "prior_order_id")
    )
    is_reordered = F.col("reordered") == 1
    reordered_lines = prior_lines.where(is_reordered).select(
        F.col("order_id").alias("prior_order_id"), "product_id")
    return (
        reordered_lines
        .join(F.broadcast(prior_order_of_last_order), on="prior_order_id", how="inner")
        .select("order_id", "product_id")
    )

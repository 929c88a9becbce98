"""The last-order-reorders baseline: the products reordered in each user's last prior order."""

from __future__ import annotations

from pyspark.sql import Row
from pyspark.testing import assertDataFrameEqual

from instacart_lake.schemas import SOURCE_TABLES
from instacart_lake.transforms.baselines import last_prior_order_reorders


def orders_frame(spark, rows):
    """Orders from (order_id, user_id, eval_set, order_number) with a fixed day and hour."""
    return spark.createDataFrame(
        [(order_id, user_id, eval_set, number, 1, 10, None if number == 1 else 7)
         for order_id, user_id, eval_set, number in rows],
        SOURCE_TABLES["orders"].spark_schema())


def test_each_last_order_gets_the_reorders_of_the_last_prior_order(spark):
    orders = orders_frame(spark, [
        (1, 1, "prior", 1), (2, 1, "prior", 2), (3, 1, "prior", 3), (4, 1, "train", 4),
        (5, 2, "prior", 1), (6, 2, "prior", 2), (7, 2, "test", 3),
        (12, 3, "prior", 1), (11, 3, "prior", 2), (13, 3, "train", 3),   # ids against the numbers
        (14, 4, "prior", 1), (15, 4, "prior", 2),                       # no train or test order
    ])
    prior_lines = spark.createDataFrame([
        (3, 10, 1, 1), (3, 11, 2, 0), (3, 12, 3, 1),   # user 1's last prior order
        (2, 13, 1, 1),                                 # an earlier order
        (6, 20, 1, 0), (5, 21, 1, 1),                  # user 2: nothing reordered last time
        (11, 30, 1, 1), (12, 31, 1, 1),
        (15, 40, 1, 1),
    ], SOURCE_TABLES["order_products__prior"].spark_schema())

    reorders = last_prior_order_reorders(orders, prior_lines)

    assert reorders.columns == ["order_id", "product_id"]
    assertDataFrameEqual(reorders, [
        Row(order_id=4, product_id=10),
        Row(order_id=4, product_id=12),
        Row(order_id=13, product_id=30),
    ])

"""The four feature tables: hand-worked rows (Spark and the DuckDB reference), zero
denominators, Spark = DuckDB on a random sample, and no leakage of the train/test order."""

from __future__ import annotations

import pytest
from instacart_samples import SAMPLE, arrow_tables, random_sample, spark_frames
from pyspark.sql import Row
from pyspark.sql import functions as F
from pyspark.sql import types as T
from pyspark.testing import assertDataFrameEqual

from instacart_lake.reference import duckdb_features
from instacart_lake.transforms.features import (
    FEATURE_KEYS,
    FEATURE_SCHEMAS,
    build_feature_tables,
    ratio,
)

_ARROW_TYPE_NAMES = {T.IntegerType(): "int32", T.LongType(): "int64", T.DoubleType(): "double"}


def _names_and_types(schema: T.StructType) -> list[tuple]:
    return [(field.name, field.dataType) for field in schema.fields]


def spark_feature_tables(spark, tables) -> dict:
    frames = spark_frames(spark, tables)
    return build_feature_tables(frames["orders"], frames["order_products__prior"])


def duckdb_feature_tables(spark, tables) -> dict:
    """The DuckDB reference's tables as Spark DataFrames with the feature schemas."""
    inputs = arrow_tables(tables)
    result = duckdb_features.feature_tables(inputs["orders"], inputs["order_products__prior"])
    return {name: spark.createDataFrame(result[name].to_pylist(), schema=FEATURE_SCHEMAS[name])
            for name in FEATURE_SCHEMAS}


@pytest.fixture(scope="module", params=["spark", "duckdb"])
def sample_features(request, spark) -> dict:
    """The feature tables of the hand-written sample, by either engine."""
    compute = spark_feature_tables if request.param == "spark" else duckdb_feature_tables
    return compute(spark, SAMPLE)


def expected(spark, table: str, rows: list[tuple]):
    return spark.createDataFrame(rows, schema=FEATURE_SCHEMAS[table])


def test_user_features_1_are_over_prior_orders_only(spark, sample_features):
    # user 1: prior days 15 + 21 (first order null); the train order's 14 is not counted
    assertDataFrameEqual(sample_features["user_features_1"], expected(spark, "user_features_1", [
        (1, 3, 36, 18.0),
        (2, 4, 37, 37 / 3),
        (3, 3, 6, 3.0),
    ]))


def test_user_features_2_with_a_zero_denominator(spark, sample_features):
    # user 3 has no line in an order with order_number > 1: user_reorder_ratio is null
    assertDataFrameEqual(sample_features["user_features_2"], expected(spark, "user_features_2", [
        (1, 7, 4, 3 / 5, 7 / 3),
        (2, 6, 3, 3 / 5, 6 / 4),
        (3, 2, 2, None, 2 / 3),
    ]))


def test_prd_features(spark, sample_features):
    # product 101: bought by users 1 (orders 1, 2, 3) and 2 (orders 1, 4): both bought it twice
    # product 102: user 1 once, user 2 three times; products 104 to 106 are never rebought
    assertDataFrameEqual(sample_features["prd_features"], expected(spark, "prd_features", [
        (101, 5, 3, 2, 2, 1.0, 2.5, 3 / 5),
        (102, 4, 2, 2, 1, 0.5, 2.0, 0.5),
        (103, 2, 1, 1, 1, 1.0, 2.0, 0.5),
        (104, 2, 0, 2, 0, 0.0, 1.0, 0.0),
        (105, 1, 0, 1, 0, 0.0, 1.0, 0.0),
        (106, 1, 0, 1, 0, 0.0, 1.0, 0.0),
    ]))


def test_up_features(spark, sample_features):
    # up_order_rate_since_first_order = up_orders / (user_orders - up_first_order + 1)
    assertDataFrameEqual(sample_features["up_features"], expected(spark, "up_features", [
        (1, 101, 3, 1, 3, 4 / 3, 1.0, 0, 1.0),
        (1, 102, 1, 1, 1, 2.0, 1 / 3, 2, 1 / 3),
        (1, 103, 2, 2, 3, 1.5, 2 / 3, 0, 1.0),
        (1, 104, 1, 3, 3, 3.0, 1 / 3, 0, 1.0),
        (2, 101, 2, 1, 4, 1.0, 0.5, 0, 0.5),
        (2, 102, 3, 2, 4, 5 / 3, 0.75, 0, 1.0),
        (2, 105, 1, 2, 2, 2.0, 0.25, 2, 1 / 3),
        (3, 104, 1, 1, 1, 1.0, 1 / 3, 2, 1 / 3),
        (3, 106, 1, 1, 1, 2.0, 1 / 3, 2, 1 / 3),
    ]))


def test_ratio_is_null_for_a_zero_or_null_denominator(spark):
    schema = T.StructType([T.StructField("numerator", T.LongType()),
                           T.StructField("denominator", T.IntegerType())])
    pairs = spark.createDataFrame([(1, 2), (3, 0), (0, 0), (3, None), (None, 4)], schema=schema)
    actual = pairs.select("numerator", "denominator",
                          ratio(F.col("numerator"), F.col("denominator")).alias("ratio"))
    assert actual.schema["ratio"].dataType == T.DoubleType()
    assertDataFrameEqual(actual, [
        Row(numerator=1, denominator=2, ratio=0.5),
        Row(numerator=3, denominator=0, ratio=None),
        Row(numerator=0, denominator=0, ratio=None),
        Row(numerator=3, denominator=None, ratio=None),
        Row(numerator=None, denominator=4, ratio=None),
    ])


@pytest.fixture(scope="module")
def random_tables():
    return random_sample(seed=7, users=60)


def test_random_sample_has_the_edge_cases(random_tables):
    orders = random_tables["orders"]
    prior_orders = {row[0]: row for row in orders if row[2] == "prior"}
    lines_after_first = {prior_orders[line[0]][1] for line in random_tables["order_products__prior"]
                         if prior_orders[line[0]][3] > 1}
    users = {row[1] for row in orders}
    prior_counts = [sum(1 for row in prior_orders.values() if row[1] == user) for user in users]
    assert users - lines_after_first, "a user with no line after the first order"
    assert 3 in prior_counts
    assert {row[2] for row in orders} == {"prior", "train", "test"}
    assert all((row[6] is None) == (row[3] == 1) for row in orders)


def test_spark_equals_duckdb_on_a_random_sample(spark, random_tables):
    spark_tables = spark_feature_tables(spark, random_tables)
    inputs = arrow_tables(random_tables)
    reference = duckdb_features.feature_tables(inputs["orders"], inputs["order_products__prior"])
    for name, schema in FEATURE_SCHEMAS.items():
        assert _names_and_types(spark_tables[name].schema) == _names_and_types(schema), name
        assert [str(field.type) for field in reference[name].schema] == [
            _ARROW_TYPE_NAMES[field.dataType] for field in schema.fields], name
        assert reference[name].num_rows > 0
        assertDataFrameEqual(spark_tables[name], [Row(**row) for row in reference[name].to_pylist()],
                             rtol=1e-12)


def test_keys_are_unique(spark, random_tables):
    tables = spark_feature_tables(spark, random_tables)
    for name, keys in FEATURE_KEYS.items():
        table = tables[name]
        assert table.count() == table.select(*keys).distinct().count(), name
        assert table.where(" OR ".join(f"{key} IS NULL" for key in keys)).count() == 0, name


def with_changed_last_orders(tables: dict, user_ids: set[int]) -> dict:
    """The same tables after rewriting the train/test order of `user_ids`: other days,
    weekday, hour and order number, and other products in the train order."""
    last_order_ids = {row[0] for row in tables["orders"]
                      if row[1] in user_ids and row[2] != "prior"}
    train_order_ids = {row[0] for row in tables["orders"] if row[0] in last_order_ids and row[2] == "train"}
    orders = [
        (row[0], row[1], row[2], 99, (row[4] + 3) % 7, (row[5] + 5) % 24, 30 - row[6])
        if row[0] in last_order_ids else row
        for row in tables["orders"]
    ]
    product_ids = [row[0] for row in tables["products"]]
    train_lines = [row for row in tables["order_products__train"] if row[0] not in last_order_ids]
    train_lines += [(order_id, product_id, position, 1)
                    for order_id in sorted(train_order_ids)
                    for position, product_id in enumerate(product_ids[:5], start=1)]
    return {**tables, "orders": orders, "order_products__train": train_lines}


def test_the_last_order_does_not_leak_into_features(spark, random_tables):
    changed_users = {1, 2, 3, 4, 5, 6}
    changed = with_changed_last_orders(random_tables, changed_users)
    assert changed["orders"] != random_tables["orders"]
    before = spark_feature_tables(spark, random_tables)
    after = spark_feature_tables(spark, changed)
    for name in FEATURE_SCHEMAS:
        assertDataFrameEqual(after[name], before[name], rtol=0.0, atol=0.0)

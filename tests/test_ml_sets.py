"""Candidates and labels, the split by user, and the CSV layout for SageMaker XGBoost."""

from __future__ import annotations

import math

import pytest
from instacart_samples import SAMPLE, arrow_tables, random_sample, spark_frames
from pyspark.sql import Row
from pyspark.sql import functions as F
from pyspark.testing import assertDataFrameEqual

from instacart_lake.reference import duckdb_features
from instacart_lake.transforms.features import build_feature_tables
from instacart_lake.transforms.ml_sets import (
    CANDIDATES_SCHEMA,
    build_candidates,
    feature_columns,
    ml_set,
    select_inference_layout,
    select_training_layout,
)

EXPECTED_FEATURE_COLUMNS = [
    "user_orders", "user_period", "user_mean_days_since_prior",
    "user_total_products", "user_distinct_products", "user_reorder_ratio", "user_average_basket",
    "prod_orders", "prod_reorders", "prod_first_orders", "prod_second_orders",
    "prod_reorder_probability", "prod_reorder_times", "prod_reorder_ratio",
    "up_orders", "up_first_order", "up_last_order", "up_average_cart_position", "up_order_rate",
    "up_orders_since_last_order", "up_order_rate_since_first_order",
    "time_since_last_order", "aisle_id", "department_id",
]


def spark_candidates(spark, tables):
    frames = spark_frames(spark, tables)
    features = build_feature_tables(frames["orders"], frames["order_products__prior"])
    return build_candidates(frames["orders"], frames["order_products__train"], frames["products"],
                            **features)


@pytest.fixture(scope="module")
def sample_candidates(spark):
    return spark_candidates(spark, SAMPLE)


def test_feature_columns_are_in_a_fixed_order():
    assert feature_columns() == EXPECTED_FEATURE_COLUMNS
    assert CANDIDATES_SCHEMA.names == [
        "order_id", "user_id", "product_id", "eval_set", "label", *EXPECTED_FEATURE_COLUMNS]


def test_candidates_are_the_prior_pairs_of_train_and_test_users(spark, sample_candidates):
    # Product 107 is only in user 1's train order: not a candidate. Test users have no label.
    actual = sample_candidates.select("order_id", "user_id", "product_id", "eval_set", "label",
                                      "time_since_last_order", "aisle_id", "department_id")
    assertDataFrameEqual(actual, [
        Row(order_id=13, user_id=1, product_id=101, eval_set="train", label=1,
            time_since_last_order=14, aisle_id=24, department_id=4),
        Row(order_id=13, user_id=1, product_id=102, eval_set="train", label=0,
            time_since_last_order=14, aisle_id=24, department_id=4),
        Row(order_id=13, user_id=1, product_id=103, eval_set="train", label=0,
            time_since_last_order=14, aisle_id=84, department_id=16),
        Row(order_id=13, user_id=1, product_id=104, eval_set="train", label=1,
            time_since_last_order=14, aisle_id=115, department_id=7),
        Row(order_id=24, user_id=2, product_id=101, eval_set="test", label=None,
            time_since_last_order=8, aisle_id=24, department_id=4),
        Row(order_id=24, user_id=2, product_id=102, eval_set="test", label=None,
            time_since_last_order=8, aisle_id=24, department_id=4),
        Row(order_id=24, user_id=2, product_id=105, eval_set="test", label=None,
            time_since_last_order=8, aisle_id=108, department_id=16),
        Row(order_id=33, user_id=3, product_id=104, eval_set="train", label=0,
            time_since_last_order=30, aisle_id=115, department_id=7),
        Row(order_id=33, user_id=3, product_id=106, eval_set="train", label=1,
            time_since_last_order=30, aisle_id=112, department_id=3),
    ])


def test_a_candidate_row_carries_all_its_features(spark, sample_candidates):
    # user 3 (no line after the first order: null reorder ratio) and product 106
    actual = sample_candidates.where((F.col("user_id") == 3) & (F.col("product_id") == 106))
    assertDataFrameEqual(actual, spark.createDataFrame([(
        33, 3, 106, "train", 1,
        3, 6, 3.0,
        2, 2, None, 2 / 3,
        1, 0, 1, 0, 0.0, 1.0, 0.0,
        1, 1, 1, 2.0, 1 / 3, 2, 1 / 3,
        30, 112, 3,
    )], schema=CANDIDATES_SCHEMA))


def test_spark_candidates_equal_duckdb_on_a_random_sample(spark):
    tables = random_sample(seed=11, users=60)
    inputs = arrow_tables(tables)
    reference = duckdb_features.candidates(
        inputs["orders"], inputs["order_products__prior"], inputs["order_products__train"],
        inputs["products"])
    actual = spark_candidates(spark, tables)
    assert reference.column_names == CANDIDATES_SCHEMA.names
    assert reference.num_rows > 100
    assert {row["label"] for row in reference.to_pylist()} == {0, 1, None}
    assertDataFrameEqual(actual, [Row(**row) for row in reference.to_pylist()], rtol=1e-12)


@pytest.fixture(scope="module")
def many_users(spark):
    """3 rows for each of 3,000 users: users 1..2,000 train, the rest test."""
    rows = [(user_id, product_id, "train" if user_id <= 2000 else "test")
            for user_id in range(1, 3001) for product_id in (1, 2, 3)]
    return spark.createDataFrame(rows, "user_id int, product_id int, eval_set string")


def users_by_set(candidates, validation_share=0.2, seed=5) -> dict[str, set[int]]:
    rows = candidates.select("user_id", ml_set(validation_share, seed).alias("ml_set")).distinct().collect()
    users: dict[str, set[int]] = {}
    for row in rows:
        users.setdefault(row.ml_set, set()).add(row.user_id)
    return users


def test_split_keeps_each_user_in_one_set_and_test_users_for_inference(many_users):
    users = users_by_set(many_users)
    assert set(users) == {"train", "validation", "inference"}
    assert users["train"].isdisjoint(users["validation"])
    assert users["train"] | users["validation"] == set(range(1, 2001))
    assert users["inference"] == set(range(2001, 3001))
    assert 0.17 < len(users["validation"]) / 2000 < 0.23


def test_split_ignores_partitioning_and_row_order(many_users):
    shuffled = many_users.repartition(7).orderBy(F.col("user_id").desc())
    validation = users_by_set(many_users)["validation"]
    assert users_by_set(shuffled)["validation"] == validation
    assert users_by_set(many_users, seed=6)["validation"] != validation


@pytest.mark.parametrize("share", [0.0, 1.0, -0.1, 1.5])
def test_split_refuses_a_share_outside_zero_one(share):
    with pytest.raises(ValueError, match="validation_share"):
        ml_set(validation_share=share)


def test_inference_set_is_the_test_users(sample_candidates):
    assert users_by_set(sample_candidates)["inference"] == {2}


def test_training_csv_is_label_then_features_with_nan_for_missing(sample_candidates, tmp_path):
    layout = select_training_layout(sample_candidates.where(F.col("user_id") == 3))
    assert layout.columns == ["label", *EXPECTED_FEATURE_COLUMNS]
    assert [kind for _, kind in layout.dtypes] == ["int"] + ["double"] * len(EXPECTED_FEATURE_COLUMNS)
    layout.coalesce(1).write.csv(str(tmp_path / "train"), header=False)
    lines = sorted(line for path in (tmp_path / "train").glob("part-*.csv")
                   for line in path.read_text().splitlines())
    assert lines == [
        # product 104: bought once in order 1 of 3, not in the train order
        "0,3.0,6.0,3.0,2.0,2.0,NaN,0.6666666666666666,2.0,0.0,2.0,0.0,0.0,1.0,0.0,"
        "1.0,1.0,1.0,1.0,0.3333333333333333,2.0,0.3333333333333333,30.0,115.0,7.0",
        # product 106: bought once in order 1 of 3, in the train order
        "1,3.0,6.0,3.0,2.0,2.0,NaN,0.6666666666666666,1.0,0.0,1.0,0.0,0.0,1.0,0.0,"
        "1.0,1.0,1.0,2.0,0.3333333333333333,2.0,0.3333333333333333,30.0,112.0,3.0",
    ]
    assert all(math.isnan(row.user_reorder_ratio) for row in layout.collect())


def test_inference_layout_is_keys_then_features(sample_candidates):
    layout = select_inference_layout(sample_candidates.where(ml_set() == "inference"))
    assert layout.columns == ["order_id", "product_id", *EXPECTED_FEATURE_COLUMNS]
    assertDataFrameEqual(layout.select("order_id", "product_id", "up_orders", "aisle_id"), [
        Row(order_id=24, product_id=101, up_orders=2.0, aisle_id=24.0),
        Row(order_id=24, product_id=102, up_orders=3.0, aisle_id=24.0),
        Row(order_id=24, product_id=105, up_orders=1.0, aisle_id=108.0),
    ])
